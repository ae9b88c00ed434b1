import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { README, readmeWithOptions } from '../../scripts/generate-readme-options.js';
import { resolveStartConfig, START_OPTIONS, type StartConfig } from './start-options.js';

/** Each option's value in a resolved config, as its default is written. */
const SHOWN: Record<string, (c: StartConfig) => string> = {
  'data-dir': (c) => c.dataDir,
  'kafka-listener': (c) => `${c.kafkaListener.host}:${c.kafkaListener.port}`,
  'advertised-listener': (c) => `${c.advertisedListener.host}:${c.advertisedListener.port}`.replace(`:${c.kafkaListener.port}`, ':<kafka port>'),
  'http-listener': (c) => `${c.httpHost}:${c.httpPort}`,
  'http-port': (c) => String(c.httpPort),
  'grpc-listener': (c) => `${c.grpcHost}:${c.grpcPort}`,
  'grpc-port': (c) => String(c.grpcPort),
  metadata: (c) => c.metadataUrl.replace(c.dataDir, '<data-dir>'),
  storage: (c) => c.storageUrl.replace(c.dataDir, '<data-dir>'),
  'agent-id': (c) => (c.agentId === hostname() ? 'host name' : c.agentId),
  'node-id': (c) => String(c.nodeId),
  'log-level': (c) => c.logLevel,
  'flush-interval-ms': (c) => `${c.flushIntervalMs} with a local directory, 100 with S3`,
  'flush-max-bytes': (c) => String(c.flushMaxBytes),
  'auto-create-topics': (c) => String(c.autoCreateTopics),
  'object-gc-grace-ms': (c) => String(c.objectGcGraceMs),
  'retention-check-interval-ms': (c) => String(c.retentionCheckIntervalMs),
  'compaction-interval-ms': (c) => String(c.compactionIntervalMs),
  'default-partitions': (c) => String(c.defaultPartitions),
  cluster: (c) => c.clusterMode,
  'heartbeat-interval-ms': (c) => String(c.heartbeatIntervalMs),
  'lease-ttl-ms': (c) => String(c.leaseTtlMs),
  'group-initial-rebalance-delay-ms': (c) => String(c.groupInitialRebalanceDelayMs),
};

describe('start options', () => {
  it('show the defaults the broker really starts with', () => {
    const resolved = resolveStartConfig({}, {});
    expect(START_OPTIONS.map((o) => [o.flag, o.defaultText])).toEqual(START_OPTIONS.map((o) => [o.flag, SHOWN[o.flag]?.(resolved) ?? 'no check for this option']));
    expect(resolveStartConfig({}, { STREAMHOUSE_STORAGE_URL: 's3://b/p' }).flushIntervalMs).toBe(100);
  });

  it('are listed in the README table exactly as generated (npm run generate:readme)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toBe(readmeWithOptions(readme));
    for (const o of START_OPTIONS) expect(readme).toContain(`| \`--${o.flag}\` | \`${o.env}\` |`);
  });
});
