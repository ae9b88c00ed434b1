import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runCommand } from '../../test-kit/run-command.js';
import { parseKcatList } from './parse-kcat-list.js';

const KCAT = '/usr/bin/kcat';

/** `kcat -J -L` output. */
interface KcatJsonListing {
  originating_broker: { id: number; name: string };
  query: { topic: string };
  controllerid: number;
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{ topic: string; error?: string; partitions: Array<{ partition: number; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }> }>;
}

/**
 * librdkafka's wording (2.0.x) for responses it could not decode, requests the broker refused
 * to understand, and connections the broker dropped.
 */
const PROTOCOL_TROUBLE = [
  /parse failure/i, // "Protocol parse failure for X vN at a/b", "X response protocol parse failure"
  /parse error/i,
  /failed to parse/i,
  /underflow/i, // "Protocol read buffer underflow ...", "Local: Read underflow"
  /malformed/i,
  /unsupported/i, // "Broker: Unsupported version", "returned unsupported ConfigResource"
  /ApiVersionRequest failed/,
  /request not supported by broker/,
  /incorrect broker\.version\.fallback/,
  /Invalid response size/,
  /Disconnected|Receive failed|Connection reset/,
];

function topicName(label: string): string {
  return `kcat-${label}-${randomUUID().slice(0, 8)}`;
}

function jsonPartitions(count: number): KcatJsonListing['topics'][number]['partitions'] {
  const out = [];
  for (let p = 0; p < count; p++) out.push({ partition: p, leader: 0, replicas: [{ id: 0 }], isrs: [{ id: 0 }] });
  return out;
}

function textPartitions(count: number) {
  const out = [];
  for (let p = 0; p < count; p++) out.push({ id: p, leader: 0, replicas: [0], isrs: [0] });
  return out;
}

describe('kcat metadata against a broker process', () => {
  let first: BrokerProcess;
  let broker: BrokerProcess;

  beforeAll(async () => {
    first = await startBrokerProcess();
    broker = first;
  });

  afterAll(async () => {
    if (broker && broker !== first) await broker.stop();
    await first?.cleanup();
  });

  async function kcat(args: string[]) {
    const res = await runCommand(KCAT, ['-b', broker.bootstrap, '-m', '10', ...args], { timeoutMs: 30000 });
    expect(res.code, `kcat ${args.join(' ')} failed:\n${res.stderr}`).toBe(0);
    return res;
  }

  async function kcatJson(args: string[]): Promise<KcatJsonListing> {
    return JSON.parse((await kcat(['-J', '-L', ...args])).stdout) as KcatJsonListing;
  }

  // kcat cannot create topics; kafkajs does it over the same protocol
  async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = new Kafka({ clientId: 'streamhouse-compat-kcat-setup', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  it('kcat -L lists the broker and every topic with its partitions', async () => {
    const one = topicName('one');
    const four = topicName('four');
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic: one, numPartitions: 1 }, { topic: four, numPartitions: 4 }] }));

    const listing = parseKcatList((await kcat(['-L'])).stdout);
    expect(listing.originatingBroker).toBe(`${broker.bootstrap}/0`);
    expect(listing.brokers).toEqual([{ id: 0, host: '127.0.0.1', port: broker.kafkaPort, controller: true }]);
    expect(listing.topics[one]).toEqual({ error: null, partitions: textPartitions(1) });
    expect(listing.topics[four]).toEqual({ error: null, partitions: textPartitions(4) });

    // partitions added and topics deleted through the admin API show up in the next listing
    await withAdmin(async (admin) => {
      await admin.createPartitions({ topicPartitions: [{ topic: one, count: 3 }] });
      await admin.deleteTopics({ topics: [four] });
    });
    const after = parseKcatList((await kcat(['-L'])).stdout);
    expect(after.topics[one]).toEqual({ error: null, partitions: textPartitions(3) });
    expect(Object.keys(after.topics)).not.toContain(four);
  });

  it('kcat -J -L describes the cluster as JSON, for all topics or one', async () => {
    const a = topicName('a');
    const b = topicName('b');
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic: a, numPartitions: 2 }, { topic: b, numPartitions: 5 }] }));

    const all = await kcatJson([]);
    expect(all.originating_broker).toEqual({ id: 0, name: `${broker.bootstrap}/0` });
    expect(all.query).toEqual({ topic: '*' });
    expect(all.controllerid).toBe(0);
    expect(all.brokers).toEqual([{ id: 0, name: broker.bootstrap }]);
    const byName = new Map(all.topics.map((t) => [t.topic, t]));
    expect(byName.get(a)).toEqual({ topic: a, partitions: jsonPartitions(2) });
    expect(byName.get(b)).toEqual({ topic: b, partitions: jsonPartitions(5) });

    const single = await kcatJson(['-t', b]);
    expect(single.query).toEqual({ topic: b });
    expect(single.topics).toEqual([{ topic: b, partitions: jsonPartitions(5) }]);

    // an illegal name comes back as a topic-level INVALID_TOPIC_EXCEPTION (17)
    const illegal = await kcatJson(['-t', 'bad name!']);
    expect(illegal.topics).toEqual([{ topic: 'bad name!', error: 'Broker: Invalid topic', partitions: [] }]);
  });

  it('kcat -L -t on an unknown topic auto-creates it with num.partitions (auto.create.topics.enable=true)', async () => {
    // librdkafka's producer handle sends Metadata v4 with allow_auto_topic_creation=true,
    // so a Kafka broker with auto-creation on (the default) creates the topic
    const fresh = topicName('auto');
    const listed = await kcatJson(['-t', fresh]);
    expect(listed.topics).toEqual([{ topic: fresh, partitions: jsonPartitions(1) }]);
    const names = await withAdmin((admin) => admin.listTopics());
    expect(names).toContain(fresh);
  });

  it('librdkafka negotiates ApiVersions v3+ and decodes every response without protocol errors', async () => {
    const t = topicName('debug');
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic: t, numPartitions: 2 }] }));
    const res = await kcat(['-L', '-d', 'protocol,feature,broker,metadata']);
    const log = res.stderr;

    const sentApiVersions = [...log.matchAll(/Sent ApiVersionRequest \(v(\d+),/g)].map((m) => Number(m[1]));
    const gotApiVersions = [...log.matchAll(/Received ApiVersionResponse \(v(\d+),/g)].map((m) => Number(m[1]));
    expect(sentApiVersions.length).toBeGreaterThan(0);
    // no fallback to an older ApiVersions request after an error reply
    expect(gotApiVersions).toEqual(sentApiVersions);
    for (const v of gotApiVersions) expect(v).toBeGreaterThanOrEqual(3);

    // the API ranges librdkafka understood from our ApiVersions response (at least the maxima clients rely on)
    const ranges = new Map([...log.matchAll(/ApiKey \S+ \((\d+)\) Versions (\d+)\.\.(\d+)/g)].map((m) => [Number(m[1]), [Number(m[2]), Number(m[3])]]));
    const minimumMax: Record<number, number> = { 3: 9, 18: 3, 19: 7, 20: 6, 32: 4, 37: 3, 60: 1 };
    for (const [key, max] of Object.entries(minimumMax)) {
      const range = ranges.get(Number(key));
      expect(range, `ApiKey ${key} advertised`).toBeDefined();
      expect(range![0], `ApiKey ${key} min`).toBe(0);
      expect(range![1], `ApiKey ${key} max`).toBeGreaterThanOrEqual(max);
    }

    // every Metadata request got its response back, in the version that was asked for
    const sentMetadata = [...log.matchAll(/Sent MetadataRequest \(v(\d+),.*CorrId (\d+)\)/g)].map((m) => `${m[2]}:v${m[1]}`);
    const gotMetadata = [...log.matchAll(/Received MetadataResponse \(v(\d+),.*CorrId (\d+),/g)].map((m) => `${m[2]}:v${m[1]}`);
    expect(sentMetadata.length).toBeGreaterThan(0);
    expect(gotMetadata.sort()).toEqual(sentMetadata.sort());
    expect(Number(/Received MetadataResponse \(v(\d+)/.exec(log)![1])).toBeGreaterThanOrEqual(4);
    expect(log).toMatch(/ClusterId: [A-Za-z0-9_-]{22}, ControllerId: 0/);
    expect(log).toContain(`Topic #`);
    expect(log).toContain(`${t} with 2 partitions`);

    for (const pattern of PROTOCOL_TROUBLE) expect(log, `librdkafka log matched ${pattern}`).not.toMatch(pattern);
    // log levels 0-4 are emergency..warning
    expect(log).not.toMatch(/^%[0-4]\|/m);
    expect(parseKcatList(res.stdout).topics[t]).toEqual({ error: null, partitions: textPartitions(2) });
  });

  it('lists the same topics after the broker restarts on its data directory', async () => {
    const kept = topicName('kept');
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic: kept, numPartitions: 3 }] }));
    const before = await kcatJson([]);

    broker = await broker.restart();

    const after = await kcatJson([]);
    expect(after.brokers).toEqual(before.brokers);
    const sortTopics = (l: KcatJsonListing) => [...l.topics].sort((x, y) => x.topic.localeCompare(y.topic));
    expect(sortTopics(after)).toEqual(sortTopics(before));
    expect(after.topics.find((x) => x.topic === kept)).toEqual({ topic: kept, partitions: jsonPartitions(3) });
  });
});
