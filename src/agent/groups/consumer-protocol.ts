/**
 * Parser for the consumer protocol's subscription (ConsumerProtocolSubscription v0-3), the
 * member metadata that Kafka consumers send in JoinGroup under protocol type "consumer".
 * The coordinator reads it only to know which topics a group subscribes to (OffsetDelete).
 * Later versions only append fields, so a newer version is read as far as v3 reaches.
 */
export interface ConsumerSubscription {
  readonly version: number;
  readonly topics: readonly string[];
  readonly userData: Buffer | null;
  /** v1+ */
  readonly ownedPartitions: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }>;
  /** v2+; -1 when absent. */
  readonly generationId: number;
  /** v3+ */
  readonly rackId: string | null;
}

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
/**
 * The protocol type of groups whose members are gRPC consumers, assigned partitions by the
 * agents (src/agent/groups/managed-members.ts). Member metadata and assignments use the
 * consumer protocol's bytes, but Kafka consumers (type "consumer") cannot join such a group:
 * the coordinator answers INCONSISTENT_GROUP_PROTOCOL, as Kafka does for mixed types.
 */
export const GRPC_CONSUMER_PROTOCOL_TYPE = 'streamhouse-grpc';

/** Whether a group of this protocol type carries consumer-protocol subscriptions and assignments. */
export function usesConsumerProtocol(protocolType: string | null): boolean {
  return protocolType === CONSUMER_PROTOCOL_TYPE || protocolType === GRPC_CONSUMER_PROTOCOL_TYPE;
}

export class ConsumerProtocolError extends Error {
  override name = 'ConsumerProtocolError';
}

class Cursor {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new ConsumerProtocolError(`subscription ends inside ${what} (at byte ${this.pos} of ${this.buf.length})`);
  }

  int16(what: string): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(what: string): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  nullableString(what: string): string | null {
    const len = this.int16(what);
    if (len === -1) return null;
    if (len < -1) throw new ConsumerProtocolError(`negative length ${len} of ${what}`);
    this.need(len, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  string(what: string): string {
    const s = this.nullableString(what);
    if (s === null) throw new ConsumerProtocolError(`${what} is null`);
    return s;
  }

  nullableBytes(what: string): Buffer | null {
    const len = this.int32(what);
    if (len === -1) return null;
    if (len < -1) throw new ConsumerProtocolError(`negative length ${len} of ${what}`);
    this.need(len, what);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return b;
  }

  /** An array count, bounded by the bytes left so a lying count cannot allocate. */
  count(what: string, minElementBytes: number): number {
    const n = this.int32(what);
    if (n < 0) throw new ConsumerProtocolError(`negative count ${n} of ${what}`);
    this.need(n * minElementBytes, what);
    return n;
  }
}

/**
 * Decodes a subscription. `maxVersion` limits how far it reads: Kafka's coordinator reads
 * topics with the v0 prefix only, which every version shares.
 */
export function parseConsumerSubscription(bytes: Buffer, maxVersion = 3): ConsumerSubscription {
  const c = new Cursor(bytes);
  const version = c.int16('version');
  if (version < 0) throw new ConsumerProtocolError(`unsupported subscription version ${version}`);
  const read = Math.min(version, maxVersion);
  const topics: string[] = [];
  const topicCount = c.count('topics', 2);
  for (let i = 0; i < topicCount; i++) topics.push(c.string('topic name'));
  const userData = c.nullableBytes('user data');
  const ownedPartitions: Array<{ topic: string; partitions: number[] }> = [];
  if (read >= 1) {
    const owned = c.count('owned partitions', 6);
    for (let i = 0; i < owned; i++) {
      const topic = c.string('owned topic');
      const n = c.count('owned partition indexes', 4);
      const partitions: number[] = [];
      for (let j = 0; j < n; j++) partitions.push(c.int32('owned partition'));
      ownedPartitions.push({ topic, partitions });
    }
  }
  const generationId = read >= 2 ? c.int32('generation id') : -1;
  const rackId = read >= 3 ? c.nullableString('rack id') : null;
  return { version, topics, userData, ownedPartitions, generationId, rackId };
}

/** A ConsumerProtocolSubscription v1: topics, no user data, the partitions the member owns now. */
export function encodeConsumerSubscription(topics: readonly string[], owned: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }>): Buffer {
  const parts: Buffer[] = [int16(1), int32(topics.length)];
  for (const t of topics) parts.push(string16(t));
  parts.push(int32(-1), int32(owned.length));
  for (const o of owned) {
    parts.push(string16(o.topic), int32(o.partitions.length));
    for (const p of o.partitions) parts.push(int32(p));
  }
  return Buffer.concat(parts);
}

function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

function string16(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([int16(bytes.length), bytes]);
}
