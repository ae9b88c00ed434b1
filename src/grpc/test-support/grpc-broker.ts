import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAgent, type RunningAgent } from '../../server/start-agent.js';
import { defaultBrokerConfig, type BrokerConfig } from '../../agent/config/broker-config.js';

export interface GrpcTestBroker {
  readonly broker: RunningAgent;
  readonly address: string;
  close(): Promise<void>;
}

/** An in-process agent (in-memory SQLite and object store) with its gRPC API on a free port. */
export async function startGrpcTestBroker(overrides: Partial<BrokerConfig> = {}): Promise<GrpcTestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'streamhouse-grpc-'));
  const config = defaultBrokerConfig({
    dataDir,
    metadataUrl: 'sqlite::memory:',
    storageUrl: 'memory://',
    kafkaListener: { host: '127.0.0.1', port: 0 },
    advertisedListener: { host: '127.0.0.1', port: 9092 },
    httpPort: 0,
    grpcPort: 0,
    autoCreateTopics: false,
    flushIntervalMs: 2,
    ...overrides,
  });
  const broker = await startAgent(config, pino({ level: 'silent' }));
  return {
    broker,
    address: `http://127.0.0.1:${broker.grpcPort}`,
    async close() {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
