#!/usr/bin/env node
import { dirname, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { startAgent } from '../server/start-agent.js';
import { ConfigError } from '../agent/config/broker-config.js';
import { createLogger } from '../broker/logger.js';
import { parseMetadataStoreUrl } from '../metadata/open-metadata-store.js';
import { SQLITE_MEMORY_PATH } from '../metadata/sqlite/sqlite-metadata-store.js';
import { localPathFromUrl } from '../storage/open-object-store.js';
import { LocalDirectoryError, prepareLocalDirectories, type LocalDirectory } from './local-directories.js';
import { addStartOptions, startConfig, type StartConfig } from './start-options.js';
import { registerDoctorCommand } from './doctor/doctor-command.js';
import { VERSION } from '../version.js';

/** Exit code of a configuration or usage error (a bad flag, a data directory it cannot use). */
const EXIT_USAGE = 2;

// The AWS SDK warns on every start that Node 20 support ends; operators cannot act on it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The local directories the stores will write to: the SQLite file's directory and the root of
 * a file:// object store. Created here, one level at a time and checked for writing, so that
 * a path that cannot work ends the start with one line (the stores' own recursive mkdir would
 * spin on procfs). URLs the stores will reject are left to them.
 */
function localDirectories(config: StartConfig): LocalDirectory[] {
  const dataDir = resolve(config.dataDir);
  const name = (dir: string, label: string): LocalDirectory =>
    resolve(dir) === dataDir ? { dir: config.dataDir, label: 'data directory' } : { dir, label };
  const dirs: LocalDirectory[] = [];
  try {
    const location = parseMetadataStoreUrl(config.metadataUrl);
    if (location.kind === 'sqlite' && location.path !== SQLITE_MEMORY_PATH) dirs.push(name(dirname(location.path), 'metadata directory'));
  } catch {
    // an unsupported metadata URL: openMetadataStore says so
  }
  if (config.storageUrl.toLowerCase().startsWith('file://')) {
    try {
      dirs.push(name(localPathFromUrl(config.storageUrl), 'storage directory'));
    } catch {
      // a malformed file:// URL: openObjectStore says so
    }
  }
  return dirs;
}

const program = new Command();
program.name('streamhouse').description('StreamHouse: a Kafka-compatible broker on object storage').version(VERSION);

const start = addStartOptions(program.command('start').description('run one agent (embedded SQLite + local directory by default)'));
const doctor = registerDoctorCommand(program);
// usage errors (unknown flag, missing value, unknown command, an argParser's InvalidArgumentError)
// are one line and exit 2
for (const cmd of [program, start, doctor]) {
  cmd.exitOverride();
  cmd.configureOutput({ outputError: (text, write) => write(`streamhouse: ${text.replace(/^error: /, '')}`) });
}
/** A bad value or combination of options: one line, exit 2. */
function exitInvalidConfiguration(e: ConfigError): never {
  process.stderr.write(`streamhouse: invalid configuration: ${e.message.split('\n')[0]}\n`);
  process.exit(EXIT_USAGE);
}

start.action(async (_options: unknown, command: Command) => {
  let config: StartConfig;
  try {
    config = startConfig(command);
  } catch (e) {
    if (e instanceof ConfigError) exitInvalidConfiguration(e);
    throw e;
  }
  try {
    prepareLocalDirectories(localDirectories(config));
  } catch (e) {
    if (e instanceof LocalDirectoryError) {
      process.stderr.write(`streamhouse: ${e.message}\n`);
      process.exit(EXIT_USAGE);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  let broker;
  try {
    broker = await startAgent(config, logger);
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

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // the option parsers throw ConfigError for a bad flag or environment value
  if (e instanceof ConfigError) exitInvalidConfiguration(e);
  if (!(e instanceof CommanderError)) throw e;
  // --help and --version end with 0; commander already printed the one-line error
  process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
}
