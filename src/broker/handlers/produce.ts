import type { AppendResult, LogService } from '../../agent/log-service.js';
import type { Topic } from '../../metadata/metadata-store.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode, errorMessage } from '../../protocol/error-codes.js';
import type { ProduceRequest, ProduceResponsePartitionProduceResponse } from '../../protocol/messages/generated/produce.js';
import { NO_RESPONSE, defineHandler, type Loose, type RequestContext } from '../handler.js';
import { AclOperation, authorize, authorizeTopicCreate, ResourceType } from '../authorization.js';
import { TopicError } from '../../agent/topics/topic-service.js';
import { topicNameProblem } from '../../agent/topics/topic-names.js';
import { autoCreateTopic, existingTopic } from '../../agent/topics/auto-create-topic.js';
import { partitionErrorOf, type PartitionError } from '../../agent/partition-error.js';
import { validateProducedRecords } from '../../agent/produce-validation.js';
import { inConnectionOrder } from '../connection-order.js';

type PartitionResponse = Loose<ProduceResponsePartitionProduceResponse>;

const UNKNOWN_PARTITION = errorMessage(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
const TOPIC_DENIED: PartitionError = { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: errorMessage(ErrorCode.TOPIC_AUTHORIZATION_FAILED) };

/**
 * Produce v0-11 (v10 and v11 only add tagged fields and new error codes). Every partition is
 * answered on its own; one bad partition never fails the request.
 */
export const produceHandler = defineHandler({
  apiKey: ApiKey.Produce,
  minVersion: 0,
  maxVersion: 11,
  async handle(ctx, request) {
    const { services } = ctx;
    const log = services.log;
    if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1) {
      const error = { errorCode: ErrorCode.INVALID_REQUIRED_ACKS, errorMessage: `Invalid required acks ${request.acks}: must be 0, 1 or -1` };
      return respond(request, () => failed(error));
    }
    // Kafka: WRITE on the transactional id (when one is given) for the whole request
    if (request.transactionalId !== null && !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      if (request.acks === 0) return NO_RESPONSE;
      return respond(request, () => failed({ errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: errorMessage(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) }));
    }
    const started = await inConnectionOrder(ctx.connection, () => startAppends(ctx, log, request, ctx.apiVersion));
    if (request.acks === 0) {
      // Nobody reads the answer; a refused partition is only worth a debug line.
      for (const p of started.values()) {
        void Promise.resolve(p).then((r) => {
          if (r.errorCode !== 0) services.logger.debug({ errorCode: r.errorCode, reason: r.errorMessage }, 'acks=0 produce refused');
        });
      }
      return NO_RESPONSE;
    }
    const settled = new Map<string, PartitionResponse>();
    await Promise.all(
      [...started.entries()].map(async ([key, p]) => {
        settled.set(key, p instanceof Promise ? await p : p);
      }),
    );
    return respond(request, (topic, i) => settled.get(slotKey(topic, i))!);
  },
});

function slotKey(topicIndex: number, partitionIndex: number): string {
  return `${topicIndex}/${partitionIndex}`;
}

function respond(request: ProduceRequest, answer: (topicIndex: number, partitionIndex: number) => PartitionResponse) {
  return {
    throttleTimeMs: 0,
    responses: request.topicData.map((t, ti) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p, pi) => ({ ...answer(ti, pi), index: p.index })),
    })),
  };
}

/**
 * Kafka 3.8+: a transactional batch whose transaction check failed answers Produce v11+ with
 * TRANSACTION_ABORTABLE (the client aborts and goes on), older versions INVALID_TXN_STATE.
 */
function abortableForNewClients(error: PartitionError, apiVersion: number): PartitionError {
  return error.errorCode === ErrorCode.INVALID_TXN_STATE && apiVersion >= 11 ? { errorCode: ErrorCode.TRANSACTION_ABORTABLE, errorMessage: error.errorMessage } : error;
}

function failed(error: PartitionError): PartitionResponse {
  return { errorCode: error.errorCode, errorMessage: error.errorMessage, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [] };
}

function succeeded(result: AppendResult): PartitionResponse {
  return { errorCode: 0, errorMessage: null, baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTimeMs, logStartOffset: result.logStartOffset, recordErrors: [] };
}

/**
 * Validates every partition and starts the appends, without waiting for them. Returns, per
 * request slot, either the final answer (a refused partition) or the pending append.
 */
async function startAppends(
  ctx: RequestContext,
  log: LogService,
  request: ProduceRequest,
  apiVersion: number,
): Promise<Map<string, PartitionResponse | Promise<PartitionResponse>>> {
  const services = ctx.services;
  const out = new Map<string, PartitionResponse | Promise<PartitionResponse>>();
  const deadlineMs = Date.now() + request.timeoutMs;
  for (let ti = 0; ti < request.topicData.length; ti++) {
    const t = request.topicData[ti]!;
    // WRITE on the topic, checked before it is looked up (no hint whether it exists)
    const resolved = authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, t.name) ? await resolveTopic(ctx, t.name) : { error: TOPIC_DENIED };
    let maxMessageBytes = services.brokerConfigs.messageMaxBytes;
    if (!('error' in resolved)) {
      const configured = services.topics.policy(resolved.topic).maxMessageBytes;
      if (Number.isFinite(configured)) maxMessageBytes = configured;
    }
    for (let pi = 0; pi < t.partitionData.length; pi++) {
      const p = t.partitionData[pi]!;
      const key = slotKey(ti, pi);
      if ('error' in resolved) {
        out.set(key, failed(resolved.error));
        continue;
      }
      const topic = resolved.topic;
      if (p.index < 0 || p.index >= topic.partitionCount) {
        out.set(key, failed({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: UNKNOWN_PARTITION }));
        continue;
      }
      const checked = validateProducedRecords(p.records, apiVersion, `${topic.name}-${p.index}`, maxMessageBytes);
      if ('error' in checked) {
        out.set(key, failed(checked.error));
        continue;
      }
      out.set(
        key,
        log.append({ topic, partition: p.index, batches: checked.batches, deadlineMs, transactionalId: request.transactionalId }).then(succeeded, (err: unknown) =>
          failed(abortableForNewClients(partitionErrorOf(err, services.logger, 'Append', topic.name, p.index), apiVersion)),
        ),
      );
    }
  }
  return out;
}

async function resolveTopic(ctx: RequestContext, name: string): Promise<{ topic: Topic } | { error: PartitionError }> {
  const services = ctx.services;
  const problem = topicNameProblem(name);
  if (problem) return { error: { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: problem } };
  const existing = await existingTopic(services, name);
  if (existing) return { topic: existing };
  if (!services.brokerConfigs.autoCreateTopics) return { error: { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: UNKNOWN_PARTITION } };
  if (!authorizeTopicCreate(ctx, name)) return { error: TOPIC_DENIED };
  try {
    return { topic: await autoCreateTopic(services, name, 'kafka produce') };
  } catch (e) {
    if (e instanceof TopicError) return { error: { errorCode: e.errorCode, errorMessage: e.message } };
    throw e;
  }
}
