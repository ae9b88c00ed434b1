import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { openMetadataStore } from '../metadata/open-metadata-store.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openObjectStore } from '../storage/open-object-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { HttpServer } from '../http/http-server.js';
import { MeteredLog, TopicTrafficMetrics } from '../agent/metered-log.js';
import { TransactionCoordinator } from '../agent/transactions/transaction-coordinator.js';
import { PartitionRouter } from '../agent/cluster/partition-router.js';
import { BrokerMetrics } from '../agent/broker-metrics.js';
import { SingleAgentClusterView } from '../agent/cluster/cluster-view.js';
import type { BrokerConfig, HostPort } from '../agent/config/broker-config.js';
import type { AgentCore } from '../agent/agent-core.js';
import { KafkaServer } from '../broker/kafka-server.js';
import { TopicService } from '../agent/topics/topic-service.js';
import { buildHandlerRegistry } from '../broker/build-handler-registry.js';
import { AgentLog } from '../agent/agent-log.js';
import { ObjectGarbageCollector } from '../agent/object-gc.js';
import { RetentionEnforcer } from '../agent/retention.js';
import { Compactor } from '../agent/compactor.js';
import { Counter, Gauge, Histogram } from 'prom-client';
import { GrpcServer } from '../grpc/grpc-server.js';
import { GroupCoordinator } from '../agent/groups/group-coordinator.js';
import { SingleAgentCoordinatorLocator } from '../agent/groups/coordinator-shards.js';
import { GroupRouter } from '../agent/groups/group-router.js';
import { PeerKafkaClient, type PeerSecurity } from '../agent/cluster/peer-kafka-client.js';
import { ManagedGroupMembers } from '../agent/groups/managed-members.js';
import { ReadinessProbe, type ReadinessCheck } from '../agent/readiness.js';
import { registerConsumerGroupMetrics } from '../agent/groups/consumer-lag-metric.js';
import { meteredMetadataStore, meteredObjectStore } from '../agent/metered-stores.js';
import { ClusterRuntime } from '../agent/cluster/cluster-runtime.js';
import { LeasedClusterView } from '../agent/cluster/leased-cluster-view.js';
import { DEFAULT_COORDINATOR_SHARDS } from '../agent/groups/coordinator-shards.js';
import { isMetadataStoreError, type ListenerEndpoint } from '../metadata/metadata-store.js';
import { Authenticator } from '../agent/security/authenticator.js';
import { Authorizer } from '../agent/security/authorizer.js';
import { DoorAuthenticator } from '../agent/security/door-authenticator.js';
import { AclSync } from '../agent/security/acl-sync.js';
import { TlsFiles } from '../agent/security/tls-files.js';
import { usesSasl, usesTls } from '../agent/security/principal.js';
import { withAdvertisedListeners } from '../agent/cluster/advertised-listeners.js';
import { localDiskPaths, registerAgentStateMetrics } from '../agent/agent-state-metrics.js';

export interface RunningAgent {
  /** The inter-broker listener's bound address. */
  readonly kafka: HostPort;
  /** Every Kafka listener's bound address, by listener name. */
  readonly listeners: Readonly<Record<string, HostPort>>;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly services: AgentCore;
  stop(): Promise<void>;
}

/**
 * The hosts the HTTP and gRPC APIs bind (their ports are BrokerConfig's httpPort and
 * grpcPort); 0.0.0.0, every interface, when not given.
 */
export interface ApiListenerHosts {
  readonly httpHost?: string;
  readonly grpcHost?: string;
}

/** How old a readiness verdict streamhouse_agent_ready may reuse (one GET /ready or scrape probes the stores for the next ones). */
const READY_GAUGE_MAX_AGE_MS = 5000;

/** Object-key prefix /ready lists to see that the object store answers (nothing is stored under it). */
const READY_PROBE_PREFIX = 'streamhouse-ready-probe/';

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Wires one agent together: stores, handlers, Kafka listener and HTTP server. */
export async function startAgent(config: BrokerConfig & ApiListenerHosts, logger: Logger): Promise<RunningAgent> {
  const metrics = new BrokerMetrics();
  // every call to either store is counted and timed by operation (streamhouse_*_store_*)
  const metadata: MetadataStore = meteredMetadataStore(await openMetadataStore(config.metadataUrl), metrics.registry);
  let objects: ObjectStore | undefined;
  try {
    objects = meteredObjectStore(await openObjectStore(config.storageUrl), metrics.registry);
  } catch (e) {
    await metadata.close();
    throw e;
  }
  const clusterId = await metadata.cluster.getClusterId();
  // Cluster mode (docs/architecture.md §8): partitions and coordinator shards are leased; the embedded
  // single agent leads everything without leases.
  const clustered = config.clusterMode === 'on' || (config.clusterMode === 'auto' && /^postgres(ql)?:\/\//.test(config.metadataUrl));
  const topics = new TopicService(metadata, config, clustered);
  await Promise.all([topics.reload(), topics.brokerConfigs.reload()]);
  const flushDuration = new Histogram({ name: 'streamhouse_flush_duration_seconds', help: 'Time from a flush closing to its metadata commit', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [metrics.registry] });
  const flushBytes = new Counter({ name: 'streamhouse_object_bytes_written_total', help: 'Chunk bytes committed in segment objects', registers: [metrics.registry] });
  const flushSize = new Histogram({
    name: 'streamhouse_flush_size_bytes',
    help: 'Chunk bytes committed per flush (one segment object each)',
    buckets: [1024, 4096, 16384, 65536, 262144, 1048576, 2097152, 4194304, 8388608, 16777216, 67108864],
    registers: [metrics.registry],
  });
  const commitDuration = new Histogram({ name: 'streamhouse_commit_duration_seconds', help: 'Metadata transaction time per flush', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [metrics.registry] });
  // cluster mode: lease changes, so that a failover shows on the dashboards (and in the log)
  const leaseAcquisitions = clustered
    ? new Counter({ name: 'streamhouse_lease_acquisitions_total', help: 'Leases this agent acquired: partition leadership or group-coordinator shards', labelNames: ['kind'], registers: [metrics.registry] })
    : undefined;
  const leaseLosses = clustered
    ? new Counter({
        name: 'streamhouse_lease_losses_total',
        help: 'Leases this agent stopped holding, by kind and reason (expired: not renewed in time; fenced: a flush commit found it lost; handed_over: moved to the agent that should own it; released: given up at stop)',
        labelNames: ['kind', 'reason'],
        registers: [metrics.registry],
      })
    : undefined;
  for (const kind of ['partition', 'coordinator']) leaseAcquisitions?.inc({ kind }, 0);
  const flushFailures = new Counter({ name: 'streamhouse_flush_failures_total', help: 'Failed object uploads or metadata commits (each retry counts)', labelNames: ['stage'], registers: [metrics.registry] });
  let runtime: ClusterRuntime | undefined;
  const log: AgentLog = new AgentLog({
    agentId: config.agentId,
    ...(clustered
      ? {
          leases: {
            held: (topic: string, partition: number) => runtime?.heldPartition(topic, partition),
            lost: (topic: string, partition: number) => runtime?.leaseLost(topic, partition),
          },
        }
      : {}),
    metadata,
    objects,
    logger,
    flushMaxBytes: config.flushMaxBytes,
    flushIntervalMs: config.flushIntervalMs,
    recentWriteCacheBytes: config.recentWriteCacheBytes,
    fetchCacheBytes: config.fetchCacheBytes,
    topicPolicy: (topic) => {
      const t = topics.cached(topic);
      return t && topics.policy(t);
    },
    observe: {
      flushed: (s) => {
        flushDuration.observe(s.totalSeconds);
        commitDuration.observe(s.commitSeconds);
        flushBytes.inc(s.bytes);
        flushSize.observe(s.bytes);
      },
      failed: (stage) => flushFailures.inc({ stage }),
    },
  });
  new Gauge({
    name: 'streamhouse_cache_bytes',
    help: 'Bytes held by the recent-write cache and the chunk cache',
    labelNames: ['cache'],
    registers: [metrics.registry],
    collect() {
      const b = log.cacheBytes();
      this.set({ cache: 'recent_writes' }, b.recent);
      this.set({ cache: 'chunks' }, b.chunks);
    },
  });
  // counted in the caches as plain numbers (the read path stays free of label look-ups) and
  // read at scrape time; hit ratio = rate(hits) / (rate(hits) + rate(misses))
  const cacheCounter = (name: string, help: string, value: (cache: 'recent_writes' | 'chunks') => number) =>
    new Counter({
      name,
      help,
      labelNames: ['cache'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const cache of ['recent_writes', 'chunks'] as const) this.inc({ cache }, value(cache));
      },
    });
  cacheCounter('streamhouse_cache_hits_total', 'Chunk look-ups answered by the recent-write cache or the chunk cache', (c) => (c === 'recent_writes' ? log.recent.hits : log.chunkCache.hits));
  cacheCounter('streamhouse_cache_misses_total', 'Chunk look-ups the recent-write cache or the chunk cache could not answer (the next one, or the object store, was asked)', (c) =>
    c === 'recent_writes' ? log.recent.misses : log.chunkCache.misses,
  );
  const gc = new ObjectGarbageCollector({
    objects,
    metadata,
    logger,
    graceMs: config.objectGcGraceMs,
    intervalMs: Math.max(1000, Math.min(60_000, config.objectGcGraceMs)),
    inFlight: () => log.pipeline.inFlightKeys,
  });
  // the advertised listeners once bound (port 0 resolved); the configured ones until then
  let advertised: ListenerEndpoint[] = config.listeners.map((l) => ({ name: l.name, host: l.advertised.host, port: l.advertised.port }));
  const newRuntime = (nodeId: number | undefined, port: number) =>
    new ClusterRuntime({
      // every registration carries all advertised listeners (Metadata answers per listener)
      metadata: withAdvertisedListeners(metadata, () => advertised),
      agentId: config.agentId,
      ...(nodeId !== undefined ? { nodeId } : {}),
      host: config.advertisedListener.host,
      port,
      rack: config.rack,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      leaseTtlMs: config.leaseTtlMs,
      coordinatorShards: DEFAULT_COORDINATOR_SHARDS,
      logger,
      drain: () => log.pipeline.drain(),
      partitionChanged: (topic, partition) => log.leaseChanged(topic, partition),
      // reloaded each time: topics created or deleted through other agents
      listTopics: async () => {
        // dynamic broker configs ride along: every agent sees another's AlterConfigs
        await Promise.all([topics.reload(), topics.brokerConfigs.reload()]);
        return topics.list();
      },
      leasesChanged: (c) => (c.change === 'acquired' ? leaseAcquisitions?.inc({ kind: c.kind }, c.count) : leaseLosses?.inc({ kind: c.kind, reason: c.reason }, c.count)),
    });
  const leasedView = clustered ? new LeasedClusterView(clusterId, () => runtime, DEFAULT_COORDINATOR_SHARDS, {
        nodeId: config.nodeId,
        host: config.advertisedListener.host,
        port: config.advertisedListener.port,
        rack: config.rack,
      }) : undefined;
  const cluster = leasedView ?? new SingleAgentClusterView(clusterId, config, () => advertised);
  const coordinatorLocator = leasedView ?? new SingleAgentCoordinatorLocator(cluster);
  const groups = new GroupCoordinator({
    store: metadata.groupOffsets,
    logger,
    locator: coordinatorLocator,
    initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
    offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
  });
  // the gRPC API's group operations go to the group's coordinator, here or on another agent
  // (forwarded over that agent's Kafka listener)
  // a secured inter-broker listener: TLS trusting the configured CA, the broker user's login
  const interListener = config.listeners.find((l) => l.name === config.interBrokerListenerName);
  const interProtocol = interListener?.securityProtocol ?? 'PLAINTEXT';
  const peerSecurity: PeerSecurity = {
    ...(usesTls(interProtocol) ? { tls: config.security.ssl?.caLocation ? { ca: readFileSync(config.security.ssl.caLocation) } : {} } : {}),
    ...(usesSasl(interProtocol) && config.security.interBroker ? { login: config.security.interBroker } : {}),
  };
  const peers = new PeerKafkaClient({ clientId: `streamhouse-agent-${config.agentId}`, security: peerSecurity });
  const groupRouter = new GroupRouter({ coordinator: () => groups, locator: () => coordinatorLocator, selfNodeId: () => cluster.self.nodeId, peers, logger });
  // gRPC consumers' group membership, with partitions assigned by the agents
  const managedMembers = new ManagedGroupMembers({
    coordinator: () => groups,
    locator: () => coordinatorLocator,
    selfNodeId: () => cluster.self.nodeId,
    partitionCounts: async (names) => {
      const counts = new Map<string, number>();
      for (const name of names) {
        const t = await topics.get(name);
        if (t) counts.set(name, t.partitionCount);
      }
      return counts;
    },
    peerSecurity,
    logger,
  });
  registerConsumerGroupMetrics({ registry: metrics.registry, coordinator: groups, store: metadata.groupOffsets, chunks: metadata.chunks, log, logger });
  // what this agent leads: in a cluster the leases it holds; alone, everything
  new Gauge({
    name: 'streamhouse_active_partitions',
    help: 'Partitions this agent leads (holds the lease of, in a cluster)',
    registers: [metrics.registry],
    async collect() {
      if (clustered) this.set(runtime?.heldCounts().partitions ?? 0);
      else this.set((await topics.list()).reduce((n, t) => n + t.partitionCount, 0));
    },
  });
  new Gauge({
    name: 'streamhouse_coordinator_shards',
    help: 'Group-coordinator shards this agent holds (all of them when it runs alone)',
    registers: [metrics.registry],
    collect() {
      this.set(clustered ? (runtime?.heldCounts().coordinatorShards ?? 0) : DEFAULT_COORDINATOR_SHARDS);
    },
  });
  const leads = (topic: string, partition: number) => services.cluster.leaderOf(topic, partition)?.nodeId === services.cluster.self.nodeId;
  const retention = new RetentionEnforcer({
    chunks: metadata.chunks,
    log,
    logger,
    intervalMs: config.retentionCheckIntervalMs,
    leads,
    targets: async () =>
      (await topics.list()).map((t) => ({
        topic: t.name,
        partitions: t.partitionCount,
        policy: {
          retentionMs: topics.policy(t).retentionMs,
          retentionBytes: topics.policy(t).retentionBytes,
          deletes: topics.policy(t).deletes,
        },
      })),
  });
  const compactor = new Compactor({
    agentId: config.agentId,
    metadata,
    objects,
    logger,
    intervalMs: config.compactionIntervalMs,
    smallChunkBytes: config.compactionSmallChunkBytes,
    targetChunkBytes: config.compactionTargetChunkBytes,
    leads,
    targets: async () => (await topics.list()).map((t) => ({ topic: t.name, partitions: t.partitionCount })),
  });
  const meteredLog = new MeteredLog(log, new TopicTrafficMetrics(metrics.registry));
  // docs/security.md: ACLs only with authorizer.class.name; the bindings follow the store
  const authorizer = config.security.authorizer
    ? new Authorizer({ superUsers: config.security.superUsers, allowEveryoneIfNoAclFound: config.security.authorizer.allowEveryoneIfNoAclFound, logger, registry: metrics.registry })
    : undefined;
  const aclSync = authorizer ? new AclSync({ store: metadata.acls, authorizer, logger }) : undefined;
  const partitionRouter = new PartitionRouter({ log: meteredLog, cluster, ...(clustered ? { peers } : {}) });
  // docs/transactions.md: transactional ids live on the group coordinator shards
  const transactions = new TransactionCoordinator({
    store: metadata.transactions,
    groupOffsets: metadata.groupOffsets,
    producers: metadata.producers,
    isLocal: (id) => coordinatorLocator.isLocal(id),
    writeMarker: (marker) => partitionRouter.writeMarker(marker),
    logger,
    maxTimeoutMs: config.transactionMaxTimeoutMs,
    abortIntervalMs: config.transactionAbortIntervalMs,
  });
  log.transactionVerifier = (check) => transactions.verify(check);
  const services: AgentCore = {
    config,
    brokerConfigs: topics.brokerConfigs,
    metadata,
    cluster,
    topics,
    metrics,
    logger,
    log: meteredLog,
    partitionRouter,
    transactions,
    groups,
    coordinators: coordinatorLocator,
    groupRouter,
    managedMembers,
    ...(authorizer && aclSync ? { authorizer, aclSync } : {}),
    onTopicDeleted: (topic: string) => meteredLog.forgetTopic(topic),
  };
  const registry = buildHandlerRegistry();

  // docs/security.md: one Kafka server per listener, TLS files shared and reloaded on one task
  const authenticator = new Authenticator({ credentials: metadata.scramCredentials, config: config.security, logger, registry: metrics.registry });
  let tlsFiles: TlsFiles | undefined;
  try {
    const wantsTls = config.listeners.some((l) => usesTls(l.securityProtocol)) || config.security.http.tls || config.security.grpc.tls;
    if (wantsTls && config.security.ssl !== undefined) tlsFiles = new TlsFiles(config.security.ssl, logger);
  } catch (e) {
    await objects.close();
    await metadata.close();
    throw e;
  }
  const kafkaServers = config.listeners.map((l) => ({
    config: l,
    server: new KafkaServer(services, registry, { name: l.name, securityProtocol: l.securityProtocol, authenticator, ...(usesTls(l.securityProtocol) && tlsFiles ? { tls: tlsFiles } : {}) }),
  }));
  const kafkaServer = {
    get accepting() {
      return kafkaServers.every((k) => k.server.accepting);
    },
    stopAccepting() {
      for (const k of kafkaServers) k.server.stopAccepting();
    },
    async close() {
      await Promise.all(kafkaServers.map((k) => k.server.close()));
    },
  };
  const objectStore: ObjectStore = objects;
  const readinessChecks = new Map<string, ReadinessCheck>([
    [
      'metadata',
      async () => {
        await metadata.cluster.getClusterId();
        return undefined;
      },
    ],
    [
      'objects',
      async () => {
        // one listing of a prefix nothing uses: the store answers, nothing is read
        const listing = objectStore.list(READY_PROBE_PREFIX)[Symbol.asyncIterator]();
        await listing.next();
        await listing.return?.();
        return undefined;
      },
    ],
    [
      'listeners',
      () => {
        const down = [...(kafkaServer.accepting ? [] : ['kafka']), ...(grpc.serving ? [] : ['grpc'])];
        return down.length === 0 ? undefined : `not listening: ${down.join(', ')}`;
      },
    ],
  ]);
  if (clustered) {
    readinessChecks.set('cluster', () => {
      const age = runtime?.viewAgeMs();
      if (age === undefined) return 'cluster view (agents, leases) not loaded yet';
      return age <= config.leaseTtlMs ? undefined : `cluster view is ${Math.round(age)} ms old (lease TTL ${config.leaseTtlMs} ms)`;
    });
  }
  const readiness = new ReadinessProbe(readinessChecks);
  const metricsWarnedAt = new Map<string, number>();
  registerAgentStateMetrics({
    registry: metrics.registry,
    ready: async () => (await readiness.report(READY_GAUGE_MAX_AGE_MS)).ready,
    leaderless: async () => {
      // alone, this agent leads every partition and shard; in a cluster, from the view the
      // runtime keeps (topics from the cache it reloads), nothing leads until it has started
      if (!clustered) return { partitions: 0, coordinatorShards: 0 };
      const list = await topics.list();
      return runtime ? runtime.leaderlessCounts(list) : { partitions: list.reduce((n, t) => n + t.partitionCount, 0), coordinatorShards: DEFAULT_COORDINATOR_SHARDS };
    },
    diskPaths: localDiskPaths(config.storageUrl, config.metadataUrl),
    storedObjects: () => metadata.objects.totals(),
    // once a minute at most per thing: a scrape every few seconds must not flood the log
    failed: (what, err) => {
      const now = performance.now();
      if (now - (metricsWarnedAt.get(what) ?? Number.NEGATIVE_INFINITY) < 60_000) return;
      metricsWarnedAt.set(what, now);
      logger.warn({ err }, `metrics: could not read ${what}`);
    },
  });
  const http = new HttpServer(metrics.registry, {
    core: services,
    authenticator: new DoorAuthenticator(authenticator, config.security.http.authentication, 'http', config.security.ssl?.principalMappingRules),
    ...(config.security.http.tls && tlsFiles ? { tls: tlsFiles } : {}),
    health: {
      ready: () => readiness.report(),
      describe: () => ({ agentId: config.agentId, nodeId: runtime?.self.nodeId ?? config.nodeId, clusterId }),
    },
  });
  let kafka: HostPort;
  const bound: Record<string, HostPort> = {};
  const httpHost = config.httpHost ?? '0.0.0.0';
  const grpcHost = config.grpcHost ?? '0.0.0.0';
  let httpPort: number;
  let grpcPort: number;
  const grpc = new GrpcServer(services, {
    httpPort: () => httpPort,
    authenticator: new DoorAuthenticator(authenticator, config.security.grpc.authentication, 'grpc', config.security.ssl?.principalMappingRules),
    ...(config.security.grpc.tls && tlsFiles ? { tls: tlsFiles } : {}),
  });
  try {
    await groups.start();
    // the bindings are in force before the first client can connect
    await aclSync?.start();
    const created = await authenticator.createBootstrapUsers();
    if (created.length > 0) logger.info({ users: created }, 'created SCRAM users from --add-scram');
    for (const k of kafkaServers) bound[k.config.name] = await k.server.listen(k.config.bind);
    advertised = config.listeners.map((l) => ({ name: l.name, host: l.advertised.host, port: l.advertised.port === 0 ? bound[l.name]!.port : l.advertised.port }));
    kafka = bound[config.interBrokerListenerName] ?? bound[config.listeners[0]!.name]!;
    httpPort = await http.listen(config.httpPort, httpHost);
    grpcPort = await grpc.listen(config.grpcPort, grpcHost);
    if (clustered) {
      const port = config.advertisedListener.port === 0 ? kafka.port : config.advertisedListener.port;
      runtime = newRuntime(config.nodeId, port);
      try {
        await runtime.start();
      } catch (err) {
        // the default node id 0 is taken by another agent: let the registry pick a free one
        if (!isMetadataStoreError(err, 'NODE_ID_IN_USE') || config.nodeId !== 0) throw err;
        runtime = newRuntime(undefined, port);
        await runtime.start();
      }
    }
  } catch (e) {
    await aclSync?.stop();
    await runtime?.stop();
    await grpc.close();
    peers.close();
    managedMembers.close();
    await groups.stop();
    await kafkaServer.close();
    await http.close();
    await objects.close();
    await metadata.close();
    throw e;
  }
  tlsFiles?.start();
  gc.start();
  retention.start();
  if (config.compactionIntervalMs > 0) compactor.start();
  transactions.start();
  logger.info({ kafka: `${kafka.host}:${kafka.port}`, advertised: `${config.advertisedListener.host}:${config.advertisedListener.port}`, listeners: advertised.map((l) => `${l.name}://${formatHostPort(l.host, l.port)}`).join(','), http: formatHostPort(httpHost, httpPort), grpc: formatHostPort(grpcHost, grpcPort), clusterId, nodeId: config.nodeId }, 'StreamHouse agent started');

  let stopping: Promise<void> | undefined;
  return {
    kafka,
    listeners: bound,
    httpPort,
    grpcPort,
    services,
    stop() {
      stopping ??= (async () => {
        // stop taking clients, let queued writes commit and their answers go out, then close
        kafkaServer.stopAccepting();
        await grpc.close();
        peers.close();
        managedMembers.close();
        await groups.stop();
        await transactions.stop();
        // cluster mode: commit what is queued under the leases, then hand them over
        await runtime?.stop();
        await log.close();
        await retention.stop();
        await compactor.stop();
        await gc.stop();
        await tlsFiles?.stop();
        await aclSync?.stop();
        await kafkaServer.close();
        await http.close();
        await objects.close();
        await metadata.close();
        logger.info('StreamHouse agent stopped');
      })();
      return stopping;
    },
  };
}
