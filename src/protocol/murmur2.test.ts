import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { murmur2, partitionForKey } from './murmur2.js';

const require = createRequire(import.meta.url);
// kafkajs ships a Java-compatible murmur2 (its DefaultPartitioner); used only as a cross-check
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

describe('murmur2', () => {
  it('matches the values in Kafka UtilsTest.testMurmur2', () => {
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([0x61, 0x62, 0x63]))).toBe(479470107);
  });

  it('agrees with kafkajs on every length 0..64 and on high bytes', () => {
    for (let len = 0; len <= 64; len++) {
      const data = Buffer.alloc(len);
      for (let i = 0; i < len; i++) data[i] = (i * 37 + len * 11 + 0x80) & 0xff;
      expect(murmur2(data), `length ${len}`).toBe(kafkajsMurmur2(data));
    }
  });

  it('maps keys to partitions as toPositive(murmur2) % n', () => {
    // -973932308 & 0x7fffffff = 1173551340
    expect(partitionForKey(Buffer.from('21'), 10)).toBe(1173551340 % 10);
    expect(partitionForKey(Buffer.from('21'), 1)).toBe(0);
    expect(partitionForKey(Buffer.alloc(0), 7)).toBe((murmur2(Buffer.alloc(0)) & 0x7fffffff) % 7);
    expect(() => partitionForKey(Buffer.from('x'), 0)).toThrow(RangeError);
  });
});
