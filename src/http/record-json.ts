// Keys, values and headers between JSON and bytes. Written as UTF-8 text (the default), as
// JSON (any JSON value, stored as its serialization) or as base64; read back as text when the
// bytes are valid UTF-8, else as base64, with the encoding named beside them.

import { badRequest } from './http-errors.js';

export type WriteEncoding = 'text' | 'json' | 'base64';
export type ReadEncoding = 'text' | 'base64';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes of a key or value given in JSON; null stays null. */
export function bytesOf(value: unknown, encoding: WriteEncoding, what: string): Buffer | null {
  if (value === null || value === undefined) return null;
  if (encoding === 'json') return Buffer.from(JSON.stringify(value), 'utf8');
  if (typeof value !== 'string') throw badRequest(`${what} must be a string with ${encoding} encoding (or use "json" encoding), got ${Array.isArray(value) ? 'array' : typeof value}`);
  if (encoding === 'base64') {
    if (!BASE64.test(value)) throw badRequest(`${what} is not valid base64`);
    return Buffer.from(value, 'base64');
  }
  return Buffer.from(value, 'utf8');
}

/** Bytes as JSON: text when they are valid UTF-8 (unless base64 is asked for), else base64. */
export function shown(bytes: Buffer | null, forceBase64: boolean): { value: string | null; encoding: ReadEncoding } {
  if (bytes === null) return { value: null, encoding: 'text' };
  if (!forceBase64) {
    try {
      return { value: strictUtf8.decode(bytes), encoding: 'text' };
    } catch {
      // not UTF-8: base64 below
    }
  }
  return { value: bytes.toString('base64'), encoding: 'base64' };
}
