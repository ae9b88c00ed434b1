import { InvalidArgumentError, type Command } from 'commander';
import { Consumer, type ConsumerRecord, type TopicPartition } from '../../grpc/client/consumer.js';
import { withAdmin } from './admin-session.js';
import { contextOf, intArg, type CliContext } from './context.js';
import { bytesForHumans, bytesForJson } from './output.js';

type StartAt = 'earliest' | 'latest' | bigint;

interface ConsumeOptions {
  partition?: number;
  offset?: StartAt;
  limit?: number;
  group?: string;
  follow?: boolean;
}

function startArg(value: string): StartAt {
  const v = value.trim();
  if (v === 'earliest' || v === 'latest') return v;
  if (/^\d+$/.test(v)) return BigInt(v);
  throw new InvalidArgumentError(`--offset must be earliest, latest or an offset (0 or more), got "${value}"`);
}

export function registerConsumeCommand(program: Command): void {
  program
    .command('consume <topic>')
    .description('print records (until caught up, --limit, or Ctrl-C with --follow)')
    .option('-p, --partition <n>', 'only this partition (default: all)', intArg('--partition'))
    .option('-o, --offset <offset>', 'earliest, latest or an offset (default: the group\'s committed offset, else earliest)', startArg)
    .option('-n, --limit <n>', 'stop after this many records', intArg('--limit', 1))
    .option('-g, --group <group>', 'consumer group: start from its offsets and commit what was printed')
    .option('-f, --follow', 'keep waiting for new records')
    .action(async (topic: string, opts: ConsumeOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      await consume(ctx, topic, opts);
    });
}

async function consume(ctx: CliContext, topic: string, opts: ConsumeOptions): Promise<void> {
  const consumer = new Consumer({
    address: ctx.address,
    timeoutMs: ctx.timeoutMs,
    ...(opts.partition !== undefined ? { assignment: [{ topic, partition: opts.partition }] } : { topics: [topic] }),
    ...(opts.group !== undefined ? { groupId: opts.group, autoCommitIntervalMs: 1000 } : {}),
    offsetReset: 'earliest',
  });
  let stopped = false;
  const stop = () => {
    if (stopped) process.exit(130);
    stopped = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    if (opts.offset !== undefined) await seekAll(ctx, consumer, topic, opts.offset);
    let printed = 0;
    while (!stopped) {
      const records = await consumer.poll(opts.follow ? 1000 : 200);
      for (let i = 0; i < records.length; i++) {
        print(ctx, records[i]!);
        printed++;
        if (opts.limit !== undefined && printed >= opts.limit) {
          // only what was printed counts as consumed
          rewind(consumer, records.slice(i + 1));
          stopped = true;
          break;
        }
      }
      if (!opts.follow && consumer.caughtUp()) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await consumer.close();
  }
}

async function seekAll(ctx: CliContext, consumer: Consumer, topic: string, start: StartAt): Promise<void> {
  const assigned = await consumer.assignment();
  if (typeof start === 'bigint') {
    for (const tp of assigned) consumer.seek(tp, start);
    return;
  }
  const described = await withAdmin(ctx, (a) => a.describeTopic(topic));
  for (const tp of assigned) {
    const p = described.partitions.find((x) => x.partition === tp.partition);
    if (p) consumer.seek(tp, start === 'earliest' ? p.logStartOffset : p.highWatermark);
  }
}

function rewind(consumer: Consumer, unprinted: readonly ConsumerRecord[]): void {
  const first = new Map<string, { tp: TopicPartition; offset: bigint }>();
  for (const r of unprinted) {
    const k = `${r.topic}\u0000${r.partition}`;
    if (!first.has(k)) first.set(k, { tp: { topic: r.topic, partition: r.partition }, offset: r.offset });
  }
  for (const { tp, offset } of first.values()) consumer.seek(tp, offset);
}

function print(ctx: CliContext, r: ConsumerRecord): void {
  if (ctx.json) {
    ctx.out.json({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: bytesForJson(r.key),
      value: bytesForJson(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: bytesForJson(h.value) })),
    });
    return;
  }
  const headers = r.headers.length > 0 ? ` headers=${r.headers.map((h) => `${h.key}:${bytesForHumans(h.value)}`).join(',')}` : '';
  ctx.out.line(`partition=${r.partition} offset=${r.offset} key=${bytesForHumans(r.key)}${headers} value=${bytesForHumans(r.value)}`);
}
