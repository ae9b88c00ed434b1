/**
 * Jepsen-style: a transactional consume-transform-produce pipeline (confluent-kafka /
 * librdkafka 2.0.2, transaction-crash.py) copies a pre-filled 3-partition input topic to an
 * output topic while the broker is SIGKILLed and restarted 3 times on the same data
 * directory and ports (and, twice, while every response to the clients is held back right
 * before the kill, so EndTxn, TxnOffsetCommit and Produce responses of work the broker did
 * are lost), and once, after the first restart, another producer initialises the pipeline's
 * transactional id (a zombie's successor: the pipeline's producer is fenced and its open
 * transaction aborted). The pipeline process lives through the whole run: on fatal errors (fencing,
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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { HoldingProxy } from '../durability/holding-proxy.js';
import { seedFromEnv, seededRandom } from '../durability/seeded-random.js';
import { runCrashPipeline } from './crash-pipeline.js';

const PARTITIONS = 3;
const RECORDS = 2000;
const KILLS = 3;
const SEED = seedFromEnv(0x7c4a_5e01);

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

    await runCrashPipeline({
      bootstraps: () => [bootstrap],
      partitions: PARTITIONS,
      records: RECORDS,
      seed: SEED,
      cleanups,
      minGenerations: 2,
      faults: async (pipeline) => {
        const schedule: string[] = [];
        const heldCommits: number[] = [];
        for (let i = 0; i < KILLS; i++) {
          const kill: Kill = { runMs: Math.floor(800 + random() * 2200), holdMs: i % 2 === 1 || i === KILLS - 1 ? Math.floor(50 + random() * 300) : 0, downMs: Math.floor(random() * 1500) };
          await sleep(kill.runMs);
          let heldCommit: number | undefined;
          if (kill.holdMs > 0) {
            // hold back responses from the moment the pipeline calls commit_transaction: the
            // EndTxn (or a Produce or TxnOffsetCommit of that transaction) is answered by the
            // broker but the answer is lost with the kill, and librdkafka retries it on the new process
            heldCommit = await pipeline.onNextCommitCall(() => proxy.hold());
            heldCommits.push(heldCommit);
            await sleep(kill.holdMs);
          }
          const before = { commits: pipeline.commits(), progress: pipeline.progress() };
          await broker.kill('SIGKILL');
          proxy.dropHeldAndCut();
          await sleep(kill.downMs);
          broker = await start();
          schedule.push(`#${i + 1}: after ${kill.runMs} ms at ${before.commits} commits (${before.progress}/${RECORDS} input records), responses held ${kill.holdMs} ms${heldCommit !== undefined ? ` from transaction ${heldCommit}'s commit_transaction call` : ''}, down ${kill.downMs} ms`);
          // every kill lands while there is work left, and the pipeline gets going again after it
          expect(before.progress).toBeLessThan(RECORDS);
          await pipeline.waitForCommitAfter(before.commits, `a commit after restart #${i + 1}`);
          // after the first restart, a zombie's successor fences the pipeline's producer
          if (i === 0) schedule.push(await pipeline.fence());
        }
        return { schedule, heldCommits };
      },
    });
  });
});
