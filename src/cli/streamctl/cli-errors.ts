import { status } from '@grpc/grpc-js';
import { StreamHouseError } from '../../grpc/client/streamhouse-error.js';

/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** The command line itself is wrong (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure already explained in its message (exit 1). */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** The one line streamctl prints on stderr for an error, and the exit code that goes with it. */
export function describeFailure(err: unknown, address: string, timeoutMs: number): { line: string; code: number } {
  if (err instanceof UsageError) return { line: err.message, code: EXIT_USAGE };
  if (err instanceof StreamHouseError) {
    if (err.unreachable) return { line: `cannot reach StreamHouse at ${address} (${err.connectReason})`, code: EXIT_ERROR };
    if (err.code === status.DEADLINE_EXCEEDED) return { line: `no answer from StreamHouse at ${address} within ${timeoutMs} ms`, code: EXIT_ERROR };
    return { line: err.details, code: EXIT_ERROR };
  }
  if (err instanceof CommandError) return { line: err.message, code: EXIT_ERROR };
  return { line: err instanceof Error ? err.message : String(err), code: EXIT_ERROR };
}
