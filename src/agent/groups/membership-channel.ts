// How an agent takes part in a group's membership protocol on behalf of a member it serves:
// straight into its own GroupCoordinator when it coordinates the group, else as the Kafka
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup requests a consumer would send, to the
// coordinating agent's Kafka listener. JoinGroup and SyncGroup wait for the whole group
// there, so each remote member gets a connection of its own: two members' parked joins on
// one pipelined connection would wait for each other.

import { ApiKey } from '../../protocol/api-codec.js';
import type { BrokerNode } from '../cluster/cluster-view.js';
import { PeerKafkaClient, type PeerSecurity } from '../cluster/peer-kafka-client.js';
import type { GroupCoordinator, JoinGroupInput, SyncGroupInput } from './group-coordinator.js';
import type { JoinGroupResult, SyncGroupResult } from './group-results.js';

export interface MembershipChannel {
  joinGroup(input: JoinGroupInput): Promise<JoinGroupResult>;
  syncGroup(input: SyncGroupInput): Promise<SyncGroupResult>;
  heartbeat(groupId: string, memberId: string, generationId: number): Promise<number>;
  leaveGroup(groupId: string, memberId: string, reason: string): Promise<number>;
  close(): void;
}

export type MembershipCoordinator = Pick<GroupCoordinator, 'joinGroup' | 'syncGroup' | 'heartbeat' | 'leaveGroup'>;

/** This agent's own coordinator. */
export class LocalMembershipChannel implements MembershipChannel {
  constructor(private readonly coordinator: MembershipCoordinator) {}

  joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    return this.coordinator.joinGroup(input);
  }

  syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    return this.coordinator.syncGroup(input);
  }

  async heartbeat(groupId: string, memberId: string, generationId: number): Promise<number> {
    return this.coordinator.heartbeat(groupId, memberId, null, generationId);
  }

  async leaveGroup(groupId: string, memberId: string, reason: string): Promise<number> {
    const res = this.coordinator.leaveGroup(groupId, [{ memberId, groupInstanceId: null, reason }]);
    return res.errorCode !== 0 ? res.errorCode : (res.members[0]?.errorCode ?? 0);
  }

  close(): void {}
}

/** Versions spoken to the coordinating agent (our own handlers serve them). */
const JOIN_GROUP_VERSION = 8;
const SYNC_GROUP_VERSION = 5;
const HEARTBEAT_VERSION = 4;
const LEAVE_GROUP_VERSION = 5;

/**
 * The coordinating agent, over a connection of this member's own. Throws
 * PeerUnavailableError when it does not answer (the caller looks for the coordinator again).
 */
export class RemoteMembershipChannel implements MembershipChannel {
  private readonly peers: PeerKafkaClient;

  constructor(
    readonly node: BrokerNode,
    clientId: string,
    /** Longest a request may wait: a parked JoinGroup lasts up to the rebalance timeout. */
    requestTimeoutMs: number,
    security?: PeerSecurity,
  ) {
    this.peers = new PeerKafkaClient({ clientId, requestTimeoutMs, ...(security ? { security } : {}) });
  }

  async joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    const res = await this.peers.request(this.node.host, this.node.port, ApiKey.JoinGroup, JOIN_GROUP_VERSION, {
      groupId: input.groupId,
      sessionTimeoutMs: input.sessionTimeoutMs,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      memberId: input.memberId,
      groupInstanceId: input.groupInstanceId,
      protocolType: input.protocolType,
      protocols: input.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      reason: input.reason,
    });
    return {
      errorCode: res.errorCode,
      generationId: res.generationId,
      protocolType: res.protocolType,
      protocolName: res.protocolName,
      leaderId: res.leader,
      memberId: res.memberId,
      members: res.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: Buffer.from(m.metadata) })),
      skipAssignment: res.skipAssignment,
    };
  }

  async syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    const res = await this.peers.request(this.node.host, this.node.port, ApiKey.SyncGroup, SYNC_GROUP_VERSION, {
      groupId: input.groupId,
      generationId: input.generationId,
      memberId: input.memberId,
      groupInstanceId: input.groupInstanceId,
      protocolType: input.protocolType,
      protocolName: input.protocolName,
      assignments: input.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
    });
    return { errorCode: res.errorCode, protocolType: res.protocolType, protocolName: res.protocolName, assignment: Buffer.from(res.assignment) };
  }

  async heartbeat(groupId: string, memberId: string, generationId: number): Promise<number> {
    const res = await this.peers.request(this.node.host, this.node.port, ApiKey.Heartbeat, HEARTBEAT_VERSION, { groupId, generationId, memberId, groupInstanceId: null });
    return res.errorCode;
  }

  async leaveGroup(groupId: string, memberId: string, reason: string): Promise<number> {
    const res = await this.peers.request(this.node.host, this.node.port, ApiKey.LeaveGroup, LEAVE_GROUP_VERSION, {
      groupId,
      memberId: '',
      members: [{ memberId, groupInstanceId: null, reason }],
    });
    return res.errorCode !== 0 ? res.errorCode : (res.members[0]?.errorCode ?? 0);
  }

  close(): void {
    this.peers.close();
  }
}
