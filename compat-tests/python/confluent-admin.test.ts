import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runPythonAdmin, type AdminOp, type ConfigResourceJson, type PythonKafkaError, type TopicOutcomes } from './run-python-admin.js';

// confluent-kafka 1.7.0 (Debian) on librdkafka 2.0.2: its AdminClient has no describe_cluster,
// so the cluster is checked through list_topics, which carries the same Metadata fields.

interface ListedTopics {
  cluster_id: string;
  controller_id: number;
  brokers: Array<{ id: number; host: string; port: number }>;
  topics: Record<string, { error: PythonKafkaError | null; partitions: Record<string, { leader: number; replicas: number[]; isrs: number[] }> }>;
}

const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

function topicName(label: string): string {
  return `cf-${label}-${randomUUID().slice(0, 8)}`;
}

/** The partitions a single-broker cluster should report for a topic with `count` partitions. */
function onePartitionEach(count: number): ListedTopics['topics'][string]['partitions'] {
  const out: ListedTopics['topics'][string]['partitions'] = {};
  for (let p = 0; p < count; p++) out[String(p)] = { leader: 0, replicas: [0], isrs: [0] };
  return out;
}

describe('confluent-kafka AdminClient against a broker process', () => {
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

  const run = (ops: AdminOp[]) => runPythonAdmin('confluent-admin.py', broker.bootstrap, ops);

  it('creates a topic with configs, lists it, describes its configs, adds partitions and deletes it', async () => {
    const t = topicName('life');
    const [created, listed, described, grown, listedGrown, deleted, listedAfter] = (await run([
      { op: 'create_topics', topics: [{ name: t, partitions: 3, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } }] },
      { op: 'list_topics' },
      { op: 'describe_configs', resources: [{ type: 'topic', name: t }] },
      { op: 'create_partitions', topics: { [t]: 5 } },
      { op: 'list_topics' },
      { op: 'delete_topics', topics: [t] },
      { op: 'list_topics' },
    ])) as [TopicOutcomes, ListedTopics, ConfigResourceJson[], TopicOutcomes, ListedTopics, TopicOutcomes, ListedTopics];

    expect(created).toEqual({ [t]: { error: null } });
    expect(listed.topics[t]).toEqual({ error: null, partitions: onePartitionEach(3) });

    expect(described).toHaveLength(1);
    expect(described[0]!.type).toBe('topic');
    expect(described[0]!.name).toBe(t);
    const configs = described[0]!.configs!;
    expect(configs['retention.ms']).toEqual({ value: '3600000', source: DYNAMIC_TOPIC_CONFIG, is_default: false, read_only: false, is_sensitive: false });
    expect(configs['cleanup.policy']).toEqual({ value: 'compact', source: DYNAMIC_TOPIC_CONFIG, is_default: false, read_only: false, is_sensitive: false });
    expect(configs['max.message.bytes']).toEqual({ value: '1048588', source: DEFAULT_CONFIG, is_default: true, read_only: false, is_sensitive: false });
    expect(configs['retention.bytes']).toEqual({ value: '-1', source: DEFAULT_CONFIG, is_default: true, read_only: false, is_sensitive: false });

    expect(grown).toEqual({ [t]: { error: null } });
    expect(listedGrown.topics[t]).toEqual({ error: null, partitions: onePartitionEach(5) });

    expect(deleted).toEqual({ [t]: { error: null } });
    expect(Object.keys(listedAfter.topics)).not.toContain(t);
  });

  it('reports Kafka error codes per topic', async () => {
    const t = topicName('dup');
    const zero = topicName('zero');
    const unknownConfig = topicName('unkcfg');
    const badValue = topicName('badval');
    const missing = topicName('missing');
    const [pre, created, grown, deleted, described, listed] = (await run([
      { op: 'create_topics', topics: [{ name: t, partitions: 1 }] },
      {
        op: 'create_topics',
        topics: [
          { name: t, partitions: 1 },
          { name: 'bad name!', partitions: 1 },
          { name: zero, partitions: 0 },
          { name: unknownConfig, partitions: 1, configs: { 'no.such.config': '1' } },
          { name: badValue, partitions: 1, configs: { 'retention.ms': 'soon' } },
        ],
      },
      { op: 'create_partitions', topics: { [t]: 1, [missing]: 2 } },
      { op: 'delete_topics', topics: [missing] },
      { op: 'describe_configs', resources: [{ type: 'topic', name: missing }] },
      { op: 'list_topics' },
    ])) as [TopicOutcomes, TopicOutcomes, TopicOutcomes, TopicOutcomes, ConfigResourceJson[], ListedTopics];

    const codeOf = (o: TopicOutcomes, name: string) => (o[name]?.error ? { code: o[name].error.code, name: o[name].error.name } : o[name]);
    expect(pre).toEqual({ [t]: { error: null } });
    expect(codeOf(created, t)).toEqual({ code: 36, name: 'TOPIC_ALREADY_EXISTS' });
    expect(codeOf(created, 'bad name!')).toEqual({ code: 17, name: 'TOPIC_EXCEPTION' });
    expect(codeOf(created, zero)).toEqual({ code: 37, name: 'INVALID_PARTITIONS' });
    expect(codeOf(created, unknownConfig)).toEqual({ code: 40, name: 'INVALID_CONFIG' });
    expect(codeOf(created, badValue)).toEqual({ code: 40, name: 'INVALID_CONFIG' });
    expect(codeOf(grown, t)).toEqual({ code: 37, name: 'INVALID_PARTITIONS' });
    expect(codeOf(grown, missing)).toEqual({ code: 3, name: 'UNKNOWN_TOPIC_OR_PART' });
    expect(codeOf(deleted, missing)).toEqual({ code: 3, name: 'UNKNOWN_TOPIC_OR_PART' });
    expect(described).toHaveLength(1);
    expect(described[0]!.error?.code).toBe(3);

    // nothing was created by the failed requests and the existing topic kept one partition
    const names = Object.keys(listed.topics);
    for (const n of ['bad name!', zero, unknownConfig, badValue, missing]) expect(names).not.toContain(n);
    expect(listed.topics[t]).toEqual({ error: null, partitions: onePartitionEach(1) });
  });

  it('validate_only checks requests without creating or growing anything', async () => {
    const t = topicName('grow');
    const ghost = topicName('ghost');
    const zero = topicName('zero');
    const [pre, validated, grownOnly, listed] = (await run([
      { op: 'create_topics', topics: [{ name: t, partitions: 2 }] },
      { op: 'create_topics', validate_only: true, topics: [{ name: ghost, partitions: 4, configs: { 'retention.ms': '1000' } }, { name: zero, partitions: 0 }] },
      { op: 'create_partitions', validate_only: true, topics: { [t]: 6 } },
      { op: 'list_topics' },
    ])) as [TopicOutcomes, TopicOutcomes, TopicOutcomes, ListedTopics];

    expect(pre).toEqual({ [t]: { error: null } });
    expect(validated[ghost]).toEqual({ error: null });
    expect(validated[zero]?.error?.code).toBe(37);
    expect(grownOnly).toEqual({ [t]: { error: null } });
    expect(Object.keys(listed.topics)).not.toContain(ghost);
    expect(Object.keys(listed.topics)).not.toContain(zero);
    expect(listed.topics[t]).toEqual({ error: null, partitions: onePartitionEach(2) });
  });

  it('describes the broker resource and the cluster', async () => {
    const [described, listed] = (await run([{ op: 'describe_configs', resources: [{ type: 'broker', name: '0' }] }, { op: 'list_topics' }])) as [ConfigResourceJson[], ListedTopics];

    expect(described).toHaveLength(1);
    expect(described[0]!.type).toBe('broker');
    expect(described[0]!.name).toBe('0');
    const configs = described[0]!.configs!;
    const staticEntry = (value: string) => ({ value, source: STATIC_BROKER_CONFIG, is_default: false, read_only: true, is_sensitive: false });
    // the listener is set on the command line, so it is a static broker config
    expect(configs['listeners']).toEqual(staticEntry(`PLAINTEXT://127.0.0.1:${broker.kafkaPort}`));
    expect(configs['advertised.listeners']).toEqual(staticEntry(`PLAINTEXT://127.0.0.1:${broker.kafkaPort}`));
    // left at their defaults: reported as defaults
    const defaultEntry = (value: string) => ({ value, source: DEFAULT_CONFIG, is_default: true, read_only: true, is_sensitive: false });
    expect(configs['broker.id']).toEqual(defaultEntry('0'));
    // dynamic broker configs (AlterConfigs may change them) are not read-only
    expect(configs['message.max.bytes']).toEqual({ ...defaultEntry('1048588'), read_only: false });
    expect(configs['num.partitions']).toEqual({ ...defaultEntry('1'), read_only: false });

    expect(listed.brokers).toEqual([{ id: 0, host: '127.0.0.1', port: broker.kafkaPort }]);
    expect(listed.controller_id).toBe(0);
    // Kafka cluster ids are 16 random bytes in URL-safe base64 without padding
    expect(listed.cluster_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('keeps topics, partition counts and configs across a broker restart', async () => {
    const kept = topicName('kept');
    const dropped = topicName('dropped');
    const [created, grown, deleted, before] = (await run([
      { op: 'create_topics', topics: [{ name: kept, partitions: 2, configs: { 'retention.ms': '86400000', 'max.message.bytes': '2097152' } }, { name: dropped, partitions: 1 }] },
      { op: 'create_partitions', topics: { [kept]: 4 } },
      { op: 'delete_topics', topics: [dropped] },
      { op: 'list_topics' },
    ])) as [TopicOutcomes, TopicOutcomes, TopicOutcomes, ListedTopics];
    expect(created).toEqual({ [kept]: { error: null }, [dropped]: { error: null } });
    expect(grown).toEqual({ [kept]: { error: null } });
    expect(deleted).toEqual({ [dropped]: { error: null } });

    broker = await broker.restart();

    const [listed, described] = (await run([{ op: 'list_topics' }, { op: 'describe_configs', resources: [{ type: 'topic', name: kept }] }])) as [ListedTopics, ConfigResourceJson[]];
    expect(listed.cluster_id).toBe(before.cluster_id);
    expect(listed.topics[kept]).toEqual({ error: null, partitions: onePartitionEach(4) });
    expect(Object.keys(listed.topics)).not.toContain(dropped);
    const configs = described[0]!.configs!;
    expect(configs['retention.ms']).toEqual({ value: '86400000', source: DYNAMIC_TOPIC_CONFIG, is_default: false, read_only: false, is_sensitive: false });
    expect(configs['max.message.bytes']).toEqual({ value: '2097152', source: DYNAMIC_TOPIC_CONFIG, is_default: false, read_only: false, is_sensitive: false });
    expect(configs['cleanup.policy']).toEqual({ value: 'delete', source: DEFAULT_CONFIG, is_default: true, read_only: false, is_sensitive: false });
  });
});
