// POST /api/v1/produce: one record or a batch. Records land on the partition given, else the
// one Kafka's default partitioner picks for the key (murmur2), else one partition per request
// for records without key (Kafka's sticky choice), taken in turn. Each partition's records go
// in as one batch, answered after the commit (the durability of acks=all).

import type { FastifyInstance } from 'fastify';
import type { AgentCore } from '../../agent/agent-core.js';
import { partitionRouterOf } from '../../agent/cluster/partition-router.js';
import { validateProducedRecords } from '../../agent/produce-validation.js';
import type { Topic } from '../../metadata/metadata-store.js';
import { partitionForKey } from '../../protocol/murmur2.js';
import { buildRecordBatch, type RecordInput } from '../../protocol/records/record-codec.js';
import { fromKafkaError, notFound, badRequest } from '../http-errors.js';
import { AclOperation, requireAllowed, ResourceType } from '../http-security.js';
import { bytesOf, type WriteEncoding } from '../record-json.js';
import { errorSchema } from './schemas.js';

/** The newest Produce version: its record checks apply to REST writes too. */
const PRODUCE_VERSION = 11;
const PRODUCE_TIMEOUT_MS = 30_000;
export const MAX_RECORDS_PER_REQUEST = 100_000;

interface RecordBody {
  partition?: number;
  key?: unknown;
  value?: unknown;
  headers?: Array<{ key: string; value: string | null }>;
  timestamp?: number;
}

interface ProduceBody extends RecordBody {
  topic: string;
  records?: RecordBody[];
  key_encoding?: WriteEncoding;
  value_encoding?: WriteEncoding;
}

const encoding = { type: 'string', enum: ['text', 'json', 'base64'], default: 'text' } as const;
const recordProperties = {
  partition: { type: 'integer', minimum: 0 },
  key: { description: 'string (text or base64), any JSON value with json encoding, or null' },
  value: { description: 'string (text or base64), any JSON value with json encoding, or null' },
  headers: {
    type: 'array',
    items: { type: 'object', required: ['key'], additionalProperties: false, properties: { key: { type: 'string' }, value: { type: ['string', 'null'] } } },
  },
  timestamp: { type: 'integer', minimum: 0, description: 'create time in ms; default now' },
} as const;

export function produceRoutes(app: FastifyInstance, core: AgentCore): void {
  /** Next partition per topic for records without key or partition. */
  const stickyNext = new Map<string, number>();

  app.post<{ Body: ProduceBody }>('/produce', {
    schema: {
      summary: 'Produce one record (key, value, headers, partition) or a batch (records)',
      tags: ['records'],
      body: {
        type: 'object',
        required: ['topic'],
        additionalProperties: false,
        properties: {
          topic: { type: 'string', minLength: 1 },
          ...recordProperties,
          records: { type: 'array', minItems: 1, maxItems: MAX_RECORDS_PER_REQUEST, items: { type: 'object', additionalProperties: false, properties: recordProperties } },
          key_encoding: encoding,
          value_encoding: encoding,
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            topic: { type: 'string' },
            offsets: { type: 'array', items: { type: 'object', properties: { partition: { type: 'integer' }, offset: { type: 'integer' } } } },
          },
        },
        400: errorSchema,
        404: errorSchema,
        413: errorSchema,
        503: errorSchema,
      },
    },
  }, async (req) => {
    const body = req.body;
    if (body.records && (body.value !== undefined || body.key !== undefined || body.partition !== undefined || body.headers !== undefined)) {
      throw badRequest('give either records or one record (key, value, headers, partition), not both');
    }
    // a Produce's check: WRITE on the topic, before the lookup
    requireAllowed(core, req, AclOperation.WRITE, ResourceType.TOPIC, body.topic);
    const topic = await core.topics.get(body.topic);
    if (!topic) throw notFound(`topic '${body.topic}' does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
    const records = body.records ?? [body];
    const keyEncoding = body.key_encoding ?? 'text';
    const valueEncoding = body.value_encoding ?? 'text';
    const now = Date.now();
    const sticky = (): number => {
      const next = stickyNext.get(topic.name) ?? 0;
      stickyNext.set(topic.name, (next + 1) % topic.partitionCount);
      return next % topic.partitionCount;
    };
    let stickyPartition: number | undefined;
    // per partition, the records in request order and where each one sits in the request
    const byPartition = new Map<number, { inputs: RecordInput[]; positions: number[] }>();
    records.forEach((r, i) => {
      const what = records.length === 1 && !body.records ? '' : `records[${i}].`;
      const key = bytesOf(r.key, keyEncoding, `${what}key`);
      const value = bytesOf(r.value, valueEncoding, `${what}value`);
      let partition: number;
      if (r.partition !== undefined) {
        if (r.partition >= topic.partitionCount) {
          throw notFound(`topic '${topic.name}' has ${topic.partitionCount} partition(s); partition ${r.partition} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
        }
        partition = r.partition;
      } else if (key !== null) {
        partition = partitionForKey(key, topic.partitionCount);
      } else {
        partition = stickyPartition ??= sticky();
      }
      let group = byPartition.get(partition);
      if (!group) byPartition.set(partition, (group = { inputs: [], positions: [] }));
      group.inputs.push({ key, value, headers: (r.headers ?? []).map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value, 'utf8') })), timestamp: BigInt(r.timestamp ?? now) });
      group.positions.push(i);
    });
    const offsets: Array<{ partition: number; offset: number }> = new Array(records.length);
    await Promise.all(
      [...byPartition].map(async ([partition, group]) => {
        const base = await appendBatch(core, topic, partition, buildRecordBatch({ baseOffset: 0n, records: group.inputs }));
        group.positions.forEach((position, j) => (offsets[position] = { partition, offset: Number(base) + j }));
      }),
    );
    return { topic: topic.name, offsets };
  });
}

/** Checks the batch as Kafka's Produce would and appends it; the base offset once committed. */
async function appendBatch(core: AgentCore, topic: Topic, partition: number, batch: Buffer): Promise<bigint> {
  const configured = core.topics.policy(topic).maxMessageBytes;
  const maxMessageBytes = Number.isFinite(configured) ? configured : core.brokerConfigs.messageMaxBytes;
  const checked = validateProducedRecords(batch, PRODUCE_VERSION, `${topic.name}-${partition}`, maxMessageBytes);
  if ('error' in checked) throw fromKafkaError(checked.error.errorCode, checked.error.errorMessage);
  // led by another agent: sent there, answered after its commit
  const appended = await partitionRouterOf(core).append({ topic, partition, batches: checked.batches, timeoutMs: PRODUCE_TIMEOUT_MS });
  return appended.baseOffset;
}
