// Group operations that must happen at the group's coordinator, from any agent (the gRPC
// API's offset writes and group look-ups). When this agent coordinates the group they go to
// its GroupCoordinator; otherwise they are forwarded, as the Kafka requests a client would
// send (OffsetCommit, DescribeGroups), to the coordinating agent's Kafka listener, whose
// handlers apply the coordinator's own checks (generation and member fencing, the shard
// lease, one group's commits in arrival order). While the group's shard has no coordinator
// or is moving, the call looks again until its deadline, as a Kafka client retries.

import { setTimeout as pause } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { OffsetCommitRequestTopic } from '../../protocol/messages/generated/offset-commit.js';
import type { BrokerNode } from '../cluster/cluster-view.js';
import { PeerUnavailableError, type PeerKafkaClient } from '../cluster/peer-kafka-client.js';
import type { CoordinatorLocator } from './coordinator-shards.js';
import type { GroupCoordinator, OffsetCommitInput } from './group-coordinator.js';

/** OffsetCommit and DescribeGroups versions spoken to other agents (what our handlers serve). */
const OFFSET_COMMIT_VERSION = 8;
const DESCRIBE_GROUPS_VERSION = 5;
const DELETE_GROUPS_VERSION = 2;

/** Answers that mean "ask again, maybe elsewhere": nothing was changed. */
const ROUTING_ERRORS: ReadonlySet<number> = new Set([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

export interface RoutedGroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  /** The member's assignment as the group's leader sent it (consumer protocol bytes for consumer groups). */
  readonly assignment: Buffer;
}

export interface RoutedGroupDescription {
  /** NONE, or why no coordinator answered (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, ...). */
  readonly errorCode: number;
  /** Kafka's group state (Dead for a group the coordinator does not know); empty on error. */
  readonly state: string;
  /** "consumer" for Kafka consumer groups; empty when unknown. */
  readonly protocolType: string;
  /** The assignor chosen (range, cooperative-sticky, ...), only while Stable. */
  readonly protocol: string;
  readonly members: readonly RoutedGroupMember[];
}

export interface GroupRouterOptions {
  /** This agent's coordinator (looked up per call: installed after the router is made). */
  readonly coordinator: () => Pick<GroupCoordinator, 'commitOffsets' | 'describeGroup' | 'deleteGroups'>;
  readonly locator: () => CoordinatorLocator;
  /** This agent's node id: a coordinator look-up naming it while it is not local is stale. */
  readonly selfNodeId: () => number;
  readonly peers: PeerKafkaClient;
  readonly logger: Logger;
  /** How long a call keeps looking for the coordinator; default 5000 ms. */
  readonly deadlineMs?: number;
  /** Pause between two looks; default 100 ms. */
  readonly retryMs?: number;
}

interface Route<T> {
  local(coordinator: Pick<GroupCoordinator, 'commitOffsets' | 'describeGroup' | 'deleteGroups'>): Promise<T>;
  remote(node: BrokerNode): Promise<T>;
  /** The routing error in an answer (a reason to ask again), if any. */
  routingError(answer: T): number | undefined;
  failed(errorCode: number): T;
}

/** A pause that does not keep the process alive. */
const sleep = (ms: number): Promise<void> => pause(ms, undefined, { ref: false });

export class GroupRouter {
  constructor(private readonly opts: GroupRouterOptions) {}

  /**
   * GroupCoordinator.commitOffsets at the group's coordinator: one error code per entry, in
   * order. A routing error comes back only once the deadline passed.
   */
  commitOffsets(input: OffsetCommitInput, deadlineMs = this.opts.deadlineMs ?? 5000): Promise<number[]> {
    return this.route(
      input.groupId,
      {
        local: (c) => c.commitOffsets(input),
        remote: (node) => this.remoteCommit(node, input),
        routingError: (codes) => codes.find((c) => ROUTING_ERRORS.has(c)),
        failed: (code) => input.offsets.map(() => code),
      },
      deadlineMs,
    );
  }

  /** The group's state and members as its coordinator sees them. */
  describeGroup(groupId: string, deadlineMs = this.opts.deadlineMs ?? 5000): Promise<RoutedGroupDescription> {
    return this.route(
      groupId,
      {
        local: async (c) => {
          const d = c.describeGroup(groupId);
          return {
            errorCode: d.errorCode,
            state: d.state,
            protocolType: d.protocolType,
            protocol: d.protocol,
            members: d.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, assignment: m.assignment })),
          };
        },
        remote: (node) => this.remoteDescribe(node, groupId),
        routingError: (d) => (ROUTING_ERRORS.has(d.errorCode) ? d.errorCode : undefined),
        failed: (errorCode) => ({ errorCode, state: '', protocolType: '', protocol: '', members: [] }),
      },
      deadlineMs,
    );
  }

  /** DeleteGroups of one group at its coordinator: NONE, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP or a routing error. */
  deleteGroup(groupId: string, deadlineMs = this.opts.deadlineMs ?? 5000): Promise<number> {
    return this.route(
      groupId,
      {
        local: async (c) => (await c.deleteGroups([groupId])).get(groupId) ?? ErrorCode.UNKNOWN_SERVER_ERROR,
        remote: async (node) => {
          const res = await this.opts.peers.request(node.host, node.port, ApiKey.DeleteGroups, DELETE_GROUPS_VERSION, { groupsNames: [groupId] });
          return res.results.find((r) => r.groupId === groupId)?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        },
        routingError: (code) => (ROUTING_ERRORS.has(code) ? code : undefined),
        failed: (code) => code,
      },
      deadlineMs,
    );
  }

  private async route<T>(groupId: string, how: Route<T>, deadlineMs: number): Promise<T> {
    const retryMs = this.opts.retryMs ?? 100;
    const until = performance.now() + deadlineMs;
    for (;;) {
      const answer = await this.once(groupId, how);
      if (how.routingError(answer) === undefined || performance.now() + retryMs >= until) return answer;
      await sleep(retryMs);
    }
  }

  private async once<T>(groupId: string, how: Route<T>): Promise<T> {
    const locator = this.opts.locator();
    if (locator.isLocal(groupId)) return how.local(this.opts.coordinator());
    const node = locator.coordinatorFor(groupId);
    // no owner yet, or our own lease just lapsed: nobody can answer for the group right now
    if (!node || node.nodeId === this.opts.selfNodeId()) return how.failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    try {
      return await how.remote(node);
    } catch (err) {
      if (!(err instanceof PeerUnavailableError)) throw err;
      this.opts.logger.debug({ err, group: groupId, coordinator: node.nodeId }, 'coordinating agent did not answer');
      return how.failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  private async remoteCommit(node: BrokerNode, input: OffsetCommitInput): Promise<number[]> {
    const topics: OffsetCommitRequestTopic[] = [];
    for (const o of input.offsets) {
      let t = topics.find((x) => x.name === o.topic);
      if (!t) {
        t = { name: o.topic, partitions: [] };
        topics.push(t);
      }
      t.partitions.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, commitTimestamp: -1n, committedMetadata: o.metadata });
    }
    const res = await this.opts.peers.request(node.host, node.port, ApiKey.OffsetCommit, OFFSET_COMMIT_VERSION, {
      groupId: input.groupId,
      generationIdOrMemberEpoch: input.generationId,
      memberId: input.memberId,
      groupInstanceId: input.groupInstanceId,
      retentionTimeMs: -1n,
      topics,
    });
    const codes = new Map<string, number>();
    for (const t of res.topics) for (const p of t.partitions) codes.set(`${t.name}\0${p.partitionIndex}`, p.errorCode);
    return input.offsets.map((o) => codes.get(`${o.topic}\0${o.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
  }

  private async remoteDescribe(node: BrokerNode, groupId: string): Promise<RoutedGroupDescription> {
    const res = await this.opts.peers.request(node.host, node.port, ApiKey.DescribeGroups, DESCRIBE_GROUPS_VERSION, { groups: [groupId], includeAuthorizedOperations: false });
    const g = res.groups.find((x) => x.groupId === groupId);
    if (!g) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, state: '', protocolType: '', protocol: '', members: [] };
    return {
      errorCode: g.errorCode,
      state: g.groupState,
      protocolType: g.protocolType,
      protocol: g.protocolData,
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, assignment: m.memberAssignment })),
    };
  }
}
