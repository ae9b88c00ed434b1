import { afterEach, describe, expect, it } from 'vitest';
import { parseAddress, resolveAddress } from './address.js';

describe('parseAddress', () => {
  it('reads http, https and bare host:port forms', () => {
    expect(parseAddress('http://localhost:50051')).toEqual({ target: 'localhost:50051', secure: false, display: 'http://localhost:50051' });
    expect(parseAddress('https://sh.example.com:443/')).toEqual({ target: 'sh.example.com:443', secure: true, display: 'https://sh.example.com:443/' });
    expect(parseAddress('10.0.0.5:7000').target).toBe('10.0.0.5:7000');
    expect(parseAddress('http://[::1]:9').target).toBe('[::1]:9');
    expect(parseAddress('broker').target).toBe('broker:50051');
  });

  it('refuses what is not an address', () => {
    expect(() => parseAddress('http://host:99999')).toThrow('port out of range in "http://host:99999"');
    expect(() => parseAddress('ftp://x y')).toThrow('not a StreamHouse address: "ftp://x y" (expected http://host:port)');
  });
});

describe('resolveAddress', () => {
  const saved = process.env['STREAMHOUSE_ADDR'];
  afterEach(() => {
    if (saved === undefined) delete process.env['STREAMHOUSE_ADDR'];
    else process.env['STREAMHOUSE_ADDR'] = saved;
  });

  it('prefers the explicit address, then STREAMHOUSE_ADDR, then the default', () => {
    delete process.env['STREAMHOUSE_ADDR'];
    expect(resolveAddress()).toBe('http://localhost:50051');
    process.env['STREAMHOUSE_ADDR'] = 'http://env:1';
    expect(resolveAddress()).toBe('http://env:1');
    expect(resolveAddress('http://flag:2')).toBe('http://flag:2');
  });
});
