/** Where StreamHouse's gRPC API is: `STREAMHOUSE_ADDR`, else this. */
export const DEFAULT_ADDRESS = 'http://localhost:50051';
const DEFAULT_PORT = 50051;

export interface ParsedAddress {
  /** host:port as grpc-js dials it. */
  readonly target: string;
  /** https:// asks for TLS. */
  readonly secure: boolean;
  /** The address as the user wrote it (for messages). */
  readonly display: string;
}

/** Reads `http://host:port`, `https://host:port` or `host:port` (port 50051 when left out). */
export function parseAddress(address: string): ParsedAddress {
  const text = address.trim();
  const m = /^(?:(https?|grpcs?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^/:\s]+)(?::(\d+))?\/?$/.exec(text);
  if (!m) throw new TypeError(`not a StreamHouse address: "${address}" (expected http://host:port)`);
  const scheme = (m[1] ?? 'http').toLowerCase();
  const port = m[3] === undefined ? DEFAULT_PORT : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`port out of range in "${address}"`);
  return { target: `${m[2]}:${port}`, secure: scheme === 'https' || scheme === 'grpcs', display: text };
}

/** `explicit`, else `STREAMHOUSE_ADDR`, else http://localhost:50051. */
export function resolveAddress(explicit?: string): string {
  return explicit ?? process.env['STREAMHOUSE_ADDR'] ?? DEFAULT_ADDRESS;
}
