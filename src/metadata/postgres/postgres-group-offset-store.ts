import type { CommittedOffset, GroupOffsetStore, PendingTransactionalOffsets } from '../metadata-store.js';
import type { PostgresContext } from './postgres-context.js';

interface OffsetRow {
  topic: string;
  partition: number;
  committed_offset: bigint;
  leader_epoch: number;
  metadata: Buffer | null;
  commit_timestamp: bigint;
}

/** Group ids and commit metadata are bytea: Kafka strings may hold NUL, PostgreSQL text not. */
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

const COLUMNS = 'g.topic, g.partition, g.committed_offset, g.leader_epoch, g.metadata, g.commit_timestamp';

function toOffset(row: OffsetRow): CommittedOffset {
  return {
    topic: row.topic,
    partition: row.partition,
    offset: row.committed_offset,
    leaderEpoch: row.leader_epoch,
    metadata: row.metadata === null ? null : row.metadata.toString('utf8'),
    commitTimestamp: Number(row.commit_timestamp),
  };
}

/** The last entry of each partition: ON CONFLICT may touch a row only once per statement. */
function lastPerPartition(offsets: readonly CommittedOffset[]): CommittedOffset[] {
  const last = new Map<string, CommittedOffset>();
  for (const o of offsets) last.set(`${o.topic}\u0000${o.partition}`, o);
  return [...last.values()];
}

function byTopicPartition(a: CommittedOffset, b: CommittedOffset): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

export class PostgresGroupOffsetStore implements GroupOffsetStore {
  constructor(private readonly ctx: PostgresContext) {}

  async commit(group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    this.ctx.assertOpen();
    if (offsets.length === 0) return;
    // One upsert statement is one transaction. A partition listed twice keeps its last
    // entry (as row-by-row upserts would); ON CONFLICT may touch a row only once.
    const rows = lastPerPartition(offsets);
    // Rerunnable after a broken connection: the same upsert again changes nothing more.
    await this.ctx.query(
      `INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
       SELECT $1::bytea, * FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::integer[], $6::bytea[], $7::bigint[])
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp`,
      [
        bytes(group),
        rows.map((o) => o.topic),
        rows.map((o) => o.partition),
        rows.map((o) => o.offset),
        rows.map((o) => o.leaderEpoch),
        rows.map((o) => (o.metadata === null ? null : bytes(o.metadata))),
        rows.map((o) => o.commitTimestamp),
      ],
      'rerunnable',
    );
  }

  async fetch(group: string, partitions?: ReadonlyArray<{ topic: string; partition: number }>): Promise<CommittedOffset[]> {
    this.ctx.assertOpen();
    if (partitions === undefined) {
      const result = await this.ctx.query<OffsetRow>(
        `SELECT ${COLUMNS} FROM group_offsets g WHERE g.group_id = $1 ORDER BY g.topic, g.partition`,
        [bytes(group)],
      );
      return result.rows.map(toOffset);
    }
    if (partitions.length === 0) return [];
    const result = await this.ctx.query<OffsetRow>(
      `SELECT ${COLUMNS} FROM unnest($2::text[], $3::integer[]) AS u(topic, partition)
       JOIN group_offsets g ON g.group_id = $1 AND g.topic = u.topic AND g.partition = u.partition`,
      [bytes(group), partitions.map((p) => p.topic), partitions.map((p) => p.partition)],
    );
    return result.rows.map(toOffset).sort(byTopicPartition);
  }

  async listGroups(): Promise<string[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ group_id: Buffer }>('SELECT DISTINCT group_id FROM group_offsets ORDER BY group_id');
    return result.rows.map((r) => r.group_id.toString('utf8'));
  }

  async deleteGroup(group: string): Promise<number> {
    this.ctx.assertOpen();
    const result = await this.ctx.query('DELETE FROM group_offsets WHERE group_id = $1', [bytes(group)], 'once');
    return result.rowCount ?? 0;
  }

  async deleteOffsets(group: string, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    this.ctx.assertOpen();
    if (partitions.length === 0) return;
    await this.ctx.query(
      `DELETE FROM group_offsets g USING unnest($2::text[], $3::integer[]) AS u(topic, partition)
       WHERE g.group_id = $1 AND g.topic = u.topic AND g.partition = u.partition`,
      [bytes(group), partitions.map((p) => p.topic), partitions.map((p) => p.partition)],
      'rerunnable',
    );
  }

  async stageTransactional(pending: PendingTransactionalOffsets): Promise<void> {
    this.ctx.assertOpen();
    if (pending.offsets.length === 0) return;
    const rows = lastPerPartition(pending.offsets);
    // Rerunnable after a broken connection: the same upsert again changes nothing more.
    await this.ctx.query(
      `INSERT INTO group_pending_offsets (group_id, producer_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
       SELECT $1::bytea, $2::bigint, * FROM unnest($3::text[], $4::integer[], $5::bigint[], $6::integer[], $7::bytea[], $8::bigint[])
       ON CONFLICT (group_id, producer_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp`,
      [
        bytes(pending.group),
        pending.producerId,
        rows.map((o) => o.topic),
        rows.map((o) => o.partition),
        rows.map((o) => o.offset),
        rows.map((o) => o.leaderEpoch),
        rows.map((o) => (o.metadata === null ? null : bytes(o.metadata))),
        rows.map((o) => o.commitTimestamp),
      ],
      'rerunnable',
    );
  }

  async completeTransactional(producerId: bigint, groups: readonly string[], commit: boolean): Promise<void> {
    this.ctx.assertOpen();
    if (groups.length === 0) return;
    // One statement, so one transaction: the staged rows leave and (on commit) land in
    // group_offsets with the same upsert as commit(). The producer id is fixed, so each
    // (group, topic, partition) comes out of the DELETE once. Rerunnable: a retry finds
    // nothing staged and changes nothing.
    await this.ctx.query(
      `WITH d AS (
         DELETE FROM group_pending_offsets WHERE producer_id = $1 AND group_id = ANY($2::bytea[])
         RETURNING group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp
       )
       INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
       SELECT group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp FROM d WHERE $3::boolean
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp`,
      [producerId, [...new Set(groups)].map(bytes), commit],
      'rerunnable',
    );
  }

  async pendingPartitions(group: string): Promise<Array<{ topic: string; partition: number }>> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ topic: string; partition: number }>(
      'SELECT DISTINCT topic, partition FROM group_pending_offsets WHERE group_id = $1 ORDER BY topic, partition',
      [bytes(group)],
      'rerunnable',
    );
    return result.rows.map((r) => ({ topic: r.topic, partition: Number(r.partition) }));
  }

  async expire(groups: readonly string[], olderThan: number): Promise<number> {
    this.ctx.assertOpen();
    if (groups.length === 0) return 0;
    const result = await this.ctx.query(
      'DELETE FROM group_offsets WHERE group_id = ANY($1::bytea[]) AND commit_timestamp < $2::numeric',
      [groups.map(bytes), olderThan],
      'once',
    );
    return result.rowCount ?? 0;
  }
}
