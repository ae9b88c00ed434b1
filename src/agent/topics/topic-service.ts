import type { MetadataStore, Topic } from '../../metadata/metadata-store.js';
import { isMetadataStoreError } from '../../metadata/metadata-store.js';
import { ErrorCode, errorMessage } from '../../protocol/error-codes.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { DynamicBrokerConfigs } from '../config/dynamic-broker-configs.js';
import { parseTopicPolicy, type TopicPolicy } from './topic-policy.js';
import { TOPIC_CONFIG_BY_NAME, validateTopicConfig } from './topic-config-definitions.js';
import { collisionKey, topicNameProblem } from './topic-names.js';

export const MAX_PARTITIONS = 100_000;

/** A Kafka error for one topic, as CreateTopics/DeleteTopics/Metadata report it. */
export class TopicError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'TopicError';
  }
}

export interface CreateTopicRequest {
  readonly name: string;
  readonly partitions: number;
  readonly configs: Record<string, string>;
  readonly validateOnly?: boolean;
}

/**
 * Topic lifecycle with Kafka's validation rules on top of the metadata store, and a cache of
 * topics by name that this agent's writes keep current.
 */
export class TopicService {
  private cache = new Map<string, Topic>();
  /** The same topics by id (Metadata v12 and Fetch v13+ name topics by id). */
  private byId = new Map<string, Topic>();
  private cacheLoaded = false;
  /** Bumped when this agent starts or finishes changing a topic, so a reload that raced it is dropped. */
  private changes = 0;
  private changing = 0;

  /**
   * @param shared other agents change topics too (a cluster): a name missing from the cache
   *   is looked up in the store before it is called unknown
   */
  constructor(
    private readonly store: MetadataStore,
    config: BrokerConfig,
    private readonly shared = false,
    /** Broker configs behind the topic defaults (log.retention.ms, message.max.bytes, ...). */
    readonly brokerConfigs: DynamicBrokerConfigs = new DynamicBrokerConfigs(store.cluster, config),
  ) {}

  async list(): Promise<Topic[]> {
    if (!this.cacheLoaded) await this.reload();
    return [...this.cache.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(name: string): Promise<Topic | undefined> {
    if (!this.cacheLoaded) await this.reload();
    const hit = this.cache.get(name);
    if (hit || !this.shared) return hit;
    const stored = await this.store.topics.get(name);
    if (stored && !this.cache.has(name)) this.remember(stored);
    return stored;
  }

  /** The cached topic, without touching the store (hot paths). */
  cached(name: string): Topic | undefined {
    return this.cache.get(name);
  }

  /**
   * The topic with this id. In a cluster an id missing from the cache is looked up in the
   * store: another agent may have just (re-)created the topic.
   */
  async getById(id: string): Promise<Topic | undefined> {
    if (!this.cacheLoaded) await this.reload();
    const hit = this.byId.get(id);
    if (hit || !this.shared) return hit;
    const changesBefore = this.changes;
    const stored = await this.store.topics.getById(id);
    // the store is newer than a cached topic of that name; a change of this agent's that
    // overlapped the read knows better
    if (stored && this.changing === 0 && this.changes === changesBefore) this.remember(stored);
    return stored;
  }

  /** Caches a topic under its name and id, replacing whatever the name had. */
  private remember(topic: Topic): void {
    const previous = this.cache.get(topic.name);
    if (previous && previous.id !== topic.id) this.byId.delete(previous.id);
    this.cache.set(topic.name, topic);
    this.byId.set(topic.id, topic);
  }

  private forget(name: string): void {
    const previous = this.cache.get(name);
    if (previous) this.byId.delete(previous.id);
    this.cache.delete(name);
  }

  /** Re-reads every topic so the cache sees changes made by other agents. */
  async reload(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const changesBefore = this.changes;
      const busy = this.changing > 0;
      const topics = await this.store.topics.list();
      // a change of this agent's that overlapped the read may be missing from it: keep the
      // cache (it has that change) and let the next reload catch up with other agents
      if (busy || this.changing > 0 || this.changes !== changesBefore) {
        if (this.cacheLoaded) return;
        if (attempt < 5) continue;
      }
      this.cache = new Map(topics.map((t) => [t.name, t]));
      this.byId = new Map(topics.map((t) => [t.id, t]));
      this.cacheLoaded = true;
      return;
    }
  }

  /** Runs one change of a topic, marking it so a concurrent reload does not undo it in the cache. */
  private async changingTopic<T>(change: () => Promise<T>): Promise<T> {
    this.changes++;
    this.changing++;
    try {
      return await change();
    } finally {
      this.changing--;
      this.changes++;
    }
  }

  /** Validates and (unless validateOnly) creates; returns the topic as it is or would be. */
  async create(req: CreateTopicRequest): Promise<Topic> {
    const nameProblem = topicNameProblem(req.name);
    if (nameProblem) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    const existing = await this.get(req.name);
    if (existing) throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${req.name}' already exists.`);
    const key = collisionKey(req.name);
    for (const t of this.cache.values()) {
      // the same name, created meanwhile (by a create that raced this one): it exists, no collision
      if (t.name === req.name) throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${req.name}' already exists.`);
      if (collisionKey(t.name) === key) {
        throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${req.name}' collides with existing topic: ${t.name}`);
      }
    }
    if (!Number.isInteger(req.partitions) || req.partitions < 1 || req.partitions > MAX_PARTITIONS) {
      throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be between 1 and ${MAX_PARTITIONS}, got ${req.partitions}.`);
    }
    for (const [k, v] of Object.entries(req.configs)) {
      const problem = validateTopicConfig(k, v);
      if (problem) throw new TopicError(ErrorCode.INVALID_CONFIG, problem);
    }
    if (req.validateOnly) {
      return { id: '00000000-0000-0000-0000-000000000000', name: req.name, partitionCount: req.partitions, configs: req.configs, createdAt: Date.now() };
    }
    try {
      return await this.changingTopic(async () => {
        const topic = await this.store.topics.create({ name: req.name, partitionCount: req.partitions, configs: req.configs });
        this.remember(topic);
        return topic;
      });
    } catch (e) {
      if (isMetadataStoreError(e, 'TOPIC_ALREADY_EXISTS')) {
        await this.reload();
        throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${req.name}' already exists.`);
      }
      throw e;
    }
  }

  /** Creates a topic with broker defaults when auto-creation allows it. */
  async autoCreate(name: string): Promise<Topic> {
    try {
      return await this.create({ name, partitions: this.brokerConfigs.defaultPartitions, configs: {} });
    } catch (e) {
      if (e instanceof TopicError && e.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) {
        const t = await this.get(name);
        if (t) return t;
      }
      throw e;
    }
  }

  /** Deletes a topic; returns object keys no longer referenced (for the garbage collector). */
  async delete(name: string): Promise<string[]> {
    const topic = await this.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    try {
      return await this.changingTopic(async () => {
        try {
          return await this.store.topics.delete(name);
        } finally {
          this.forget(name);
        }
      });
    } catch (e) {
      if (isMetadataStoreError(e, 'UNKNOWN_TOPIC_OR_PARTITION')) {
        throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      }
      throw e;
    }
  }

  async addPartitions(name: string, newTotal: number, validateOnly: boolean): Promise<Topic> {
    const topic = await this.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    if (newTotal <= topic.partitionCount) {
      throw new TopicError(
        ErrorCode.INVALID_PARTITIONS,
        newTotal === topic.partitionCount
          ? `Topic already has ${topic.partitionCount} partitions.`
          : `Topic currently has ${topic.partitionCount} partitions, which is higher than the requested ${newTotal}.`,
      );
    }
    if (newTotal > MAX_PARTITIONS) throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be at most ${MAX_PARTITIONS}.`);
    if (validateOnly) return { ...topic, partitionCount: newTotal };
    return this.changingTopic(async () => {
      const updated = await this.store.topics.addPartitions(name, newTotal);
      this.remember(updated);
      return updated;
    });
  }

  /** Applies config changes (null removes an override) after validating all of them. */
  async setConfigs(name: string, changes: Record<string, string | null>, validateOnly: boolean): Promise<Record<string, string>> {
    const topic = await this.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) {
        if (!TOPIC_CONFIG_BY_NAME.has(k)) throw new TopicError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${k}`);
        continue;
      }
      const problem = validateTopicConfig(k, v);
      if (problem) throw new TopicError(ErrorCode.INVALID_CONFIG, problem);
    }
    if (validateOnly) {
      const next = { ...topic.configs };
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete next[k];
        else next[k] = v;
      }
      return next;
    }
    return this.changingTopic(async () => {
      const configs = await this.store.topics.setConfigs(name, changes);
      this.remember({ ...topic, configs });
      return configs;
    });
  }

  private readonly policies = new WeakMap<Topic, { version: number; policy: TopicPolicy }>();

  /** The topic's configs parsed (cached per topic object and broker-config version). */
  policy(topic: Topic): TopicPolicy {
    const cached = this.policies.get(topic);
    if (cached && cached.version === this.brokerConfigs.version) return cached.policy;
    const policy = parseTopicPolicy((name) => this.effectiveConfig(topic, name));
    this.policies.set(topic, { version: this.brokerConfigs.version, policy });
    return policy;
  }

  /** The value a topic config takes: the topic's override, else the broker's, else Kafka's default. */
  effectiveConfig(topic: Topic, name: string): string | null {
    const own = topic.configs[name];
    if (own !== undefined) return own;
    const def = TOPIC_CONFIG_BY_NAME.get(name);
    if (!def) return null;
    // a dynamic or start-up broker value behind the topic config, else Kafka's default
    return (def.brokerSynonym !== undefined ? this.brokerConfigs.value(def.brokerSynonym) : undefined) ?? def.defaultValue;
  }
}
