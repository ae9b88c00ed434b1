// TypeScript shapes of the streamhouse.v1 messages as @grpc/proto-loader presents them with
// LOADER_OPTIONS (see proto-definition.ts): camelCase, int64 as decimal strings, enums by
// name, bytes as Buffer. A oneof member is present only when set; its oneof name (e.g.
// `optionalKey`) says which. Keep in step with streamhouse.proto.

/** int64 on the wire: a decimal string when decoded; numbers and bigint-strings are accepted when sending. */
export type Int64 = string;

export type Acks = 'ACKS_ALL' | 'ACKS_LEADER' | 'ACKS_NONE';
export type OffsetReset = 'OFFSET_RESET_EARLIEST' | 'OFFSET_RESET_LATEST' | 'OFFSET_RESET_NONE';
export type OffsetSpec = 'OFFSET_SPEC_COMMITTED' | 'OFFSET_SPEC_EARLIEST' | 'OFFSET_SPEC_LATEST' | 'OFFSET_SPEC_TIMESTAMP';
export type TimestampTypeName = 'TIMESTAMP_TYPE_CREATE_TIME' | 'TIMESTAMP_TYPE_LOG_APPEND_TIME';

export interface HeaderMsg {
  key: string;
  value?: Buffer;
}

export interface RecordMsg {
  key?: Buffer;
  value?: Buffer;
  headers: HeaderMsg[];
  timestampMs?: Int64;
}

export interface ConsumedRecordMsg {
  topic: string;
  partition: number;
  offset: Int64;
  timestampMs: Int64;
  key?: Buffer;
  value?: Buffer;
  headers: HeaderMsg[];
  timestampType: TimestampTypeName;
}

export interface ProduceRequestMsg {
  topic: string;
  partition?: number;
  record: RecordMsg | null;
  acks: Acks;
  timeoutMs: number;
}

export interface ProduceResponseMsg {
  partition: number;
  offset: Int64;
  logAppendTimeMs: Int64;
}

export interface ProduceBatchRequestMsg {
  topic: string;
  partition: number;
  records: RecordMsg[];
  acks: Acks;
  timeoutMs: number;
  kafkaRecordBatch: Buffer;
}

export interface ProduceBatchResponseMsg {
  partition: number;
  baseOffset: Int64;
  recordCount: number;
  logAppendTimeMs: Int64;
}

export interface ConsumeRequestMsg {
  topic: string;
  partition: number;
  offset?: Int64;
  maxRecords: number;
  maxWaitMs: number;
  group: string;
  offsetReset: OffsetReset;
  maxBytes: number;
}

export interface ConsumeResponseMsg {
  records: ConsumedRecordMsg[];
  highWatermark: Int64;
  logStartOffset: Int64;
  nextOffset: Int64;
}

export interface SubscribeRequestMsg {
  topic: string;
  partition: number;
  offset?: Int64;
  group: string;
  offsetReset: OffsetReset;
  maxRecords: number;
}

export interface SubscribeResponseMsg {
  records: ConsumedRecordMsg[];
  highWatermark: Int64;
}

export interface CommitOffsetRequestMsg {
  group: string;
  topic: string;
  partition: number;
  offset: Int64;
  metadata: string;
  memberId: string;
  generationId: number;
}

export type CommitOffsetResponseMsg = Record<string, never>;

export type GroupAssignorName = 'GROUP_ASSIGNOR_RANGE' | 'GROUP_ASSIGNOR_STICKY';

export interface TopicPartitionsMsg {
  topic: string;
  partitions: number[];
}

export interface JoinGroupRequestMsg {
  group: string;
  topics: string[];
  memberId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignor: GroupAssignorName;
  clientId: string;
  owned: TopicPartitionsMsg[];
}

export interface JoinGroupResponseMsg {
  memberId: string;
  generationId: number;
  assignment: TopicPartitionsMsg[];
  leaderId: string;
  assignor: string;
}

export interface GroupHeartbeatRequestMsg {
  group: string;
  memberId: string;
  generationId: number;
  clientId: string;
  sessionTimeoutMs: number;
}

export interface GroupHeartbeatResponseMsg {
  rebalance: boolean;
}

export interface LeaveGroupRequestMsg {
  group: string;
  memberId: string;
  clientId: string;
}

export type LeaveGroupResponseMsg = Record<string, never>;

export interface GetOffsetRequestMsg {
  topic: string;
  partition: number;
  spec: OffsetSpec;
  group: string;
  timestampMs: Int64;
}

export interface GetOffsetResponseMsg {
  offset: Int64;
  found: boolean;
  highWatermark: Int64;
  logStartOffset: Int64;
}

export interface CreateTopicRequestMsg {
  name: string;
  partitions: number;
  configs: Record<string, string>;
}

export interface PartitionInfoMsg {
  partition: number;
  highWatermark: Int64;
  logStartOffset: Int64;
  leaderAgentId: string;
  leaderNodeId: number;
}

export interface TopicInfoMsg {
  name: string;
  topicId: string;
  partitionCount: number;
  configs: Record<string, string>;
  partitions: PartitionInfoMsg[];
  createdAtMs: Int64;
}

export type ListTopicsRequestMsg = Record<string, never>;

export interface TopicSummaryMsg {
  name: string;
  partitionCount: number;
  recordCount: Int64;
}

export interface ListTopicsResponseMsg {
  topics: TopicSummaryMsg[];
}

export interface DescribeTopicRequestMsg {
  name: string;
}

export interface DeleteTopicRequestMsg {
  name: string;
}

export type DeleteTopicResponseMsg = Record<string, never>;

export interface GroupPartitionOffsetMsg {
  topic: string;
  partition: number;
  committedOffset: Int64;
  highWatermark: Int64;
  lag: Int64;
  metadata: string;
  commitTimestampMs: Int64;
}

export interface GroupMemberMsg {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignment: TopicPartitionsMsg[];
}

export interface GroupSummaryMsg {
  groupId: string;
  state: string;
  memberCount: number;
  totalLag: Int64;
  partitionCount: number;
}

export type ListGroupsRequestMsg = Record<string, never>;

export interface ListGroupsResponseMsg {
  groups: GroupSummaryMsg[];
}

export interface DescribeGroupRequestMsg {
  groupId: string;
}

export interface GroupInfoMsg {
  groupId: string;
  state: string;
  members: GroupMemberMsg[];
  offsets: GroupPartitionOffsetMsg[];
  totalLag: Int64;
}

export interface ResetGroupOffsetsRequestMsg {
  groupId: string;
  topic: string;
  partitions: number[];
  to: OffsetSpec;
  timestampMs: Int64;
  offset?: Int64;
  dryRun: boolean;
}

export interface ResetGroupOffsetsResponseMsg {
  offsets: GroupPartitionOffsetMsg[];
}

export interface AgentPartitionMsg {
  topic: string;
  partition: number;
}

export interface AgentInfoMsg {
  agentId: string;
  nodeId: number;
  kafkaAddress: string;
  grpcPort: number;
  httpPort: number;
  rack: string;
  partitions: AgentPartitionMsg[];
  startedAtMs: Int64;
}

export type ListAgentsRequestMsg = Record<string, never>;

export interface ListAgentsResponseMsg {
  agents: AgentInfoMsg[];
}

export type HealthRequestMsg = Record<string, never>;

export interface HealthResponseMsg {
  status: string;
  agentId: string;
  clusterId: string;
  version: string;
  uptimeMs: Int64;
}

/** Every RPC: [service, request, response, streaming]. */
export interface RpcMap {
  Produce: ['ProducerService', ProduceRequestMsg, ProduceResponseMsg];
  ProduceBatch: ['ProducerService', ProduceBatchRequestMsg, ProduceBatchResponseMsg];
  Consume: ['ConsumerService', ConsumeRequestMsg, ConsumeResponseMsg];
  Subscribe: ['ConsumerService', SubscribeRequestMsg, SubscribeResponseMsg];
  CommitOffset: ['ConsumerService', CommitOffsetRequestMsg, CommitOffsetResponseMsg];
  GetOffset: ['ConsumerService', GetOffsetRequestMsg, GetOffsetResponseMsg];
  JoinGroup: ['ConsumerService', JoinGroupRequestMsg, JoinGroupResponseMsg];
  GroupHeartbeat: ['ConsumerService', GroupHeartbeatRequestMsg, GroupHeartbeatResponseMsg];
  LeaveGroup: ['ConsumerService', LeaveGroupRequestMsg, LeaveGroupResponseMsg];
  CreateTopic: ['AdminService', CreateTopicRequestMsg, TopicInfoMsg];
  ListTopics: ['AdminService', ListTopicsRequestMsg, ListTopicsResponseMsg];
  DescribeTopic: ['AdminService', DescribeTopicRequestMsg, TopicInfoMsg];
  DeleteTopic: ['AdminService', DeleteTopicRequestMsg, DeleteTopicResponseMsg];
  ListGroups: ['AdminService', ListGroupsRequestMsg, ListGroupsResponseMsg];
  DescribeGroup: ['AdminService', DescribeGroupRequestMsg, GroupInfoMsg];
  ResetGroupOffsets: ['AdminService', ResetGroupOffsetsRequestMsg, ResetGroupOffsetsResponseMsg];
  ListAgents: ['AdminService', ListAgentsRequestMsg, ListAgentsResponseMsg];
  Health: ['AdminService', HealthRequestMsg, HealthResponseMsg];
}

export type RpcName = keyof RpcMap;
export type UnaryRpcName = Exclude<RpcName, 'Subscribe'>;
export type RequestOf<M extends RpcName> = RpcMap[M][1];
export type ResponseOf<M extends RpcName> = RpcMap[M][2];
export type ServiceOf<M extends RpcName> = RpcMap[M][0];

export const RPC_SERVICE: { readonly [M in RpcName]: ServiceOf<M> } = {
  Produce: 'ProducerService',
  ProduceBatch: 'ProducerService',
  Consume: 'ConsumerService',
  Subscribe: 'ConsumerService',
  CommitOffset: 'ConsumerService',
  GetOffset: 'ConsumerService',
  JoinGroup: 'ConsumerService',
  GroupHeartbeat: 'ConsumerService',
  LeaveGroup: 'ConsumerService',
  CreateTopic: 'AdminService',
  ListTopics: 'AdminService',
  DescribeTopic: 'AdminService',
  DeleteTopic: 'AdminService',
  ListGroups: 'AdminService',
  DescribeGroup: 'AdminService',
  ResetGroupOffsets: 'AdminService',
  ListAgents: 'AdminService',
  Health: 'AdminService',
};
