import { ProtocolError } from './protocol-error.js';
import type { Reader } from './primitives/reader.js';
import type { Writer } from './primitives/writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Request header v1 carries a client id; v2 adds a tagged-field section (flexible APIs). */
export function decodeRequestHeader(reader: Reader, headerVersion: 1 | 2): RequestHeader {
  const apiKey = reader.readInt16();
  const apiVersion = reader.readInt16();
  const correlationId = reader.readInt32();
  // the client id stays a non-compact string even in header v2
  const clientId = reader.readNullableString(false);
  if (headerVersion === 2) reader.readTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Reads just the fixed part, enough to route a frame before the full header is known. */
export function peekRequestHeader(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number } {
  if (frame.length < 8) throw new ProtocolError(`request header needs 8 bytes, got ${frame.length}`);
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
}

export function encodeRequestHeader(writer: Writer, header: RequestHeader, headerVersion: 1 | 2): void {
  writer.writeInt16(header.apiKey).writeInt16(header.apiVersion).writeInt32(header.correlationId);
  writer.writeNullableString(header.clientId, false);
  if (headerVersion === 2) writer.writeUnsignedVarint(0);
}

export function encodeResponseHeader(writer: Writer, correlationId: number, headerVersion: 0 | 1): void {
  writer.writeInt32(correlationId);
  if (headerVersion === 1) writer.writeUnsignedVarint(0);
}

export function decodeResponseHeader(reader: Reader, headerVersion: 0 | 1): { correlationId: number } {
  const correlationId = reader.readInt32();
  if (headerVersion === 1) reader.readTaggedFields();
  return { correlationId };
}
