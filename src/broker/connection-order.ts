import { KeyedMutex } from '../common/keyed-mutex.js';
import type { ConnectionState } from './handler.js';

const turns = new KeyedMutex<ConnectionState>();

/**
 * Requests of one connection run concurrently, but Kafka applies them in the order they were
 * sent (a pipelining producer, a consumer committing asynchronously). Handlers run the part
 * that must keep that order (validation, look-ups, and the *start* of the write) inside their
 * connection's turn, and wait for the write's outcome after it. `work` must not resolve with
 * the outcome itself, or the next request would wait for it: box it.
 */
export function inConnectionOrder<T>(connection: ConnectionState, work: () => Promise<T>): Promise<T> {
  return turns.run(connection, work);
}
