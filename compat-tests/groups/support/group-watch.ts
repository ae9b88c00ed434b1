import type { Admin, Producer } from 'kafkajs';
import type { BrokerProcess } from '../../../test-kit/broker-process.js';

/**
 * Polls a group's committed offsets through OffsetFetch for the whole test and remembers
 * every value seen, so that a committed offset moving backwards cannot go unnoticed.
 */
export class CommittedOffsetWatch {
  private readonly seen = new Map<number, bigint[]>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly admin: Admin,
    readonly groupId: string,
    readonly topic: string,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.polling = this.polling.then(() => this.poll());
    }, this.intervalMs);
  }

  async poll(): Promise<void> {
    try {
      const [t] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      for (const p of t?.partitions ?? []) {
        const offset = BigInt(p.offset);
        if (offset < 0n) continue;
        const list = this.seen.get(p.partition) ?? [];
        if (list.length === 0 || list[list.length - 1] !== offset) list.push(offset);
        this.seen.set(p.partition, list);
      }
    } catch {
      this.failures++;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await this.poll();
  }

  /** Every observed decrease, as "partition: a -> b". */
  regressions(): string[] {
    const out: string[] = [];
    for (const [p, list] of this.seen) {
      for (let i = 1; i < list.length; i++) if (list[i]! < list[i - 1]!) out.push(`${p}: ${list[i - 1]} -> ${list[i]}`);
    }
    return out;
  }

  latest(): Map<number, bigint> {
    return new Map([...this.seen].map(([p, list]) => [p, list[list.length - 1]!]));
  }

  /** How many distinct committed values were observed in total (shows the watch worked). */
  observations(): number {
    let n = 0;
    for (const list of this.seen.values()) n += list.length;
    return n;
  }
}

/** Generations in which the broker's coordinator saw the group become Stable, in order. */
export function stableGenerations(broker: BrokerProcess, groupId: string): number[] {
  const out: number[] = [];
  for (const line of broker.output().split('\n')) {
    if (!line.includes('"group is stable"')) continue;
    try {
      const entry = JSON.parse(line) as { group?: string; generation?: number };
      if (entry.group === groupId && typeof entry.generation === 'number') out.push(entry.generation);
    } catch {
      // not a JSON log line
    }
  }
  return out;
}

/** Produces `count` records "<prefix>-<n>" round-robin over the partitions; returns the values. */
export async function produceValues(producer: Producer, topic: string, partitions: number, prefix: string, count: number): Promise<string[]> {
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await producer.send({ topic, messages: values.map((value, i) => ({ value, partition: i % partitions })) });
  return values;
}

/** High watermark per partition. */
export async function highWatermarks(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}

export async function groupState(admin: Admin, groupId: string): Promise<{ state: string; members: number }> {
  const { groups } = await admin.describeGroups([groupId]);
  return { state: groups[0]!.state, members: groups[0]!.members.length };
}
