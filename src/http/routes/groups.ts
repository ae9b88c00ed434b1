// /api/v1/groups: consumer groups with lag, one group's members and assignments, offset
// resets (refused while members are active, with a dry run) and deletion.

import type { FastifyInstance } from 'fastify';
import type { AgentCore } from '../../agent/agent-core.js';
import { deleteGroup, describeGroup, listGroups, resetGroupOffsets, type ResetTarget } from '../../agent/groups/group-admin.js';
import { badRequest } from '../http-errors.js';
import { AclOperation, allowed, requireAllowed, ResourceType } from '../http-security.js';
import { errorSchema } from './schemas.js';

const groupParams = { type: 'object', required: ['group'], properties: { group: { type: 'string', minLength: 1 } } } as const;

interface ResetBody {
  topic: string;
  partitions?: number[];
  to: 'earliest' | 'latest' | 'offset' | 'timestamp';
  offset?: number;
  timestamp?: number;
  dry_run?: boolean;
}

export function groupRoutes(app: FastifyInstance, core: AgentCore): void {
  app.get('/groups', {
    schema: {
      summary: 'List consumer groups with state, members and total lag',
      tags: ['groups'],
      response: {
        200: {
          type: 'object',
          properties: {
            groups: {
              type: 'array',
              items: {
                type: 'object',
                properties: { group_id: { type: 'string' }, state: { type: 'string' }, members: { type: 'integer' }, partitions: { type: 'integer' }, total_lag: { type: 'integer' } },
              },
            },
          },
        },
      },
    },
  }, async (req) => ({
    // as ListGroups does: only the groups the requester may describe
    groups: (await listGroups(core)).filter((g) => allowed(core, req, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)).map((g) => ({ group_id: g.groupId, state: g.state, members: g.members, partitions: g.partitions, total_lag: Number(g.totalLag) })),
  }));

  app.get<{ Params: { group: string } }>('/groups/:group', {
    schema: {
      summary: 'Describe a consumer group: state, members with assignments, committed offsets and lag per partition',
      tags: ['groups'],
      params: groupParams,
      response: { 200: { type: 'object', additionalProperties: true, description: 'The group' }, 404: errorSchema },
    },
  }, async (req) => {
    requireAllowed(core, req, AclOperation.DESCRIBE, ResourceType.GROUP, req.params.group);
    const g = await describeGroup(core, req.params.group);
    return {
      group_id: g.groupId,
      state: g.state,
      protocol_type: g.protocolType,
      protocol: g.protocol,
      members: g.members.map((m) => ({
        member_id: m.memberId,
        client_id: m.clientId,
        client_host: m.clientHost,
        assignments: m.assignments.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })),
      })),
      // as OffsetFetch does: offsets of topics the requester may not describe are left out
      offsets: g.offsets.filter((o) => allowed(core, req, AclOperation.DESCRIBE, ResourceType.TOPIC, o.topic)).map((o) => ({
        topic: o.topic,
        partition: o.partition,
        committed_offset: Number(o.committedOffset),
        high_watermark: Number(o.highWatermark),
        lag: Number(o.lag),
        metadata: o.metadata,
        commit_timestamp_ms: o.commitTimestampMs,
      })),
      total_lag: Number(g.totalLag),
    };
  });

  app.post<{ Params: { group: string }; Body: ResetBody }>('/groups/:group/reset-offsets', {
    schema: {
      summary: 'Reset committed offsets of one topic to earliest, latest, an offset or a timestamp (refused while members are active)',
      tags: ['groups'],
      params: groupParams,
      body: {
        type: 'object',
        required: ['topic', 'to'],
        additionalProperties: false,
        properties: {
          topic: { type: 'string', minLength: 1 },
          partitions: { type: 'array', items: { type: 'integer', minimum: 0 } },
          to: { type: 'string', enum: ['earliest', 'latest', 'offset', 'timestamp'] },
          offset: { type: 'integer', minimum: 0 },
          timestamp: { type: 'integer', minimum: 0 },
          dry_run: { type: 'boolean', default: false },
        },
      },
      response: { 200: { type: 'object', additionalProperties: true, description: 'The offsets, before and after' }, 400: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema },
    },
  }, async (req) => {
    const b = req.body;
    // an offset commit's checks: READ on the group and on the topic
    requireAllowed(core, req, AclOperation.READ, ResourceType.GROUP, req.params.group);
    requireAllowed(core, req, AclOperation.READ, ResourceType.TOPIC, b.topic);
    let target: ResetTarget;
    if (b.to === 'offset') {
      if (b.offset === undefined) throw badRequest('to=offset needs offset');
      target = { to: 'offset', offset: BigInt(b.offset) };
    } else if (b.to === 'timestamp') {
      if (b.timestamp === undefined) throw badRequest('to=timestamp needs timestamp');
      target = { to: 'timestamp', timestampMs: BigInt(b.timestamp) };
    } else {
      target = { to: b.to };
    }
    const dryRun = b.dry_run ?? false;
    const plan = await resetGroupOffsets(core, { groupId: req.params.group, topic: b.topic, ...(b.partitions ? { partitions: b.partitions } : {}), target, dryRun });
    return {
      group_id: req.params.group,
      dry_run: dryRun,
      offsets: plan.map((p) => ({ topic: p.topic, partition: p.partition, previous_offset: Number(p.previousOffset), offset: Number(p.offset) })),
    };
  });

  app.delete<{ Params: { group: string } }>('/groups/:group', {
    schema: { summary: 'Delete an empty consumer group and its committed offsets', tags: ['groups'], params: groupParams, response: { 204: { type: 'null', description: 'deleted' }, 404: errorSchema, 409: errorSchema } },
  }, async (req, reply) => {
    requireAllowed(core, req, AclOperation.DELETE, ResourceType.GROUP, req.params.group);
    await deleteGroup(core, req.params.group);
    reply.code(204);
    return null;
  });
}
