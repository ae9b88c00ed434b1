import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

function topicName(label: string): string {
  return `kjs-${label}-${randomUUID().slice(0, 8)}`;
}

/** What fetchTopicMetadata should say about a topic on a single-broker cluster. */
function metadataOf(name: string, count: number) {
  const partitions = [];
  for (let p = 0; p < count; p++) partitions.push({ partitionErrorCode: 0, partitionId: p, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] });
  return { name, partitions };
}

const topicEntry = (configName: string, configValue: string, overridden: boolean) => ({
  configName,
  configValue,
  readOnly: false,
  isDefault: !overridden,
  configSource: overridden ? DYNAMIC_TOPIC_CONFIG : DEFAULT_CONFIG,
  isSensitive: false,
  configSynonyms: [],
});

/** Resolves to whatever the promise rejects with; fails the test if it resolves. */
async function rejectionOf(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

/** kafkajs reports per-topic CreateTopics failures as an aggregate of {topic, type, code}. */
async function createTopicsErrors(p: Promise<unknown>): Promise<Array<{ topic: string; type: string; code: number }>> {
  const e = await rejectionOf(p);
  expect(e.name).toBe('KafkaJSAggregateError');
  const errors = (e as unknown as { errors: Array<{ topic: string; type: string; code: number }> }).errors;
  return errors.map(({ topic, type, code }) => ({ topic, type, code })).sort((a, b) => a.topic.localeCompare(b.topic));
}

describe('kafkajs admin against a broker process', () => {
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

  /** A fresh client and admin connection per use, closed afterwards. */
  async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    // one quick retry: errors such as UNKNOWN_TOPIC_OR_PARTITION are retriable in kafkajs
    const kafka = new Kafka({ clientId: 'streamhouse-compat-kafkajs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 } });
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  it('creates a topic with configs, lists it, describes it, adds partitions and deletes it', async () => {
    const t = topicName('life');
    await withAdmin(async (admin) => {
      const created = await admin.createTopics({
        topics: [{ topic: t, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] }],
      });
      expect(created).toBe(true);
      expect(await admin.listTopics()).toContain(t);
      expect(await admin.fetchTopicMetadata({ topics: [t] })).toEqual({ topics: [metadataOf(t, 3)] });

      const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: t }], includeSynonyms: false });
      expect(described.resources).toHaveLength(1);
      const resource = described.resources[0]!;
      expect(resource.errorCode).toBe(0);
      expect(resource.resourceType).toBe(ConfigResourceTypes.TOPIC);
      expect(resource.resourceName).toBe(t);
      const byName = new Map(resource.configEntries.map((c) => [c.configName, c]));
      expect(byName.get('retention.ms')).toEqual(topicEntry('retention.ms', '3600000', true));
      expect(byName.get('cleanup.policy')).toEqual(topicEntry('cleanup.policy', 'compact', true));
      expect(byName.get('max.message.bytes')).toEqual(topicEntry('max.message.bytes', '1048588', false));
      expect(byName.get('compression.type')).toEqual(topicEntry('compression.type', 'producer', false));
      expect(byName.get('min.insync.replicas')).toEqual(topicEntry('min.insync.replicas', '1', false));

      // asking for named configs returns only those; synonyms lead with the topic override
      const picked = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: t, configNames: ['retention.ms'] }], includeSynonyms: true });
      const entries = picked.resources[0]!.configEntries;
      expect(entries.map((c) => c.configName)).toEqual(['retention.ms']);
      expect(entries[0]!.configValue).toBe('3600000');
      expect(entries[0]!.configSynonyms[0]).toEqual({ configName: 'retention.ms', configValue: '3600000', configSource: DYNAMIC_TOPIC_CONFIG });
      // then the broker-level settings it overrides (Kafka lists log.retention.{ms,minutes,hours})
      const inherited = entries[0]!.configSynonyms.slice(1);
      expect(inherited.length).toBeGreaterThan(0);
      for (const s of inherited) {
        expect(s.configName).toMatch(/^log\.retention\.(ms|minutes|hours)$/);
        expect(s.configSource).not.toBe(DYNAMIC_TOPIC_CONFIG);
      }

      await admin.createPartitions({ topicPartitions: [{ topic: t, count: 5 }] });
      expect(await admin.fetchTopicMetadata({ topics: [t] })).toEqual({ topics: [metadataOf(t, 5)] });

      await admin.deleteTopics({ topics: [t] });
      expect(await admin.listTopics()).not.toContain(t);
      const gone = await rejectionOf(admin.fetchTopicMetadata({ topics: [t] }));
      expect(gone.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    });
  });

  it('describes the broker resource and the cluster', async () => {
    await withAdmin(async (admin) => {
      const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '0' }], includeSynonyms: false });
      expect(described.resources).toHaveLength(1);
      const resource = described.resources[0]!;
      expect(resource.errorCode).toBe(0);
      expect(resource.resourceType).toBe(ConfigResourceTypes.BROKER);
      expect(resource.resourceName).toBe('0');
      const byName = new Map(resource.configEntries.map((c) => [c.configName, c]));
      const staticEntry = (configName: string, configValue: string) => ({ configName, configValue, readOnly: true, isDefault: false, configSource: STATIC_BROKER_CONFIG, isSensitive: false, configSynonyms: [] });
      // the listener is set on the command line, so it is a static broker config
      expect(byName.get('listeners')).toEqual(staticEntry('listeners', `PLAINTEXT://127.0.0.1:${broker.kafkaPort}`));
      expect(byName.get('advertised.listeners')).toEqual(staticEntry('advertised.listeners', `PLAINTEXT://127.0.0.1:${broker.kafkaPort}`));
      // left at their defaults: reported as defaults
      const defaultEntry = (configName: string, configValue: string) => ({ configName, configValue, readOnly: true, isDefault: true, configSource: DEFAULT_CONFIG, isSensitive: false, configSynonyms: [] });
      expect(byName.get('broker.id')).toEqual(defaultEntry('broker.id', '0'));
      // dynamic broker configs (AlterConfigs may change them) are not read-only
      expect(byName.get('message.max.bytes')).toEqual({ ...defaultEntry('message.max.bytes', '1048588'), readOnly: false });
      expect(byName.get('auto.create.topics.enable')).toEqual({ ...defaultEntry('auto.create.topics.enable', 'true'), readOnly: false });

      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: broker.kafkaPort }]);
      expect(cluster.controller).toBe(0);
      expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });
  });

  it('reports TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_CONFIG and friends', async () => {
    const t = topicName('dup');
    const zero = topicName('zero');
    const noReplicas = topicName('norf');
    const unknownConfig = topicName('unkcfg');
    const badValue = topicName('badval');
    const missing = topicName('missing');
    await withAdmin(async (admin) => {
      expect(await admin.createTopics({ topics: [{ topic: t }] })).toBe(true);
      // kafkajs turns "every topic already exists" into false rather than an error
      expect(await admin.createTopics({ topics: [{ topic: t }] })).toBe(false);

      expect(await createTopicsErrors(admin.createTopics({ topics: [{ topic: t }, { topic: 'bad name!' }] }))).toEqual([
        { topic: 'bad name!', type: 'INVALID_TOPIC_EXCEPTION', code: 17 },
        { topic: t, type: 'TOPIC_ALREADY_EXISTS', code: 36 },
      ]);
      // '.' and '_' collide in Kafka's metric names; 249 characters is the longest legal name
      const dotted = topicName('dot.ted');
      const underscored = dotted.replace('.', '_');
      const tooLong = `${t}-${'x'.repeat(249 - t.length)}`;
      const longest = tooLong.slice(0, 249);
      expect(await admin.createTopics({ topics: [{ topic: dotted }, { topic: longest }] })).toBe(true);
      expect(await createTopicsErrors(admin.createTopics({ topics: [{ topic: underscored }, { topic: tooLong }] }))).toEqual(
        [
          { topic: underscored, type: 'INVALID_TOPIC_EXCEPTION', code: 17 },
          { topic: tooLong, type: 'INVALID_TOPIC_EXCEPTION', code: 17 },
        ].sort((a, b) => a.topic.localeCompare(b.topic)),
      );
      expect(await createTopicsErrors(admin.createTopics({ topics: [{ topic: zero, numPartitions: 0 }] }))).toEqual([{ topic: zero, type: 'INVALID_PARTITIONS', code: 37 }]);
      expect(await createTopicsErrors(admin.createTopics({ topics: [{ topic: noReplicas, replicationFactor: 0 }] }))).toEqual([{ topic: noReplicas, type: 'INVALID_REPLICATION_FACTOR', code: 38 }]);
      expect(await createTopicsErrors(admin.createTopics({ topics: [{ topic: unknownConfig, configEntries: [{ name: 'no.such.config', value: '1' }] }] }))).toEqual([
        { topic: unknownConfig, type: 'INVALID_CONFIG', code: 40 },
      ]);
      expect(await createTopicsErrors(admin.createTopics({ topics: [{ topic: badValue, configEntries: [{ name: 'retention.ms', value: 'forever' }] }] }))).toEqual([
        { topic: badValue, type: 'INVALID_CONFIG', code: 40 },
      ]);

      const shrink = await rejectionOf(admin.createPartitions({ topicPartitions: [{ topic: t, count: 1 }] }));
      expect(shrink.type).toBe('INVALID_PARTITIONS');
      const growMissing = await rejectionOf(admin.createPartitions({ topicPartitions: [{ topic: missing, count: 2 }] }));
      expect(growMissing.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      // UNKNOWN_TOPIC_OR_PARTITION is retriable for kafkajs, so the final error wraps it
      const deleteMissing = await rejectionOf(admin.deleteTopics({ topics: [missing], timeout: 5000 }));
      expect((deleteMissing.cause as { type?: string } | undefined)?.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      const describeMissing = await rejectionOf(admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: missing }], includeSynonyms: false }));
      expect(describeMissing.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');

      const listed = await admin.listTopics();
      expect(listed).toContain(t);
      expect(listed).toContain(dotted);
      expect(listed).toContain(longest);
      for (const n of ['bad name!', underscored, tooLong, zero, noReplicas, unknownConfig, badValue, missing]) expect(listed).not.toContain(n);
      expect(await admin.fetchTopicMetadata({ topics: [t] })).toEqual({ topics: [metadataOf(t, 1)] });
    });
  });

  it('validateOnly checks requests without creating or growing anything', async () => {
    const t = topicName('grow');
    const ghost = topicName('ghost');
    const zero = topicName('zero');
    const badValue = topicName('badval');
    await withAdmin(async (admin) => {
      expect(await admin.createTopics({ topics: [{ topic: t, numPartitions: 2 }] })).toBe(true);
      // waitForLeaders would look the (never created) topic up in Metadata
      expect(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: ghost, numPartitions: 4, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })).toBe(
        true,
      );
      expect(await createTopicsErrors(admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: zero, numPartitions: 0 }] }))).toEqual([
        { topic: zero, type: 'INVALID_PARTITIONS', code: 37 },
      ]);
      expect(await createTopicsErrors(admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: badValue, configEntries: [{ name: 'cleanup.policy', value: 'shred' }] }] }))).toEqual([
        { topic: badValue, type: 'INVALID_CONFIG', code: 40 },
      ]);
      await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: t, count: 7 }] });

      const listed = await admin.listTopics();
      for (const n of [ghost, zero, badValue]) expect(listed).not.toContain(n);
      expect(await admin.fetchTopicMetadata({ topics: [t] })).toEqual({ topics: [metadataOf(t, 2)] });
    });
  });

  it('keeps topics, partition counts and configs across a broker restart', async () => {
    const kept = topicName('kept');
    const dropped = topicName('dropped');
    const clusterId = await withAdmin(async (admin) => {
      expect(
        await admin.createTopics({
          topics: [
            { topic: kept, numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '-1' }, { name: 'compression.type', value: 'zstd' }] },
            { topic: dropped, numPartitions: 1 },
          ],
        }),
      ).toBe(true);
      await admin.createPartitions({ topicPartitions: [{ topic: kept, count: 6 }] });
      await admin.deleteTopics({ topics: [dropped] });
      return (await admin.describeCluster()).clusterId;
    });

    broker = await broker.restart();

    await withAdmin(async (admin) => {
      expect((await admin.describeCluster()).clusterId).toBe(clusterId);
      const listed = await admin.listTopics();
      expect(listed).toContain(kept);
      expect(listed).not.toContain(dropped);
      expect(await admin.fetchTopicMetadata({ topics: [kept] })).toEqual({ topics: [metadataOf(kept, 6)] });
      const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: kept }], includeSynonyms: false });
      const byName = new Map(described.resources[0]!.configEntries.map((c) => [c.configName, c]));
      expect(byName.get('retention.ms')).toEqual(topicEntry('retention.ms', '-1', true));
      expect(byName.get('compression.type')).toEqual(topicEntry('compression.type', 'zstd', true));
      expect(byName.get('cleanup.policy')).toEqual(topicEntry('cleanup.policy', 'delete', false));
    });
  });
});
