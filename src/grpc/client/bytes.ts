/** What the client accepts for keys, values and header values. */
export type Bytes = Buffer | Uint8Array | string;

export function toBuffer(b: Bytes): Buffer {
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function toOptionalBuffer(b: Bytes | null | undefined): Buffer | null {
  return b === null || b === undefined ? null : toBuffer(b);
}
