// The log of any partition, from any agent: for the doors that hand out records rather than
// speak Kafka (REST, and in time gRPC), a write or read of a partition another agent leads is
// sent to that agent over its Kafka listener (Produce acks=all, Fetch with its long-poll,
// ListOffsets), so a client of one agent reaches the whole cluster. The Kafka door does not
// use this: Kafka clients are told NOT_LEADER_OR_FOLLOWER and go to the leader themselves.

import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode, errorInfo } from '../../protocol/error-codes.js';
import type { Topic } from '../../metadata/metadata-store.js';
import type { AgentCore } from '../agent-core.js';
import { LogError, type AppendResult, type LogService, type MarkerRequest, type PartitionOffsets } from '../log-service.js';
import type { BrokerNode, ClusterView } from './cluster-view.js';
import { PeerUnavailableError, type PeerKafkaClient } from './peer-kafka-client.js';

const PRODUCE_VERSION = 9;
const FETCH_VERSION = 11;
const LIST_OFFSETS_VERSION = 7;
const WRITE_TXN_MARKERS_VERSION = 1;
const EARLIEST = -2n;
const LATEST = -1n;
/** A remote long-poll waits at most this long (the peer client's request timeout is 10 s). */
const MAX_REMOTE_WAIT_MS = 5000;

export interface RoutedAppend {
  readonly topic: Topic;
  readonly partition: number;
  /** Validated magic-v2 batches, in order. */
  readonly batches: readonly Buffer[];
  readonly timeoutMs: number;
}

export interface RoutedRead {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly maxBytes: number;
  /** Long-poll: how long to wait for data at `offset` when there is none yet. */
  readonly waitMs: number;
  readonly signal?: AbortSignal;
}

export interface RoutedReadResult {
  /** Whole batches from the one holding `offset`, in parts of whole batches; none at the end of the log. */
  readonly parts: readonly Buffer[];
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
}

export interface PartitionRouterOptions {
  readonly log: LogService;
  readonly cluster: ClusterView;
  /** Absent: every partition is served locally (one agent, or a test core). */
  readonly peers?: PeerKafkaClient;
}

export class PartitionRouter {
  constructor(private readonly opts: PartitionRouterOptions) {}

  /** The agent to send this partition's requests to; undefined when this agent serves it. */
  private remoteLeader(topic: string, partition: number): BrokerNode | undefined {
    const { cluster, peers } = this.opts;
    if (!peers) return undefined;
    const leader = cluster.leaderOf(topic, partition);
    // no leader known: the local log answers (NOT_LEADER_OR_FOLLOWER in a cluster, retriable)
    if (!leader || leader.nodeId === cluster.self.nodeId) return undefined;
    return cluster.brokers().find((b) => b.nodeId === leader.nodeId);
  }

  async append(req: RoutedAppend): Promise<AppendResult> {
    const leader = this.remoteLeader(req.topic.name, req.partition);
    if (!leader) return this.opts.log.append({ topic: req.topic, partition: req.partition, batches: req.batches, deadlineMs: Date.now() + req.timeoutMs });
    const res = await this.ask(leader, req.topic.name, req.partition, (peers) =>
      peers.request(leader.host, leader.port, ApiKey.Produce, PRODUCE_VERSION, {
        transactionalId: null,
        acks: -1,
        timeoutMs: req.timeoutMs,
        topicData: [{ name: req.topic.name, partitionData: [{ index: req.partition, records: Buffer.concat(req.batches as Buffer[]) }] }],
      }),
    );
    const p = res.responses[0]?.partitionResponses[0];
    if (!p) throw new LogError(ErrorCode.UNKNOWN_SERVER_ERROR, `the leader of ${req.topic.name}-${req.partition} gave no answer for it`);
    if (p.errorCode !== ErrorCode.NONE) throw new LogError(p.errorCode, p.errorMessage ?? errorInfo(p.errorCode).message);
    return { baseOffset: p.baseOffset, logAppendTimeMs: p.logAppendTimeMs, logStartOffset: p.logStartOffset };
  }

  async read(req: RoutedRead): Promise<RoutedReadResult> {
    const leader = this.remoteLeader(req.topic, req.partition);
    if (!leader) return this.readLocal(req);
    const res = await this.ask(leader, req.topic, req.partition, (peers) =>
      peers.request(leader.host, leader.port, ApiKey.Fetch, FETCH_VERSION, {
        clusterId: null,
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1n },
        maxWaitMs: Math.min(req.waitMs, MAX_REMOTE_WAIT_MS),
        minBytes: 1,
        maxBytes: req.maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: req.topic,
            topicId: '00000000-0000-0000-0000-000000000000',
            partitions: [{ partition: req.partition, currentLeaderEpoch: -1, fetchOffset: req.offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: req.maxBytes, replicaDirectoryId: '00000000-0000-0000-0000-000000000000' }],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      }),
    );
    const p = res.responses[0]?.partitions[0];
    if (!p) throw new LogError(ErrorCode.UNKNOWN_SERVER_ERROR, `the leader of ${req.topic}-${req.partition} gave no answer for it`);
    if (p.errorCode !== ErrorCode.NONE) throw new LogError(p.errorCode, errorInfo(p.errorCode).message);
    return { parts: p.records && p.records.length > 0 ? [p.records] : [], highWatermark: p.highWatermark, logStartOffset: p.logStartOffset };
  }

  async offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    const leader = this.remoteLeader(topic, partition);
    if (!leader) return this.opts.log.offsets(topic, partition);
    const [logStartOffset, highWatermark] = await Promise.all([this.listOffset(leader, topic, partition, EARLIEST), this.listOffset(leader, topic, partition, LATEST)]);
    // read_uncommitted, as these doors read: the LSO is not asked for
    return { logStartOffset: logStartOffset ?? 0n, highWatermark: highWatermark ?? 0n, lastStableOffset: highWatermark ?? 0n };
  }

  /**
   * A transaction marker on the partition's leader (the coordinator's WriteTxnMarkers):
   * locally, or sent to the leading agent. LogError with the partition's code on failure.
   */
  async writeMarker(marker: MarkerRequest): Promise<void> {
    const leader = this.remoteLeader(marker.topic, marker.partition);
    if (!leader) {
      await this.opts.log.appendMarker(marker);
      return;
    }
    const res = await this.ask(leader, marker.topic, marker.partition, (peers) =>
      peers.request(leader.host, leader.port, ApiKey.WriteTxnMarkers, WRITE_TXN_MARKERS_VERSION, {
        markers: [
          {
            producerId: marker.producerId,
            producerEpoch: marker.producerEpoch,
            transactionResult: marker.commit,
            topics: [{ name: marker.topic, partitionIndexes: [marker.partition] }],
            coordinatorEpoch: marker.coordinatorEpoch,
          },
        ],
      }),
    );
    const p = res.markers[0]?.topics[0]?.partitions[0];
    if (!p) throw new LogError(ErrorCode.UNKNOWN_SERVER_ERROR, `the leader of ${marker.topic}-${marker.partition} gave no answer for its marker`);
    if (p.errorCode !== ErrorCode.NONE) throw new LogError(p.errorCode, errorInfo(p.errorCode).message);
  }

  /** The first offset whose timestamp is >= `timestampMs`; undefined when no record is that late. */
  async offsetForTimestamp(topic: string, partition: number, timestampMs: bigint): Promise<bigint | undefined> {
    const leader = this.remoteLeader(topic, partition);
    if (!leader) return (await this.opts.log.offsetForTimestamp(topic, partition, timestampMs))?.offset;
    return this.listOffset(leader, topic, partition, timestampMs);
  }

  private async readLocal(req: RoutedRead): Promise<RoutedReadResult> {
    const log = this.opts.log;
    const deadline = Date.now() + req.waitMs;
    for (;;) {
      const read = await log.read({ topic: req.topic, partition: req.partition, offset: req.offset, maxBytes: req.maxBytes });
      const left = deadline - Date.now();
      if (read.size > 0 || left <= 0 || req.signal?.aborted) return { parts: read.parts, highWatermark: read.highWatermark, logStartOffset: read.logStartOffset };
      await log.waitForData([{ topic: req.topic, partition: req.partition, offset: req.offset }], left, req.signal);
    }
  }

  private async listOffset(leader: BrokerNode, topic: string, partition: number, timestamp: bigint): Promise<bigint | undefined> {
    const res = await this.ask(leader, topic, partition, (peers) =>
      peers.request(leader.host, leader.port, ApiKey.ListOffsets, LIST_OFFSETS_VERSION, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 0,
        topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
      }),
    );
    const p = res.topics[0]?.partitions[0];
    if (!p) throw new LogError(ErrorCode.UNKNOWN_SERVER_ERROR, `the leader of ${topic}-${partition} gave no answer for it`);
    if (p.errorCode !== ErrorCode.NONE) throw new LogError(p.errorCode, errorInfo(p.errorCode).message);
    return p.offset < 0n ? undefined : p.offset;
  }

  private async ask<T>(leader: BrokerNode, topic: string, partition: number, send: (peers: PeerKafkaClient) => Promise<T>): Promise<T> {
    try {
      return await send(this.opts.peers!);
    } catch (err) {
      if (err instanceof PeerUnavailableError) {
        throw new LogError(ErrorCode.LEADER_NOT_AVAILABLE, `the leader of ${topic}-${partition} (node ${leader.nodeId} at ${leader.host}:${leader.port}) did not answer; retry`);
      }
      throw err;
    }
  }
}

const fallbacks = new WeakMap<AgentCore, PartitionRouter>();

/** The core's partition router; a local-only one for a core built without it (tests). */
export function partitionRouterOf(core: AgentCore): PartitionRouter {
  if (core.partitionRouter) return core.partitionRouter;
  let router = fallbacks.get(core);
  if (!router) fallbacks.set(core, (router = new PartitionRouter({ log: core.log, cluster: core.cluster })));
  return router;
}
