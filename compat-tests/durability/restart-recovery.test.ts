import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { readBatches } from './batch-headers.js';
import { readWholeTopic, type ReadPartition, type ReadRecord } from './python-clients.js';

// Known records in several partitions, a DeleteRecords, then clean (SIGTERM) and crash
// (SIGKILL) restarts on the same data directory: high watermarks, log start offsets, every
// record's offset, key, value, timestamp and headers, and every served batch byte for byte
// must come back unchanged, and producing afterwards continues at the old high watermark.

const PARTITIONS = 4;
// recent: records older than retention.ms (7 days) would be deleted by the retention pass (every 60 s)
const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

interface Offsets {
  low: number;
  high: number;
}

function kafka(broker: BrokerProcess): Kafka {
  return new Kafka({ clientId: 'restart-recovery', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

/** Record `i` of partition `p` in round `round`: everything about it is predictable. */
function knownMessage(round: number, p: number, i: number): Message & { partition: number } {
  return {
    partition: p,
    key: `k-${round}-${p}-${i}`,
    value: `v-${round}-${p}-${i}-${'x'.repeat((i * 7) % 23)}`,
    timestamp: String(BASE_TS + round * 100_000 + p * 1000 + i),
    headers: { h: `${round}/${p}/${i}`, empty: '' },
  };
}

/** The reader's view of a message written at `offset`. */
function asRead(m: Message, offset: number): ReadRecord {
  return [offset, String(m.key), String(m.value), Number(m.timestamp), Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])];
}

describe('restart recovery: offsets, log start and record content across SIGTERM and SIGKILL', () => {
  let first: BrokerProcess;
  let broker: BrokerProcess;
  const topic = `restart-${randomUUID().slice(0, 8)}`;
  /** What each partition must hold, by offset (including records below the log start). */
  const written: Array<Array<ReadRecord>> = Array.from({ length: PARTITIONS }, () => []);
  const logStart: number[] = new Array<number>(PARTITIONS).fill(0);
  /** Hex of every batch served so far, by `${partition}@${baseOffset}`. */
  const servedBatches = new Map<string, string>();

  beforeAll(async () => {
    first = await startBrokerProcess();
    broker = first;
    const admin = kafka(broker).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] })).toBe(true);
    await admin.disconnect();
  });

  afterAll(async () => {
    if (broker !== first) await broker?.stop();
    await first?.cleanup();
  });

  /** Sends `perPartition(p)` records to each partition in `sends` separate requests; checks the offsets each got. */
  async function produceRound(round: number, perPartition: (p: number) => number, sends: number): Promise<void> {
    const producer = kafka(broker).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let s = 0; s < sends; s++) {
        const messages: Array<Message & { partition: number }> = [];
        for (let p = 0; p < PARTITIONS; p++) {
          const n = perPartition(p);
          for (let i = Math.floor((n * s) / sends); i < Math.floor((n * (s + 1)) / sends); i++) messages.push(knownMessage(round, p, i));
        }
        const expectedBase = written.map((w) => w.length);
        const metadata = await producer.send({ topic, acks: -1, messages });
        for (let p = 0; p < PARTITIONS; p++) {
          const mine = messages.filter((m) => m.partition === p);
          if (mine.length === 0) continue;
          const md = metadata.find((r) => r.partition === p);
          expect(md?.errorCode).toBe(0);
          // each send lands right after everything acknowledged before it
          expect(md?.baseOffset).toBe(String(expectedBase[p]));
          mine.forEach((m, j) => written[p]!.push(asRead(m, expectedBase[p]! + j)));
        }
      }
    } finally {
      await producer.disconnect();
    }
  }

  async function offsets(): Promise<Offsets[]> {
    const admin = kafka(broker).admin();
    await admin.connect();
    try {
      const res = await admin.fetchTopicOffsets(topic);
      return res.sort((a, b) => a.partition - b.partition).map((r) => ({ low: Number(r.low), high: Number(r.high) }));
    } finally {
      await admin.disconnect();
    }
  }

  function expectedOffsets(): Offsets[] {
    return written.map((w, p) => ({ low: logStart[p]!, high: w.length }));
  }

  function expectedLog(): ReadPartition[] {
    return written.map((w, p) => ({ low: logStart[p]!, high: w.length, records: w.slice(logStart[p]!) }));
  }

  /**
   * HWMs, log starts (ListOffsets) and every record from the log start (Fetch) are as
   * written, and each batch is served with the same bytes as every time before.
   */
  async function expectIntact(): Promise<void> {
    expect(await offsets()).toEqual(expectedOffsets());
    expect(await readWholeTopic(broker.bootstrap, topic, PARTITIONS)).toEqual(expectedLog());
    for (let p = 0; p < PARTITIONS; p++) {
      const batches = await readBatches(broker.bootstrap, topic, p, logStart[p]!);
      const high = written[p]!.length;
      if (logStart[p] === high) {
        expect(batches).toEqual([]);
        continue;
      }
      // from the batch holding the log start, without gaps, up to the high watermark
      expect(batches[0]!.baseOffset).toBeLessThanOrEqual(logStart[p]!);
      expect(batches[0]!.lastOffset).toBeGreaterThanOrEqual(logStart[p]!);
      batches.slice(1).forEach((b, i) => expect(b.baseOffset).toBe(batches[i]!.lastOffset + 1));
      expect(batches[batches.length - 1]!.lastOffset).toBe(high - 1);
      for (const b of batches) {
        const key = `${p}@${b.baseOffset}`;
        const hex = b.bytes.toString('hex');
        const before = servedBatches.get(key);
        if (before === undefined) servedBatches.set(key, hex);
        else expect(hex, `batch ${key}`).toBe(before);
      }
    }
  }

  async function deleteRecords(partitions: Array<{ partition: number; offset: string }>): Promise<void> {
    const admin = kafka(broker).admin();
    await admin.connect();
    try {
      // kafkajs looks the leaders up in metadata it only has after fetching it
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions });
    } finally {
      await admin.disconnect();
    }
  }

  async function crashRestart(): Promise<void> {
    await broker.kill('SIGKILL');
    broker = await startBrokerProcess({ dataDir: first.dataDir, kafkaPort: first.kafkaPort, httpPort: first.httpPort });
  }

  async function cleanRestart(): Promise<void> {
    const code = await broker.stop();
    expect(code).toBe(0);
    broker = await startBrokerProcess({ dataDir: first.dataDir, kafkaPort: first.kafkaPort, httpPort: first.httpPort });
  }

  it('stores known records in several requests per partition', async () => {
    // partition 3 stays empty until later rounds
    await produceRound(1, (p) => [12, 9, 6, 0][p]!, 3);
    expect(written.map((w) => w.length)).toEqual([12, 9, 6, 0]);
    await expectIntact();
    // three sends made three batches in each non-empty partition
    expect([...servedBatches.keys()].sort()).toEqual(['0@0', '0@4', '0@8', '1@0', '1@3', '1@6', '2@0', '2@2', '2@4']);
  });

  it('keeps everything across a clean SIGTERM restart', async () => {
    await cleanRestart();
    await expectIntact();
  });

  it('keeps log start offsets set by DeleteRecords across a SIGKILL right after it', async () => {
    await deleteRecords([{ partition: 1, offset: '4' }, { partition: 2, offset: '-1' }]);
    logStart[1] = 4;
    logStart[2] = 6;
    await expectIntact();
    await crashRestart();
    await expectIntact();
  });

  it('continues at the old high watermarks after the crash, and keeps the new records across another SIGKILL', async () => {
    await produceRound(2, (p) => [3, 5, 2, 4][p]!, 2);
    expect(written.map((w) => w.length)).toEqual([15, 14, 8, 4]);
    await expectIntact();
    await crashRestart();
    await expectIntact();
  });

  it('keeps everything across a clean restart after that, and still appends at the right offsets', async () => {
    await cleanRestart();
    await expectIntact();
    await produceRound(3, () => 1, 1);
    expect(written.map((w) => w.length)).toEqual([16, 15, 9, 5]);
    await expectIntact();
    // a log start moved again after restarts survives as well
    await deleteRecords([{ partition: 0, offset: '10' }, { partition: 1, offset: '14' }]);
    logStart[0] = 10;
    logStart[1] = 14;
    await crashRestart();
    await expectIntact();
  });
});
