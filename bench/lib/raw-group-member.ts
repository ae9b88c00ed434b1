import { ErrorCode, errorInfo } from '../../src/protocol/error-codes.js';
import { KafkaConnection } from '../../test-kit/kafka-connection.js';

const JOIN_VERSION = 7;
const SYNC_VERSION = 5;
const HEARTBEAT_VERSION = 4;
const LEAVE_VERSION = 4;
const PROTOCOL = 'roundrobin';

export interface RawMemberOptions {
  readonly host: string;
  readonly port: number;
  readonly groupId: string;
  readonly topic: string;
  /** Partitions of `topic`, for the leader's assignment. */
  readonly partitions: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** Called each time this member has its assignment for a new generation. */
  readonly onSynced: (member: RawGroupMember) => void;
  readonly onError: (member: RawGroupMember, error: Error) => void;
}

/**
 * A consumer-group member speaking the classic protocol with raw requests, as a Java or
 * kafkajs consumer does, minus the fetching: JoinGroup (with MEMBER_ID_REQUIRED), SyncGroup
 * (the leader assigns partitions round-robin), Heartbeat every interval, and a rejoin
 * whenever a heartbeat answers REBALANCE_IN_PROGRESS. Dozens fit in one process.
 */
export class RawGroupMember {
  memberId = '';
  generation = -1;
  assignment: number[] = [];
  /** When this member last sent a JoinGroup (performance.now()). */
  lastJoinSentAt = 0;
  /** When this member last received its SyncGroup answer (performance.now()). */
  syncedAt = 0;
  private joining = false;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly conn: KafkaConnection,
    private readonly opts: RawMemberOptions,
    readonly name: string,
  ) {}

  static async connect(opts: RawMemberOptions, name: string): Promise<RawGroupMember> {
    return new RawGroupMember(await KafkaConnection.connect(opts.host, opts.port, name), opts, name);
  }

  /** True between sending a JoinGroup and receiving the SyncGroup answer. */
  get isJoining(): boolean {
    return this.joining;
  }

  /** Starts joining; progress is reported through onSynced / onError. */
  start(): void {
    this.rejoin();
  }

  /** Leaves cleanly (LeaveGroup) and closes the connection. */
  async leave(): Promise<void> {
    this.stop();
    const res = await this.conn.request(13, LEAVE_VERSION, { groupId: this.opts.groupId, members: [{ memberId: this.memberId, groupInstanceId: null }] });
    this.conn.close();
    const code = res.errorCode || res.members[0]?.errorCode || 0;
    if (code !== 0) throw new Error(`${this.name}: LeaveGroup ${errorInfo(code).name}`);
  }

  /** Vanishes without a word, as a killed process does: the session timeout must notice. */
  crash(): void {
    this.stop();
    this.conn.close();
  }

  /** Stops heartbeating and joining, connection left open. */
  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private rejoin(): void {
    if (this.joining || this.stopped) return;
    this.joining = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.joinLoop().catch((err: unknown) => {
      this.joining = false;
      if (!this.stopped) this.opts.onError(this, err as Error);
    });
  }

  private async joinLoop(): Promise<void> {
    const { groupId } = this.opts;
    for (;;) {
      if (this.stopped) return;
      this.lastJoinSentAt = performance.now();
      const join = await this.conn.request(11, JOIN_VERSION, {
        groupId,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
        rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: PROTOCOL, metadata: encodeSubscription([this.opts.topic]) }],
      });
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (join.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (join.errorCode !== 0) throw new Error(`${this.name}: JoinGroup ${errorInfo(join.errorCode).name}`);
      this.memberId = join.memberId;
      const assignments = join.leader === join.memberId ? assignRoundRobin(join.members.map((m) => m.memberId), this.opts.topic, this.opts.partitions) : [];
      const sync = await this.conn.request(14, SYNC_VERSION, {
        groupId,
        generationId: join.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: join.protocolName,
        assignments,
      });
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (sync.errorCode !== 0) throw new Error(`${this.name}: SyncGroup ${errorInfo(sync.errorCode).name}`);
      if (this.stopped) return;
      this.generation = join.generationId;
      this.assignment = decodeAssignment(sync.assignment, this.opts.topic);
      this.syncedAt = performance.now();
      this.joining = false;
      this.scheduleHeartbeat();
      this.opts.onSynced(this);
      return;
    }
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = undefined;
      this.heartbeat().catch((err: unknown) => {
        if (!this.stopped) this.opts.onError(this, err as Error);
      });
    }, this.opts.heartbeatIntervalMs);
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped || this.joining) return;
    const res = await this.conn.request(12, HEARTBEAT_VERSION, {
      groupId: this.opts.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: null,
    });
    if (this.stopped || this.joining) return;
    switch (res.errorCode) {
      case 0:
        this.scheduleHeartbeat();
        return;
      case ErrorCode.REBALANCE_IN_PROGRESS:
      case ErrorCode.ILLEGAL_GENERATION:
        this.rejoin();
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.memberId = '';
        this.rejoin();
        return;
      default:
        throw new Error(`${this.name}: Heartbeat ${errorInfo(res.errorCode).name}`);
    }
  }
}

function writeString(parts: Buffer[], s: string): void {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  parts.push(len, b);
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** ConsumerProtocolSubscription v0: version, topics, null user data. */
export function encodeSubscription(topics: readonly string[]): Buffer {
  const parts: Buffer[] = [int16(0), int32(topics.length)];
  for (const t of topics) writeString(parts, t);
  parts.push(int32(-1));
  return Buffer.concat(parts);
}

/** ConsumerProtocolAssignment v0 for one topic. */
export function encodeAssignment(topic: string, partitions: readonly number[]): Buffer {
  const parts: Buffer[] = [int16(0), int32(1)];
  writeString(parts, topic);
  parts.push(int32(partitions.length), ...partitions.map(int32), int32(-1));
  return Buffer.concat(parts);
}

/** The partitions of `topic` in a ConsumerProtocolAssignment (v0 layout, later versions only append). */
export function decodeAssignment(buf: Buffer, topic: string): number[] {
  if (buf.length === 0) return [];
  let pos = 2;
  const topics = buf.readInt32BE(pos);
  pos += 4;
  const out: number[] = [];
  for (let t = 0; t < topics; t++) {
    const len = buf.readInt16BE(pos);
    pos += 2;
    const name = buf.toString('utf8', pos, pos + len);
    pos += len;
    const n = buf.readInt32BE(pos);
    pos += 4;
    for (let i = 0; i < n; i++, pos += 4) if (name === topic) out.push(buf.readInt32BE(pos));
  }
  return out;
}

/** Partitions dealt out over the members sorted by id, as the roundrobin assignor does. */
export function assignRoundRobin(memberIds: readonly string[], topic: string, partitions: number): Array<{ memberId: string; assignment: Buffer }> {
  const sorted = [...memberIds].sort();
  const mine = new Map<string, number[]>(sorted.map((m) => [m, []]));
  for (let p = 0; p < partitions; p++) mine.get(sorted[p % sorted.length]!)!.push(p);
  return sorted.map((memberId) => ({ memberId, assignment: encodeAssignment(topic, mine.get(memberId)!) }));
}
