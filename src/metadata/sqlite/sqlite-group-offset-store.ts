import type BetterSqlite3 from 'better-sqlite3';
import type { CommittedOffset, GroupOffsetStore, PendingTransactionalOffsets } from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

interface OffsetRow {
  topic: string;
  partition: bigint;
  committed_offset: bigint;
  leader_epoch: bigint;
  metadata: string | null;
  commit_timestamp: bigint;
}

function toOffset(row: OffsetRow): CommittedOffset {
  return {
    topic: row.topic,
    partition: Number(row.partition),
    offset: row.committed_offset,
    leaderEpoch: Number(row.leader_epoch),
    metadata: row.metadata,
    commitTimestamp: Number(row.commit_timestamp),
  };
}

export class SqliteGroupOffsetStore implements GroupOffsetStore {
  private readonly upsert: BetterSqlite3.Statement<[string, string, number, bigint, number, string | null, number]>;
  private readonly selectAll: BetterSqlite3.Statement<[string], OffsetRow>;
  private readonly selectOne: BetterSqlite3.Statement<[string, string, number], OffsetRow>;
  private readonly selectGroups: BetterSqlite3.Statement<[], string>;
  private readonly deleteAll: BetterSqlite3.Statement<[string]>;
  private readonly deleteOne: BetterSqlite3.Statement<[string, string, number]>;
  private readonly deleteOlder: BetterSqlite3.Statement<[string, number]>;
  private readonly upsertPending: BetterSqlite3.Statement<[string, bigint, string, number, bigint, number, string | null, number]>;
  private readonly commitPending: BetterSqlite3.Statement<[bigint, string]>;
  private readonly deletePending: BetterSqlite3.Statement<[bigint, string]>;
  private readonly selectPendingPartitions: BetterSqlite3.Statement<[string], { topic: string; partition: number }>;

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.upsert = db.prepare(
      `INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp`,
    );
    const columns = 'topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp';
    this.selectAll = db.prepare<[string], OffsetRow>(`SELECT ${columns} FROM group_offsets WHERE group_id = ? ORDER BY topic, partition`).safeIntegers();
    this.selectOne = db.prepare<[string, string, number], OffsetRow>(`SELECT ${columns} FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?`).safeIntegers();
    this.selectGroups = db.prepare<[], string>('SELECT DISTINCT group_id FROM group_offsets ORDER BY group_id').pluck();
    this.deleteAll = db.prepare('DELETE FROM group_offsets WHERE group_id = ?');
    this.deleteOne = db.prepare('DELETE FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?');
    this.deleteOlder = db.prepare('DELETE FROM group_offsets WHERE group_id = ? AND commit_timestamp < ?');
    this.upsertPending = db.prepare(
      `INSERT INTO group_pending_offsets (group_id, producer_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, producer_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp`,
    );
    // The same upsert as commit(), fed from the staged rows (the WHERE also keeps SQLite
    // from reading ON CONFLICT as a join constraint).
    this.commitPending = db.prepare(
      `INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
       SELECT group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp
       FROM group_pending_offsets WHERE producer_id = ? AND group_id = ?
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp`,
    );
    this.deletePending = db.prepare('DELETE FROM group_pending_offsets WHERE producer_id = ? AND group_id = ?');
    this.selectPendingPartitions = db.prepare('SELECT DISTINCT topic, partition FROM group_pending_offsets WHERE group_id = ? ORDER BY topic, partition');
  }

  async commit(group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    this.ctx.assertOpen();
    this.ctx.db
      .transaction(() => {
        for (const o of offsets) this.upsert.run(group, o.topic, o.partition, o.offset, o.leaderEpoch, o.metadata, o.commitTimestamp);
      })
      .immediate();
  }

  async fetch(group: string, partitions?: ReadonlyArray<{ topic: string; partition: number }>): Promise<CommittedOffset[]> {
    this.ctx.assertOpen();
    if (partitions === undefined) return this.selectAll.all(group).map(toOffset);
    const out: CommittedOffset[] = [];
    for (const p of partitions) {
      const row = this.selectOne.get(group, p.topic, p.partition);
      if (row) out.push(toOffset(row));
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  async listGroups(): Promise<string[]> {
    this.ctx.assertOpen();
    return this.selectGroups.all();
  }

  async deleteGroup(group: string): Promise<number> {
    this.ctx.assertOpen();
    return this.deleteAll.run(group).changes;
  }

  async deleteOffsets(group: string, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    this.ctx.assertOpen();
    this.ctx.db
      .transaction(() => {
        for (const p of partitions) this.deleteOne.run(group, p.topic, p.partition);
      })
      .immediate();
  }

  async stageTransactional(pending: PendingTransactionalOffsets): Promise<void> {
    this.ctx.assertOpen();
    const { group, producerId } = pending;
    this.ctx.db
      .transaction(() => {
        for (const o of pending.offsets) {
          this.upsertPending.run(group, producerId, o.topic, o.partition, o.offset, o.leaderEpoch, o.metadata, o.commitTimestamp);
        }
      })
      .immediate();
  }

  async completeTransactional(producerId: bigint, groups: readonly string[], commit: boolean): Promise<void> {
    this.ctx.assertOpen();
    this.ctx.db
      .transaction(() => {
        for (const group of new Set(groups)) {
          if (commit) this.commitPending.run(producerId, group);
          this.deletePending.run(producerId, group);
        }
      })
      .immediate();
  }

  async pendingPartitions(group: string): Promise<Array<{ topic: string; partition: number }>> {
    this.ctx.assertOpen();
    return this.selectPendingPartitions.all(group).map((r) => ({ topic: r.topic, partition: Number(r.partition) }));
  }

  async expire(groups: readonly string[], olderThan: number): Promise<number> {
    this.ctx.assertOpen();
    return this.ctx.db
      .transaction(() => {
        let n = 0;
        for (const g of groups) n += this.deleteOlder.run(g, olderThan).changes;
        return n;
      })
      .immediate();
  }
}
