// The console's only way to the broker: the REST API under api/v1 (relative to the page, so
// the console also works behind a reverse proxy that mounts the broker under a prefix).
// Field names are the API contract's.

export type Encoding = 'text' | 'json' | 'base64';
export type ConfigSource = 'DEFAULT_CONFIG' | 'TOPIC_CONFIG' | 'DYNAMIC_BROKER_CONFIG' | 'STATIC_BROKER_CONFIG';

export interface TopicSummary {
  name: string;
  partitions: number;
  records: number;
  bytes: number;
}

export interface PartitionInfo {
  partition: number;
  leader: { node_id: number; agent_id: string } | null;
  log_start_offset: number;
  high_watermark: number;
  records: number;
  bytes: number;
}

export interface TopicConfig {
  name: string;
  value: string | null;
  source: ConfigSource | string;
  sensitive: boolean;
}

export interface TopicDescription {
  name: string;
  topic_id: string;
  partition_count: number;
  created_at_ms: number;
  partitions: PartitionInfo[];
  configs: TopicConfig[];
}

export interface RecordHeader {
  key: string;
  value: string | null;
  value_encoding: Encoding;
}

export interface ConsumedRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  key_encoding: Encoding;
  value: string | null;
  value_encoding: Encoding;
  headers: RecordHeader[];
}

export interface RecordsPage {
  topic: string;
  partition: number;
  log_start_offset: number;
  high_watermark: number;
  next_offset: number;
  records: ConsumedRecord[];
}

export interface ProduceHeader {
  key: string;
  value: string;
}

export interface ProduceRequest {
  topic: string;
  partition?: number;
  key?: string;
  value: unknown;
  headers?: ProduceHeader[];
  key_encoding?: Encoding;
  value_encoding?: Encoding;
}

export interface ProduceResponse {
  topic: string;
  offsets: Array<{ partition: number; offset: number }>;
}

export interface GroupSummary {
  group_id: string;
  state: string;
  members: number;
  partitions: number;
  total_lag: number;
}

export interface GroupMember {
  member_id: string;
  client_id: string;
  client_host: string;
  assignments: Array<{ topic: string; partitions: number[] }>;
}

export interface GroupOffset {
  topic: string;
  partition: number;
  committed_offset: number;
  high_watermark: number;
  lag: number;
}

export interface GroupDescription {
  group_id: string;
  state: string;
  protocol_type: string;
  protocol: string;
  members: GroupMember[];
  offsets: GroupOffset[];
  total_lag: number;
}

export type ResetTarget = 'earliest' | 'latest' | 'offset' | 'timestamp';

export interface ResetOffsetsRequest {
  topic: string;
  partitions?: number[];
  to: ResetTarget;
  offset?: number;
  timestamp?: number;
  dry_run?: boolean;
}

export interface ResetOffsetsResponse {
  group_id: string;
  dry_run: boolean;
  offsets: Array<{ topic: string; partition: number; previous_offset: number; offset: number }>;
}

export interface AgentInfo {
  agent_id: string;
  node_id: number;
  host: string;
  port: number;
  rack: string | null;
  self: boolean;
  heartbeat_age_ms: number;
  partitions: Array<{ topic: string; partition: number }>;
  coordinator_shards: number[];
}

export interface ClusterInfo {
  cluster_id: string;
  controller_id: number;
  agents: number;
  topics: number;
  partitions: number;
  records: number;
  storage_bytes: number;
  objects: number;
}

export interface ThroughputSample {
  time_ms: number;
  records_in_per_sec: number;
  bytes_in_per_sec: number;
  bytes_out_per_sec: number;
  produce_p99_ms: number | null;
  fetch_p99_ms: number | null;
}

export interface Throughput {
  interval_ms: number;
  samples: ThroughputSample[];
}

export interface StorageTopic {
  name: string;
  objects: number;
  chunks: number;
  payload_bytes: number;
  average_chunk_bytes: number;
  partitions_with_data: number;
  /** Partitions still holding two or more chunks smaller, on average, than the compactor's small-chunk size. */
  partitions_awaiting_compaction: number;
  monthly_cost: number;
}

export interface StorageReport {
  price_per_gb_month: number;
  compaction: { enabled: boolean; interval_ms: number; small_chunk_bytes: number };
  total: { objects: number; stored_bytes: number; payload_bytes: number; unreferenced_objects: number; monthly_cost: number };
  topics: StorageTopic[];
}

/** An error answer of the API (`{ error_code, message }`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const BASE = 'api/v1';

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${BASE}${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK_ERROR', `cannot reach the broker: ${String(err)}`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { error_code?: unknown; message?: unknown };
    throw new ApiError(
      res.status,
      typeof e.error_code === 'string' ? e.error_code : `HTTP_${res.status}`,
      typeof e.message === 'string' ? e.message : text.slice(0, 300) || res.statusText,
    );
  }
  if (parsed === undefined) throw new ApiError(res.status, 'BAD_RESPONSE', `${method} ${path}: the answer is not JSON`);
  return parsed as T;
}

const seg = (s: string | number) => encodeURIComponent(String(s));

export interface RecordsQuery {
  /** One of offset, timestamp or from. */
  offset?: number;
  timestamp?: number;
  from?: 'earliest' | 'latest';
  limit?: number;
  wait_ms?: number;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  topics: (signal?: AbortSignal) => request<{ topics: TopicSummary[] }>('GET', '/topics', undefined, signal),
  createTopic: (body: { name: string; partitions?: number; configs?: Record<string, string> }) => request<TopicDescription>('POST', '/topics', body),
  topic: (name: string, signal?: AbortSignal) => request<TopicDescription>('GET', `/topics/${seg(name)}`, undefined, signal),
  alterConfigs: (name: string, configs: Record<string, string | null>) => request<TopicDescription>('PATCH', `/topics/${seg(name)}/configs`, { configs }),
  addPartitions: (name: string, count: number) => request<TopicDescription>('POST', `/topics/${seg(name)}/partitions`, { count }),
  deleteTopic: (name: string) => request<void>('DELETE', `/topics/${seg(name)}`),
  produce: (body: ProduceRequest) => request<ProduceResponse>('POST', '/produce', body),
  records: (topic: string, partition: number, q: RecordsQuery, signal?: AbortSignal) =>
    request<RecordsPage>('GET', `/topics/${seg(topic)}/partitions/${seg(partition)}/records${query({ ...q })}`, undefined, signal),
  groups: (signal?: AbortSignal) => request<{ groups: GroupSummary[] }>('GET', '/groups', undefined, signal),
  group: (id: string, signal?: AbortSignal) => request<GroupDescription>('GET', `/groups/${seg(id)}`, undefined, signal),
  resetOffsets: (id: string, body: ResetOffsetsRequest) => request<ResetOffsetsResponse>('POST', `/groups/${seg(id)}/reset-offsets`, body),
  deleteGroup: (id: string) => request<void>('DELETE', `/groups/${seg(id)}`),
  agents: (signal?: AbortSignal) => request<{ agents: AgentInfo[] }>('GET', '/agents', undefined, signal),
  cluster: (signal?: AbortSignal) => request<ClusterInfo>('GET', '/cluster', undefined, signal),
  throughput: (signal?: AbortSignal) => request<Throughput>('GET', '/cluster/throughput', undefined, signal),
  storage: (pricePerGbMonth: number, signal?: AbortSignal) => request<StorageReport>('GET', `/storage${query({ price_per_gb_month: pricePerGbMonth })}`, undefined, signal),
};
