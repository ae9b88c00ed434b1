// Security of the gRPC door (docs/security.md): each call is authenticated by the core's
// DoorAuthenticator from its `authorization` metadata (Basic credentials of a SCRAM user, or
// ANONYMOUS) and checked by the core's Authorizer for the operations the Kafka API it stands
// for needs: Produce is a Produce (WRITE topic), Consume/Subscribe a Fetch (READ topic, and
// READ group with a group), and so on. UNAUTHENTICATED for a missing or wrong login,
// PERMISSION_DENIED with Kafka's error name for a refusal. Health stays open.

import { status } from '@grpc/grpc-js';
import type { AgentCore } from '../agent/agent-core.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType, type BindableResourceType } from '../agent/security/acl.js';
import type { Requester } from '../agent/security/authorizer.js';
import type { ClientCertificate, DoorAuthenticator } from '../agent/security/door-authenticator.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { GrpcError } from './grpc-status.js';
import type {
  CommitOffsetRequestMsg,
  ConsumeRequestMsg,
  CreateTopicRequestMsg,
  DeleteTopicRequestMsg,
  DescribeGroupRequestMsg,
  DescribeTopicRequestMsg,
  GetOffsetRequestMsg,
  GroupHeartbeatRequestMsg,
  JoinGroupRequestMsg,
  LeaveGroupRequestMsg,
  ProduceBatchRequestMsg,
  ProduceRequestMsg,
  ResetGroupOffsetsRequestMsg,
  SubscribeRequestMsg,
} from './messages.js';

const DENIED_CODE: Record<BindableResourceType, number> = {
  [ResourceType.TOPIC]: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  [ResourceType.GROUP]: ErrorCode.GROUP_AUTHORIZATION_FAILED,
  [ResourceType.CLUSTER]: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  [ResourceType.TRANSACTIONAL_ID]: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
};

/** The ACL checks of one call, against its requester. */
export class CallAccess {
  constructor(
    private readonly core: AgentCore,
    readonly requester: Requester,
  ) {}

  /** An audited check: throws PERMISSION_DENIED with Kafka's error name when refused. */
  require(op: AclOperation, type: BindableResourceType, name: string): void {
    const authorizer = this.core.authorizer;
    if (authorizer === undefined || authorizer.authorize(this.requester, op, type, name)) return;
    const info = errorInfo(DENIED_CODE[type]);
    throw new GrpcError(status.PERMISSION_DENIED, `${info.name}: ${info.message}`, info.name);
  }

  /** A quiet check that only shapes an answer (which topics or groups a list shows). */
  allows(op: AclOperation, type: BindableResourceType, name: string): boolean {
    const authorizer = this.core.authorizer;
    return authorizer === undefined || authorizer.authorize(this.requester, op, type, name, false);
  }
}

/** The requester of a call, or UNAUTHENTICATED. `peer` is grpc-js's `ipv4:1.2.3.4:5` or `ipv6:[::1]:5`. */
export async function authenticateCall(authenticator: DoorAuthenticator, authorization: string | undefined, peer: string, certificate?: ClientCertificate): Promise<Requester> {
  const client = peer.replace(/^ipv[46]:/, '');
  const verdict = await authenticator.authenticate(authorization, client, certificate);
  if (!verdict.ok) throw new GrpcError(status.UNAUTHENTICATED, verdict.message, verdict.problem === 'missing' ? 'AUTHENTICATION_REQUIRED' : 'SASL_AUTHENTICATION_FAILED');
  return verdict.requester;
}

const topic = (a: CallAccess, op: AclOperation, name: string) => a.require(op, ResourceType.TOPIC, name);
const group = (a: CallAccess, op: AclOperation, name: string) => a.require(op, ResourceType.GROUP, name);

/** What each RPC needs before it runs (list answers are filtered by their services instead). */
export const CALL_CHECKS = {
  Produce: (a: CallAccess, r: ProduceRequestMsg) => topic(a, AclOperation.WRITE, r.topic),
  ProduceBatch: (a: CallAccess, r: ProduceBatchRequestMsg) => topic(a, AclOperation.WRITE, r.topic),
  Consume: (a: CallAccess, r: ConsumeRequestMsg) => {
    if (r.group !== '') group(a, AclOperation.READ, r.group);
    topic(a, AclOperation.READ, r.topic);
  },
  Subscribe: (a: CallAccess, r: SubscribeRequestMsg) => {
    if (r.group !== '') group(a, AclOperation.READ, r.group);
    topic(a, AclOperation.READ, r.topic);
  },
  CommitOffset: (a: CallAccess, r: CommitOffsetRequestMsg) => {
    group(a, AclOperation.READ, r.group);
    topic(a, AclOperation.READ, r.topic);
  },
  GetOffset: (a: CallAccess, r: GetOffsetRequestMsg) => {
    group(a, AclOperation.DESCRIBE, r.group);
    topic(a, AclOperation.DESCRIBE, r.topic);
  },
  JoinGroup: (a: CallAccess, r: JoinGroupRequestMsg) => {
    group(a, AclOperation.READ, r.group);
    for (const t of r.topics) topic(a, AclOperation.DESCRIBE, t);
  },
  GroupHeartbeat: (a: CallAccess, r: GroupHeartbeatRequestMsg) => group(a, AclOperation.READ, r.group),
  LeaveGroup: (a: CallAccess, r: LeaveGroupRequestMsg) => group(a, AclOperation.READ, r.group),
  CreateTopic: (a: CallAccess, r: CreateTopicRequestMsg) => {
    if (!a.allows(AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) topic(a, AclOperation.CREATE, r.name);
  },
  DescribeTopic: (a: CallAccess, r: DescribeTopicRequestMsg) => topic(a, AclOperation.DESCRIBE, r.name),
  DeleteTopic: (a: CallAccess, r: DeleteTopicRequestMsg) => topic(a, AclOperation.DELETE, r.name),
  DescribeGroup: (a: CallAccess, r: DescribeGroupRequestMsg) => group(a, AclOperation.DESCRIBE, r.groupId),
  ResetGroupOffsets: (a: CallAccess, r: ResetGroupOffsetsRequestMsg) => {
    group(a, AclOperation.READ, r.groupId);
    topic(a, AclOperation.READ, r.topic);
  },
  ListAgents: (a: CallAccess) => a.require(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME),
} as const;
