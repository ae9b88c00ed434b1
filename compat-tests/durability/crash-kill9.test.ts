import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { readBatches, type BatchHeader } from './batch-headers.js';
import { checkCrashLog, type CrashLogVerdict } from './crash-log-check.js';
import { HoldingProxy } from './holding-proxy.js';
import { readWholeTopic, startDurableProducer, type DurableProducer } from './python-clients.js';
import { seedFromEnv, seededRandom } from './seeded-random.js';

// librdkafka 2.0.2 idempotent producer (acks=all) against a broker that is SIGKILLed and
// restarted on the same port and data directory.
//
// What librdkafka does (observed with debug=eos,msg,protocol): on the disconnect it fails
// the in-flight ProduceRequests with a transport error ("possibly persisted"), drains every
// partition, reconnects and resends the very same batches ("Reconstructed MessageSet": same
// producer id, epoch and base sequence). A restart alone makes it neither call
// InitProducerId nor bump the epoch, so with a long message.timeout.ms every acknowledged
// record must be in the log exactly once at its acknowledged offset and nothing twice.
//
// A non-transactional producer bumps its epoch locally (no InitProducerId request: "All
// partitions drained, bumped epoch to PID{Id:N,Epoch:E+1}") when messages hit
// message.timeout.ms, and restarts every partition's sequence at 0. Timed-out messages are
// failed. But when a ProduceRequest itself timed out (librdkafka caps its timeout at the
// first message's remaining message.timeout.ms, tens of ms after a long outage) only the
// batch's expired messages are failed: the rest of that possibly-persisted batch is resent
// under the new epoch, so if the broker had committed it those records are in the log twice,
// acknowledged as the second copy. That is the client's doing (see confluentinc/librdkafka
// #4953); no broker can tell a new epoch's sequence 0 from new data. So the timeout scenario
// reads every batch header and accepts a second copy only when a newer epoch of the same
// producer wrote it, while the broker's own invariants stay strict: per producer and epoch
// the sequences in the log run from 0 without gaps or repeats, epochs never go back, and
// each acknowledged record sits at its acknowledged offset.
//
// Clients reach the broker only through a proxy that can hold the broker's responses
// back: a kill while responses are held leaves batches the broker committed but the client
// never heard about, so the resent batches must be recognised from the producer state the
// broker persisted with each commit (or, once timed out, show up as failed-but-written).

const PARTITIONS = 3;
const SEED = seedFromEnv(0x5eed_0009);

interface Kill {
  /** How long the producer runs before the kill. */
  runMs: number;
  /** How long the proxy holds responses back right before the kill (0: none). */
  holdMs: number;
  /** How long the broker stays down. */
  downMs: number;
}

interface ScenarioResult {
  verdict: CrashLogVerdict;
  produced: number;
  droppedProduceResponses: number;
  producerLog: string;
}


async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('SIGKILL during continuous idempotent produce (confluent-kafka / librdkafka 2.0.2)', () => {
  let cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });

  async function runScenario(label: string, kills: Kill[], opts: { messageTimeoutMs: number; debug: string | undefined; allowResendAfterEpochBump: boolean }): Promise<ScenarioResult> {
    const dataDir = mkdtempSync(join(tmpdir(), 'streamhouse-crash-'));
    let keepDataDir = false;
    cleanups.push(() => {
      if (!keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    });
    const kafkaPort = await freePort();
    const httpPort = await freePort();
    const proxy = new HoldingProxy(() => kafkaPort);
    cleanups.push(() => proxy.close());
    const proxyPort = await proxy.listen();
    const bootstrap = `127.0.0.1:${proxyPort}`;
    const start = () => startBrokerProcess({ dataDir, kafkaPort, httpPort, args: ['--advertised-listener', bootstrap] });
    let broker: BrokerProcess = await start();
    cleanups.push(() => broker.stop().then(() => undefined));

    const topic = `crash-${label}-${randomUUID().slice(0, 8)}`;
    const admin = new Kafka({ clientId: 'crash-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] })).toBe(true);
    await admin.disconnect();

    const producer: DurableProducer = startDurableProducer({ bootstrap, topic, partitions: PARTITIONS, rate: 1500, messageTimeoutMs: opts.messageTimeoutMs, ...(opts.debug ? { debug: opts.debug } : {}) });
    cleanups.push(() => producer.kill());
    await waitFor(() => producer.acked() > 0, 20_000, 'the first acknowledgement');

    const schedule: string[] = [];
    for (const [i, kill] of kills.entries()) {
      await sleep(kill.runMs);
      const ackedBefore = producer.acked();
      const droppedBefore = proxy.droppedProduceResponses;
      if (kill.holdMs > 0) {
        proxy.hold();
        await sleep(kill.holdMs);
      }
      await broker.kill('SIGKILL');
      proxy.dropHeldAndCut();
      await sleep(kill.downMs);
      broker = await start();
      schedule.push(`#${i + 1}: run ${kill.runMs} ms, kill at ${ackedBefore} acks after holding responses ${kill.holdMs} ms (${proxy.droppedProduceResponses - droppedBefore} Produce responses dropped), down ${kill.downMs} ms`);
      // the producer must get going again on the restarted broker
      await waitFor(() => producer.acked() > ackedBefore, 30_000, `acknowledgements after restart #${i + 1}`);
    }
    await sleep(1000);
    const summary = await producer.stop();
    expect(summary.outstanding).toBe(0);

    const log = await readWholeTopic(bootstrap, topic, PARTITIONS);
    const batches: BatchHeader[][] = [];
    for (let p = 0; p < PARTITIONS; p++) batches.push((await readBatches(bootstrap, topic, p)).map(({ bytes: _, ...header }) => header));
    const verdict = checkCrashLog(producer.reports, summary.produced, log, { batches, allowResendAfterEpochBump: opts.allowResendAfterEpochBump });
    console.log(JSON.stringify({ scenario: label, seed: SEED, schedule, produced: summary.produced, hwms: log.map((p) => p.high), ...verdict, problems: verdict.problems.slice(0, 50), problemCount: verdict.problems.length }, null, 1));
    // DURABILITY_EVIDENCE=<dir> keeps reports, client log, broker output and the read log for study
    const evidenceDir = process.env.DURABILITY_EVIDENCE ?? (verdict.problems.length > 0 ? tmpdir() : undefined);
    if (evidenceDir) {
      const file = join(evidenceDir, `crash-evidence-${label}-${SEED}.json`);
      writeFileSync(file, JSON.stringify({ schedule, reports: producer.reports, producerStderr: producer.stderr(), brokerOutput: broker.output(), log, batches }, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
      // the objects and metadata hold each batch's producer id, epoch and sequence
      keepDataDir = true;
      console.log(`evidence kept in ${file} and ${dataDir}`);
    }
    return { verdict, produced: summary.produced, droppedProduceResponses: proxy.droppedProduceResponses, producerLog: producer.stderr() };
  }

  it(`acknowledged records survive 6 kills exactly once (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    // every other kill lands while committed responses are held back
    const kills: Kill[] = [];
    for (let i = 0; i < 6; i++) kills.push({ runMs: Math.floor(1000 + random() * 7000), holdMs: i % 2 === 1 ? Math.floor(50 + random() * 400) : 0, downMs: Math.floor(random() * 1500) });
    const { verdict, produced, droppedProduceResponses } = await runScenario('kills', kills, { messageTimeoutMs: 180_000, debug: process.env.DURABILITY_DEBUG, allowResendAfterEpochBump: false });

    expect(verdict.problems).toEqual([]);
    // message.timeout.ms outlasts every outage: nothing may fail
    expect(verdict.failed).toBe(0);
    expect(verdict.acked).toBe(produced);
    expect(verdict.inLog).toBe(produced);
    // the held kills really left committed-but-unanswered batches for the producer to resend
    expect(droppedProduceResponses).toBeGreaterThan(0);
  });

  it('records that time out while the broker is down are failed, a bumped epoch is accepted from sequence 0, and only the client resends twice', async () => {
    const random = seededRandom(SEED ^ 0x7f7f);
    const kills: Kill[] = [
      { runMs: Math.floor(1500 + random() * 1000), holdMs: 0, downMs: 3500 },
      { runMs: Math.floor(1500 + random() * 1000), holdMs: Math.floor(150 + random() * 200), downMs: 3500 },
    ];
    const { verdict, produced, droppedProduceResponses, producerLog } = await runScenario('timeouts', kills, { messageTimeoutMs: 2000, debug: process.env.DURABILITY_DEBUG ?? 'eos', allowResendAfterEpochBump: true });

    expect(verdict.problems).toEqual([]);
    expect(verdict.acked + verdict.failed).toBe(produced);
    expect(verdict.inLog).toBe(verdict.acked + verdict.failedButWritten + verdict.resentAfterEpochBump);
    expect(Object.keys(verdict.failedByError)).toEqual(['_MSG_TIMED_OUT']);
    expect(verdict.failed).toBeGreaterThan(0);
    // the held batches were committed, then timed out on the client: failed, yet in the log
    expect(droppedProduceResponses).toBeGreaterThan(0);
    expect(verdict.failedButWritten).toBeGreaterThan(0);
    // librdkafka bumped its epoch locally and the broker took the new epoch from sequence 0
    expect(producerLog).toMatch(/All partitions drained, bumped epoch to PID\{Id:\d+,Epoch:[1-9]\d*\}/);
    expect(verdict.acked).toBeGreaterThan(0);
  });
});
