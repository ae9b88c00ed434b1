#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { Command } from 'commander';
import { startBroker } from '../broker/broker.js';
import { ConfigError } from '../broker/config/broker-config.js';
import { createLogger } from '../broker/logger.js';
import { START_OPTIONS, resolveStartConfig } from './start-options.js';
import { VERSION } from '../version.js';

// The AWS SDK warns on every start that Node 20 support ends; operators cannot act on it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command();
program.name('streamhouse').description('StreamHouse: a Kafka-compatible broker on object storage').version(VERSION);

const start = program.command('start').description('run one agent (embedded SQLite + local directory by default)');
for (const opt of START_OPTIONS) start.option(`--${opt.flag} <value>`, `${opt.description} [env ${opt.env}]`);
start.action(async (flags: Record<string, string | undefined>) => {
  let config;
  try {
    config = resolveStartConfig(flags);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`streamhouse: invalid configuration: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  if (config.metadataUrl.startsWith('sqlite://') || config.storageUrl.startsWith('file://')) mkdirSync(config.dataDir, { recursive: true });
  let broker;
  try {
    broker = await startBroker(config, logger);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`streamhouse: cannot start: ${message}\n`);
    process.exit(1);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(130);
    logger.info({ signal }, 'shutting down');
    broker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
});

await program.parseAsync(process.argv);
