import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** What the PostgreSQL server had done in one database at one moment. */
export interface PgActivitySnapshot {
  /** pg_stat_database.xact_commit: every committed transaction, single statements included. */
  readonly xactCommit: number;
  readonly xactRollback: number;
  /** pg_stat_statements calls per normalised statement (undefined without the extension). */
  readonly statements: ReadonlyMap<string, number> | undefined;
  /** Autovacuum and autoanalyze runs on the broker's tables so far (their transactions count too). */
  readonly maintenanceRuns: number;
  /** Transactions this monitor itself ran in the broker's database so far (to subtract). */
  readonly ownTransactions: number;
}

export interface StatementDelta {
  readonly query: string;
  readonly calls: number;
}

const OWN_MARK = 'bench-monitor';

/**
 * Reads transaction and statement counters of the broker's database from a connection to
 * another database (`postgres`), so those monitoring queries never count themselves. Queries
 * it must run in the broker's database (counting rows) go over one long-lived connection,
 * one statement each, and are subtracted: each is exactly one transaction.
 *
 * pg_stat_database lags: a busy backend publishes its counters at most once a second and an
 * idle one within 10 s (PostgreSQL 15+), so callers wait `settleMs` of quiet before a
 * snapshot they compare. pg_stat_statements is updated as each statement ends.
 */
export class PgActivityMonitor {
  private own = 0;

  private constructor(
    private readonly client: pg.Client,
    private readonly brokerDb: pg.Client,
    private readonly database: string,
    readonly hasStatements: boolean,
  ) {}

  /** `adminUrl` points at a database other than the broker's, `brokerUrl` at the broker's. */
  static async open(adminUrl: string, brokerUrl: string): Promise<PgActivityMonitor> {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    const brokerDb = new pg.Client({ connectionString: brokerUrl });
    await brokerDb.connect();
    const database = (await brokerDb.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    let hasStatements = false;
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await client.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
      hasStatements = true;
    } catch {
      // not in shared_preload_libraries: transaction counts only
    }
    return new PgActivityMonitor(client, brokerDb, database, hasStatements);
  }

  /** One `SELECT count(*) ...` in the broker's database (counted as the monitor's own). */
  async count(fromWhere: string): Promise<number> {
    this.own++;
    const r = await this.brokerDb.query<{ n: string }>(`/* ${OWN_MARK} */ SELECT count(*)::text AS n FROM ${fromWhere}`);
    return Number(r.rows[0]?.n ?? 0);
  }

  async snapshot(): Promise<PgActivitySnapshot> {
    const db = await this.client.query<{ xact_commit: string; xact_rollback: string }>(
      'SELECT xact_commit::text, xact_rollback::text FROM pg_stat_database WHERE datname = $1',
      [this.database],
    );
    const row = db.rows[0];
    if (!row) throw new Error(`database ${this.database} not in pg_stat_database`);
    let statements: Map<string, number> | undefined;
    if (this.hasStatements) {
      const s = await this.client.query<{ query: string; calls: string }>(
        `SELECT s.query, sum(s.calls)::text AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname = $1 GROUP BY s.query`,
        [this.database],
      );
      statements = new Map(s.rows.filter((r) => !r.query.includes(OWN_MARK)).map((r) => [r.query, Number(r.calls)]));
    }
    this.own++;
    const maintenance = await this.brokerDb.query<{ n: string | null }>(
      `/* ${OWN_MARK} */ SELECT sum(autovacuum_count + autoanalyze_count)::text AS n FROM pg_stat_user_tables`,
    );
    return {
      xactCommit: Number(row.xact_commit),
      xactRollback: Number(row.xact_rollback),
      statements,
      maintenanceRuns: Number(maintenance.rows[0]?.n ?? 0),
      ownTransactions: this.own,
    };
  }

  /** Snapshot after `settleMs` without broker database activity from the caller. */
  async settledSnapshot(settleMs: number): Promise<PgActivitySnapshot> {
    await sleep(settleMs);
    return this.snapshot();
  }

  async close(): Promise<void> {
    await Promise.all([this.client.end(), this.brokerDb.end()]);
  }
}

/** Broker transactions between two settled snapshots (the monitor's own taken out). */
export function brokerTransactions(before: PgActivitySnapshot, after: PgActivitySnapshot): number {
  return after.xactCommit - before.xactCommit - (after.ownTransactions - before.ownTransactions);
}

/** Statements called between two snapshots, most called first. */
export function statementDeltas(before: PgActivitySnapshot, after: PgActivitySnapshot): StatementDelta[] {
  if (!before.statements || !after.statements) return [];
  const out: StatementDelta[] = [];
  for (const [query, calls] of after.statements) {
    const d = calls - (before.statements.get(query) ?? 0);
    if (d > 0) out.push({ query, calls: d });
  }
  return out.sort((a, b) => b.calls - a.calls);
}

/** A statement's first line, whitespace collapsed, cut to `width` characters. */
export function shortStatement(query: string, width = 70): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}
