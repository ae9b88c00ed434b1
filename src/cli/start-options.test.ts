import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { README, readmeWithOptions } from '../../scripts/generate-readme-options.js';
import { ConfigError } from '../agent/config/broker-config.js';
import { addStartOptions, START_OPTIONS, startConfig, STORE_OPTION_FLAGS, storeConfig, type StartConfig, type StartOptionValues, type StoreConfig } from './start-options.js';

/**
 * Parses `argv` (the arguments after `start`) as `streamhouse start` does, with `env` as the
 * whole environment: commander reads process.env, so it is swapped in for the parse and restored.
 */
function resolveStartConfig(argv: string[], env: Record<string, string> = {}): StartConfig {
  const saved = process.env;
  process.env = { ...env };
  try {
    const command = addStartOptions(new Command('start'))
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    command.parse(argv, { from: 'user' });
    return startConfig(command);
  } finally {
    process.env = saved;
  }
}

/** The ConfigError message resolving throws, or a failure. */
function configError(argv: string[], env: Record<string, string> = {}): string {
  try {
    resolveStartConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('resolved without a ConfigError');
}

/** Each option's value in a resolved config, as its default is written. */
const SHOWN: Record<string, (c: StartConfig) => string> = {
  'data-dir': (c) => c.dataDir,
  'kafka-listener': (c) => `${c.kafkaListener.host}:${c.kafkaListener.port}`,
  'advertised-listener': (c) => `${c.advertisedListener.host}:${c.advertisedListener.port}`.replace(`:${c.kafkaListener.port}`, ':<kafka port>'),
  listeners: (c) => c.listeners.map((l) => `${l.name}://${l.bind.host}:${l.bind.port}`).join(',').replace(`${c.kafkaListener.host}:${c.kafkaListener.port}`, '<kafka listener>'),
  'advertised-listeners': (c) => (c.listeners[0]?.advertised.host === 'localhost' && c.listeners[0]?.advertised.port === c.listeners[0]?.bind.port ? "each listener's host (localhost for every interface) and port" : 'other'),
  'listener-security-protocol-map': () => 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
  'inter-broker-listener-name': (c) => (c.interBrokerListenerName === c.listeners[0]?.name ? 'the first listener' : c.interBrokerListenerName),
  'ssl-certificate-location': (c) => c.security.ssl?.certificateLocation ?? 'none',
  'ssl-key-location': (c) => c.security.ssl?.keyLocation ?? 'none',
  'ssl-key-password': (c) => (c.security.ssl?.keyPassword === undefined ? 'none' : 'set'),
  'ssl-ca-location': (c) => c.security.ssl?.caLocation ?? 'none',
  'ssl-client-auth': (c) => c.security.ssl?.clientAuth ?? 'none',
  'ssl-principal-mapping-rules': (c) => c.security.ssl?.principalMappingRules ?? 'DEFAULT',
  'ssl-reload-interval-ms': (c) => String(c.security.ssl?.reloadIntervalMs ?? 60000),
  'sasl-enabled-mechanisms': (c) => c.security.saslEnabledMechanisms.join(','),
  'sasl-oauthbearer-jwks-endpoint-url': (c) => c.security.oauthBearer?.jwksEndpointUrl ?? 'none',
  'sasl-oauthbearer-expected-issuer': (c) => c.security.oauthBearer?.expectedIssuer ?? 'any',
  'sasl-oauthbearer-expected-audience': (c) => c.security.oauthBearer?.expectedAudience?.join(',') ?? 'any',
  'sasl-oauthbearer-sub-claim-name': (c) => c.security.oauthBearer?.subClaimName ?? 'sub',
  'sasl-oauthbearer-clock-skew-seconds': (c) => String(c.security.oauthBearer?.clockSkewSeconds ?? 30),
  'sasl-oauthbearer-jwks-endpoint-refresh-ms': (c) => String(c.security.oauthBearer?.jwksRefreshMs ?? 3600000),
  'sasl-mechanism-inter-broker-protocol': (c) => c.security.interBroker?.mechanism ?? 'SCRAM-SHA-512',
  'inter-broker-sasl-username': (c) => c.security.interBroker?.username ?? 'none',
  'inter-broker-sasl-password': (c) => (c.security.interBroker === undefined ? 'none' : 'set'),
  'connections-max-reauth-ms': (c) => String(c.security.connectionsMaxReauthMs),
  'connection-failed-authentication-delay-ms': (c) => String(c.security.failedAuthenticationDelayMs),
  'super-users': (c) => (c.security.superUsers.length === 0 ? 'none' : 'set'),
  'add-scram': (c) => (c.security.bootstrapScramUsers.length === 0 ? 'none' : 'set'),
  'authorizer-class-name': (c) => c.security.authorizer?.className ?? 'none (no authorization)',
  'allow-everyone-if-no-acl-found': (c) => String(c.security.authorizer?.allowEveryoneIfNoAclFound ?? false),
  'http-listener': (c) => `${c.httpHost}:${c.httpPort}`,
  'http-port': (c) => String(c.httpPort),
  'grpc-listener': (c) => `${c.grpcHost}:${c.grpcPort}`,
  'grpc-port': (c) => String(c.grpcPort),
  'http-tls': (c) => String(c.security.http.tls),
  'http-authentication': (c) => c.security.http.authentication,
  'grpc-tls': (c) => String(c.security.grpc.tls),
  'grpc-authentication': (c) => c.security.grpc.authentication,
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
  'transaction-max-timeout-ms': (c) => String(c.transactionMaxTimeoutMs),
  'transaction-abort-timed-out-transaction-cleanup-interval-ms': (c) => String(c.transactionAbortIntervalMs),
  'default-partitions': (c) => String(c.defaultPartitions),
  cluster: (c) => c.clusterMode,
  'heartbeat-interval-ms': (c) => String(c.heartbeatIntervalMs),
  'lease-ttl-ms': (c) => String(c.leaseTtlMs),
  'group-initial-rebalance-delay-ms': (c) => String(c.groupInitialRebalanceDelayMs),
};

describe('start options', () => {
  it('show the defaults the broker really starts with', () => {
    const resolved = resolveStartConfig([]);
    expect(START_OPTIONS.map((o) => [o.flag, o.defaultText])).toEqual(START_OPTIONS.map((o) => [o.flag, SHOWN[o.flag]?.(resolved) ?? 'no check for this option']));
    expect(resolveStartConfig([], { STREAMHOUSE_STORAGE_URL: 's3://b/p' }).flushIntervalMs).toBe(100);
  });

  it('are listed in the README table exactly as generated (npm run generate:readme)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toBe(readmeWithOptions(readme));
    for (const o of START_OPTIONS) expect(readme).toContain(`| \`--${o.flag}\` | \`${o.env}\` |`);
  });

  it('--help lists every option with its default and environment variable', () => {
    let help = '';
    const command = addStartOptions(new Command('start')).configureOutput({ writeOut: (t) => (help += t) });
    command.outputHelp();
    const flat = help.replace(/\s+/g, ' ');
    for (const o of START_OPTIONS) expect(flat).toContain(`--${o.flag} <value> ${o.description} (default: ${o.defaultText}, env: ${o.env})`);
  });
});

describe('start options: flags, environment variables, defaults', () => {
  it('fall back to the environment variable', () => {
    const c = resolveStartConfig([], { STREAMHOUSE_NODE_ID: '7', STREAMHOUSE_KAFKA_LISTENER: '127.0.0.1:19092', STREAMHOUSE_CLUSTER: 'false' });
    expect(c.nodeId).toBe(7);
    expect(c.kafkaListener).toEqual({ host: '127.0.0.1', port: 19092 });
    expect(c.advertisedListener).toEqual({ host: '127.0.0.1', port: 19092 });
    expect(c.clusterMode).toBe('off');
  });

  it('a flag beats its environment variable, which is then not even parsed', () => {
    expect(resolveStartConfig(['--node-id', '3'], { STREAMHOUSE_NODE_ID: '7' }).nodeId).toBe(3);
    expect(resolveStartConfig(['--node-id', '3'], { STREAMHOUSE_NODE_ID: 'seven' }).nodeId).toBe(3);
    expect(resolveStartConfig(['--data-dir', '/tmp/flag'], { STREAMHOUSE_DATA_DIR: '/tmp/env' }).metadataUrl).toBe('sqlite:///tmp/flag/metadata.db');
  });

  it('an empty environment variable counts as unset', () => {
    const empty = Object.fromEntries(START_OPTIONS.map((o) => [o.env, '']));
    expect(resolveStartConfig([], { ...empty, DATABASE_URL: '' })).toEqual(resolveStartConfig([]));
    // an empty listener does not meet a port from the environment as "the same source"
    expect(resolveStartConfig([], { STREAMHOUSE_HTTP_LISTENER: '', STREAMHOUSE_HTTP_PORT: '18081' })).toMatchObject({ httpHost: '0.0.0.0', httpPort: 18081 });
  });

  it('an empty flag counts as not given', () => {
    expect(resolveStartConfig(['--data-dir', '', '--node-id', ''], { STREAMHOUSE_DATA_DIR: '/tmp/env' })).toMatchObject({ dataDir: '/tmp/env', nodeId: 0 });
  });

  it('DATABASE_URL stands in for --metadata, checked the same way', () => {
    expect(resolveStartConfig([], { DATABASE_URL: 'postgres://u:p@db/sh' }).metadataUrl).toBe('postgres://u:p@db/sh');
    expect(resolveStartConfig([], { DATABASE_URL: 'postgres://u:p@db/sh', STREAMHOUSE_METADATA_URL: 'sqlite://m.db' }).metadataUrl).toBe('sqlite://m.db');
    expect(configError([], { DATABASE_URL: 'mysql://u:secret@db/sh' })).toBe('--metadata must be sqlite://path or postgres://..., got "mysql://u:***@db/sh"');
  });

  it('keep the messages of bad values, from a flag or the environment', () => {
    expect(configError(['--node-id', 'abc'])).toBe('--node-id must be an integer, got "abc"');
    expect(configError([], { STREAMHOUSE_NODE_ID: 'abc' })).toBe('--node-id must be an integer, got "abc"');
    expect(configError(['--flush-max-bytes', '10'])).toBe('--flush-max-bytes must be between 1024 and 1073741824, got 10');
    expect(configError(['--http-listener', 'localhost'])).toBe('--http-listener must be host:port, got "localhost"');
    expect(configError(['--advertised-listener', '0.0.0.0:9092'])).toBe('--advertised-listener needs a host clients can reach, not 0.0.0.0');
    expect(configError(['--storage', 'ftp://x'])).toBe('--storage must be file://dir or s3://bucket/prefix, got "ftp://x"');
    expect(configError(['--log-level', 'loud'])).toBe('--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"');
    expect(configError(['--auto-create-topics', 'yes'])).toBe('--auto-create-topics must be true or false, got "yes"');
    expect(configError(['--cluster', 'maybe'])).toBe('--cluster must be auto, true or false, got "maybe"');
    expect(configError(['--heartbeat-interval-ms', '10000'])).toBe('--lease-ttl-ms (15000) must be at least twice --heartbeat-interval-ms (10000)');
  });

  it('read Kafka listeners, their protocols and advertised addresses', () => {
    const c = resolveStartConfig([
      '--listeners', 'PLAINTEXT://127.0.0.1:9092,sasl_ssl://:9094,INTERNAL://10.0.0.5:9095',
      '--advertised-listeners', 'SASL_SSL://kafka.example.com:19094',
      '--listener-security-protocol-map', 'PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,INTERNAL:SSL',
      '--ssl-certificate-location', '/etc/sh/cert.pem', '--ssl-key-location', '/etc/sh/key.pem',
    ]);
    expect(c.listeners).toEqual([
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', bind: { host: '127.0.0.1', port: 9092 }, advertised: { host: '127.0.0.1', port: 9092 } },
      { name: 'SASL_SSL', securityProtocol: 'SASL_SSL', bind: { host: '', port: 9094 }, advertised: { host: 'kafka.example.com', port: 19094 } },
      { name: 'INTERNAL', securityProtocol: 'SSL', bind: { host: '10.0.0.5', port: 9095 }, advertised: { host: '10.0.0.5', port: 9095 } },
    ]);
    expect(c.interBrokerListenerName).toBe('PLAINTEXT');
    expect(c.kafkaListener).toEqual({ host: '127.0.0.1', port: 9092 });
    // the single-listener flags keep working as before
    expect(resolveStartConfig(['--kafka-listener', '0.0.0.0:19092']).listeners).toEqual([
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', bind: { host: '0.0.0.0', port: 19092 }, advertised: { host: 'localhost', port: 19092 } },
    ]);
    expect(resolveStartConfig([], { STREAMHOUSE_LISTENERS: 'SASL_PLAINTEXT://:9093' }).listeners[0]?.securityProtocol).toBe('SASL_PLAINTEXT');
  });

  it('refuse listener combinations that cannot work, naming the option', () => {
    expect(configError(['--listeners', 'PLAINTEXT://:9092', '--kafka-listener', ':9093'])).toMatch(/give one of them/);
    expect(configError(['--listeners', 'EXTERNAL://:9092'])).toMatch(/EXTERNAL has no security protocol/);
    expect(configError(['--listeners', 'SSL://:9093'])).toMatch(/give --ssl-certificate-location/);
    expect(configError(['--listeners', 'PLAINTEXT://:9092', '--advertised-listeners', 'SSL://h:9093'])).toMatch(/not one of --listeners/);
    expect(configError(['--listeners', 'PLAINTEXT://:9092,SASL_PLAINTEXT://:9092'])).toMatch(/both bind port 9092/);
    expect(configError(['--listeners', 'nonsense'])).toMatch(/^--listeners must be NAME:\/\/host:port/);
    expect(configError(['--listeners', 'SASL_PLAINTEXT://:9093', '--cluster', 'true'])).toMatch(/inter-broker listener \(SASL_PLAINTEXT\) is SASL_PLAINTEXT: give --inter-broker-sasl-username/);
    expect(configError(['--listeners', 'SASL_PLAINTEXT://:9093', '--cluster', 'true', '--inter-broker-sasl-username', 'broker'])).toMatch(/--inter-broker-sasl-username and --inter-broker-sasl-password go together/);
    expect(configError(['--listeners', 'SASL_PLAINTEXT://:9093', '--cluster', 'true', '--inter-broker-sasl-username', 'b', '--inter-broker-sasl-password', 'p', '--sasl-enabled-mechanisms', 'PLAIN'])).toMatch(/SCRAM-SHA-512 is not in --sasl-enabled-mechanisms/);
    expect(configError(['--listeners', 'SSL://:9093', '--ssl-certificate-location', '/etc/hostname', '--ssl-key-location', '/etc/hostname', '--cluster', 'true'])).toMatch(/cannot be SSL/);
    expect(configError(['--sasl-mechanism-inter-broker-protocol', 'GSSAPI'])).toMatch(/must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512/);
    expect(configError(['--ssl-client-auth', 'required'])).toMatch(/needs --ssl-ca-location/);
    expect(configError(['--sasl-enabled-mechanisms', 'GSSAPI'])).toMatch(/GSSAPI is not supported/);
    expect(configError(['--ssl-principal-mapping-rules', 'RULE:^CN=(.*$/$1/'])).toMatch(/invalid pattern/);
  });

  it('read SCRAM users to create in Kafka\'s --add-scram form and never repeat a password in an error', () => {
    const c = resolveStartConfig([], { STREAMHOUSE_ADD_SCRAM: 'SCRAM-SHA-256=[name=alice,password=pa,ss=word];SCRAM-SHA-512=[name=bob,password=bobs-secret,iterations=8192]' });
    expect(c.security.bootstrapScramUsers).toEqual([
      { mechanism: 'SCRAM-SHA-256', name: 'alice', password: 'pa,ss=word', iterations: 4096 },
      { mechanism: 'SCRAM-SHA-512', name: 'bob', password: 'bobs-secret', iterations: 8192 },
    ]);
    for (const bad of ['SCRAM-SHA-1=[name=a,password=topsecret]', 'SCRAM-SHA-256=[name=a,password=topsecret,iterations=10]', 'SCRAM-SHA-256=[password=topsecret]', 'topsecret']) {
      expect(configError(['--add-scram', bad])).not.toContain('topsecret');
    }
    expect(resolveStartConfig(['--super-users', 'User:admin;User:ops']).security.superUsers).toEqual([{ type: 'User', name: 'admin' }, { type: 'User', name: 'ops' }]);
  });

  it('turn the authorizer on with Kafka\'s class names only', () => {
    expect(resolveStartConfig([]).security.authorizer).toBeUndefined();
    expect(resolveStartConfig(['--authorizer-class-name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer']).security.authorizer).toEqual({ className: 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', allowEveryoneIfNoAclFound: false });
    expect(resolveStartConfig([], { STREAMHOUSE_AUTHORIZER_CLASS_NAME: 'kafka.security.authorizer.AclAuthorizer', STREAMHOUSE_ALLOW_EVERYONE_IF_NO_ACL_FOUND: 'true' }).security.authorizer).toEqual({ className: 'kafka.security.authorizer.AclAuthorizer', allowEveryoneIfNoAclFound: true });
    expect(configError(['--authorizer-class-name', 'com.example.MyAuthorizer'])).toBe('--authorizer-class-name must be org.apache.kafka.metadata.authorizer.StandardAuthorizer or kafka.security.authorizer.AclAuthorizer, got "com.example.MyAuthorizer"');
  });

  it('usage errors stay commander errors', () => {
    expect(() => resolveStartConfig(['--no-such-flag'])).toThrow(CommanderError);
    expect(() => resolveStartConfig(['--data-dir'])).toThrow(CommanderError);
  });

  it('are typed as their parsers return', () => {
    const values: StartOptionValues = { nodeId: 1, kafkaListener: { host: 'h', port: 1 }, cluster: 'on', autoCreateTopics: false };
    // @ts-expect-error a node id is a number
    values.nodeId = '1';
    expect(values.cluster).toBe('on');
  });
});

describe('start options: --http-listener / --http-port (and gRPC)', () => {
  it('a listener binds its host, a port every interface', () => {
    expect(resolveStartConfig(['--http-listener', '127.0.0.1:18080', '--grpc-port', '15051'])).toMatchObject({ httpHost: '127.0.0.1', httpPort: 18080, grpcHost: '0.0.0.0', grpcPort: 15051 });
    expect(resolveStartConfig(['--grpc-listener', ':15051'])).toMatchObject({ grpcHost: '0.0.0.0', grpcPort: 15051 });
  });

  it('a listener and a port from the same source must agree', () => {
    expect(resolveStartConfig(['--http-listener', '127.0.0.1:18080', '--http-port', '18080'])).toMatchObject({ httpHost: '127.0.0.1', httpPort: 18080 });
    expect(configError(['--http-listener', '127.0.0.1:18080', '--http-port', '18081'])).toBe('--http-listener 127.0.0.1:18080 and --http-port 18081 name different ports; give one of them');
    expect(configError([], { STREAMHOUSE_GRPC_LISTENER: '127.0.0.1:15050', STREAMHOUSE_GRPC_PORT: '15051' })).toBe('--grpc-listener 127.0.0.1:15050 and --grpc-port 15051 name different ports; give one of them');
  });

  it('a flag of either beats the environment variables of both', () => {
    expect(resolveStartConfig(['--http-listener', '127.0.0.1:18080'], { STREAMHOUSE_HTTP_PORT: '18081' })).toMatchObject({ httpHost: '127.0.0.1', httpPort: 18080 });
    expect(resolveStartConfig(['--http-port', '18082'], { STREAMHOUSE_HTTP_LISTENER: '127.0.0.1:18080', STREAMHOUSE_HTTP_PORT: '18081' })).toMatchObject({ httpHost: '0.0.0.0', httpPort: 18082 });
    // the environment variables that lose are not parsed either
    expect(resolveStartConfig(['--grpc-port', '15051'], { STREAMHOUSE_GRPC_LISTENER: '127.0.0.1:grpc' })).toMatchObject({ grpcHost: '0.0.0.0', grpcPort: 15051 });
    expect(resolveStartConfig(['--grpc-listener', '127.0.0.1:15051'], { STREAMHOUSE_GRPC_PORT: 'abc' })).toMatchObject({ grpcHost: '127.0.0.1', grpcPort: 15051 });
  });

  it('the environment beats the defaults', () => {
    expect(resolveStartConfig([], { STREAMHOUSE_HTTP_LISTENER: '127.0.0.1:18080' })).toMatchObject({ httpHost: '127.0.0.1', httpPort: 18080 });
    expect(resolveStartConfig([], { STREAMHOUSE_HTTP_PORT: '18081' })).toMatchObject({ httpHost: '0.0.0.0', httpPort: 18081 });
  });
});

describe('the store options (streamhouse doctor)', () => {
  function resolveStoreConfig(argv: string[], env: Record<string, string> = {}): StoreConfig {
    const saved = process.env;
    process.env = { ...env };
    try {
      const command = addStartOptions(new Command('doctor'), STORE_OPTION_FLAGS)
        .exitOverride()
        .configureOutput({ writeErr: () => {}, writeOut: () => {} });
      command.parse(argv, { from: 'user' });
      return storeConfig(command, process.env);
    } finally {
      process.env = saved;
    }
  }

  it('takes only the store flags, with the defaults, environment variables and DATABASE_URL of start', () => {
    const command = addStartOptions(new Command('doctor'), STORE_OPTION_FLAGS);
    expect(command.options.map((o) => o.long)).toEqual(STORE_OPTION_FLAGS.map((f) => `--${f}`));
    expect(resolveStoreConfig([])).toEqual({
      dataDir: './data',
      metadataUrl: 'sqlite://./data/metadata.db',
      storageUrl: 'file://./data/objects',
      clustered: false,
      heartbeatIntervalMs: 5000,
      leaseTtlMs: 15000,
    });
    expect(resolveStoreConfig(['--data-dir', '/srv/sh'])).toMatchObject({ metadataUrl: 'sqlite:///srv/sh/metadata.db', storageUrl: 'file:///srv/sh/objects' });
    expect(resolveStoreConfig([], { DATABASE_URL: 'postgres://db/sh', STREAMHOUSE_STORAGE_URL: 's3://b/p', STREAMHOUSE_LEASE_TTL_MS: '3000', STREAMHOUSE_HEARTBEAT_INTERVAL_MS: '1000' })).toEqual({
      dataDir: './data',
      metadataUrl: 'postgres://db/sh',
      storageUrl: 's3://b/p',
      clustered: true,
      heartbeatIntervalMs: 1000,
      leaseTtlMs: 3000,
    });
    expect(resolveStoreConfig(['--metadata', 'postgres://db/sh', '--cluster', 'false']).clustered).toBe(false);
    expect(resolveStoreConfig(['--cluster', 'true']).clustered).toBe(true);
    expect(() => resolveStoreConfig(['--kafka-listener', '0.0.0.0:1'])).toThrow(CommanderError);
    expect(() => resolveStoreConfig(['--lease-ttl-ms', '2000', '--heartbeat-interval-ms', '1500'])).toThrow(ConfigError);
  });
});
