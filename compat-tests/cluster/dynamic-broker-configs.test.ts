/**
 * Dynamic broker configs (AlterConfigs / IncrementalAlterConfigs on BROKER resources), the way
 * Kafka tools use them, on a 2-agent cluster: kept in the metadata store, so a change through
 * one agent is in force on the other and survives restarts; DescribeConfigs names the source
 * (DYNAMIC_BROKER_CONFIG 2, DYNAMIC_DEFAULT_BROKER_CONFIG 3) with the synonym chain; read-only
 * configs are refused with INVALID_REQUEST as Kafka refuses them.
 */
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { kafkaFor, sleep, startCluster, type Cluster } from './support.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('dynconfig', 2);
});

afterAll(async () => {
  await cluster?.stop();
});

async function withAdmin<T>(bootstrap: string, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaFor([bootstrap], 3).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

type Entry = { configName: string; configValue: string; readOnly: boolean; isDefault: boolean; configSource: number; configSynonyms: Array<{ configName: string; configValue: string; configSource: number }> };

async function brokerEntry(bootstrap: string, nodeId: number, name: string): Promise<Entry> {
  return withAdmin(bootstrap, async (admin) => {
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: String(nodeId), configNames: [name] }], includeSynonyms: true });
    const e = res.resources[0]!.configEntries[0]! as unknown as Entry;
    return { configName: e.configName, configValue: e.configValue, readOnly: e.readOnly, isDefault: e.isDefault, configSource: e.configSource, configSynonyms: e.configSynonyms.map((s) => ({ configName: s.configName, configValue: s.configValue, configSource: s.configSource })) };
  });
}

async function topicEntry(bootstrap: string, topic: string, name: string): Promise<{ value: string; source: number; synonyms: Array<[string, string, number]> }> {
  return withAdmin(bootstrap, async (admin) => {
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }], includeSynonyms: true });
    const e = res.resources[0]!.configEntries[0]! as unknown as Entry;
    return { value: e.configValue, source: e.configSource, synonyms: e.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]) };
  });
}

/** AlterConfigs v1 on the cluster-wide default broker resource (kafkajs refuses the empty name). */
async function alterClusterDefault(port: number, entries: Array<{ name: string; value: string }>): Promise<{ errorCode: number; errorMessage: string | null }> {
  const raw = await RawKafkaClient.connect('127.0.0.1', port);
  try {
    const res = await raw.request(33, 1, { resources: [{ resourceType: 4, resourceName: '', configs: entries }], validateOnly: false });
    return { errorCode: res.responses[0]!.errorCode, errorMessage: res.responses[0]!.errorMessage };
  } finally {
    raw.close();
  }
}

/** Waits for the other agent's next view refresh (250 ms) to have read the change. */
async function eventually<T>(probe: () => Promise<T>, want: T, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await probe();
    if (JSON.stringify(last) === JSON.stringify(want)) return;
    await sleep(200);
  }
  expect(last).toEqual(want);
}

describe('dynamic broker configs on a cluster', () => {
  it('alters the cluster default through one agent and a per-broker value through the other; both agents apply them', async () => {
    const [a, b] = cluster.agents as [typeof cluster.agents[0], typeof cluster.agents[0]];
    await withAdmin(a.bootstrap, (admin) => admin.createTopics({ topics: [{ topic: 'follows-broker', numPartitions: 1 }, { topic: 'own-value', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '123' }] }] }));

    // the cluster-wide default, set through agent 1 (node id 1)
    expect(await alterClusterDefault(a.kafkaPort, [{ name: 'log.retention.ms', value: '3600000' }])).toEqual({ errorCode: 0, errorMessage: null });
    const clusterDefault = { configName: 'log.retention.ms', configValue: '3600000', readOnly: false, isDefault: false, configSource: 3, configSynonyms: [{ configName: 'log.retention.ms', configValue: '3600000', configSource: 3 }, { configName: 'log.retention.ms', configValue: '604800000', configSource: 5 }] };
    expect(await brokerEntry(a.bootstrap, 1, 'log.retention.ms')).toEqual(clusterDefault);
    await eventually(() => brokerEntry(b.bootstrap, 2, 'log.retention.ms'), clusterDefault);
    await eventually(() => topicEntry(b.bootstrap, 'follows-broker', 'retention.ms'), { value: '3600000', source: 3, synonyms: [['log.retention.ms', '3600000', 3], ['log.retention.ms', '604800000', 5]] });
    expect(await topicEntry(b.bootstrap, 'own-value', 'retention.ms')).toEqual({ value: '123', source: 1, synonyms: [['retention.ms', '123', 1], ['log.retention.ms', '3600000', 3], ['log.retention.ms', '604800000', 5]] });

    // a value for broker 2 only, set through agent 1: agent 2 applies it, agent 1 keeps the default
    await withAdmin(a.bootstrap, (admin) => admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '2', configEntries: [{ name: 'log.retention.ms', value: '7200000' }] }], validateOnly: false }));
    await eventually(() => brokerEntry(b.bootstrap, 2, 'log.retention.ms'), { ...clusterDefault, configValue: '7200000', configSource: 2, configSynonyms: [{ configName: 'log.retention.ms', configValue: '7200000', configSource: 2 }, ...clusterDefault.configSynonyms] });
    expect((await brokerEntry(a.bootstrap, 1, 'log.retention.ms')).configValue).toBe('3600000');

    // a read-only config is refused, the whole resource with it
    expect(await alterClusterDefault(a.kafkaPort, [{ name: 'log.retention.ms', value: '1' }, { name: 'broker.id', value: '7' }])).toEqual({ errorCode: 42, errorMessage: 'Cannot update these configs dynamically: Set(broker.id)' });
    const refused = await withAdmin(a.bootstrap, (admin) =>
      admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'listeners', value: 'PLAINTEXT://x:1' }] }], validateOnly: false }).then(
        () => 'accepted',
        (e: { type?: string }) => e.type ?? String(e),
      ),
    );
    expect(refused).toBe('INVALID_REQUEST');
    expect((await brokerEntry(a.bootstrap, 1, 'log.retention.ms')).configValue).toBe('3600000');
  });

  it('turns auto-creation off cluster-wide at run time, and it stays off after a restart', async () => {
    const [a] = cluster.agents as [typeof cluster.agents[0]];
    expect(await alterClusterDefault(a.kafkaPort, [{ name: 'auto.create.topics.enable', value: 'false' }, { name: 'log.retention.ms', value: '3600000' }])).toEqual({ errorCode: 0, errorMessage: null });
    await sleep(600);
    for (const agent of cluster.agents) {
      const created = await withAdmin(agent.bootstrap, async (admin) => {
        await admin.fetchTopicMetadata({ topics: [`not-created-${agent.kafkaPort}`] }).catch(() => undefined);
        return (await admin.listTopics()).filter((t) => t.startsWith('not-created'));
      });
      expect(created).toEqual([]);
    }
    const restarted = await cluster.agents[1]!.restart();
    cluster.agents[1] = restarted;
    expect(await brokerEntry(restarted.bootstrap, 2, 'auto.create.topics.enable')).toEqual({ configName: 'auto.create.topics.enable', configValue: 'false', readOnly: false, isDefault: false, configSource: 3, configSynonyms: [{ configName: 'auto.create.topics.enable', configValue: 'false', configSource: 3 }, { configName: 'auto.create.topics.enable', configValue: 'true', configSource: 5 }] });
  });
});
