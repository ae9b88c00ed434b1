import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';

const PYTHON_DIR = join(import.meta.dirname, '../python');

export interface KafkaErrorJson {
  code: number;
  name: string;
  message: string;
}

/** One librdkafka delivery report, as durable-producer.py prints it. */
export interface DeliveryReport {
  p: number;
  o: number;
  v: string;
  e: KafkaErrorJson | null;
}

export interface ProducerSummary {
  done: true;
  produced: number;
  outstanding: number;
}

/** A running durable-producer.py: its reports so far and a way to stop it cleanly. */
export interface DurableProducer {
  readonly reports: DeliveryReport[];
  acked(): number;
  stderr(): string;
  /** Asks it to stop producing, waits for every delivery report and for the process to exit. */
  stop(timeoutMs?: number): Promise<ProducerSummary>;
  /** Kills it (for cleanup after a failure). */
  kill(): void;
}

export interface DurableProducerOptions {
  bootstrap: string;
  topic: string;
  partitions: number;
  rate: number;
  messageTimeoutMs: number;
  /** librdkafka debug contexts, written to stderr. */
  debug?: string;
}

export function startDurableProducer(opts: DurableProducerOptions): DurableProducer {
  const config = { bootstrap: opts.bootstrap, topic: opts.topic, partitions: opts.partitions, rate: opts.rate, message_timeout_ms: opts.messageTimeoutMs };
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(PYTHON, [join(PYTHON_DIR, 'durable-producer.py'), JSON.stringify(config)], {
    env: { ...process.env, ...(opts.debug ? { DURABLE_PRODUCER_DEBUG: opts.debug } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const reports: DeliveryReport[] = [];
  let acked = 0;
  let summary: ProducerSummary | undefined;
  let partial = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line === '') continue;
      const parsed = JSON.parse(line) as DeliveryReport | ProducerSummary;
      if ('done' in parsed) summary = parsed;
      else {
        reports.push(parsed);
        if (parsed.e === null) acked++;
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    reports,
    acked: () => acked,
    stderr: () => err,
    async stop(timeoutMs = 150_000) {
      child.stdin.end('stop\n');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`producer did not finish within ${timeoutMs} ms\nstderr tail: ${err.slice(-4000)}`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      if (code !== 0 || summary === undefined) throw new Error(`producer exited with ${code} without a summary\nstderr tail: ${err.slice(-4000)}`);
      return summary;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** [offset, key, value, timestamp, headers] as durable-reader.py prints a record. */
export type ReadRecord = [number, string | null, string | null, number, Array<[string, string | null]>];

export interface ReadPartition {
  low: number;
  high: number;
  records: ReadRecord[];
}

/** Reads every partition of `topic` from its log start to its high watermark. */
export async function readWholeTopic(bootstrap: string, topic: string, partitions: number): Promise<ReadPartition[]> {
  const res = await runCommand(PYTHON, [join(PYTHON_DIR, 'durable-reader.py'), JSON.stringify({ bootstrap, topic, partitions })], { timeoutMs: 90_000 });
  if (res.code !== 0) throw new Error(`durable-reader.py exited with ${res.code}\nstderr: ${res.stderr.slice(-4000)}`);
  const parsed = JSON.parse(res.stdout) as { partitions: Record<string, ReadPartition> };
  const out: ReadPartition[] = [];
  for (let p = 0; p < partitions; p++) out.push(parsed.partitions[String(p)]!);
  return out;
}
