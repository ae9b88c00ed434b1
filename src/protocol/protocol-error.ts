/** Raised when bytes on the wire do not match the schema; `path` names the failing field. */
export class ProtocolError extends Error {
  readonly code = 'PROTOCOL_ERROR';
  constructor(
    message: string,
    readonly path: string = '',
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'ProtocolError';
  }
}
