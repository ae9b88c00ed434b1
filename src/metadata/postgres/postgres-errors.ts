// Classifies pg failures: which ones a transaction may simply run again, and which mean
// the server could not be reached (reported as one line, never with a password).

/** SQLSTATEs after which the server has rolled the transaction back and a rerun is safe. */
const RETRYABLE_STATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** SQLSTATEs and socket codes meaning the connection (or the server) went away. */
const CONNECTION_STATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '53300', // too_many_connections
]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const PG_CONNECTION_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|connection timeout/i;

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isRetryableTransactionError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && RETRYABLE_STATES.has(code);
}

export function isConnectionError(err: unknown): boolean {
  if (err instanceof PostgresUnavailableError) return true;
  const code = codeOf(err);
  if (code !== undefined && (CONNECTION_STATES.has(code) || SOCKET_CODES.has(code) || code.startsWith('08'))) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  return err instanceof Error && PG_CONNECTION_MESSAGES.test(err.message);
}

/** One line describing why a pg call failed (AggregateError from dual-stack connects has an empty message). */
export function describePgError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map(describePgError))].join('; ');
  }
  if (err instanceof Error) {
    const code = codeOf(err);
    const message = err.message.split('\n')[0] ?? '';
    if (message.length > 0) return message;
    return code ?? err.name;
  }
  return String(err);
}

/**
 * PostgreSQL could not be reached, or the connection broke. When `outcomeUnknown` is set the
 * connection broke after COMMIT was sent: the write may or may not have been applied, and
 * the caller must read the state back rather than assume either.
 */
export class PostgresUnavailableError extends Error {
  readonly code = 'METADATA_UNAVAILABLE';
  readonly outcomeUnknown: boolean;

  constructor(message: string, options: { cause: unknown; outcomeUnknown?: boolean }) {
    super(message, { cause: options.cause });
    this.name = 'PostgresUnavailableError';
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}
