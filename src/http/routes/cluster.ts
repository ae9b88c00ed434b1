// /api/v1/agents, /cluster, /cluster/throughput and /storage: who leads what, the cluster
// in numbers, live throughput, and what the log costs in object storage.

import type { FastifyInstance } from 'fastify';
import { requireClusterDescribe } from '../http-security.js';
import type { AgentCore } from '../../agent/agent-core.js';
import { COORDINATOR_SHARD_PREFIX } from '../../agent/cluster/lease-resources.js';
import { DEFAULT_COORDINATOR_SHARDS } from '../../agent/groups/coordinator-shards.js';
import type { ThroughputSampler } from '../throughput-sampler.js';
import { errorSchema } from './schemas.js';

/** S3 Standard's list price per GB-month, the default of the cost estimate. */
export const DEFAULT_PRICE_PER_GB_MONTH = 0.023;
const GB = 1024 ** 3;

const loose = (description: string) => ({ type: 'object', additionalProperties: true, description }) as const;

export function clusterRoutes(app: FastifyInstance, core: AgentCore, sampler: ThroughputSampler): void {
  app.get('/agents', {
    schema: { summary: 'Agents with node id, address, heartbeat age, and the partitions and coordinator shards each leads', tags: ['cluster'], response: { 200: loose('The agents') } },
  }, async (req) => {
    requireClusterDescribe(core, req);
    const { cluster, config } = core;
    const brokers = cluster.brokers();
    const [registered, storeNow, shardLeases, topics] = await Promise.all([
      core.metadata.agents.list(),
      core.metadata.leases.now(),
      core.metadata.leases.list(COORDINATOR_SHARD_PREFIX),
      core.topics.list(),
    ]);
    const byNode = new Map(registered.map((a) => [a.nodeId, a]));
    const partitions = new Map<number, Array<{ topic: string; partition: number }>>();
    for (const t of topics) {
      for (let p = 0; p < t.partitionCount; p++) {
        const leader = cluster.leaderOf(t.name, p);
        if (!leader) continue;
        let list = partitions.get(leader.nodeId);
        if (!list) partitions.set(leader.nodeId, (list = []));
        list.push({ topic: t.name, partition: p });
      }
    }
    // in a cluster the shard leases say who coordinates; alone, this agent coordinates all
    const shards = new Map<string, number[]>();
    for (const lease of shardLeases) {
      let list = shards.get(lease.owner);
      if (!list) shards.set(lease.owner, (list = []));
      list.push(Number(lease.resource.slice(COORDINATOR_SHARD_PREFIX.length)));
    }
    if (shardLeases.length === 0) shards.set(config.agentId, [...Array(DEFAULT_COORDINATOR_SHARDS).keys()]);
    return {
      agents: brokers.map((b) => {
        const self = b.nodeId === cluster.self.nodeId;
        const agentId = self ? config.agentId : (b.agentId ?? byNode.get(b.nodeId)?.agentId ?? '');
        const record = byNode.get(b.nodeId);
        return {
          agent_id: agentId,
          node_id: b.nodeId,
          host: b.host,
          port: b.port,
          rack: b.rack,
          self,
          heartbeat_age_ms: record ? Math.max(0, storeNow - record.lastHeartbeat) : self ? 0 : null,
          partitions: partitions.get(b.nodeId) ?? [],
          coordinator_shards: (shards.get(agentId) ?? []).sort((x, y) => x - y),
        };
      }),
    };
  });

  app.get('/cluster', {
    schema: { summary: 'Cluster overview: agents, topics, partitions, records, storage bytes and objects, throughput', tags: ['cluster'], response: { 200: loose('The cluster') } },
  }, async (req) => {
    requireClusterDescribe(core, req);
    const [topics, totals] = await Promise.all([core.topics.list(), core.metadata.objects.totals()]);
    let records = 0n;
    let partitions = 0;
    for (const t of topics) {
      partitions += t.partitionCount;
      for (const p of await core.metadata.partitions.list(t.name)) records += p.highWatermark - p.logStartOffset;
    }
    const latest = sampler.history().at(-1);
    return {
      cluster_id: core.cluster.clusterId,
      controller_id: core.cluster.controllerId(),
      agents: core.cluster.brokers().length,
      topics: topics.length,
      partitions,
      records: Number(records),
      storage_bytes: totals.bytes,
      objects: totals.objects,
      throughput: latest ?? null,
    };
  });

  app.get('/cluster/throughput', {
    schema: { summary: 'Records and bytes in and out per second and produce/fetch p99 latency, one sample per interval over the last 5 minutes', tags: ['cluster'], response: { 200: loose('Samples') } },
  }, async (req) => {
    requireClusterDescribe(core, req);
    return { interval_ms: sampler.intervalMs, samples: sampler.history() };
  });

  app.get<{ Querystring: { price_per_gb_month?: string } }>('/storage', {
    schema: {
      summary: 'Object storage: objects per topic, bytes stored vs payload, chunks (compaction state), estimated monthly cost',
      tags: ['cluster'],
      querystring: { type: 'object', additionalProperties: false, properties: { price_per_gb_month: { type: 'string', pattern: '^[0-9]{1,4}(\\.[0-9]{1,9})?$', description: `US$ per GB-month (default ${DEFAULT_PRICE_PER_GB_MONTH})` } } },
      response: { 200: loose('Storage use'), 400: errorSchema },
    },
  }, async (req) => {
    requireClusterDescribe(core, req);
    const price = req.query.price_per_gb_month === undefined ? DEFAULT_PRICE_PER_GB_MONTH : Number(req.query.price_per_gb_month);
    const [usage, objectsByTopic, totals] = await Promise.all([core.metadata.chunks.usage(), core.metadata.chunks.topicObjects(), core.metadata.objects.totals()]);
    // compaction state by the compactor's own rule: a partition still holding two or more
    // chunks smaller, on average, than compaction.small.chunk.bytes has merging left to do
    const small = core.config.compactionSmallChunkBytes;
    const perTopic = new Map<string, { chunks: number; bytes: number; records: number; partitions: number; pending: number }>();
    for (const u of usage) {
      const t = perTopic.get(u.topic) ?? { chunks: 0, bytes: 0, records: 0, partitions: 0, pending: 0 };
      const pending = u.chunks >= 2 && u.bytes / u.chunks < small ? 1 : 0;
      perTopic.set(u.topic, { chunks: t.chunks + u.chunks, bytes: t.bytes + u.bytes, records: t.records + u.records, partitions: t.partitions + 1, pending: t.pending + pending });
    }
    const objects = new Map(objectsByTopic.map((o) => [o.topic, o.objects]));
    const cost = (bytes: number): number => Math.round((bytes / GB) * price * 1e6) / 1e6;
    const payload = usage.reduce((sum, u) => sum + u.bytes, 0);
    return {
      price_per_gb_month: price,
      compaction: { enabled: core.config.compactionIntervalMs > 0, interval_ms: core.config.compactionIntervalMs, small_chunk_bytes: small },
      total: { objects: totals.objects, stored_bytes: totals.bytes, payload_bytes: payload, unreferenced_objects: totals.unreferencedObjects, monthly_cost: cost(totals.bytes) },
      topics: [...perTopic].map(([name, t]) => ({
        name,
        objects: objects.get(name) ?? 0,
        chunks: t.chunks,
        partitions_with_data: t.partitions,
        payload_bytes: t.bytes,
        records: t.records,
        average_chunk_bytes: t.chunks === 0 ? 0 : Math.round(t.bytes / t.chunks),
        partitions_awaiting_compaction: t.pending,
        monthly_cost: cost(t.bytes),
      })),
    };
  });
}
