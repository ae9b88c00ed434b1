import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectObjects, type ObjectInspector } from '../backends/object-inspector.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { readWholeTopic, type ReadPartition } from './python-clients.js';

// The object garbage collector with --object-gc-grace-ms 1000 (it then runs every
// max(1 s, min(60 s, grace)) = 1 s): a crash leftover (an uploaded segment no chunk
// references) goes once it is older than the grace period, a fresh one waits for it,
// objects of a deleted topic go after the grace period, and every referenced object and
// record stays readable. The objects are looked at in the broker's store, whichever it
// is: the objects directory, or the bucket (with s3rver's file behind an object backdated
// to make it old, since S3 has no way to set LastModified).

const GRACE_MS = 1000;
/** Record timestamps an hour old: older than retention.ms (7 days) the retention pass would delete them. */
const RECENT_TS = Date.now() - 3_600_000;
/** Keys as the broker writes them: <2 hex>/<agent id>/<ms, 15 digits>-<counter, 6 digits>-<8 hex>.seg */
const SEGMENT_KEY = /^[0-9a-f]{2}\/[A-Za-z0-9._%-]+\/\d{15}-\d{6}-[0-9a-f]{8}\.seg$/;


async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function segmentKey(dir: string, ms: number, random: string): string {
  return `${dir}/${String(ms).padStart(15, '0')}-000000-${random}.seg`;
}

describe('object garbage collection (--object-gc-grace-ms 1000)', () => {
  let first: BrokerProcess;
  let broker: BrokerProcess;
  let objects: ObjectInspector;
  const keep = `gc-keep-${randomUUID().slice(0, 8)}`;
  const drop = `gc-drop-${randomUUID().slice(0, 8)}`;
  let keepObjects: string[] = [];
  let dropObjects: string[] = [];
  let keepLog: ReadPartition[];

  /** Every object's key (relative to the store's root), without the store's temp files. */
  const objectKeys = (): Promise<string[]> => objects.keys();
  const exists = (key: string): Promise<boolean> => objects.exists(key);
  const gone = async (key: string): Promise<boolean> => !(await exists(key));

  function kafka(): Kafka {
    return new Kafka({ clientId: 'object-gc', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  }

  async function produce(topic: string, sends: number): Promise<void> {
    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // one awaited send at a time: each lands in its own flush, so its own object
    for (let s = 0; s < sends; s++) {
      await producer.send({ topic, acks: -1, messages: [0, 1].map((partition) => ({ partition, key: `${topic}-${s}-${partition}`, value: `value-${s}-${partition}`, timestamp: String(RECENT_TS + s) })) });
    }
    await producer.disconnect();
  }

  /** Restarts the broker so reads come from the objects on disk, not from its caches. */
  async function restart(): Promise<void> {
    broker = await broker.restart();
  }

  beforeAll(async () => {
    first = await startBrokerProcess({ args: ['--object-gc-grace-ms', String(GRACE_MS)] });
    broker = first;
    objects = inspectObjects(first);
    const admin = kafka().admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: keep, numPartitions: 2 }, { topic: drop, numPartitions: 2 }] })).toBe(true);
    await admin.disconnect();
    await produce(keep, 4);
    keepObjects = await objectKeys();
    await produce(drop, 3);
    dropObjects = (await objectKeys()).filter((k) => !keepObjects.includes(k));
    await restart();
    keepLog = await readWholeTopic(broker.bootstrap, keep, 2);
  });

  afterAll(async () => {
    if (broker !== first) await broker?.stop();
    await first?.cleanup();
    objects?.close();
  });

  it('writes one object per flush under the documented key layout', () => {
    expect(keepObjects).toHaveLength(4);
    expect(dropObjects).toHaveLength(3);
    for (const key of [...keepObjects, ...dropObjects]) expect(key).toMatch(SEGMENT_KEY);
    expect(keepLog.map((p) => p.records.map((r) => [r[0], r[1], r[2]]))).toEqual(
      [0, 1].map((partition) => [0, 1, 2, 3].map((s) => [s, `${keep}-${s}-${partition}`, `value-${s}-${partition}`])),
    );
  });

  it('deletes an old unreferenced segment, waits for the grace period on a fresh one, and keeps what is referenced', async () => {
    const dir = dirname(keepObjects[0]!);
    // a crash between upload and commit leaves a complete segment that no chunk references
    const leftover = segmentKey(dir, Date.now() - 3_600_000, '0badf00d');
    await objects.write(leftover, await objects.read(keepObjects[0]!));
    const hourAgo = new Date(Date.now() - 3_600_000);
    await objects.backdate(leftover, hourAgo);
    // not a segment: not the collector's to delete, however old
    const foreign = `${dir}/operator-notes.txt`;
    await objects.write(foreign, 'keep me');
    await objects.backdate(foreign, hourAgo);
    const fresh = segmentKey(dir, Date.now(), 'f2e5f2e5');
    const freshData = await objects.read(keepObjects[1]!);
    // the write itself takes a moment on S3: count the grace period from before it
    const freshWritten = Date.now();
    await objects.write(fresh, freshData);

    await sleep(GRACE_MS / 2);
    // every collection so far had a cutoff before the fresh object was written
    const freshSeen = await exists(fresh);
    if (Date.now() - freshWritten < GRACE_MS) expect(freshSeen).toBe(true);
    await waitFor(() => gone(leftover), 5000, 'the old leftover to be collected');
    await waitFor(() => gone(fresh), 5000, 'the fresh leftover to be collected after the grace period');
    expect(await exists(foreign)).toBe(true);
    expect(await objectKeys()).toEqual([...keepObjects, ...dropObjects, foreign].sort());

    await restart();
    expect(await readWholeTopic(broker.bootstrap, keep, 2)).toEqual(keepLog);
  });

  it("deletes a deleted topic's objects after the grace period and nothing else", async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [drop] });
    await admin.disconnect();
    await waitFor(async () => (await objectKeys()).every((k) => !dropObjects.includes(k)), GRACE_MS + 5000, `the objects of ${drop} to be collected`);
    expect((await objectKeys()).filter((k) => k.endsWith('.seg'))).toEqual(keepObjects);

    // after a restart every record of the other topic is still read from its objects
    await restart();
    expect(await readWholeTopic(broker.bootstrap, keep, 2)).toEqual(keepLog);
    for (const key of keepObjects) expect(await exists(key)).toBe(true);
  });
});
