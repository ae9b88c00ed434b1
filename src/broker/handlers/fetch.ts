import type { LogService } from '../../agent/log-service.js';
import type { AbortedTransaction } from '../../metadata/metadata-store.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { FetchRequest, FetchResponsePartitionData } from '../../protocol/messages/generated/fetch.js';
import { ByteParts } from '../../protocol/primitives/writer.js';
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD } from '../../protocol/records/record-batch.js';
import { defineHandler, type Loose, type RequestContext } from '../handler.js';
import { AclOperation, authorize, authorizeCluster, ResourceType } from '../authorization.js';
import type { AgentCore } from '../../agent/agent-core.js';
import { leaderEpochError } from './leader-epoch.js';
import { partitionErrorOf } from '../../agent/partition-error.js';

type PartitionData = Loose<FetchResponsePartitionData>;

const EMPTY = new ByteParts([]);

/** One requested partition, in request order. */
interface Wanted {
  readonly topic: string;
  readonly partition: number;
  readonly fetchOffset: bigint;
  readonly partitionMaxBytes: number;
  /** isolation.level=read_committed (v4+): read below the last stable offset. */
  readonly readCommitted: boolean;
  /** Set when the partition cannot be read at all (unknown, fenced epoch). */
  readonly refused?: number;
}

interface Outcome {
  readonly errorCode: number;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  readonly lastStableOffset: bigint;
  readonly abortedTransactions: readonly AbortedTransaction[];
  /** Views of the log's cached chunks: the response writes them without copying. */
  readonly records: ByteParts;
}

interface Pass {
  readonly outcomes: Outcome[];
  readonly bytes: number;
  readonly anyError: boolean;
}

/**
 * Fetch v0-15 without fetch sessions: every request is a full fetch answered with session
 * id 0, which clients treat as "the broker keeps no session" and keep sending full fetches.
 * From v13 on topics are named by id (an id no topic has gets UNKNOWN_TOPIC_ID for each of
 * its partitions, as in Kafka); v14 and v15 only change what followers send.
 */
export const fetchHandler = defineHandler({
  apiKey: ApiKey.Fetch,
  minVersion: 0,
  maxVersion: 15,
  async handle(ctx, request) {
    const { services } = ctx;
    const log = services.log;
    // Kafka treats epoch 0 (new session) and -1 (no session) as full fetches, whatever the id;
    // any other epoch is incremental and names a session this broker never created.
    if (ctx.apiVersion >= 7 && request.sessionEpoch !== 0 && request.sessionEpoch !== -1) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
    }
    const wanted = await resolvePartitions(ctx, request, ctx.apiVersion >= 13);
    const pass = await longPoll(services, log, request, wanted, ctx.connection.closed);
    let k = 0;
    const responses = request.topics.map((t) => ({
      topic: t.topic,
      ...(ctx.apiVersion >= 13 ? { topicId: t.topicId } : {}),
      partitions: t.partitions.map((p) => partitionData(p.partition, pass.outcomes[k++]!, ctx.apiVersion)),
    }));
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
  },
});

function partitionData(partitionIndex: number, o: Outcome, apiVersion: number): PartitionData {
  return {
    partitionIndex,
    errorCode: o.errorCode,
    highWatermark: o.highWatermark,
    lastStableOffset: o.lastStableOffset,
    logStartOffset: o.logStartOffset,
    // read_committed clients drop the batches of these producers between first offset and marker
    abortedTransactions: apiVersion >= 4 ? o.abortedTransactions.map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })) : null,
    preferredReadReplica: -1,
    records: o.records,
  };
}

/** @param byId v13+: the request names its topics by id, not by name */
async function resolvePartitions(ctx: RequestContext, request: FetchRequest, byId: boolean): Promise<Wanted[]> {
  const services = ctx.services;
  const wanted: Wanted[] = [];
  // Kafka: a follower (replica id >= 0) needs CLUSTER_ACTION on the cluster, a consumer READ on each topic
  const replicaId = ctx.apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId;
  const follower = replicaId >= 0;
  const followerAllowed = follower && authorizeCluster(ctx, AclOperation.CLUSTER_ACTION);
  const readCommitted = ctx.apiVersion >= 4 && request.isolationLevel === 1;
  for (const t of request.topics) {
    const topic = byId ? await services.topics.getById(t.topicId) : await services.topics.get(t.topic);
    const name = topic?.name ?? t.topic;
    // an id no topic has stays UNKNOWN_TOPIC_ID, with nothing to authorize
    const readable = follower ? followerAllowed : (!topic && byId) || authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name);
    for (const p of t.partitions) {
      const base = { topic: name, partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes, readCommitted };
      if (!readable) {
        wanted.push({ ...base, refused: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
        continue;
      }
      if (!topic) {
        wanted.push({ ...base, refused: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        continue;
      }
      if (p.partition < 0 || p.partition >= topic.partitionCount) {
        wanted.push({ ...base, refused: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        continue;
      }
      const epochError = leaderEpochError(services, name, p.partition, p.currentLeaderEpoch);
      wanted.push(epochError === undefined ? base : { ...base, refused: epochError });
    }
  }
  return wanted;
}

/** How early a timer can fire by the wall clock. */
const TIMER_SLACK_MS = 2;

/**
 * Reads, and while fewer than minBytes came back (and nothing failed), waits for any of the
 * partitions to grow and reads again, until maxWaitMs has passed.
 */
async function longPoll(services: AgentCore, log: LogService, request: FetchRequest, wanted: Wanted[], closed?: AbortSignal): Promise<Pass> {
  const deadline = Date.now() + Math.max(0, request.maxWaitMs);
  for (;;) {
    const pass = await readAll(services, log, request.maxBytes, wanted);
    const left = deadline - Date.now();
    // a timer may fire a millisecond before Date.now() says its time has passed (libuv's cached
    // loop clock): a wait that just timed out must not lead to one more read and wait
    if (pass.anyError || pass.bytes >= request.minBytes || wanted.length === 0 || left <= TIMER_SLACK_MS || closed?.aborted) return pass;
    // Wake when a partition's HWM moves past what this pass saw: for a partition that
    // returned everything up to its HWM that is new data, and a partition cut short by
    // maxBytes must not count as "data arrived" again (Kafka waits for appends, too).
    const positions = wanted.map((w, i) => {
      const o = pass.outcomes[i]!;
      return { topic: w.topic, partition: w.partition, offset: w.readCommitted ? o.lastStableOffset : o.highWatermark, readCommitted: w.readCommitted };
    });
    await log.waitForData(positions, left, closed);
  }
}

/**
 * One read of every partition under the request's maxBytes. Partitions are read in waves:
 * each wave reserves min(partitionMaxBytes, what is left) per partition in request order and
 * reads them concurrently, so one fetch of many partitions does not queue its object-store
 * reads one behind the other. The first partition that returns data may exceed the limits
 * by one whole batch (KIP-74); later ones keep only the whole batches that still fit.
 */
async function readAll(services: AgentCore, log: LogService, maxBytes: number, wanted: Wanted[]): Promise<Pass> {
  const outcomes = new Array<Outcome>(wanted.length);
  let remaining = maxBytes;
  let bytes = 0;
  let anyError = false;
  let sawData = false;
  const offsetsOnly: number[] = [];
  wanted.forEach((w, j) => {
    if (w.refused === undefined) return;
    outcomes[j] = failedOutcome(w.refused);
    anyError = true;
  });
  let i = 0;
  while (i < wanted.length) {
    if (wanted[i]!.refused !== undefined) {
      i++;
      continue;
    }
    if (sawData && remaining <= 0) {
      offsetsOnly.push(i++);
      continue;
    }
    const wave: Array<{ index: number; budget: number }> = [];
    let reserve = remaining;
    for (let j = i; j < wanted.length; j++) {
      if (wanted[j]!.refused !== undefined) continue;
      const budget = Math.max(0, Math.min(wanted[j]!.partitionMaxBytes, reserve));
      if (budget === 0 && wave.length > 0) break;
      wave.push({ index: j, budget });
      reserve -= budget;
    }
    const reads = await Promise.all(wave.map(({ index, budget }) => readOne(services, log, wanted[index]!, budget)));
    for (let k = 0; k < wave.length; k++) {
      let o = reads[k]!;
      const limit = Math.min(wanted[wave[k]!.index]!.partitionMaxBytes, remaining);
      if (sawData && o.records.length > limit) o = { ...o, records: wholeBatchesWithin(o.records, limit) };
      if (o.errorCode !== 0) anyError = true;
      if (o.records.length > 0) sawData = true;
      bytes += o.records.length;
      remaining -= o.records.length;
      outcomes[wave[k]!.index] = o;
    }
    const last = wave[wave.length - 1]!.index;
    i = last + 1;
  }
  await Promise.all(
    offsetsOnly.map(async (index) => {
      const w = wanted[index]!;
      try {
        const o = await log.offsets(w.topic, w.partition);
        outcomes[index] = { errorCode: 0, highWatermark: o.highWatermark, logStartOffset: o.logStartOffset, lastStableOffset: o.lastStableOffset, abortedTransactions: [], records: EMPTY };
      } catch (err) {
        outcomes[index] = failedOutcome(partitionErrorOf(err, services.logger, 'Fetch', w.topic, w.partition).errorCode);
        anyError = true;
      }
    }),
  );
  return { outcomes, bytes, anyError };
}

async function readOne(services: AgentCore, log: LogService, w: Wanted, maxBytes: number): Promise<Outcome> {
  try {
    const r = await log.read({ topic: w.topic, partition: w.partition, offset: w.fetchOffset, maxBytes, readCommitted: w.readCommitted });
    return {
      errorCode: 0,
      highWatermark: r.highWatermark,
      logStartOffset: r.logStartOffset,
      lastStableOffset: r.lastStableOffset,
      abortedTransactions: r.abortedTransactions,
      records: r.parts.length === 0 ? EMPTY : new ByteParts(r.parts),
    };
  } catch (err) {
    const { errorCode } = partitionErrorOf(err, services.logger, 'Fetch', w.topic, w.partition);
    if (errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      // the client resets its position from these, so report them when we can
      try {
        const o = await log.offsets(w.topic, w.partition);
        return { errorCode, highWatermark: o.highWatermark, logStartOffset: o.logStartOffset, lastStableOffset: o.lastStableOffset, abortedTransactions: [], records: EMPTY };
      } catch {
        // fall through to the bare error
      }
    }
    return failedOutcome(errorCode);
  }
}

function failedOutcome(errorCode: number): Outcome {
  return { errorCode, highWatermark: -1n, logStartOffset: -1n, lastStableOffset: -1n, abortedTransactions: [], records: EMPTY };
}

/** The leading whole batches of `records` whose total size is at most `limit` (views, not copies). */
function wholeBatchesWithin(records: ByteParts, limit: number): ByteParts {
  const kept: Buffer[] = [];
  let total = 0;
  for (const part of records.parts) {
    let end = 0;
    while (end + LOG_OVERHEAD <= part.length) {
      const size = part.readInt32BE(end + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      if (end + size > part.length || total + size > limit) break;
      end += size;
      total += size;
    }
    if (end > 0) kept.push(end === part.length ? part : part.subarray(0, end));
    if (end < part.length) break;
  }
  return total === 0 ? EMPTY : new ByteParts(kept);
}
