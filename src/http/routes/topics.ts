// /api/v1/topics: list, create, describe, alter configs, add partitions, delete.

import type { FastifyInstance } from 'fastify';
import type { AgentCore } from '../../agent/agent-core.js';
import { awaitNewLeaders, CREATE_LEADER_WAIT_MS } from '../../agent/cluster/await-new-leaders.js';
import { ConfigSource, topicConfigViews } from '../../agent/topics/topic-configs-view.js';
import type { Topic } from '../../metadata/metadata-store.js';
import { notFound } from '../http-errors.js';
import { AclOperation, allowed, requireAllowed, requireTopicCreate, ResourceType } from '../http-security.js';
import { errorSchema, topicNameParams } from './schemas.js';

const SOURCE_NAMES = new Map<number, string>(Object.entries(ConfigSource).map(([name, code]) => [code, name]));

/** Per partition of a topic: chunk bytes in the index (what a read can return). */
async function partitionBytes(core: AgentCore, topic?: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const u of await core.metadata.chunks.usage(topic)) out.set(`${u.topic}\u0000${u.partition}`, u.bytes);
  return out;
}

export async function describeTopic(core: AgentCore, topic: Topic): Promise<Record<string, unknown>> {
  const [states, bytes] = await Promise.all([core.metadata.partitions.list(topic.name), partitionBytes(core, topic.name)]);
  const agentIds = new Map(core.cluster.brokers().map((b) => [b.nodeId, b.agentId ?? '']));
  agentIds.set(core.cluster.self.nodeId, core.config.agentId);
  return {
    name: topic.name,
    topic_id: topic.id,
    partition_count: topic.partitionCount,
    created_at_ms: topic.createdAt,
    partitions: states.map((s) => {
      const leader = core.cluster.leaderOf(topic.name, s.partition);
      return {
        partition: s.partition,
        leader: leader ? { node_id: leader.nodeId, agent_id: agentIds.get(leader.nodeId) ?? '' } : null,
        log_start_offset: Number(s.logStartOffset),
        high_watermark: Number(s.highWatermark),
        records: Number(s.highWatermark - s.logStartOffset),
        bytes: bytes.get(`${topic.name}\u0000${s.partition}`) ?? 0,
      };
    }),
    configs: topicConfigViews(core.topics, topic, false).map((c) => ({ name: c.name, value: c.value, source: SOURCE_NAMES.get(c.configSource) ?? 'DEFAULT_CONFIG', sensitive: c.isSensitive })),
  };
}

async function requireTopic(core: AgentCore, name: string): Promise<Topic> {
  const topic = await core.topics.get(name);
  if (!topic) throw notFound(`topic '${name}' does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
  return topic;
}

const topicDescription = { type: 'object', description: 'A topic with its partitions and configs', additionalProperties: true } as const;

export function topicRoutes(app: FastifyInstance, core: AgentCore): void {
  app.get('/topics', {
    schema: {
      summary: 'List topics with partition count, records and bytes',
      tags: ['topics'],
      response: {
        200: {
          type: 'object',
          properties: {
            topics: {
              type: 'array',
              items: { type: 'object', properties: { name: { type: 'string' }, partitions: { type: 'integer' }, records: { type: 'integer' }, bytes: { type: 'integer' } } },
            },
          },
        },
      },
    },
  }, async (req) => {
    // as Metadata does: only the topics the requester may describe
    const [all, usage] = await Promise.all([core.topics.list(), core.metadata.chunks.usage()]);
    const topics = all.filter((t) => allowed(core, req, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name));
    const bytesByTopic = new Map<string, number>();
    for (const u of usage) bytesByTopic.set(u.topic, (bytesByTopic.get(u.topic) ?? 0) + u.bytes);
    const out = await Promise.all(
      topics.map(async (t) => {
        let records = 0n;
        for (const p of await core.metadata.partitions.list(t.name)) records += p.highWatermark - p.logStartOffset;
        return { name: t.name, partitions: t.partitionCount, records: Number(records), bytes: bytesByTopic.get(t.name) ?? 0 };
      }),
    );
    return { topics: out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  });

  app.post<{ Body: { name: string; partitions?: number; configs?: Record<string, string> } }>('/topics', {
    schema: {
      summary: 'Create a topic',
      tags: ['topics'],
      body: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          partitions: { type: 'integer', minimum: 1, maximum: 100000, description: 'default num.partitions' },
          configs: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
      response: { 201: topicDescription, 400: errorSchema, 409: errorSchema },
    },
  }, async (req, reply) => {
    requireTopicCreate(core, req, req.body.name);
    const partitions = req.body.partitions ?? core.brokerConfigs.defaultPartitions;
    const topic = await core.topics.create({ name: req.body.name, partitions, configs: req.body.configs ?? {} });
    core.logger.info({ topic: topic.name, partitions, configs: topic.configs }, 'created topic (REST)');
    await awaitNewLeaders(core, topic.name, 0, partitions, CREATE_LEADER_WAIT_MS);
    reply.code(201);
    return describeTopic(core, topic);
  });

  app.get<{ Params: { topic: string } }>('/topics/:topic', {
    schema: { summary: 'Describe a topic: partitions (leader, offsets, bytes) and configs with their source', tags: ['topics'], params: topicNameParams, response: { 200: topicDescription, 404: errorSchema } },
  }, async (req) => {
    // checked before the lookup: a refused requester does not learn whether the topic exists
    requireAllowed(core, req, AclOperation.DESCRIBE, ResourceType.TOPIC, req.params.topic);
    return describeTopic(core, await requireTopic(core, req.params.topic));
  });

  app.patch<{ Params: { topic: string }; Body: { configs: Record<string, string | null> } }>('/topics/:topic/configs', {
    schema: {
      summary: 'Alter topic configs (incremental; null resets a config to its default)',
      tags: ['topics'],
      params: topicNameParams,
      body: {
        type: 'object',
        required: ['configs'],
        additionalProperties: false,
        properties: { configs: { type: 'object', minProperties: 1, additionalProperties: { type: ['string', 'null'] } } },
      },
      response: { 200: topicDescription, 400: errorSchema, 404: errorSchema },
    },
  }, async (req) => {
    requireAllowed(core, req, AclOperation.ALTER_CONFIGS, ResourceType.TOPIC, req.params.topic);
    const topic = await requireTopic(core, req.params.topic);
    await core.topics.setConfigs(topic.name, req.body.configs, false);
    core.logger.info({ topic: topic.name, changes: req.body.configs }, 'altered topic configs (REST)');
    return describeTopic(core, await requireTopic(core, topic.name));
  });

  app.post<{ Params: { topic: string }; Body: { count: number } }>('/topics/:topic/partitions', {
    schema: {
      summary: 'Add partitions: grow the topic to `count` partitions',
      tags: ['topics'],
      params: topicNameParams,
      body: { type: 'object', required: ['count'], additionalProperties: false, properties: { count: { type: 'integer', minimum: 1 } } },
      response: { 200: topicDescription, 400: errorSchema, 404: errorSchema },
    },
  }, async (req) => {
    requireAllowed(core, req, AclOperation.ALTER, ResourceType.TOPIC, req.params.topic);
    const topic = await requireTopic(core, req.params.topic);
    const grown = await core.topics.addPartitions(topic.name, req.body.count, false);
    core.logger.info({ topic: topic.name, from: topic.partitionCount, to: grown.partitionCount }, 'added partitions (REST)');
    await awaitNewLeaders(core, topic.name, topic.partitionCount, grown.partitionCount, CREATE_LEADER_WAIT_MS);
    return describeTopic(core, grown);
  });

  app.delete<{ Params: { topic: string } }>('/topics/:topic', {
    schema: { summary: 'Delete a topic', tags: ['topics'], params: topicNameParams, response: { 204: { type: 'null', description: 'deleted' }, 404: errorSchema } },
  }, async (req, reply) => {
    requireAllowed(core, req, AclOperation.DELETE, ResourceType.TOPIC, req.params.topic);
    const topic = await requireTopic(core, req.params.topic);
    const orphaned = await core.topics.delete(topic.name);
    core.onTopicDeleted?.(topic.name);
    core.logger.info({ topic: topic.name, orphanedObjects: orphaned.length }, 'deleted topic (REST)');
    reply.code(204);
    return null;
  });
}
