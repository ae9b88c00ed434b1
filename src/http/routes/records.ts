// GET /api/v1/topics/:topic/partitions/:partition/records: browse or consume one partition
// from an offset, a timestamp, the earliest or the latest offset, with a limit and an
// optional long-poll wait for records to arrive.

import type { FastifyInstance } from 'fastify';
import type { AgentCore } from '../../agent/agent-core.js';
import { partitionRouterOf } from '../../agent/cluster/partition-router.js';
import { readableRecords } from '../../agent/readable-records.js';
import { badRequest, HttpError, notFound } from '../http-errors.js';
import { AclOperation, requireAllowed, ResourceType } from '../http-security.js';
import { shown } from '../record-json.js';
import { digits, errorSchema } from './schemas.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
export const MAX_WAIT_MS = 30_000;
/** Enough for the default and largest limits of small records; larger records still come one at least. */
const DEFAULT_MAX_BYTES = 1024 * 1024;
const MAX_BYTES = 64 * 1024 * 1024;

interface RecordsQuery {
  offset?: string;
  timestamp?: string;
  from?: 'earliest' | 'latest';
  limit?: string;
  wait_ms?: string;
  max_bytes?: string;
  encoding?: 'auto' | 'base64';
}

function bounded(text: string | undefined, what: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (n < min || n > max) throw badRequest(`${what} must be between ${min} and ${max}, got ${text}`);
  return n;
}

export function recordRoutes(app: FastifyInstance, core: AgentCore): void {
  app.get<{ Params: { topic: string; partition: string }; Querystring: RecordsQuery }>('/topics/:topic/partitions/:partition/records', {
    schema: {
      summary: 'Read records of one partition from an offset, a timestamp, earliest or latest',
      tags: ['records'],
      params: { type: 'object', required: ['topic', 'partition'], properties: { topic: { type: 'string', minLength: 1 }, partition: digits } },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          offset: { ...digits, description: 'first offset to read' },
          timestamp: { ...digits, description: 'read from the first record with this timestamp (ms) or later' },
          from: { type: 'string', enum: ['earliest', 'latest'], description: 'read from the log start or the end (default earliest)' },
          limit: { ...digits, description: `records to return, 1-${MAX_LIMIT} (default ${DEFAULT_LIMIT})` },
          wait_ms: { ...digits, description: `long-poll: wait up to this long for a first record (max ${MAX_WAIT_MS})` },
          max_bytes: { ...digits, description: 'key and value bytes to return (the first record always comes)' },
          encoding: { type: 'string', enum: ['auto', 'base64'], description: 'auto: UTF-8 text when valid, else base64 (default); base64: always base64' },
        },
      },
      response: { 200: { type: 'object', description: 'Records with offset, timestamp, key, value and headers', additionalProperties: true }, 400: errorSchema, 404: errorSchema, 416: errorSchema },
    },
  }, async (req) => {
    const q = req.query;
    const starts = [q.offset, q.timestamp, q.from].filter((v) => v !== undefined).length;
    if (starts > 1) throw badRequest('give at most one of offset, timestamp and from');
    // a Fetch's check: READ on the topic, before the lookup
    requireAllowed(core, req, AclOperation.READ, ResourceType.TOPIC, req.params.topic);
    const topic = await core.topics.get(req.params.topic);
    if (!topic) throw notFound(`topic '${req.params.topic}' does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
    const partition = Number(req.params.partition);
    if (partition >= topic.partitionCount) {
      throw notFound(`topic '${topic.name}' has ${topic.partitionCount} partition(s); partition ${partition} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
    }
    const limit = bounded(q.limit, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT);
    const waitMs = bounded(q.wait_ms, 'wait_ms', 0, 0, MAX_WAIT_MS);
    const maxBytes = bounded(q.max_bytes, 'max_bytes', DEFAULT_MAX_BYTES, 1, MAX_BYTES);
    const partitions = partitionRouterOf(core);
    const range = await partitions.offsets(topic.name, partition);
    let offset: bigint;
    if (q.offset !== undefined) {
      offset = BigInt(q.offset);
      if (offset < range.logStartOffset || offset > range.highWatermark) {
        throw new HttpError(416, 'OFFSET_OUT_OF_RANGE', `offset ${offset} is outside the log ${range.logStartOffset}..${range.highWatermark} of ${topic.name}-${partition}`);
      }
    } else if (q.timestamp !== undefined) {
      offset = (await partitions.offsetForTimestamp(topic.name, partition, BigInt(q.timestamp))) ?? range.highWatermark;
    } else {
      offset = q.from === 'latest' ? range.highWatermark : range.logStartOffset;
    }

    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    const read = await partitions.read({ topic: topic.name, partition, offset, maxBytes, waitMs, signal: abort.signal });
    const got = readableRecords(read.parts, offset, { maxRecords: limit, maxBytes });
    const base64 = q.encoding === 'base64';
    return {
      topic: topic.name,
      partition,
      log_start_offset: Number(read.logStartOffset),
      high_watermark: Number(read.highWatermark),
      next_offset: Number(got.nextOffset),
      records: got.records.map((r) => {
        const key = shown(r.key, base64);
        const value = shown(r.value, base64);
        return {
          offset: Number(r.offset),
          timestamp: Number(r.timestamp),
          timestamp_type: r.logAppendTime ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
          key: key.value,
          key_encoding: key.encoding,
          value: value.value,
          value_encoding: value.encoding,
          headers: r.headers.map((h) => {
            const v = shown(h.value, base64);
            return { key: h.key, value: v.value, value_encoding: v.encoding };
          }),
        };
      }),
    };
  });
}
