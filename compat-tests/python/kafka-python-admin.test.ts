import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runPythonAdmin, type AdminOp, type ConfigResourceJson, type PythonKafkaError, type TopicOutcomes } from './run-python-admin.js';

interface DescribedTopic {
  topic: string;
  error: PythonKafkaError | null;
  is_internal: boolean;
  partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }>;
}

interface DescribedCluster {
  cluster_id: string;
  controller_id: number;
  brokers: Array<{ node_id: number; host: string; port: number; rack: string | null }>;
}

const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

function topicName(label: string): string {
  return `kp-${label}-${randomUUID().slice(0, 8)}`;
}

function described(topic: string, count: number): DescribedTopic {
  const partitions = [];
  for (let p = 0; p < count; p++) partitions.push({ partition: p, leader: 0, replicas: [0], isr: [0] });
  return { topic, error: null, is_internal: false, partitions };
}

/** kafka-python's DescribeConfigs entries carry no is_default flag; the source says it. */
const topicEntry = (value: string, source: number) => ({ value, source, read_only: false, is_sensitive: false });

describe('kafka-python KafkaAdminClient against a broker process', () => {
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

  const run = (ops: AdminOp[]) => runPythonAdmin('kafka-python-admin.py', broker.bootstrap, ops);

  it('creates a topic with configs, lists it, describes its configs, adds partitions and deletes it', async () => {
    const t = topicName('life');
    const [created, listed, topics, configs, grown, topicsGrown, deleted, listedAfter] = (await run([
      { op: 'create_topics', topics: [{ name: t, partitions: 3, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } }] },
      { op: 'list_topics' },
      { op: 'describe_topics', topics: [t] },
      { op: 'describe_configs', resources: [{ type: 'topic', name: t }] },
      { op: 'create_partitions', topics: { [t]: 5 } },
      { op: 'describe_topics', topics: [t] },
      { op: 'delete_topics', topics: [t] },
      { op: 'list_topics' },
    ])) as [TopicOutcomes, string[], DescribedTopic[], ConfigResourceJson[], TopicOutcomes, DescribedTopic[], TopicOutcomes, string[]];

    expect(created).toEqual({ [t]: { error: null } });
    expect(listed).toContain(t);
    expect(topics).toEqual([described(t, 3)]);

    expect(configs).toHaveLength(1);
    expect(configs[0]!.type).toBe('topic');
    expect(configs[0]!.name).toBe(t);
    const entries = configs[0]!.configs!;
    expect(entries['retention.ms']).toEqual(topicEntry('3600000', DYNAMIC_TOPIC_CONFIG));
    expect(entries['cleanup.policy']).toEqual(topicEntry('compact', DYNAMIC_TOPIC_CONFIG));
    expect(entries['max.message.bytes']).toEqual(topicEntry('1048588', DEFAULT_CONFIG));
    expect(entries['segment.bytes']).toEqual(topicEntry('1073741824', DEFAULT_CONFIG));

    expect(grown).toEqual({ [t]: { error: null } });
    expect(topicsGrown).toEqual([described(t, 5)]);

    expect(deleted).toEqual({ [t]: { error: null } });
    expect(listedAfter).not.toContain(t);
  });

  it('reports Kafka error codes per topic', async () => {
    const t = topicName('dup');
    const zero = topicName('zero');
    const unknownConfig = topicName('unkcfg');
    const badValue = topicName('badval');
    const missing = topicName('missing');
    const [pre, created, grown, deleted, configs, topics, listed] = (await run([
      { op: 'create_topics', topics: [{ name: t, partitions: 1 }] },
      {
        op: 'create_topics',
        topics: [
          { name: t, partitions: 1 },
          { name: 'bad name!', partitions: 1 },
          { name: zero, partitions: 0 },
          { name: unknownConfig, partitions: 1, configs: { 'no.such.config': '1' } },
          { name: badValue, partitions: 1, configs: { 'cleanup.policy': 'shred' } },
        ],
      },
      { op: 'create_partitions', topics: { [t]: 1, [missing]: 2 } },
      { op: 'delete_topics', topics: [missing] },
      { op: 'describe_configs', resources: [{ type: 'topic', name: missing }] },
      { op: 'describe_topics', topics: [missing] },
      { op: 'list_topics' },
    ])) as [TopicOutcomes, TopicOutcomes, TopicOutcomes, TopicOutcomes, ConfigResourceJson[], DescribedTopic[], string[]];

    const codeOf = (o: TopicOutcomes, name: string) => (o[name]?.error ? { code: o[name].error.code, name: o[name].error.name } : o[name]);
    expect(pre).toEqual({ [t]: { error: null } });
    expect(codeOf(created, t)).toEqual({ code: 36, name: 'TopicAlreadyExistsError' });
    expect(codeOf(created, 'bad name!')).toEqual({ code: 17, name: 'InvalidTopicError' });
    expect(codeOf(created, zero)).toEqual({ code: 37, name: 'InvalidPartitionsError' });
    expect(codeOf(created, unknownConfig)).toEqual({ code: 40, name: 'InvalidConfigurationError' });
    expect(codeOf(created, badValue)).toEqual({ code: 40, name: 'InvalidConfigurationError' });
    expect(codeOf(grown, t)).toEqual({ code: 37, name: 'InvalidPartitionsError' });
    expect(codeOf(grown, missing)).toEqual({ code: 3, name: 'UnknownTopicOrPartitionError' });
    expect(codeOf(deleted, missing)).toEqual({ code: 3, name: 'UnknownTopicOrPartitionError' });
    expect(configs).toHaveLength(1);
    expect(configs[0]!.error?.code).toBe(3);
    // the admin client's Metadata asks not to auto-create, so the topic stays unknown
    expect(topics).toEqual([{ topic: missing, error: { code: 3, name: 'UnknownTopicOrPartitionError', message: null }, is_internal: false, partitions: [] }]);

    expect(listed).toContain(t);
    for (const n of ['bad name!', zero, unknownConfig, badValue, missing]) expect(listed).not.toContain(n);
  });

  it('validate_only checks requests without creating or growing anything', async () => {
    const t = topicName('grow');
    const ghost = topicName('ghost');
    const zero = topicName('zero');
    const [pre, validated, grownOnly, listed, topics] = (await run([
      { op: 'create_topics', topics: [{ name: t, partitions: 2 }] },
      { op: 'create_topics', validate_only: true, topics: [{ name: ghost, partitions: 4, configs: { 'retention.ms': '1000' } }, { name: zero, partitions: 0 }] },
      { op: 'create_partitions', validate_only: true, topics: { [t]: 6 } },
      { op: 'list_topics' },
      { op: 'describe_topics', topics: [t] },
    ])) as [TopicOutcomes, TopicOutcomes, TopicOutcomes, string[], DescribedTopic[]];

    expect(pre).toEqual({ [t]: { error: null } });
    expect(validated[ghost]).toEqual({ error: null });
    expect(validated[zero]?.error?.code).toBe(37);
    expect(grownOnly).toEqual({ [t]: { error: null } });
    expect(listed).not.toContain(ghost);
    expect(listed).not.toContain(zero);
    expect(topics).toEqual([described(t, 2)]);
  });

  it('describes the cluster and the broker resource', async () => {
    const [cluster, configs] = (await run([{ op: 'describe_cluster' }, { op: 'describe_configs', resources: [{ type: 'broker', name: '0' }] }])) as [DescribedCluster, ConfigResourceJson[]];

    expect(cluster.brokers).toEqual([{ node_id: 0, host: '127.0.0.1', port: broker.kafkaPort, rack: null }]);
    expect(cluster.controller_id).toBe(0);
    expect(cluster.cluster_id).toMatch(/^[A-Za-z0-9_-]{22}$/);

    expect(configs).toHaveLength(1);
    expect(configs[0]!.type).toBe('broker');
    expect(configs[0]!.name).toBe('0');
    const entries = configs[0]!.configs!;
    const staticEntry = (value: string) => ({ value, source: STATIC_BROKER_CONFIG, read_only: true, is_sensitive: false });
    // the listener is set on the command line, so it is a static broker config
    expect(entries['listeners']).toEqual(staticEntry(`PLAINTEXT://127.0.0.1:${broker.kafkaPort}`));
    expect(entries['advertised.listeners']).toEqual(staticEntry(`PLAINTEXT://127.0.0.1:${broker.kafkaPort}`));
    // left at their defaults: reported as defaults
    const defaultEntry = (value: string) => ({ value, source: DEFAULT_CONFIG, read_only: true, is_sensitive: false });
    expect(entries['broker.id']).toEqual(defaultEntry('0'));
    // dynamic broker configs (AlterConfigs may change them) are not read-only
    expect(entries['message.max.bytes']).toEqual({ ...defaultEntry('1048588'), read_only: false });
    expect(entries['log.retention.ms']).toEqual({ ...defaultEntry('604800000'), read_only: false });
  });

  it('keeps topics, partition counts and configs across a broker restart', async () => {
    const kept = topicName('kept');
    const dropped = topicName('dropped');
    const [created, grown, deleted, before] = (await run([
      { op: 'create_topics', topics: [{ name: kept, partitions: 2, configs: { 'cleanup.policy': 'compact,delete', 'min.insync.replicas': '1', 'retention.bytes': '1073741824' } }, { name: dropped, partitions: 1 }] },
      { op: 'create_partitions', topics: { [kept]: 3 } },
      { op: 'delete_topics', topics: [dropped] },
      { op: 'describe_cluster' },
    ])) as [TopicOutcomes, TopicOutcomes, TopicOutcomes, DescribedCluster];
    expect(created).toEqual({ [kept]: { error: null }, [dropped]: { error: null } });
    expect(grown).toEqual({ [kept]: { error: null } });
    expect(deleted).toEqual({ [dropped]: { error: null } });

    broker = await broker.restart();

    const [cluster, listed, topics, configs] = (await run([
      { op: 'describe_cluster' },
      { op: 'list_topics' },
      { op: 'describe_topics', topics: [kept] },
      { op: 'describe_configs', resources: [{ type: 'topic', name: kept }] },
    ])) as [DescribedCluster, string[], DescribedTopic[], ConfigResourceJson[]];
    expect(cluster.cluster_id).toBe(before.cluster_id);
    expect(listed).toContain(kept);
    expect(listed).not.toContain(dropped);
    expect(topics).toEqual([described(kept, 3)]);
    const entries = configs[0]!.configs!;
    expect(entries['cleanup.policy']).toEqual(topicEntry('compact,delete', DYNAMIC_TOPIC_CONFIG));
    expect(entries['min.insync.replicas']).toEqual(topicEntry('1', DYNAMIC_TOPIC_CONFIG));
    expect(entries['retention.bytes']).toEqual(topicEntry('1073741824', DYNAMIC_TOPIC_CONFIG));
    expect(entries['retention.ms']).toEqual(topicEntry('604800000', DEFAULT_CONFIG));
  });
});
