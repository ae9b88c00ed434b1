// The metadata store contract (docs/architecture.md §7). Every implementation (SQLite now, PostgreSQL
// next) exposes the same small, focused interfaces and is verified by the shared suite in
// ./contract/metadata-store-contract.ts. All methods are async even where the backing
// driver is synchronous, so callers never depend on which backend they talk to.
//
// Offsets, timestamps and producer ids are bigint: Kafka defines them as int64.

export interface Topic {
  /** Random v4 UUID, assigned at creation; a re-created topic with the same name gets a new one. */
  readonly id: string;
  readonly name: string;
  readonly partitionCount: number;
  readonly configs: Record<string, string>;
  /** Milliseconds since the Unix epoch. */
  readonly createdAt: number;
}

export interface CreateTopicInput {
  readonly name: string;
  readonly partitionCount: number;
  readonly configs: Record<string, string>;
}

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Offset after the last committed record. */
  readonly highWatermark: bigint;
  /** First offset still readable; always <= highWatermark. */
  readonly logStartOffset: bigint;
}

/** Position and summary of one chunk (consecutive batches of one partition) in an object. */
export interface ChunkEntry {
  readonly baseOffset: bigint;
  /** Offset of the last record in the chunk (inclusive). */
  readonly lastOffset: bigint;
  readonly maxTimestamp: bigint;
  readonly recordCount: number;
  /** Byte position of the chunk inside its object. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** A chunk as returned by the index: where to read it. */
export interface IndexedChunk extends ChunkEntry {
  readonly objectKey: string;
}

/** A chunk as written by a flush; its object is the commit's objectKey. */
export interface FlushChunk extends ChunkEntry {
  readonly topic: string;
  readonly partition: number;
}

export interface FlushPartitionUpdate {
  readonly topic: string;
  readonly partition: number;
  /** The commit applies only if the partition's HWM is still exactly this value. */
  readonly expectedHighWatermark: bigint;
  readonly newHighWatermark: bigint;
  /**
   * The lease guard (docs/architecture.md §4.3): with both set, the commit also requires the lease of
   * `partitionLeaseResource(topic, partition)` to be held by `leaseOwner` at `leaseEpoch`
   * and not expired by the store's clock. Without both only the HWM guard applies (a
   * lone epoch is ignored).
   */
  readonly leaseEpoch?: number;
  readonly leaseOwner?: string;
}

/** The lease resource that guards writes to one partition. */
export function partitionLeaseResource(topic: string, partition: number): string {
  return `partition/${topic}/${partition}`;
}

export interface ProducerBatchRecord {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

/** What a partition owner remembers about one idempotent producer (docs/architecture.md §4.6). */
export interface ProducerPartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** Oldest first; only the last MAX_PRODUCER_BATCHES are kept. */
  readonly batches: readonly ProducerBatchRecord[];
  /**
   * First offset of this producer's open transaction on the partition (its first
   * transactional batch since the last COMMIT/ABORT marker), null when none is open. The
   * partition's last stable offset is the smallest of these (or the HWM).
   */
  readonly txnFirstOffset: bigint | null;
}

/** A transaction that ended with an ABORT marker on one partition: its records span [firstOffset, lastOffset]. */
export interface AbortedTransaction {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: bigint;
  readonly firstOffset: bigint;
  /** Offset of the ABORT control batch. */
  readonly lastOffset: bigint;
}

/** Kafka's idempotence window: the last 5 batches per producer and partition. */
export const MAX_PRODUCER_BATCHES = 5;

/**
 * Everything one flush makes durable, applied in ONE transaction (docs/architecture.md §4.3).
 *
 * Invariants checked before anything is written (INVALID_ARGUMENT otherwise):
 * - each partition appears at most once in `partitions`;
 * - every chunk and producer state belongs to a partition listed in `partitions`;
 * - a partition's chunks cover exactly [expectedHighWatermark, newHighWatermark) with no
 *   gap or overlap (a partition without chunks keeps its HWM);
 * - every chunk lies inside the object (byteOffset + byteLength <= objectSize).
 */
export interface FlushCommit {
  readonly objectKey: string;
  readonly objectSize: number;
  readonly chunks: readonly FlushChunk[];
  readonly partitions: readonly FlushPartitionUpdate[];
  readonly producerStates: readonly ProducerPartitionState[];
  /** Aborted transactions whose ABORT marker this flush writes (each on a listed partition). */
  readonly abortedTransactions?: readonly AbortedTransaction[];
}

/** One dynamic broker config (AlterConfigs on a BROKER resource). */
export interface BrokerConfigOverride {
  /** '' for the cluster-wide default, else the broker (node) id it applies to. */
  readonly scope: string;
  readonly name: string;
  readonly value: string;
}

export interface ClusterMetadataStore {
  /** 22-character base64url id created with the database; never changes. */
  getClusterId(): Promise<string>;
  /** Every dynamic broker config, ordered by scope then name. */
  listBrokerConfigs(): Promise<BrokerConfigOverride[]>;
  /** Sets (string) or removes (null) dynamic configs of one scope, in one transaction. */
  alterBrokerConfigs(scope: string, changes: Readonly<Record<string, string | null>>): Promise<void>;
}

export interface TopicMetadataStore {
  /** Creates the topic and its partitions (HWM 0, log start 0). Throws TOPIC_ALREADY_EXISTS. */
  create(input: CreateTopicInput): Promise<Topic>;
  get(name: string): Promise<Topic | undefined>;
  getById(id: string): Promise<Topic | undefined>;
  /** All topics ordered by name. */
  list(): Promise<Topic[]>;
  /**
   * Removes the topic, its partitions, chunk index rows and producer states. Returns the
   * object keys that no chunk references any more, for the garbage collector (their object
   * rows stay until `objects.forget`). Throws UNKNOWN_TOPIC_OR_PARTITION.
   */
  delete(name: string): Promise<string[]>;
  /** Grows the topic to `newTotalCount` partitions. Throws INVALID_PARTITIONS unless larger. */
  addPartitions(name: string, newTotalCount: number): Promise<Topic>;
  /** Sets keys; a null value deletes the key. Returns the resulting configs. */
  setConfigs(name: string, configs: Record<string, string | null>): Promise<Record<string, string>>;
}

export interface PartitionMetadataStore {
  get(topic: string, partition: number): Promise<PartitionState | undefined>;
  /** Partitions of the topic ordered by index; empty when the topic does not exist. */
  list(topic: string): Promise<PartitionState[]>;
  /**
   * Moves the log start forward (a smaller offset is a no-op) and drops index rows of
   * chunks wholly below it. Offsets above the HWM throw OFFSET_OUT_OF_RANGE. Returns the
   * resulting log start offset.
   */
  advanceLogStart(topic: string, partition: number, offset: bigint): Promise<bigint>;
  /**
   * The flush commit. Either everything in `commit` becomes durable or nothing does; when
   * any partition's HWM differs from its expectedHighWatermark (or the partition no longer
   * exists) it throws FencedError naming every such partition.
   */
  commitFlush(commit: FlushCommit): Promise<void>;
  /**
   * The partition's aborted transactions whose ABORT marker is at or after `fromOffset`,
   * ordered by lastOffset (what read_committed Fetch hands clients). advanceLogStart drops
   * those wholly below the new log start; deleting the topic drops all.
   */
  abortedTransactions(topic: string, partition: number, fromOffset: bigint): Promise<AbortedTransaction[]>;
}

/** Compaction's swap: consecutive chunks of one partition become one chunk in a new object. */
export interface ChunkReplacement {
  readonly topic: string;
  readonly partition: number;
  /** The chunks merged, oldest first; each must still be indexed exactly as given. */
  readonly replaced: ReadonlyArray<{ readonly objectKey: string; readonly baseOffset: bigint; readonly lastOffset: bigint }>;
  readonly objectKey: string;
  readonly objectSize: number;
  /** Covers exactly [replaced[0].baseOffset, replaced[last].lastOffset]. */
  readonly chunk: ChunkEntry;
}

/** What one partition's chunks take in object storage, as the chunk index records it. */
export interface PartitionUsage {
  readonly topic: string;
  readonly partition: number;
  /** Chunk index rows. */
  readonly chunks: number;
  /** Distinct object keys those chunks point into. */
  readonly objects: number;
  /** Sum of the chunks' byteLength: the payload readable today. */
  readonly bytes: number;
  /** Sum of the chunks' recordCount. */
  readonly records: number;
}

/** Distinct objects one topic's chunks point into (a flush object holds chunks of many topics). */
export interface TopicObjects {
  readonly topic: string;
  readonly objects: number;
}

/** Every recorded object, referenced or waiting for the garbage collector. */
export interface ObjectTotals {
  readonly objects: number;
  /** Sum of object sizes as recorded at write time. */
  readonly bytes: number;
  /** Recorded objects no chunk points into. */
  readonly unreferencedObjects: number;
}

/** One recorded object: its key and when its flush or compaction committed it. */
export interface RecordedObject {
  readonly key: string;
  /** Store clock, ms since the epoch. */
  readonly createdAt: number;
}

export interface ChunkIndexStore {
  /**
   * Atomically swaps index rows (compaction): readers see either the old chunks or the new
   * one, never both or neither. Throws CHUNKS_CHANGED (nothing written) when any replaced
   * chunk is gone or differs, e.g. because retention advanced the log start meanwhile.
   */
  replace(replacement: ChunkReplacement): Promise<void>;
  /**
   * Up to `maxChunks` chunks ordered by baseOffset with lastOffset >= fromOffset and
   * baseOffset < HWM. Empty for an unknown partition.
   */
  findChunks(topic: string, partition: number, fromOffset: bigint, maxChunks: number): Promise<IndexedChunk[]>;
  /**
   * The chunk with the lowest baseOffset whose maxTimestamp >= timestamp, among chunks not
   * wholly below the log start. Used by ListOffsets timestamp lookups.
   */
  findChunkByTimestamp(topic: string, partition: number, timestamp: bigint): Promise<IndexedChunk | undefined>;
  /**
   * Usage of every partition that has chunks (only those of `topic` when given), ordered by
   * topic name then partition. Partitions without chunks, and unknown topics, are absent.
   */
  usage(topic?: string): Promise<PartitionUsage[]>;
  /** Distinct object keys per topic that has chunks, ordered by topic name. */
  topicObjects(): Promise<TopicObjects[]>;
}

export interface ProducerMetadataStore {
  /** Next producer id: monotonic across restarts, starting at FIRST_PRODUCER_ID. */
  allocateProducerId(): Promise<bigint>;
  /** States of every producer that wrote to the partition, ordered by producerId. */
  getStates(topic: string, partition: number): Promise<ProducerPartitionState[]>;
}

export const FIRST_PRODUCER_ID = 1000n;

export interface ObjectMetadataStore {
  /** Keys of every object that at least one chunk index row points into. */
  listReferencedKeys(): Promise<Set<string>>;
  /**
   * Recorded objects that no chunk references and that were created before `createdBefore`
   * (ms since epoch): candidates for deletion after the grace period. Ordered by key.
   */
  listUnreferenced(createdBefore: number): Promise<string[]>;
  /**
   * Drops the object's record once the collector has deleted it. No-op for an unknown key;
   * throws OBJECT_STILL_REFERENCED while chunks point into it.
   */
  forget(key: string): Promise<void>;
  /** Count and recorded size of every object, and how many of them no chunk points into. */
  totals(): Promise<ObjectTotals>;
  /**
   * The most recently recorded object (largest createdAt, then largest key), referenced or
   * not; undefined when none is recorded. One pass over the objects, as totals().
   */
  newest(): Promise<RecordedObject | undefined>;
}

/** A consumer group's committed position in one partition (docs/architecture.md §9). */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** -1 when the client did not send one. */
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  /** Milliseconds since the epoch, when the commit was accepted. */
  readonly commitTimestamp: number;
}

/** Offsets a transactional producer committed to a group (TxnOffsetCommit), waiting for the transaction's end. */
export interface PendingTransactionalOffsets {
  readonly group: string;
  readonly producerId: bigint;
  readonly offsets: readonly CommittedOffset[];
}

export interface GroupOffsetStore {
  /** Upserts the offsets of one group in ONE transaction. */
  commit(group: string, offsets: readonly CommittedOffset[]): Promise<void>;
  /** Committed offsets of the group, all of them or only the listed partitions; ordered by topic, partition. */
  fetch(group: string, partitions?: ReadonlyArray<{ topic: string; partition: number }>): Promise<CommittedOffset[]>;
  /** Groups that have at least one committed offset, ordered by name. */
  listGroups(): Promise<string[]>;
  /** Removes every committed offset of the group; returns how many were removed. */
  deleteGroup(group: string): Promise<number>;
  /** Removes the group's offsets for the listed partitions (OffsetDelete). */
  deleteOffsets(group: string, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void>;
  /**
   * offsets.retention.minutes: removes offsets of the given groups whose commitTimestamp is
   * older than `olderThan` (ms). The coordinator passes only groups that are empty.
   */
  expire(groups: readonly string[], olderThan: number): Promise<number>;
  /**
   * TxnOffsetCommit: stages offsets of `producerId`'s open transaction; a later stage of the
   * same group, producer and partition replaces the earlier one. Not visible to fetch.
   */
  stageTransactional(pending: PendingTransactionalOffsets): Promise<void>;
  /**
   * The transaction of `producerId` ended: on commit its staged offsets for `groups` become
   * the groups' committed offsets (upserted, as `commit` does), on abort they are dropped;
   * either way none stays staged. One transaction; idempotent (a retry finds nothing staged).
   */
  completeTransactional(producerId: bigint, groups: readonly string[], commit: boolean): Promise<void>;
  /**
   * Partitions of the group with offsets staged by any open transaction, ordered by topic
   * then partition (OffsetFetch requireStable answers them UNSTABLE_OFFSET_COMMIT).
   */
  pendingPartitions(group: string): Promise<Array<{ topic: string; partition: number }>>;
}

/** Kafka's transaction states (TransactionState in the transaction coordinator). */
export type TransactionStateName = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort';

/** The coordinator's record of one transactional id (Kafka's __transaction_state entry). */
export interface TransactionRecord {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /**
   * The epoch the last InitProducerId bump started from (Kafka's lastProducerEpoch), -1 when
   * none: a producer naming it retries that bump and gets the current epoch again.
   */
  readonly lastProducerEpoch: number;
  readonly state: TransactionStateName;
  /** transaction.timeout.ms the producer asked for at InitProducerId. */
  readonly timeoutMs: number;
  /** Partitions in the transaction, ordered by topic then partition. */
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
  /** Consumer groups whose offsets the transaction commits (AddOffsetsToTxn), ordered. */
  readonly groups: readonly string[];
  /** Epoch ms the open transaction started (first AddPartitionsToTxn/AddOffsetsToTxn); -1 when none is open. */
  readonly startedAtMs: number;
  /** Epoch ms of the last change. */
  readonly updatedAtMs: number;
  /** Bumped by every successful put; the compare-and-set guard. */
  readonly version: number;
}

export type TransactionRecordInput = Omit<TransactionRecord, 'version'>;

export interface TransactionStateStore {
  get(transactionalId: string): Promise<TransactionRecord | undefined>;
  /** Every transactional id, ordered by id. */
  list(): Promise<TransactionRecord[]>;
  /**
   * Writes the record if the stored version is still `expectedVersion` (0: the id must not
   * exist yet). Returns the stored record (version = expectedVersion + 1), or undefined when
   * the guard failed (someone else changed it: re-read and decide again).
   */
  put(record: TransactionRecordInput, expectedVersion: number): Promise<TransactionRecord | undefined>;
  /** transactional.id.expiration.ms: removes the id if still at `expectedVersion`. */
  delete(transactionalId: string, expectedVersion: number): Promise<boolean>;
}

/**
 * One advertised Kafka listener of an agent (`advertised.listeners`): a client that connected
 * on the listener called `name` is told this host and port for the agent.
 */
export interface ListenerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** What an agent tells the registry about itself (docs/architecture.md §1, §8). */
export interface AgentRegistration {
  readonly agentId: string;
  /** Wanted Kafka node id for a new agent; an agent already registered keeps its own. */
  readonly nodeId?: number;
  /** The address other agents reach it on (its inter-broker listener). */
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  /** Every advertised listener; none given is stored as none (older agents). */
  readonly listeners?: readonly ListenerEndpoint[];
}

export interface AgentRecord {
  readonly agentId: string;
  /** Unique among agents, and stable for an agent id across restarts. */
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  /** The advertised listeners it registered, in its order; empty for an agent that gave none. */
  readonly listeners: readonly ListenerEndpoint[];
  /** Store clock, ms since the epoch. */
  readonly lastHeartbeat: number;
}

export interface AgentRegistry {
  /**
   * Registers (or re-registers) the agent and counts as a heartbeat. A known agent id keeps
   * its node id; a new one gets `nodeId` when given (NODE_ID_IN_USE when another agent has
   * it) or the lowest unused id.
   */
  register(registration: AgentRegistration): Promise<AgentRecord>;
  /** Refreshes the heartbeat; false when the agent is not registered. */
  heartbeat(agentId: string): Promise<boolean>;
  /** Agents whose last heartbeat is younger than `ttlMs` by the store's clock, by node id. */
  listLive(ttlMs: number): Promise<AgentRecord[]>;
  /** Every registered agent, live or not, by node id. */
  list(): Promise<AgentRecord[]>;
  /** Marks the agent gone (it stops being live at once); its node id stays reserved for it. */
  deregister(agentId: string): Promise<void>;
}

/**
 * The right of one owner to write one resource (docs/architecture.md §1). `epoch` grows by one at every
 * change of hands, including re-acquisition after expiry or release; expiry is judged by
 * the store's clock (PostgreSQL: the database server's; SQLite: the local one).
 */
export interface Lease {
  readonly resource: string;
  readonly owner: string;
  readonly epoch: number;
  /** Store clock, ms since the epoch. */
  readonly expiresAt: number;
}

/** A lease as its holder knows it: which resource, at which epoch. */
export interface LeaseClaim {
  readonly resource: string;
  readonly epoch: number;
}

/** Orders leases (or claims) by resource name: the order stores lock rows in and list them. */
export function byLeaseResource(a: { readonly resource: string }, b: { readonly resource: string }): number {
  return a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0;
}

export interface LeaseStore {
  /**
   * Starts a new tenure (epoch + 1) when the lease is free, released, expired, or already
   * held by `owner`: an agent only asks for what it does not hold, so an acquire by the
   * holder means a restarted incarnation, which must fence the previous one. undefined
   * when another owner holds it.
   */
  acquire(resource: string, owner: string, ttlMs: number): Promise<Lease | undefined>;
  /** acquire() for many resources in one round trip; returns the leases obtained. */
  acquireMany(resources: readonly string[], owner: string, ttlMs: number): Promise<Lease[]>;
  /** Extends a lease still held by owner at epoch and not expired; undefined otherwise. */
  renew(resource: string, owner: string, epoch: number, ttlMs: number): Promise<Lease | undefined>;
  /** renew() for many leases in one round trip (one heartbeat); returns those extended. */
  renewMany(leases: readonly LeaseClaim[], owner: string, ttlMs: number): Promise<Lease[]>;
  /** Gives the lease up so another owner can take it at once; false when not held as given. */
  release(resource: string, owner: string, epoch: number): Promise<boolean>;
  /** release() for many leases in one round trip; returns how many were still held as given. */
  releaseMany(leases: readonly LeaseClaim[], owner: string): Promise<number>;
  /** The lease if it is currently held (not released, not expired). */
  get(resource: string): Promise<Lease | undefined>;
  /** Every currently held lease whose resource starts with `prefix`, by resource. */
  list(prefix?: string): Promise<Lease[]>;
  /** Highest epoch ever granted for the resource (0 when never leased). */
  lastEpoch(resource: string): Promise<number>;
  /** The store's clock, ms since the epoch. */
  now(): Promise<number>;
}

/** The SCRAM mechanisms credentials are kept for (RFC 5802, RFC 7677). */
export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/**
 * A user's salted SCRAM credential for one mechanism (RFC 5802 §3): never the password nor
 * the salted password, only what a server needs to verify a client proof and sign its answer.
 */
export interface ScramCredential {
  readonly user: string;
  readonly mechanism: ScramMechanismName;
  readonly salt: Buffer;
  readonly iterations: number;
  /** H(HMAC(SaltedPassword, "Client Key")). */
  readonly storedKey: Buffer;
  /** HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: Buffer;
}

/** What may be shown of a credential (DescribeUserScramCredentials): no salt, no keys. */
export interface ScramCredentialInfo {
  readonly user: string;
  readonly mechanism: ScramMechanismName;
  readonly iterations: number;
}

export interface ScramCredentialStore {
  /** Creates or replaces the user's credential for its mechanism. */
  upsert(credential: ScramCredential): Promise<void>;
  /** Creates it only when the user has none for that mechanism; true when it was created. */
  insertIfAbsent(credential: ScramCredential): Promise<boolean>;
  get(user: string, mechanism: ScramMechanismName): Promise<ScramCredential | undefined>;
  /** Credentials of the given users (all users when not given), ordered by user then mechanism. */
  list(users?: readonly string[]): Promise<ScramCredentialInfo[]>;
  /** Removes one credential; false when there was none. */
  delete(user: string, mechanism: ScramMechanismName): Promise<boolean>;
}

/**
 * An ACL binding as stored, with Kafka's codes (src/agent/security/acl.ts gives them names):
 * resource type, name and pattern type, principal (`User:alice`), host, operation, permission.
 */
export interface StoredAclBinding {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permission: number;
}

export interface AclStore {
  /** Adds the bindings that are not there yet (an identical binding is kept once). */
  create(bindings: readonly StoredAclBinding[]): Promise<void>;
  /** Every binding, ordered by resource type, name, pattern type, principal, host, operation, permission. */
  list(): Promise<StoredAclBinding[]>;
  /** Removes the given bindings; returns those that were there. */
  delete(bindings: readonly StoredAclBinding[]): Promise<StoredAclBinding[]>;
  /** A counter every create or delete that changed something moves; agents poll it. */
  version(): Promise<number>;
}

export interface MetadataStore {
  readonly cluster: ClusterMetadataStore;
  /** ACL bindings of the authorizer (docs/security.md). */
  readonly acls: AclStore;
  /** SCRAM credentials of Kafka users (SASL SCRAM-SHA-256/512, and PLAIN checked against them). */
  readonly scramCredentials: ScramCredentialStore;
  /** Agent registry and heartbeats (docs/architecture.md §8). */
  readonly agents: AgentRegistry;
  /** Partition and coordinator-shard leases (docs/architecture.md §8). */
  readonly leases: LeaseStore;
  /** Consumer group committed offsets (membership lives in the coordinator's memory). */
  readonly groupOffsets: GroupOffsetStore;
  readonly topics: TopicMetadataStore;
  readonly partitions: PartitionMetadataStore;
  readonly chunks: ChunkIndexStore;
  readonly producers: ProducerMetadataStore;
  /** Transaction coordinator state per transactional id (docs/transactions.md). */
  readonly transactions: TransactionStateStore;
  readonly objects: ObjectMetadataStore;
  /** Idempotent. Every later call on the store rejects with STORE_CLOSED. */
  close(): Promise<void>;
}

export type MetadataErrorCode =
  | 'TOPIC_ALREADY_EXISTS'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'INVALID_PARTITIONS'
  | 'INVALID_ARGUMENT'
  | 'OFFSET_OUT_OF_RANGE'
  | 'FENCED'
  | 'CHUNKS_CHANGED'
  | 'OBJECT_ALREADY_EXISTS'
  | 'OBJECT_STILL_REFERENCED'
  | 'NODE_ID_IN_USE'
  | 'SCHEMA_TOO_NEW'
  | 'STORE_CLOSED'
  | 'UNSUPPORTED_URL';

export class MetadataStoreError extends Error {
  readonly code: MetadataErrorCode;

  constructor(code: MetadataErrorCode, message: string) {
    super(message);
    this.name = 'MetadataStoreError';
    this.code = code;
  }
}

export interface FencedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly expectedHighWatermark: bigint;
  /** undefined when the partition (or its topic) no longer exists. */
  readonly actualHighWatermark: bigint | undefined;
  /** Set when the lease guard failed: the lease moved on, expired or was released. */
  readonly leaseLost?: boolean;
}

/** A flush commit lost its guard: another writer moved on. Nothing was written. */
export class FencedError extends MetadataStoreError {
  readonly partitions: readonly FencedPartition[];

  constructor(partitions: readonly FencedPartition[]) {
    const names = partitions.map((p) =>
      p.leaseLost === true
        ? `${p.topic}-${p.partition} (lease no longer held)`
        : `${p.topic}-${p.partition} (expected HWM ${p.expectedHighWatermark}, ` +
          `found ${p.actualHighWatermark === undefined ? 'no partition' : p.actualHighWatermark})`,
    );
    super('FENCED', `Flush commit fenced: ${names.join(', ')}`);
    this.name = 'FencedError';
    this.partitions = partitions;
  }
}

export function isMetadataStoreError(err: unknown, code?: MetadataErrorCode): err is MetadataStoreError {
  return err instanceof MetadataStoreError && (code === undefined || err.code === code);
}
