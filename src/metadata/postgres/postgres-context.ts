// State shared by the focused PostgreSQL sub-stores: the pool, the closed flag, and the
// two ways to talk to the server (one statement, or one transaction) with the retry rules
// that keep a restarting or contended server from surfacing as spurious failures.

import { backoffDelayMs } from '../../common/backoff.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { MetadataStoreError } from '../metadata-store.js';
import { PostgresUnavailableError, describePgError, isConnectionError, isRetryableTransactionError } from './postgres-errors.js';

/** Longest pause between two attempts of one statement. */
const MAX_BACKOFF_MS = 2000;

/**
 * SQL text, or a named statement: hot statements are named so each connection parses and
 * plans them once (a server-side prepared statement) instead of on every call.
 */
export type Sql = string | { readonly name: string; readonly text: string };

/** A statement runner: the pool outside a transaction, one connection inside it. */
export interface PgQueryable {
  query<R extends pg.QueryResultRow>(sql: Sql, params?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

function send<R extends pg.QueryResultRow>(client: pg.PoolClient, sql: Sql, params: readonly unknown[]): Promise<pg.QueryResult<R>> {
  return typeof sql === 'string'
    ? client.query<R>(sql, params as unknown[])
    : client.query<R>({ name: sql.name, text: sql.text, values: params as unknown[] });
}

/** The database clock as ms since the epoch: times are judged by the server, never by an agent. */
export const DB_NOW_MS = '(floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint';

/**
 * 'rerunnable' statements (reads, idempotent writes) are rerun after a broken connection.
 * 'once' statements are not: the server may have applied one before the connection broke,
 * and running it again would answer differently (a second create, a count of 0).
 */
export type StatementKind = 'rerunnable' | 'once';

export interface PostgresStatistics {
  /** Statements sent, including BEGIN/COMMIT/ROLLBACK. */
  readonly statements: number;
  /** Transactions committed through `transaction()`. */
  readonly transactions: number;
  /** Reruns after deadlocks, serialization failures or broken connections. */
  readonly retries: number;
}

export class PostgresContext {
  private closed = false;
  private statements = 0;
  private transactions = 0;
  private retries = 0;

  constructor(
    readonly pool: pg.Pool,
    /** The redacted URL, for messages. */
    readonly target: string,
    private readonly maxAttempts: number,
    private readonly backoffMs: number,
  ) {}

  assertOpen(): void {
    if (this.closed) throw new MetadataStoreError('STORE_CLOSED', 'Metadata store is closed');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  markClosed(): void {
    this.closed = true;
  }

  statistics(): PostgresStatistics {
    return { statements: this.statements, transactions: this.transactions, retries: this.retries };
  }

  /** Runs one statement in its own (implicit) transaction. */
  async query<R extends pg.QueryResultRow>(sql: Sql, params: readonly unknown[] = [], kind: StatementKind = 'rerunnable'): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect(attempt);
      if (client === undefined) continue;
      try {
        this.statements++;
        const result = await send<R>(client, sql, params);
        client.release();
        return result;
      } catch (err) {
        const broken = isConnectionError(err);
        client.release(broken ? true : undefined);
        if (attempt < this.maxAttempts && (isRetryableTransactionError(err) || (broken && kind === 'rerunnable'))) {
          await this.pause(attempt);
          continue;
        }
        throw broken ? this.unavailable(err, kind === 'once') : err;
      }
    }
  }

  /**
   * Runs `fn` inside BEGIN ... COMMIT on one connection (READ COMMITTED; callers take the
   * row locks they need). `fn` may run more than once: after a deadlock, a serialization
   * failure, or a connection lost before COMMIT was sent, the whole transaction is rerun,
   * so `fn` must not keep state from an earlier attempt.
   */
  async transaction<T>(fn: (tx: PgQueryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect(attempt);
      if (client === undefined) continue;
      const tx: PgQueryable = {
        query: <R extends pg.QueryResultRow>(sql: Sql, params: readonly unknown[] = []) => {
          this.statements++;
          return send<R>(client, sql, params);
        },
      };
      let commitSent = false;
      try {
        await tx.query('BEGIN');
        const result = await fn(tx);
        commitSent = true;
        await tx.query('COMMIT');
        this.transactions++;
        client.release();
        return result;
      } catch (err) {
        let broken = isConnectionError(err);
        if (!broken && !commitSent) {
          try {
            await tx.query('ROLLBACK');
          } catch {
            broken = true;
          }
        }
        client.release(broken ? true : undefined);
        const safeToRerun = isRetryableTransactionError(err) || (broken && !commitSent);
        if (attempt < this.maxAttempts && safeToRerun) {
          await this.pause(attempt);
          continue;
        }
        throw isConnectionError(err) ? this.unavailable(err, commitSent) : err;
      }
    }
  }

  /** A pooled connection, or undefined when the caller should try again (after a pause already taken). */
  private async connect(attempt: number): Promise<pg.PoolClient | undefined> {
    this.assertOpen();
    try {
      return await this.pool.connect();
    } catch (err) {
      if (attempt < this.maxAttempts && isConnectionError(err)) {
        await this.pause(attempt);
        return undefined;
      }
      throw isConnectionError(err) ? this.unavailable(err, false) : err;
    }
  }

  private async pause(attempt: number): Promise<void> {
    this.retries++;
    // so agents that failed together do not retry together
    await sleep(backoffDelayMs(attempt, { baseMs: this.backoffMs, maxMs: MAX_BACKOFF_MS, jitter: 'equal' }));
  }

  unavailable(err: unknown, outcomeUnknown: boolean): PostgresUnavailableError {
    if (err instanceof PostgresUnavailableError) return err;
    const suffix = outcomeUnknown ? ' (the connection broke after the write was sent: it may or may not have been applied)' : '';
    return new PostgresUnavailableError(`PostgreSQL metadata store ${this.target} is unavailable: ${describePgError(err)}${suffix}`, {
      cause: err,
      outcomeUnknown,
    });
  }
}
