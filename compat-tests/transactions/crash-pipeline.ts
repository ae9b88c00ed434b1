// The run and the checks of transaction-crash.test.ts and transaction-crash-cluster.test.ts:
// a transactional consume-transform-produce pipeline and a continuous read_committed reader
// (both transaction-crash.py), faults injected by the caller while the pipeline works, then
// the verdict. Which records count as violations, and why: see transaction-crash.test.ts.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { expect } from 'vitest';
import { PYTHON } from '../../test-kit/run-command.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { byPartition, runConfluent, waitUntilStable, type Row } from './support.js';

const SCRIPT = join(import.meta.dirname, 'transaction-crash.py');
export const INPUT = 'txn-crash-input';
export const OUTPUT = 'txn-crash-output';
export const GROUP = 'txn-crash-group';
export const TRANSACTIONAL_ID = 'txn-crash-pipeline';

interface ErrorJson {
  name: string;
  code?: number;
  message: string;
}

export type PipelineEvent =
  | { ev: 'generation'; n: number }
  | { ev: 'begin'; t: number; src: Array<[number, number]> }
  | { ev: 'commit'; t: number }
  | { ev: 'committed'; t: number; next: Record<string, number> }
  | { ev: 'aborted'; t: number; how: 'explicit' | 'after-failed-commit' | 'before-commit' }
  | { ev: 'dropped'; t: number; error: ErrorJson }
  | { ev: 'error'; where: string; error: ErrorJson }
  | { ev: 'done' };

export type ReaderLine = { r: Row } | { ev: 'error'; where: string; error: ErrorJson } | { ev: 'done' };

/** A transaction-crash.py process: its JSON lines so far, a clean stop and a kill. */
export class ScriptProcess<Line> {
  readonly lines: Line[] = [];
  private err = '';
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly exited: Promise<number | null>;

  constructor(mode: 'pipeline' | 'reader' | 'fence', config: object, onLine: (line: Line) => void = () => undefined) {
    this.child = spawn(PYTHON, [SCRIPT, mode, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        if (l === '') continue;
        const parsed = JSON.parse(l) as Line;
        this.lines.push(parsed);
        onLine(parsed);
      }
    });
    this.child.stderr.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  stderr(): string {
    return this.err;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    this.child.stdin.end('stop\n');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`transaction-crash.py did not stop within ${timeoutMs} ms\nstderr: ${this.err.slice(-4000)}`)), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (code !== 0) throw new Error(`transaction-crash.py exited with ${code}\nstderr: ${this.err.slice(-4000)}`);
  }

  kill(): void {
    if (this.running()) this.child.kill('SIGKILL');
  }
}

export type Fate = 'committed' | 'aborted' | 'in-doubt';

export interface Transactions {
  /** Each transaction's input records, by T. */
  src: Map<number, Array<[number, number]>>;
  fate: Map<number, Fate>;
  /** How the aborted ones ended. */
  abortedHow: Record<string, number>;
  problems: string[];
}

/** Each transaction's fate from the pipeline's events (see the comment at the top). */
export function transactionFates(events: readonly PipelineEvent[]): Transactions {
  const src = new Map<number, Array<[number, number]>>();
  const commitCalled = new Set<number>();
  const committed = new Set<number>();
  const aborted = new Map<number, string>();
  const problems: string[] = [];
  for (const e of events) {
    if (e.ev === 'begin') {
      if (src.has(e.t)) problems.push(`transaction ${e.t} began twice`);
      src.set(e.t, e.src);
    } else if (e.ev === 'commit') commitCalled.add(e.t);
    else if (e.ev === 'committed') committed.add(e.t);
    else if (e.ev === 'aborted') aborted.set(e.t, e.how);
  }
  const fate = new Map<number, Fate>();
  const abortedHow: Record<string, number> = {};
  for (const t of src.keys()) {
    if (committed.has(t) && aborted.has(t)) problems.push(`transaction ${t} both committed and aborted`);
    if (committed.has(t)) fate.set(t, 'committed');
    else if (aborted.has(t) || !commitCalled.has(t)) {
      fate.set(t, 'aborted');
      const how = aborted.get(t) ?? 'never-committed';
      abortedHow[how] = (abortedHow[how] ?? 0) + 1;
    } else fate.set(t, 'in-doubt');
  }
  return { src, fate, abortedHow, problems };
}

/** What the fault injector sees of the running pipeline. */
export interface RunningPipeline {
  /** Transactions the pipeline reported committed so far. */
  commits(): number;
  /** Input records covered by those commits. */
  progress(): number;
  running(): boolean;
  stderr(): string;
  /** Calls `action` synchronously when the pipeline next reports a commit_transaction call; resolves to that transaction's number. */
  onNextCommitCall(action: () => void): Promise<number>;
  /**
   * Fences the pipeline's producer (another producer initialises its transactional id), then
   * waits until the pipeline built new clients and committed again. Returns the report line.
   */
  fence(): Promise<string>;
  /** Waits for a commit reported after `commitsBefore` (the pipeline got going again). */
  waitForCommitAfter(commitsBefore: number, what: string, timeoutMs?: number): Promise<void>;
}

export interface CrashRunOptions {
  /** Every address the clients may bootstrap from (asked again for each use: agents come and go). */
  bootstraps: () => string[];
  partitions: number;
  records: number;
  seed: number;
  /** Cleanups of the test, run after it. */
  cleanups: Array<() => Promise<void> | void>;
  /** Injects the faults while the pipeline works; returns a line per fault and the transactions whose commit_transaction call had its responses lost. */
  faults(pipeline: RunningPipeline): Promise<{ schedule: string[]; heldCommits: number[] }>;
  /** At least this many client generations (1 + the fencings). */
  minGenerations?: number;
  /** Pipeline pacing: a pause after each commit (ms). */
  paceMs?: number;
}

function kafkaOf(bootstraps: string[]): Kafka {
  return new Kafka({ clientId: 'txn-crash-setup', brokers: bootstraps, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
}

async function withAdminOf<T>(bootstraps: string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaOf(bootstraps).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Runs the scenario and checks everything (vitest expectations); returns the report printed. */
export async function runCrashPipeline(opts: CrashRunOptions): Promise<Record<string, unknown>> {
  const { partitions: PARTITIONS, records: RECORDS, seed: SEED, cleanups } = opts;
  const bootstraps = (): string[] => opts.bootstraps();
  const bootstrap = bootstraps().join(',');
  await withAdminOf(bootstraps(), async (admin) => {
    const created = await admin.createTopics({
      topics: [
        { topic: INPUT, numPartitions: PARTITIONS },
        { topic: OUTPUT, numPartitions: PARTITIONS },
      ],
      waitForLeaders: true,
    });
    if (!created) throw new Error('topics existed');
  });
  const plain = kafkaOf(bootstraps()).producer();
  await plain.connect();
  for (let i = 0; i < RECORDS; i += 200) {
    const messages = Array.from({ length: Math.min(200, RECORDS - i) }, (_, j) => ({ partition: (i + j) % PARTITIONS, value: `in-${i + j}` }));
    await plain.send({ topic: INPUT, acks: -1, messages });
  }
  await plain.disconnect();
  const inputEnds = (await withAdminOf(bootstraps(), (admin) => admin.fetchTopicOffsets(INPUT))).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  expect(inputEnds.reduce((a, b) => a + b, 0)).toBe(RECORDS);

  // input records the pipeline reported committed (the group's offsets, as far as it knows)
  const committedNext = Array.from({ length: PARTITIONS }, () => 0);
  let commits = 0;
  /** Set while a fault waits for the pipeline's next commit_transaction call. */
  let onCommitCall: ((t: number) => void) | undefined;
  const pipeline = new ScriptProcess<PipelineEvent>(
    'pipeline',
    { bootstrap, input: INPUT, output: OUTPUT, group: GROUP, transactional_id: TRANSACTIONAL_ID, min_batch: 5, max_batch: 25, abort_ratio: 0.1, seed: SEED, pace_ms: opts.paceMs ?? 40 },
    (e) => {
      if (e.ev === 'commit' && onCommitCall) {
        onCommitCall(e.t);
        onCommitCall = undefined;
      }
      if (e.ev !== 'committed') return;
      commits++;
      for (const [p, o] of Object.entries(e.next)) committedNext[Number(p)] = Math.max(committedNext[Number(p)]!, o);
    },
  );
  cleanups.push(() => pipeline.kill());
  const reader = new ScriptProcess<ReaderLine>('reader', { bootstrap, topic: OUTPUT, partitions: PARTITIONS });
  cleanups.push(() => reader.kill());
  const running: RunningPipeline = {
    commits: () => commits,
    progress: () => committedNext.reduce((a, b) => a + b, 0),
    running: () => pipeline.running(),
    stderr: () => pipeline.stderr(),
    onNextCommitCall: (action) =>
      new Promise<number>((resolve) => {
        onCommitCall = (t) => {
          action();
          resolve(t);
        };
      }),
    async fence() {
      const before = { commits, generations: pipeline.lines.filter((e) => e.ev === 'generation').length, progress: committedNext.reduce((a, b) => a + b, 0) };
      const fencer = new ScriptProcess<{ ev: string }>('fence', { bootstrap, transactional_id: TRANSACTIONAL_ID });
      cleanups.push(() => fencer.kill());
      await waitUntil('the fencing producer to initialise', () => fencer.lines.some((l) => l.ev === 'fenced') || !fencer.running(), 30_000, () => fencer.stderr());
      expect(fencer.lines.some((l) => l.ev === 'fenced')).toBe(true);
      await waitUntil('the pipeline to build new clients', () => pipeline.lines.filter((e) => e.ev === 'generation').length > before.generations || !pipeline.running(), 30_000, () => pipeline.stderr().slice(-2000));
      await running.waitForCommitAfter(commits, 'a commit after the fencing');
      expect(before.progress).toBeLessThan(RECORDS);
      return `fenced at ${before.commits} commits (${before.progress}/${RECORDS} input records) by another producer's InitProducerId; the pipeline built new clients`;
    },
    async waitForCommitAfter(before, what, timeoutMs = 45_000) {
      await waitUntil(what, () => commits > before || !pipeline.running(), timeoutMs, () => pipeline.stderr().slice(-2000));
      expect(pipeline.running()).toBe(true);
    },
  };

  await running.waitForCommitAfter(0, 'the first commit', 30_000);
  const { schedule, heldCommits } = await opts.faults(running);

  // done when the group's committed offsets reach the input's end offsets (asked of the
  // broker: a commit whose response was lost counts although the pipeline never heard of it)
  const groupOffsets = async (): Promise<number[]> => {
    const res = await withAdminOf(bootstraps(), (admin) => admin.fetchOffsets({ groupId: GROUP, topics: [INPUT] }));
    return res[0]!.partitions.sort((a, b) => a.partition - b.partition).map((o) => Number(o.offset));
  };
  let lastOffsets: number[] = [];
  await waitUntil(
    'the group to commit the input end offsets',
    async () => {
      if (!pipeline.running()) return true;
      lastOffsets = await groupOffsets().catch(() => lastOffsets);
      return lastOffsets.length === PARTITIONS && lastOffsets.every((o, p) => o === inputEnds[p]);
    },
    45_000,
    () => `group offsets ${JSON.stringify(lastOffsets)}, input ends ${JSON.stringify(inputEnds)}\n${pipeline.stderr().slice(-2000)}`,
  );
  expect(pipeline.running()).toBe(true);
  await pipeline.stop();

  const outputEnds = await waitUntilStable(bootstraps()[0]!, OUTPUT, PARTITIONS);
  const out = await runConfluent(bootstraps().join(','), [
    { op: 'read', topic: OUTPUT, partitions: PARTITIONS, isolation: 'read_committed' },
    { op: 'read', topic: OUTPUT, partitions: PARTITIONS, isolation: 'read_uncommitted' },
  ]);
  const [committedRead, uncommittedRead] = out.results as Array<{ records: Row[] }>;
  const finalRows = byPartition(committedRead!.records, PARTITIONS);
  // the continuous reader catches up with the final read, then stops
  const readerRows = (): Row[][] => byPartition(reader.lines.flatMap((l) => ('r' in l ? [l.r] : [])), PARTITIONS);
  await waitUntil('the continuous reader to catch up', () => readerRows().every((rows, p) => rows.length >= finalRows[p]!.length), 30_000, () => `reader ${readerRows().map((r) => r.length)}, final ${finalRows.map((r) => r.length)}`);
  await sleep(500);
  await reader.stop();
  const continuous = readerRows();

  const events = pipeline.lines;
  const txns = transactionFates(events);
  const problems = [...txns.problems];
  const fateOf = (value: string | null): Fate | undefined => txns.fate.get(Number(value));

  // the continuous reader: nothing of an aborted (or unknown) transaction, offsets strictly increasing
  for (const [p, rows] of continuous.entries()) {
    let last = -1;
    for (const [, offset, key, value] of rows) {
      if (offset <= last) problems.push(`reader: partition ${p} offset ${offset} after ${last}`);
      last = offset;
      const fate = fateOf(value);
      if (fate === undefined || fate === 'aborted') problems.push(`reader: ${OUTPUT}-${p}@${offset} (input ${key}) is from transaction ${value}, ${fate ?? 'never begun'}`);
    }
  }
  // the final read_committed output
  const seenInput = new Map<string, number>();
  const presentByTxn = new Map<number, number>();
  for (const [p, rows] of finalRows.entries()) {
    for (const [, offset, key, value] of rows) {
      const fate = fateOf(value);
      if (fate === undefined || fate === 'aborted') problems.push(`final read: ${OUTPUT}-${p}@${offset} (input ${key}) is from transaction ${value}, ${fate ?? 'never begun'}`);
      if (Number(key!.split(':')[0]) !== p) problems.push(`final read: input ${key} on output partition ${p}`);
      if (!txns.src.get(Number(value))?.some(([sp, so]) => `${sp}:${so}` === key)) problems.push(`final read: input ${key} is not one of transaction ${value}'s`);
      seenInput.set(key!, (seenInput.get(key!) ?? 0) + 1);
      presentByTxn.set(Number(value), (presentByTxn.get(Number(value)) ?? 0) + 1);
    }
  }
  for (let p = 0; p < PARTITIONS; p++) {
    for (let o = 0; o < inputEnds[p]!; o++) {
      const n = seenInput.get(`${p}:${o}`) ?? 0;
      if (n !== 1) problems.push(`final read: input ${p}:${o} is in the output ${n} times`);
    }
  }
  // all or nothing: committed ones whole, in-doubt ones whole or absent
  const inDoubt = { committed: 0, aborted: 0 };
  for (const [t, fate] of txns.fate) {
    const present = presentByTxn.get(t) ?? 0;
    const size = txns.src.get(t)!.length;
    if (fate === 'committed' && present !== size) problems.push(`committed transaction ${t}: ${present} of its ${size} records in the output`);
    if (fate === 'in-doubt') {
      if (present !== 0 && present !== size) problems.push(`in-doubt transaction ${t}: ${present} of its ${size} records in the output`);
      inDoubt[present === 0 ? 'aborted' : 'committed']++;
    }
  }
  // the continuous reader saw exactly the final read_committed output
  for (let p = 0; p < PARTITIONS; p++) {
    if (JSON.stringify(continuous[p]) !== JSON.stringify(finalRows[p])) problems.push(`reader: partition ${p} differs from the final read (${continuous[p]!.length} vs ${finalRows[p]!.length} records)`);
  }

  const errors: Record<string, number> = {};
  for (const e of events) if (e.ev === 'error') errors[`${e.where}: ${e.error.name}`] = (errors[`${e.where}: ${e.error.name}`] ?? 0) + 1;
  for (const l of reader.lines) if ('ev' in l && l.ev === 'error') errors[`${l.where}: ${l.error.name}`] = (errors[`${l.where}: ${l.error.name}`] ?? 0) + 1;
  const fates: Record<string, number> = {};
  for (const f of txns.fate.values()) fates[f] = (fates[f] ?? 0) + 1;
  const finalGroupOffsets = await groupOffsets();
  const report: Record<string, unknown> = {
    seed: SEED,
    schedule,
    transactions: txns.fate.size,
    fates,
    abortedHow: txns.abortedHow,
    inDoubtResolved: inDoubt,
    heldCommits: heldCommits.map((t) => `${t}: ${txns.fate.get(t)}`),
    generations: events.filter((e) => e.ev === 'generation').length,
    outputEnds,
    committedRecords: committedRead!.records.length,
    uncommittedRecords: uncommittedRead!.records.length,
    errors,
    problems: problems.slice(0, 50),
    problemCount: problems.length,
  };
  console.log(JSON.stringify(report, null, 1));

  expect(out.errors.filter((e) => e.name !== '_TRANSPORT' && e.name !== '_ALL_BROKERS_DOWN')).toEqual([]);
  expect(problems).toEqual([]);
  expect(finalGroupOffsets).toEqual(inputEnds);
  expect(committedRead!.records.length).toBe(RECORDS);
  // the run did exercise aborts, whose records are in the log but not read_committed
  expect(txns.abortedHow.explicit ?? 0).toBeGreaterThan(0);
  expect(uncommittedRead!.records.length).toBeGreaterThan(RECORDS);
  expect(events.filter((e) => e.ev === 'generation').length).toBeGreaterThanOrEqual(opts.minGenerations ?? 1);
  return report;
}
