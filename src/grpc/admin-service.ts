import { status } from '@grpc/grpc-js';
import { awaitNewLeaders, CREATE_LEADER_WAIT_MS } from '../agent/cluster/await-new-leaders.js';
import type { AgentCore } from '../agent/agent-core.js';
import type { CommittedOffset, PartitionState, Topic } from '../metadata/metadata-store.js';
import { VERSION } from '../version.js';
import { GrpcError, invalidArgument, notFound } from './grpc-status.js';
import { groupMembership, requireCoordinatorRoute, UNKNOWN_GROUP_STATE } from './group-membership.js';
import { commitAsNonMember, offsetCommitRefused } from './group-offsets.js';
import type {
  AgentInfoMsg,
  AgentPartitionMsg,
  CreateTopicRequestMsg,
  DeleteTopicRequestMsg,
  DeleteTopicResponseMsg,
  DescribeGroupRequestMsg,
  DescribeTopicRequestMsg,
  GroupInfoMsg,
  GroupPartitionOffsetMsg,
  GroupSummaryMsg,
  HealthResponseMsg,
  ListAgentsResponseMsg,
  ListGroupsResponseMsg,
  ListTopicsResponseMsg,
  PartitionInfoMsg,
  ResetGroupOffsetsRequestMsg,
  ResetGroupOffsetsResponseMsg,
  TopicInfoMsg,
} from './messages.js';
import { int64, requireGroup, requirePartition, requireTopic } from './partition-access.js';

export interface AdminServiceOptions {
  /** Ports this agent actually listens on (ListAgents). */
  readonly ports: () => { readonly grpc: number; readonly http: number };
  readonly startedAtMs: number;
}

/** How long DescribeGroup looks for the group's coordinator before showing the group's offsets alone. */
const DESCRIBE_DEADLINE_MS = 2000;

/** High watermarks of partitions, read once per request. */
class HwmLookup {
  private readonly byTopic = new Map<string, Promise<PartitionState[]>>();

  constructor(private readonly services: AgentCore) {}

  async of(topic: string, partition: number): Promise<PartitionState | undefined> {
    let states = this.byTopic.get(topic);
    if (!states) {
      states = this.services.metadata.partitions.list(topic);
      this.byTopic.set(topic, states);
    }
    return (await states).find((s) => s.partition === partition);
  }
}

/** AdminService: topics, groups with lag, agents and health. */
export class AdminService {
  constructor(
    private readonly services: AgentCore,
    private readonly options: AdminServiceOptions,
  ) {}

  async createTopic(req: CreateTopicRequestMsg): Promise<TopicInfoMsg> {
    if (!req.name) throw invalidArgument('name is required');
    if (!Number.isInteger(req.partitions) || req.partitions < 0) throw invalidArgument(`partitions must be 1 or more, got ${req.partitions}`);
    const partitions = req.partitions === 0 ? this.services.brokerConfigs.defaultPartitions : req.partitions;
    const topic = await this.services.topics.create({ name: req.name, partitions, configs: { ...req.configs } });
    this.services.logger.info({ topic: topic.name, partitions, configs: topic.configs }, 'created topic (gRPC)');
    await awaitNewLeaders(this.services, topic.name, 0, partitions, CREATE_LEADER_WAIT_MS);
    return this.topicInfo(topic);
  }

  async listTopics(): Promise<ListTopicsResponseMsg> {
    const topics = await this.services.topics.list();
    const out = [];
    for (const t of topics) {
      let records = 0n;
      for (const p of await this.services.metadata.partitions.list(t.name)) records += p.highWatermark - p.logStartOffset;
      out.push({ name: t.name, partitionCount: t.partitionCount, recordCount: records.toString() });
    }
    return { topics: out };
  }

  async describeTopic(req: DescribeTopicRequestMsg): Promise<TopicInfoMsg> {
    return this.topicInfo(await requireTopic(this.services, req.name));
  }

  async deleteTopic(req: DeleteTopicRequestMsg): Promise<DeleteTopicResponseMsg> {
    const topic = await requireTopic(this.services, req.name);
    const orphaned = await this.services.topics.delete(topic.name);
    this.services.logger.info({ topic: topic.name, orphanedObjects: orphaned.length }, 'deleted topic (gRPC)');
    this.services.onTopicDeleted?.(topic.name);
    return {};
  }

  async listGroups(): Promise<ListGroupsResponseMsg> {
    const membership = groupMembership(this.services);
    const states = new Map<string, string>();
    if (membership) {
      const listed = membership.listGroups([]);
      if (listed.errorCode === 0) for (const g of listed.groups) states.set(g.groupId, g.state);
    }
    const ids = new Set([...(await this.services.metadata.groupOffsets.listGroups()), ...states.keys()]);
    const hwms = new HwmLookup(this.services);
    const groups: GroupSummaryMsg[] = [];
    for (const groupId of [...ids].sort()) {
      const offsets = await this.groupOffsets(groupId, hwms);
      const members = membership?.describeGroup(groupId).members.length ?? 0;
      groups.push({
        groupId,
        state: states.get(groupId) ?? (membership ? 'Empty' : UNKNOWN_GROUP_STATE),
        memberCount: members,
        totalLag: totalLag(offsets).toString(),
        partitionCount: offsets.length,
      });
    }
    return { groups };
  }

  async describeGroup(req: DescribeGroupRequestMsg): Promise<GroupInfoMsg> {
    if (!req.groupId) throw invalidArgument('group_id is required');
    const offsets = await this.groupOffsets(req.groupId, new HwmLookup(this.services));
    // as the group's coordinator sees it, on whichever agent it runs
    const described = await requireCoordinatorRoute(this.services).describeGroup(req.groupId, DESCRIBE_DEADLINE_MS);
    const live = described.errorCode === 0 && described.state !== 'Dead' && described.state !== '';
    if (offsets.length === 0 && !live) throw notFound(`consumer group '${req.groupId}' does not exist`);
    return {
      groupId: req.groupId,
      state: live ? described.state : described.errorCode === 0 ? 'Empty' : UNKNOWN_GROUP_STATE,
      members: live ? described.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost })) : [],
      offsets,
      totalLag: totalLag(offsets).toString(),
    };
  }

  async resetGroupOffsets(req: ResetGroupOffsetsRequestMsg): Promise<ResetGroupOffsetsResponseMsg> {
    requireGroup(req.groupId);
    const topic = await requireTopic(this.services, req.topic);
    const partitions = req.partitions.length > 0 ? [...new Set(req.partitions)].sort((a, b) => a - b) : [...Array(topic.partitionCount).keys()];
    for (const p of partitions) requirePartition(topic, p);
    if (req.offset === undefined && req.to === 'OFFSET_SPEC_COMMITTED') throw invalidArgument('reset target must be EARLIEST, LATEST, TIMESTAMP or an offset');
    // asked of the group's coordinator, wherever it runs: no reset under live members
    const route = requireCoordinatorRoute(this.services);
    const described = await route.describeGroup(req.groupId);
    if (described.errorCode !== 0) throw offsetCommitRefused(req.groupId, described.errorCode);
    if (described.members.length > 0) {
      throw new GrpcError(status.FAILED_PRECONDITION, `consumer group '${req.groupId}' has ${described.members.length} active member(s); stop them before resetting offsets`);
    }
    const log = this.services.log;
    const target: CommittedOffset[] = [];
    for (const partition of partitions) {
      const range = await log.offsets(topic.name, partition);
      let offset: bigint;
      if (req.offset !== undefined) {
        offset = int64(req.offset, 'offset');
        if (offset < range.logStartOffset) offset = range.logStartOffset;
        if (offset > range.highWatermark) offset = range.highWatermark;
      } else if (req.to === 'OFFSET_SPEC_EARLIEST') {
        offset = range.logStartOffset;
      } else if (req.to === 'OFFSET_SPEC_LATEST') {
        offset = range.highWatermark;
      } else {
        // like kafka-consumer-groups --to-datetime: no record that late means the end of the log
        const found = await log.offsetForTimestamp(topic.name, partition, int64(req.timestampMs, 'timestamp_ms'));
        offset = found?.offset ?? range.highWatermark;
      }
      target.push({ topic: topic.name, partition, offset, leaderEpoch: -1, metadata: '', commitTimestamp: Date.now() });
    }
    if (!req.dryRun) {
      // the coordinator refuses it, too, should a member have joined since the check above
      await commitAsNonMember(route, req.groupId, target);
      this.services.logger.info({ group: req.groupId, topic: topic.name, offsets: target.map((t) => `${t.partition}:${t.offset}`) }, 'reset group offsets (gRPC)');
    }
    const hwms = new HwmLookup(this.services);
    const offsets: GroupPartitionOffsetMsg[] = [];
    for (const t of target) offsets.push(await offsetRow(t, hwms));
    return { offsets };
  }

  /** Every agent of the cluster view Kafka Metadata uses, with the partitions it leads. */
  async listAgents(): Promise<ListAgentsResponseMsg> {
    const { config, cluster } = this.services;
    const self = cluster.self;
    const led = new Map<number, AgentPartitionMsg[]>();
    for (const t of await this.services.topics.list()) {
      for (let p = 0; p < t.partitionCount; p++) {
        const leader = cluster.leaderOf(t.name, p);
        if (!leader) continue;
        let list = led.get(leader.nodeId);
        if (!list) led.set(leader.nodeId, (list = []));
        list.push({ topic: t.name, partition: p });
      }
    }
    const ports = this.options.ports();
    const agents = cluster.brokers().map((b): AgentInfoMsg => {
      const me = b.nodeId === self.nodeId;
      return {
        agentId: me ? config.agentId : (b.agentId ?? ''),
        nodeId: b.nodeId,
        kafkaAddress: `${b.host}:${b.port}`,
        // the registry keeps only Kafka addresses: another agent's API ports are not known here
        grpcPort: me ? ports.grpc : 0,
        httpPort: me ? ports.http : 0,
        rack: b.rack ?? '',
        partitions: led.get(b.nodeId) ?? [],
        startedAtMs: me ? String(this.options.startedAtMs) : '0',
      };
    });
    return { agents };
  }

  health(): HealthResponseMsg {
    return {
      status: 'SERVING',
      agentId: this.services.config.agentId,
      clusterId: this.services.cluster.clusterId,
      version: VERSION,
      uptimeMs: String(Date.now() - this.options.startedAtMs),
    };
  }

  private async topicInfo(topic: Topic): Promise<TopicInfoMsg> {
    const { cluster, config } = this.services;
    const states = await this.services.metadata.partitions.list(topic.name);
    // leaders as Kafka Metadata reports them; agent ids from the same view
    const agentIds = new Map(cluster.brokers().map((b) => [b.nodeId, b.agentId ?? '']));
    agentIds.set(cluster.self.nodeId, config.agentId);
    const partitions: PartitionInfoMsg[] = states.map((s) => {
      const leader = cluster.leaderOf(topic.name, s.partition);
      return {
        partition: s.partition,
        highWatermark: s.highWatermark.toString(),
        logStartOffset: s.logStartOffset.toString(),
        leaderAgentId: leader ? (agentIds.get(leader.nodeId) ?? '') : '',
        leaderNodeId: leader?.nodeId ?? -1,
      };
    });
    return {
      name: topic.name,
      topicId: topic.id,
      partitionCount: topic.partitionCount,
      configs: { ...topic.configs },
      partitions,
      createdAtMs: String(topic.createdAt),
    };
  }

  private async groupOffsets(groupId: string, hwms: HwmLookup): Promise<GroupPartitionOffsetMsg[]> {
    const committed = await this.services.metadata.groupOffsets.fetch(groupId);
    const rows: GroupPartitionOffsetMsg[] = [];
    for (const c of committed) rows.push(await offsetRow(c, hwms));
    return rows;
  }
}

async function offsetRow(c: CommittedOffset, hwms: HwmLookup): Promise<GroupPartitionOffsetMsg> {
  const state = await hwms.of(c.topic, c.partition);
  const hwm = state?.highWatermark ?? -1n;
  const lag = state && hwm > c.offset ? hwm - c.offset : 0n;
  return {
    topic: c.topic,
    partition: c.partition,
    committedOffset: c.offset.toString(),
    highWatermark: hwm.toString(),
    lag: lag.toString(),
    metadata: c.metadata ?? '',
    commitTimestampMs: String(c.commitTimestamp),
  };
}

function totalLag(rows: readonly GroupPartitionOffsetMsg[]): bigint {
  let sum = 0n;
  for (const r of rows) sum += BigInt(r.lag);
  return sum;
}
