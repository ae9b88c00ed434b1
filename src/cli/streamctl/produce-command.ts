import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Producer, type ProducerRecord, type RecordMetadata } from '../../grpc/client/producer.js';
import { UsageError } from './cli-errors.js';
import { collect, contextOf, intArg, keyValue, type CliContext } from './context.js';

interface ProduceOptions {
  partition?: number;
  key?: string;
  value?: string;
  header?: Array<[string, string]>;
  keySeparator?: string;
}

/** Records waiting for their answers before more stdin is read (bounds memory on big inputs). */
const MAX_PENDING = 10_000;

export function registerProduceCommand(program: Command): void {
  program
    .command('produce <topic>')
    .description('write one record (--value) or one record per stdin line')
    .option('-p, --partition <n>', 'partition (default: by key hash, or any for no key)', intArg('--partition'))
    .option('-k, --key <key>', 'record key (default: none)')
    .option('-v, --value <value>', 'record value; without it, each stdin line is a record')
    .option('-H, --header <key=value>', 'record header (repeatable)', collect(keyValue('--header')))
    .option('-K, --key-separator <sep>', 'stdin lines are <key><sep><value>')
    .action(async (topic: string, opts: ProduceOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.keySeparator !== undefined && opts.keySeparator === '') throw new UsageError('--key-separator must not be empty');
      if (opts.value === undefined && process.stdin.isTTY) throw new UsageError('nothing to produce: give --value or pipe lines on stdin');
      const producer = new Producer({ address: ctx.address, timeoutMs: ctx.timeoutMs, retries: 2, initialBackoffMs: 100, maxBackoffMs: 500 });
      try {
        const results = opts.value !== undefined ? [await producer.send(recordOf(topic, opts, opts.key, opts.value))] : await produceLines(producer, topic, opts);
        await producer.flush();
        report(ctx, topic, results);
      } finally {
        await producer.close().catch(() => {});
      }
    });
}

function recordOf(topic: string, opts: ProduceOptions, key: string | undefined, value: string): ProducerRecord {
  return {
    topic,
    value,
    ...(key !== undefined ? { key } : {}),
    ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
    ...(opts.header ? { headers: opts.header.map(([k, v]) => ({ key: k, value: v })) } : {}),
  };
}

async function produceLines(producer: Producer, topic: string, opts: ProduceOptions): Promise<RecordMetadata[]> {
  const results: Array<Promise<RecordMetadata>> = [];
  let pending: Array<Promise<RecordMetadata>> = [];
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    let key = opts.key;
    let value = line;
    if (opts.keySeparator !== undefined) {
      const at = line.indexOf(opts.keySeparator);
      if (at < 0) throw new UsageError(`stdin line ${lineNo} has no key separator "${opts.keySeparator}"`);
      key = line.slice(0, at);
      value = line.slice(at + opts.keySeparator.length);
    }
    const sent = producer.send(recordOf(topic, opts, key, value));
    sent.catch(() => {});
    results.push(sent);
    pending.push(sent);
    if (pending.length >= MAX_PENDING) {
      await Promise.all(pending);
      pending = [];
    }
  }
  if (results.length === 0) throw new UsageError('nothing to produce: stdin had no lines');
  return Promise.all(results);
}

function report(ctx: CliContext, topic: string, results: readonly RecordMetadata[]): void {
  if (ctx.json) {
    ctx.out.json(results.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset })));
    return;
  }
  if (results.length === 1) {
    const r = results[0]!;
    ctx.out.line(`produced to ${topic} partition ${r.partition} at offset ${r.offset}`);
    return;
  }
  const partitions = [...new Set(results.map((r) => r.partition))].sort((a, b) => a - b);
  ctx.out.line(`produced ${results.length} records to ${topic} (partition${partitions.length === 1 ? '' : 's'} ${partitions.join(', ')})`);
}
