/**
 * Jepsen-style: a transactional consume-transform-produce pipeline (confluent-kafka /
 * librdkafka 2.0.2, transaction-crash.py) copies a pre-filled 3-partition input topic to an
 * output topic while the broker is SIGKILLed and restarted 3 times on the same data
 * directory and ports (and, twice, while every response to the clients is held back right
 * before the kill, so EndTxn, TxnOffsetCommit and Produce responses of work the broker did
 * are lost). The pipeline process lives through the whole run: on fatal errors (fencing,
 * an epoch bump it cannot do, too many retriable failures) it throws its consumer and
 * producer away and builds new ones with the same transactional.id.
 *
 * Meanwhile a separate read_committed consumer reads the output continuously. Every output
 * record carries its input record's partition:offset (key) and the number T of the
 * transaction that wrote it (value).
 *
 * The fate of a transaction T, from the pipeline's events (transaction-crash.py):
 *   committed     commit_transaction returned success.
 *   aborted       definitely aborted, one of:
 *                 - abort_transaction returned success for T (an explicit abort, or the
 *                   client's abort after send_offsets or commit_transaction failed with an
 *                   abortable error): the coordinator accepted EndTxn(abort) for T, which
 *                   Kafka refuses for a transaction that committed or is committing;
 *                 - commit_transaction was never called for T (the clients were dropped
 *                   before it): without an EndTxn(commit) from T's producer epoch the
 *                   coordinator can only ever abort T (on EndTxn(abort), on the next
 *                   InitProducerId of the transactional id, which fences the epoch, or on
 *                   the transaction timeout).
 *   in doubt      commit_transaction was called but neither returned success nor was
 *                 followed by a successful abort (its response was lost in a crash, or it
 *                 kept failing and the clients were dropped). It may have committed.
 * Violations:
 *   - the read_committed reader (continuous, or the final read) ever returns a record of an
 *     aborted transaction, or of a transaction that never began;
 *   - per partition, the offsets the continuous reader gets are not strictly increasing;
 *   - a transaction is partly visible: every committed transaction's records and every
 *     in-doubt transaction's records are all in the final read_committed output or (in
 *     doubt only) none of them;
 *   - the final read_committed output does not hold every input record exactly once, on
 *     its input partition, or differs from what the continuous reader saw;
 *   - the group's committed offsets are not the input's end offsets.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON } from '../../test-kit/run-command.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { HoldingProxy } from '../durability/holding-proxy.js';
import { seedFromEnv, seededRandom } from '../durability/seeded-random.js';
import { byPartition, createTopics, runConfluent, waitUntilStable, withAdmin, type Row } from './support.js';

const SCRIPT = join(import.meta.dirname, 'transaction-crash.py');
const PARTITIONS = 3;
const RECORDS = 2000;
const KILLS = 3;
const SEED = seedFromEnv(0x7c4a_5e01);
const INPUT = 'txn-crash-input';
const OUTPUT = 'txn-crash-output';
const GROUP = 'txn-crash-group';

interface ErrorJson {
  name: string;
  code?: number;
  message: string;
}

type PipelineEvent =
  | { ev: 'generation'; n: number }
  | { ev: 'begin'; t: number; src: Array<[number, number]> }
  | { ev: 'commit'; t: number }
  | { ev: 'committed'; t: number; next: Record<string, number> }
  | { ev: 'aborted'; t: number; how: 'explicit' | 'after-failed-commit' | 'before-commit' }
  | { ev: 'dropped'; t: number; error: ErrorJson }
  | { ev: 'error'; where: string; error: ErrorJson }
  | { ev: 'done' };

type ReaderLine = { r: Row } | { ev: 'error'; where: string; error: ErrorJson } | { ev: 'done' };

/** A transaction-crash.py process: its JSON lines so far, a clean stop and a kill. */
class ScriptProcess<Line> {
  readonly lines: Line[] = [];
  private err = '';
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly exited: Promise<number | null>;

  constructor(mode: 'pipeline' | 'reader', config: object, onLine: (line: Line) => void = () => undefined) {
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

type Fate = 'committed' | 'aborted' | 'in-doubt';

interface Transactions {
  /** Each transaction's input records, by T. */
  src: Map<number, Array<[number, number]>>;
  fate: Map<number, Fate>;
  /** How the aborted ones ended. */
  abortedHow: Record<string, number>;
  problems: string[];
}

/** Each transaction's fate from the pipeline's events (see the comment at the top). */
function transactionFates(events: readonly PipelineEvent[]): Transactions {
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

interface Kill {
  runMs: number;
  holdMs: number;
  downMs: number;
}

describe('SIGKILL during a transactional consume-transform-produce pipeline (confluent-kafka / librdkafka 2.0.2)', () => {
  let cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });

  it(`read_committed never sees an aborted transaction and the output holds every input record exactly once after ${KILLS} kills (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const dataDir = mkdtempSync(join(tmpdir(), 'streamhouse-txn-crash-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const kafkaPort = await freePort();
    const httpPort = await freePort();
    const proxy = new HoldingProxy(() => kafkaPort);
    cleanups.push(() => proxy.close());
    const bootstrap = `127.0.0.1:${await proxy.listen()}`;
    const start = () => startBrokerProcess({ dataDir, kafkaPort, httpPort, args: ['--advertised-listener', bootstrap, '--group-initial-rebalance-delay-ms', '0'] });
    let broker: BrokerProcess = await start();
    cleanups.push(() => broker.stop().then(() => undefined));

    await createTopics(bootstrap, [
      { topic: INPUT, numPartitions: PARTITIONS },
      { topic: OUTPUT, numPartitions: PARTITIONS },
    ]);
    const kafka = new Kafka({ clientId: 'txn-crash-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const plain = kafka.producer();
    await plain.connect();
    for (let i = 0; i < RECORDS; i += 200) {
      const messages = Array.from({ length: Math.min(200, RECORDS - i) }, (_, j) => ({ partition: (i + j) % PARTITIONS, value: `in-${i + j}` }));
      await plain.send({ topic: INPUT, acks: -1, messages });
    }
    await plain.disconnect();
    const inputEnds = (await withAdmin(bootstrap, (admin) => admin.fetchTopicOffsets(INPUT))).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    expect(inputEnds.reduce((a, b) => a + b, 0)).toBe(RECORDS);

    // input records the pipeline reported committed (the group's offsets, as far as it knows)
    const committedNext = Array.from({ length: PARTITIONS }, () => 0);
    let commits = 0;
    /** Set while a kill waits for the pipeline's next commit_transaction call. */
    let onCommitCall: ((t: number) => void) | undefined;
    const heldCommits: number[] = [];
    const pipeline = new ScriptProcess<PipelineEvent>(
      'pipeline',
      { bootstrap, input: INPUT, output: OUTPUT, group: GROUP, transactional_id: 'txn-crash-pipeline', min_batch: 5, max_batch: 25, abort_ratio: 0.1, seed: SEED, pace_ms: 40 },
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
    const progress = () => committedNext.reduce((a, b) => a + b, 0);

    await waitUntil('the first commit', () => commits > 0 || !pipeline.running(), 30_000, () => pipeline.stderr());
    const schedule: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      const kill: Kill = { runMs: Math.floor(800 + random() * 2200), holdMs: i % 2 === 1 || i === KILLS - 1 ? Math.floor(50 + random() * 300) : 0, downMs: Math.floor(random() * 1500) };
      await sleep(kill.runMs);
      let heldCommit: number | undefined;
      if (kill.holdMs > 0) {
        // hold back responses from the moment the pipeline calls commit_transaction: the
        // EndTxn (or a Produce or TxnOffsetCommit of that transaction) is answered by the
        // broker but the answer is lost with the kill, and librdkafka retries it on the new process
        heldCommit = await new Promise<number>((resolve) => {
          onCommitCall = (t) => {
            proxy.hold();
            resolve(t);
          };
        });
        heldCommits.push(heldCommit);
        await sleep(kill.holdMs);
      }
      const before = { commits, progress: progress() };
      await broker.kill('SIGKILL');
      proxy.dropHeldAndCut();
      await sleep(kill.downMs);
      broker = await start();
      schedule.push(`#${i + 1}: after ${kill.runMs} ms at ${before.commits} commits (${before.progress}/${RECORDS} input records), responses held ${kill.holdMs} ms${heldCommit !== undefined ? ` from transaction ${heldCommit}'s commit_transaction call` : ''}, down ${kill.downMs} ms`);
      // every kill lands while there is work left, and the pipeline gets going again after it
      expect(before.progress).toBeLessThan(RECORDS);
      await waitUntil(`a commit after restart #${i + 1}`, () => commits > before.commits || !pipeline.running(), 45_000, () => `${schedule.join('\n')}\n${pipeline.stderr().slice(-2000)}`);
      expect(pipeline.running()).toBe(true);
    }

    // done when the group's committed offsets reach the input's end offsets (asked of the
    // broker: a commit whose response was lost counts although the pipeline never heard of it)
    const groupOffsets = async (): Promise<number[]> => {
      const res = await withAdmin(bootstrap, (admin) => admin.fetchOffsets({ groupId: GROUP, topics: [INPUT] }));
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

    const outputEnds = await waitUntilStable(bootstrap, OUTPUT, PARTITIONS);
    const out = await runConfluent(bootstrap, [
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
    console.log(
      JSON.stringify(
        {
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
        },
        null,
        1,
      ),
    );

    expect(out.errors.filter((e) => e.name !== '_TRANSPORT' && e.name !== '_ALL_BROKERS_DOWN')).toEqual([]);
    expect(problems).toEqual([]);
    expect(finalGroupOffsets).toEqual(inputEnds);
    expect(committedRead!.records.length).toBe(RECORDS);
    // the run did exercise aborts, whose records are in the log but not read_committed
    expect(txns.abortedHow.explicit ?? 0).toBeGreaterThan(0);
    expect(uncommittedRead!.records.length).toBeGreaterThan(RECORDS);
    expect(events.filter((e) => e.ev === 'generation').length).toBeGreaterThanOrEqual(1);
  });
});
