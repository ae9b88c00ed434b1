import { Help, Option, type Command } from 'commander';
import type { ApiListenerHosts } from '../server/start-agent.js';
import { ConfigError, defaultBrokerConfig, parseHostPort, type BrokerConfig, type HostPort } from '../agent/config/broker-config.js';
import { DEFAULT_PROTOCOL_MAP, parseListenerList, parseProtocolMap, resolveListeners } from '../agent/config/listeners.js';
import {
  checkMappingRules,
  defaultSecurityConfig,
  parseAddScram,
  parseClientAuth,
  parseDoorAuthentication,
  parseSaslMechanisms,
  parseSuperUsersOption,
  parseAuthorizerClassName,
  type BootstrapScramUser,
  type SecurityConfig,
} from '../agent/config/security-config.js';
import type { KafkaPrincipal } from '../agent/security/principal.js';
import type { DoorAuthenticationMode } from '../agent/security/door-authenticator.js';
import type { OAuthBearerConfig } from '../agent/security/jwt-validator.js';
import type { PeerLogin } from '../agent/cluster/peer-kafka-client.js';

/** Turns an option's text into its value, or throws ConfigError with one line; `what` is `--<flag>`. */
type Parse<T> = (text: string, what: string) => T;

/**
 * One option of `streamhouse start`, declared once: its flag, environment variable, --help and
 * README text, and parser. Commander applies the environment variable and the default.
 */
export interface StartOption<T = unknown> {
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  /** The default as shown in --help and the README; unless `derived`, a value `parse` accepts and commander applies. */
  readonly defaultText: string;
  /** The default depends on other options: defaultBrokerConfig derives it, commander applies none. */
  readonly derived?: true;
  /** The flag of the other half of a listener/port pair: given as a flag, it beats this option's environment variable too. */
  readonly envYieldsTo?: string;
  readonly parse: Parse<T>;
}

function option<const F extends string, T>(spec: StartOption<T> & { readonly flag: F }): StartOption<T> & { readonly flag: F } {
  return spec;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

const text: Parse<string> = (value) => value;

function integer(min: number, max: number): Parse<number> {
  return (value, what) => {
    if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(`${what} must be an integer, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new ConfigError(`${what} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

const hostPort: Parse<HostPort> = (value, what) => parseHostPort(value, what);

/** An http:// or https:// URL (the credentials part, if any, is never repeated in an error). */
const httpUrl: Parse<string> = (value, what) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${what} must be an http:// or https:// URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${what} must be an http:// or https:// URL, got ${url.protocol}`);
  return value;
};

const interBrokerMechanism: Parse<PeerLogin['mechanism']> = (value, what) => {
  const v = value.trim().toUpperCase();
  if (v !== 'PLAIN' && v !== 'SCRAM-SHA-256' && v !== 'SCRAM-SHA-512') throw new ConfigError(`${what} must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got "${value}"`);
  return v;
};

const commaList: Parse<string[]> = (value, what) => {
  const items = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (items.length === 0) throw new ConfigError(`${what} needs at least one value`);
  return items;
};

/** An HTTP or gRPC listener: an empty host binds every interface; `text` is kept for error messages. */
export interface ApiListener extends HostPort {
  readonly text: string;
}

const apiListener: Parse<ApiListener> = (value, what) => {
  const hp = parseHostPort(value, what);
  return { host: hp.host === '' ? '0.0.0.0' : hp.host, port: hp.port, text: value };
};

const advertisedListener: Parse<HostPort> = (value, what) => {
  const hp = parseHostPort(value, what);
  if (hp.host === '' || hp.host === '0.0.0.0') throw new ConfigError(`${what} needs a host clients can reach, not 0.0.0.0`);
  return hp;
};

const metadataUrl: Parse<string> = (value, what) => {
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(value)) throw new ConfigError(`${what} must be sqlite://path or postgres://..., got "${value.replace(/:[^:@/]*@/, ':***@')}"`);
  return value;
};

const storageUrl: Parse<string> = (value, what) => {
  if (!/^(file:\/\/|s3:\/\/)/.test(value)) throw new ConfigError(`${what} must be file://dir or s3://bucket/prefix, got "${value}"`);
  return value;
};

const agentId: Parse<string> = (value, what) => {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(value)) throw new ConfigError(`${what} may use letters, digits, '.', '_' and '-' (1-128 characters), got "${value}"`);
  return value;
};

const logLevel: Parse<string> = (value, what) => {
  if (!LOG_LEVELS.includes(value)) throw new ConfigError(`${what} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return value;
};

const boolean: Parse<boolean> = (value, what) => {
  if (value !== 'true' && value !== 'false') throw new ConfigError(`${what} must be true or false, got "${value}"`);
  return value === 'true';
};

const clusterMode: Parse<BrokerConfig['clusterMode']> = (value, what) => {
  if (!['auto', 'true', 'false'].includes(value)) throw new ConfigError(`${what} must be auto, true or false, got "${value}"`);
  return value === 'true' ? 'on' : value === 'false' ? 'off' : 'auto';
};

/** Kept as given (resolveListeners reads it with the others), checked here so the message names the flag. */
const listenerList: Parse<string> = (value, what) => {
  parseListenerList(value, what);
  return value;
};

const protocolMap: Parse<string> = (value, what) => {
  parseProtocolMap(value, what);
  return value;
};

const listenerName: Parse<string> = (value, what) => {
  if (!/^[A-Za-z0-9_]+$/.test(value)) throw new ConfigError(`${what} must be a listener name, got "${value}"`);
  return value.toUpperCase();
};

const fileLocation: Parse<string> = (value) => value;
const mappingRules: Parse<string> = (value, what) => checkMappingRules(value, what);
const saslMechanisms: Parse<string[]> = (value, what) => parseSaslMechanisms(value, what);
const clientAuth: Parse<'required' | 'requested' | 'none'> = (value, what) => parseClientAuth(value, what);
const doorAuthentication: Parse<DoorAuthenticationMode> = (value, what) => parseDoorAuthentication(value, what);
const superUsers: Parse<KafkaPrincipal[]> = (value, what) => parseSuperUsersOption(value, what);
const authorizerClassName: Parse<string> = (value, what) => parseAuthorizerClassName(value, what);
const addScram: Parse<BootstrapScramUser[]> = (value, what) => parseAddScram(value, what);

const SPECS = [
  option({ flag: 'data-dir', env: 'STREAMHOUSE_DATA_DIR', description: 'directory for embedded metadata and objects', defaultText: './data', parse: text }),
  option({ flag: 'kafka-listener', env: 'STREAMHOUSE_KAFKA_LISTENER', description: 'host:port the Kafka protocol listens on', defaultText: '0.0.0.0:9092', parse: hostPort }),
  option({ flag: 'advertised-listener', env: 'STREAMHOUSE_ADVERTISED_LISTENER', description: 'host:port clients are told to connect to', defaultText: 'localhost:<kafka port>', derived: true, parse: advertisedListener }),
  option({ flag: 'listeners', env: 'STREAMHOUSE_LISTENERS', description: 'listeners: NAME://host:port,... (e.g. PLAINTEXT://:9092,SASL_SSL://:9094); instead of --kafka-listener', defaultText: 'PLAINTEXT://<kafka listener>', derived: true, parse: listenerList }),
  option({ flag: 'advertised-listeners', env: 'STREAMHOUSE_ADVERTISED_LISTENERS', description: 'advertised.listeners: NAME://host:port,... told to clients that came in on each listener', defaultText: 'each listener\'s host (localhost for every interface) and port', derived: true, parse: listenerList }),
  option({ flag: 'listener-security-protocol-map', env: 'STREAMHOUSE_LISTENER_SECURITY_PROTOCOL_MAP', description: 'listener.security.protocol.map: NAME:PROTOCOL,... (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)', defaultText: DEFAULT_PROTOCOL_MAP, parse: protocolMap }),
  option({ flag: 'inter-broker-listener-name', env: 'STREAMHOUSE_INTER_BROKER_LISTENER_NAME', description: 'inter.broker.listener.name: the listener other agents connect to (PLAINTEXT in a cluster)', defaultText: 'the first listener', derived: true, parse: listenerName }),
  option({ flag: 'ssl-certificate-location', env: 'STREAMHOUSE_SSL_CERTIFICATE_LOCATION', description: 'PEM certificate (chain) of the SSL and SASL_SSL listeners', defaultText: 'none', derived: true, parse: fileLocation }),
  option({ flag: 'ssl-key-location', env: 'STREAMHOUSE_SSL_KEY_LOCATION', description: 'PEM private key of that certificate', defaultText: 'none', derived: true, parse: fileLocation }),
  option({ flag: 'ssl-key-password', env: 'STREAMHOUSE_SSL_KEY_PASSWORD', description: 'passphrase of an encrypted private key (prefer the environment variable)', defaultText: 'none', derived: true, parse: text }),
  option({ flag: 'ssl-ca-location', env: 'STREAMHOUSE_SSL_CA_LOCATION', description: 'PEM CA certificates that client certificates must chain to', defaultText: 'none', derived: true, parse: fileLocation }),
  option({ flag: 'ssl-client-auth', env: 'STREAMHOUSE_SSL_CLIENT_AUTH', description: 'ssl.client.auth on SSL listeners: required, requested or none', defaultText: 'none', parse: clientAuth }),
  option({ flag: 'ssl-principal-mapping-rules', env: 'STREAMHOUSE_SSL_PRINCIPAL_MAPPING_RULES', description: 'ssl.principal.mapping.rules: RULE:pattern/replacement/[LU],...,DEFAULT over the certificate subject', defaultText: 'DEFAULT', parse: mappingRules }),
  option({ flag: 'ssl-reload-interval-ms', env: 'STREAMHOUSE_SSL_RELOAD_INTERVAL_MS', description: 'how often the certificate, key and CA files are read again (changes apply without a restart)', defaultText: '60000', parse: integer(100, 86_400_000) }),
  option({ flag: 'sasl-enabled-mechanisms', env: 'STREAMHOUSE_SASL_ENABLED_MECHANISMS', description: 'sasl.enabled.mechanisms on SASL listeners', defaultText: 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512', parse: saslMechanisms }),
  option({ flag: 'sasl-oauthbearer-jwks-endpoint-url', env: 'STREAMHOUSE_SASL_OAUTHBEARER_JWKS_ENDPOINT_URL', description: 'sasl.oauthbearer.jwks.endpoint.url: http(s) URL of the JWKS that OAUTHBEARER tokens are checked against', defaultText: 'none', derived: true, parse: httpUrl }),
  option({ flag: 'sasl-oauthbearer-expected-issuer', env: 'STREAMHOUSE_SASL_OAUTHBEARER_EXPECTED_ISSUER', description: 'sasl.oauthbearer.expected.issuer: the iss tokens must have', defaultText: 'any', derived: true, parse: text }),
  option({ flag: 'sasl-oauthbearer-expected-audience', env: 'STREAMHOUSE_SASL_OAUTHBEARER_EXPECTED_AUDIENCE', description: 'sasl.oauthbearer.expected.audience: comma-separated; a token\'s aud must name one', defaultText: 'any', derived: true, parse: commaList }),
  option({ flag: 'sasl-oauthbearer-sub-claim-name', env: 'STREAMHOUSE_SASL_OAUTHBEARER_SUB_CLAIM_NAME', description: 'sasl.oauthbearer.sub.claim.name: the claim that names the principal', defaultText: 'sub', parse: text }),
  option({ flag: 'sasl-oauthbearer-clock-skew-seconds', env: 'STREAMHOUSE_SASL_OAUTHBEARER_CLOCK_SKEW_SECONDS', description: 'sasl.oauthbearer.clock.skew.seconds: tolerance on exp and nbf', defaultText: '30', parse: integer(0, 3600) }),
  option({ flag: 'sasl-oauthbearer-jwks-endpoint-refresh-ms', env: 'STREAMHOUSE_SASL_OAUTHBEARER_JWKS_ENDPOINT_REFRESH_MS', description: 'sasl.oauthbearer.jwks.endpoint.refresh.ms: how long fetched keys are used before fetching again', defaultText: '3600000', parse: integer(1000, 86_400_000) }),
  option({ flag: 'sasl-mechanism-inter-broker-protocol', env: 'STREAMHOUSE_SASL_MECHANISM_INTER_BROKER_PROTOCOL', description: 'sasl.mechanism.inter.broker.protocol: how agents log in to a SASL inter-broker listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)', defaultText: 'SCRAM-SHA-512', parse: interBrokerMechanism }),
  option({ flag: 'inter-broker-sasl-username', env: 'STREAMHOUSE_INTER_BROKER_SASL_USERNAME', description: 'the broker user agents log in as on a SASL inter-broker listener (make it a super user)', defaultText: 'none', derived: true, parse: text }),
  option({ flag: 'inter-broker-sasl-password', env: 'STREAMHOUSE_INTER_BROKER_SASL_PASSWORD', description: 'its password (prefer the environment variable)', defaultText: 'none', derived: true, parse: text }),
  option({ flag: 'connections-max-reauth-ms', env: 'STREAMHOUSE_CONNECTIONS_MAX_REAUTH_MS', description: 'connections.max.reauth.ms: SASL session lifetime before re-authentication (KIP-368); 0 never expires', defaultText: '0', parse: integer(0, 2147483647) }),
  option({ flag: 'connection-failed-authentication-delay-ms', env: 'STREAMHOUSE_CONNECTION_FAILED_AUTHENTICATION_DELAY_MS', description: 'connection.failed.authentication.delay.ms: delay of the answer to a failed login', defaultText: '100', parse: integer(0, 60_000) }),
  option({ flag: 'super-users', env: 'STREAMHOUSE_SUPER_USERS', description: 'super.users: User:alice;User:bob, allowed everything by the authorizer', defaultText: 'none', derived: true, parse: superUsers }),
  option({ flag: 'authorizer-class-name', env: 'STREAMHOUSE_AUTHORIZER_CLASS_NAME', description: 'authorizer.class.name: org.apache.kafka.metadata.authorizer.StandardAuthorizer (or kafka.security.authorizer.AclAuthorizer) turns ACLs on', defaultText: 'none (no authorization)', derived: true, parse: authorizerClassName }),
  option({ flag: 'allow-everyone-if-no-acl-found', env: 'STREAMHOUSE_ALLOW_EVERYONE_IF_NO_ACL_FOUND', description: 'allow.everyone.if.no.acl.found: with the authorizer, allow resources no ACL applies to', defaultText: 'false', parse: boolean }),
  option({ flag: 'add-scram', env: 'STREAMHOUSE_ADD_SCRAM', description: 'SCRAM users created at start if absent: SCRAM-SHA-256=[name=alice,password=...];... (prefer the environment variable)', defaultText: 'none', derived: true, parse: addScram }),
  option({ flag: 'http-listener', env: 'STREAMHOUSE_HTTP_LISTENER', description: 'host:port of /health, /ready, /metrics and the REST API', defaultText: '0.0.0.0:8080', envYieldsTo: 'http-port', parse: apiListener }),
  option({ flag: 'http-port', env: 'STREAMHOUSE_HTTP_PORT', description: 'port of the HTTP API on every interface, like --http-listener 0.0.0.0:<port>', defaultText: '8080', envYieldsTo: 'http-listener', parse: integer(0, 65535) }),
  option({ flag: 'grpc-listener', env: 'STREAMHOUSE_GRPC_LISTENER', description: 'host:port of the native gRPC API', defaultText: '0.0.0.0:50051', envYieldsTo: 'grpc-port', parse: apiListener }),
  option({ flag: 'grpc-port', env: 'STREAMHOUSE_GRPC_PORT', description: 'port of the gRPC API on every interface, like --grpc-listener 0.0.0.0:<port>', defaultText: '50051', envYieldsTo: 'grpc-listener', parse: integer(0, 65535) }),
  option({ flag: 'http-tls', env: 'STREAMHOUSE_HTTP_TLS', description: 'serve the HTTP API and console over HTTPS with the --ssl-certificate-location/--ssl-key-location files', defaultText: 'false', parse: boolean }),
  option({ flag: 'http-authentication', env: 'STREAMHOUSE_HTTP_AUTHENTICATION', description: 'REST API requests: none (ANONYMOUS) or basic (Basic credentials of a SCRAM user)', defaultText: 'none', parse: doorAuthentication }),
  option({ flag: 'grpc-tls', env: 'STREAMHOUSE_GRPC_TLS', description: 'serve the gRPC API over TLS with the --ssl-certificate-location/--ssl-key-location files', defaultText: 'false', parse: boolean }),
  option({ flag: 'grpc-authentication', env: 'STREAMHOUSE_GRPC_AUTHENTICATION', description: 'gRPC calls: none (ANONYMOUS) or basic (authorization metadata with Basic credentials of a SCRAM user)', defaultText: 'none', parse: doorAuthentication }),
  option({ flag: 'metadata', env: 'STREAMHOUSE_METADATA_URL', description: 'metadata store URL: sqlite://path or postgres://... (DATABASE_URL also works)', defaultText: 'sqlite://<data-dir>/metadata.db', derived: true, parse: metadataUrl }),
  option({ flag: 'storage', env: 'STREAMHOUSE_STORAGE_URL', description: 'object store URL: file://dir or s3://bucket/prefix', defaultText: 'file://<data-dir>/objects', derived: true, parse: storageUrl }),
  option({ flag: 'agent-id', env: 'STREAMHOUSE_AGENT_ID', description: 'this agent\'s id', defaultText: 'host name', derived: true, parse: agentId }),
  option({ flag: 'node-id', env: 'STREAMHOUSE_NODE_ID', description: 'Kafka broker id', defaultText: '0', parse: integer(0, 2147483647) }),
  option({ flag: 'log-level', env: 'STREAMHOUSE_LOG_LEVEL', description: 'trace, debug, info, warn, error', defaultText: 'info', parse: logLevel }),
  option({ flag: 'flush-interval-ms', env: 'STREAMHOUSE_FLUSH_INTERVAL_MS', description: 'flush.interval.ms', defaultText: '10 with a local directory, 100 with S3', derived: true, parse: integer(0, 60000) }),
  option({ flag: 'flush-max-bytes', env: 'STREAMHOUSE_FLUSH_MAX_BYTES', description: 'flush.max.bytes', defaultText: '8388608', parse: integer(1024, 1024 * 1024 * 1024) }),
  option({ flag: 'auto-create-topics', env: 'STREAMHOUSE_AUTO_CREATE_TOPICS', description: 'auto.create.topics.enable: true or false', defaultText: 'true', parse: boolean }),
  option({ flag: 'object-gc-grace-ms', env: 'STREAMHOUSE_OBJECT_GC_GRACE_MS', description: 'age after which unreferenced objects are deleted', defaultText: '600000', parse: integer(0, 2147483647) }),
  option({ flag: 'retention-check-interval-ms', env: 'STREAMHOUSE_RETENTION_CHECK_INTERVAL_MS', description: 'how often retention.ms/retention.bytes are applied', defaultText: '60000', parse: integer(100, 86_400_000) }),
  option({ flag: 'compaction-interval-ms', env: 'STREAMHOUSE_COMPACTION_INTERVAL_MS', description: 'how often small chunks are merged into larger objects; 0 disables', defaultText: '60000', parse: integer(0, 86_400_000) }),
  option({ flag: 'transaction-max-timeout-ms', env: 'STREAMHOUSE_TRANSACTION_MAX_TIMEOUT_MS', description: 'transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may use', defaultText: '900000', parse: integer(1, 2147483647) }),
  option({ flag: 'transaction-abort-timed-out-transaction-cleanup-interval-ms', env: 'STREAMHOUSE_TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS', description: 'transaction.abort.timed.out.transaction.cleanup.interval.ms: how often open transactions past their timeout are aborted', defaultText: '10000', parse: integer(100, 3_600_000) }),
  option({ flag: 'default-partitions', env: 'STREAMHOUSE_DEFAULT_PARTITIONS', description: 'num.partitions for auto-created topics', defaultText: '1', parse: integer(1, 100000) }),
  option({ flag: 'cluster', env: 'STREAMHOUSE_CLUSTER', description: 'join a cluster of agents through leases: auto (when --metadata is postgres://), true or false', defaultText: 'auto', parse: clusterMode }),
  option({ flag: 'heartbeat-interval-ms', env: 'STREAMHOUSE_HEARTBEAT_INTERVAL_MS', description: 'cluster heartbeat and lease renewal interval, 1000 or more', defaultText: '5000', parse: integer(1000, 600_000) }),
  option({ flag: 'lease-ttl-ms', env: 'STREAMHOUSE_LEASE_TTL_MS', description: 'partition lease lifetime without renewal; at least twice the heartbeat', defaultText: '15000', parse: integer(2000, 3_600_000) }),
  option({ flag: 'group-initial-rebalance-delay-ms', env: 'STREAMHOUSE_GROUP_INITIAL_REBALANCE_DELAY_MS', description: 'group.initial.rebalance.delay.ms: how long a new group waits for more members', defaultText: '3000', parse: integer(0, 2147483647) }),
] as const;

export const START_OPTIONS: readonly StartOption[] = SPECS;

/** The flag of a start option, e.g. 'data-dir'. */
export type StartOptionFlag = (typeof SPECS)[number]['flag'];

/**
 * The options that say where the stores are and how the cluster keeps time: what a command
 * reading the stores directly (`streamhouse doctor`) takes, with the same flags, environment
 * variables and defaults as `start`.
 */
export const STORE_OPTION_FLAGS = ['data-dir', 'metadata', 'storage', 'cluster', 'heartbeat-interval-ms', 'lease-ttl-ms'] as const satisfies readonly StartOptionFlag[];

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** The parsed values of a start command, keyed as commander keys them (`--data-dir` is `dataDir`). */
export type StartOptionValues = { [S in (typeof SPECS)[number] as Camel<S['flag']>]?: ReturnType<S['parse']> };

/**
 * Adds the start options to `command`. Commander reads each option's environment variable
 * (after the flags, so a flag wins) and applies the literal defaults. Not taken, so that the
 * option stays at its default: an empty value, from a flag or the environment (commander
 * treats an empty variable as set), and an environment variable whose `envYieldsTo` option
 * was given as a flag. With `only`, just those options (STORE_OPTION_FLAGS for doctor).
 */
export function addStartOptions(command: Command, only?: readonly StartOptionFlag[]): Command {
  const keyOf = (flag: string) => new Option(`--${flag} <value>`).attributeName();
  for (const spec of START_OPTIONS) {
    if (only !== undefined && !(only as readonly string[]).includes(spec.flag)) continue;
    const what = `--${spec.flag}`;
    let skip = false;
    const opt = new Option(`${what} <value>`, spec.description)
      .env(spec.env)
      .default(spec.derived ? undefined : spec.parse(spec.defaultText, what), spec.defaultText)
      .argParser((value: string, previous: unknown) => (skip ? previous : spec.parse(value, what)));
    const key = opt.attributeName();
    // these run before commander's own listeners (added by addOption), unsetIfSkipped after them
    command.on(`option:${opt.name()}`, (value: string) => {
      skip = value === '';
    });
    command.on(`optionEnv:${opt.name()}`, (value: string) => {
      skip = value === '' || (spec.envYieldsTo !== undefined && command.getOptionValueSource(keyOf(spec.envYieldsTo)) === 'cli');
    });
    command.addOption(opt);
    const unsetIfSkipped = () => {
      if (skip) command.setOptionValueWithSource(key, opt.defaultValue, opt.defaultValue === undefined ? undefined : 'default');
      skip = false;
    };
    command.on(`option:${opt.name()}`, unsetIfSkipped);
    command.on(`optionEnv:${opt.name()}`, unsetIfSkipped);
  }
  // commander shows only a default it applies; the derived ones are shown the same way
  const help = new Help();
  command.configureHelp({
    optionDescription: (opt: Option) =>
      opt.envVar !== undefined && opt.defaultValue === undefined && opt.defaultValueDescription !== undefined
        ? `${opt.description} (default: ${opt.defaultValueDescription}, env: ${opt.envVar})`
        : help.optionDescription(opt),
  });
  return command;
}

/** What `streamhouse start` runs with: the broker config and the hosts its HTTP and gRPC APIs bind. */
export type StartConfig = BrokerConfig & Required<ApiListenerHosts>;

/**
 * Where the HTTP or gRPC API binds: `--<api>-listener host:port`, or `--<api>-port` on every
 * interface. A flag of either beats the environment variables of both, which beat the
 * defaults; a listener and a port from the same source must name the same port.
 */
function apiBinding(api: 'http' | 'grpc', listener: ApiListener | undefined, port: number | undefined, command: Command): HostPort {
  const listenerSource = command.getOptionValueSource(`${api}Listener`);
  const portSource = command.getOptionValueSource(`${api}Port`);
  for (const source of ['cli', 'env', 'default']) {
    const fromListener = listenerSource === source ? listener : undefined;
    const fromPort = portSource === source ? port : undefined;
    if (fromListener === undefined) {
      if (fromPort !== undefined) return { host: '0.0.0.0', port: fromPort };
      continue;
    }
    if (fromPort !== undefined && fromPort !== fromListener.port) {
      throw new ConfigError(`--${api}-listener ${fromListener.text} and --${api}-port ${fromPort} name different ports; give one of them`);
    }
    return { host: fromListener.host, port: fromListener.port };
  }
  throw new Error(`no default for --${api}-listener`); // unreachable: both have literal defaults
}

/** Only the keys whose value is defined (defaultBrokerConfig spreads its overrides). */
function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The config a parsed start command (see addStartOptions) runs with. DATABASE_URL from
 * `env` stands in for --metadata. Throws ConfigError with one readable line for a combination
 * of options that cannot work.
 */
export function startConfig(command: Command, env: NodeJS.ProcessEnv = process.env): StartConfig {
  const o = command.opts<StartOptionValues>();
  const http = apiBinding('http', o.httpListener, o.httpPort, command);
  const grpc = apiBinding('grpc', o.grpcListener, o.grpcPort, command);
  const listeners = kafkaListeners(command, o);
  const resolved = defaultBrokerConfig(
    defined({
      dataDir: o.dataDir,
      ...listeners,
      security: securityConfig(o),
      httpPort: http.port,
      grpcPort: grpc.port,
      metadataUrl: o.metadata ?? (env.DATABASE_URL ? metadataUrl(env.DATABASE_URL, '--metadata') : undefined),
      storageUrl: o.storage,
      agentId: o.agentId,
      nodeId: o.nodeId,
      logLevel: o.logLevel,
      flushIntervalMs: o.flushIntervalMs,
      flushMaxBytes: o.flushMaxBytes,
      autoCreateTopics: o.autoCreateTopics,
      objectGcGraceMs: o.objectGcGraceMs,
      retentionCheckIntervalMs: o.retentionCheckIntervalMs,
      compactionIntervalMs: o.compactionIntervalMs,
      transactionMaxTimeoutMs: o.transactionMaxTimeoutMs,
      transactionAbortIntervalMs: o.transactionAbortTimedOutTransactionCleanupIntervalMs,
      defaultPartitions: o.defaultPartitions,
      groupInitialRebalanceDelayMs: o.groupInitialRebalanceDelayMs,
      clusterMode: o.cluster,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      leaseTtlMs: o.leaseTtlMs,
    }),
  );
  if (resolved.leaseTtlMs < 2 * resolved.heartbeatIntervalMs) {
    throw new ConfigError(`--lease-ttl-ms (${resolved.leaseTtlMs}) must be at least twice --heartbeat-interval-ms (${resolved.heartbeatIntervalMs})`);
  }
  const tlsListeners = resolved.listeners.filter((l) => l.securityProtocol === 'SSL' || l.securityProtocol === 'SASL_SSL');
  if (tlsListeners.length > 0 && resolved.security.ssl === undefined) {
    throw new ConfigError(`listener ${tlsListeners[0]!.name} is ${tlsListeners[0]!.securityProtocol}: give --ssl-certificate-location and --ssl-key-location`);
  }
  const inter = resolved.listeners.find((l) => l.name === resolved.interBrokerListenerName);
  if (isClustered(resolved.clusterMode, resolved.metadataUrl) && inter !== undefined) {
    const p = inter.securityProtocol;
    if (p === 'SSL') throw new ConfigError(`in a cluster the inter-broker listener (${inter.name}) cannot be SSL: agents log in to each other with SASL; use SASL_SSL (or PLAINTEXT on a private network)`);
    if ((p === 'SASL_PLAINTEXT' || p === 'SASL_SSL') && resolved.security.interBroker === undefined) {
      throw new ConfigError(`the inter-broker listener (${inter.name}) is ${p}: give --inter-broker-sasl-username and --inter-broker-sasl-password (a SCRAM user, made a super user)`);
    }
    if (p === 'SASL_SSL' && resolved.security.ssl?.caLocation === undefined) throw new ConfigError(`the inter-broker listener (${inter.name}) is SASL_SSL: give --ssl-ca-location, the CA the agents' certificates chain to`);
    const login = resolved.security.interBroker;
    if (login && (p === 'SASL_PLAINTEXT' || p === 'SASL_SSL') && !resolved.security.saslEnabledMechanisms.includes(login.mechanism)) {
      throw new ConfigError(`--sasl-mechanism-inter-broker-protocol ${login.mechanism} is not in --sasl-enabled-mechanisms`);
    }
  }
  return { ...resolved, httpHost: http.host, grpcHost: grpc.host };
}

/**
 * The Kafka listeners: `--listeners` (Kafka's form) or the single PLAINTEXT listener of
 * `--kafka-listener`/`--advertised-listener`, not both. The inter-broker listener gives the
 * kafkaListener/advertisedListener the rest of the agent uses to reach other agents.
 */
function kafkaListeners(command: Command, o: StartOptionValues): Pick<BrokerConfig, 'listeners' | 'kafkaListener' | 'advertisedListener' | 'interBrokerListenerName'> | Record<string, never> {
  const given = (key: string) => {
    const source = command.getOptionValueSource(key);
    return source === 'cli' || source === 'env';
  };
  if (o.listeners === undefined) {
    if (o.advertisedListeners !== undefined) throw new ConfigError('--advertised-listeners needs --listeners (with --kafka-listener use --advertised-listener)');
    if (o.interBrokerListenerName !== undefined && o.interBrokerListenerName !== 'PLAINTEXT') throw new ConfigError(`--inter-broker-listener-name ${o.interBrokerListenerName} is not a listener (only PLAINTEXT without --listeners)`);
    const map = parseProtocolMap(o.listenerSecurityProtocolMap ?? DEFAULT_PROTOCOL_MAP, '--listener-security-protocol-map');
    if (map.get('PLAINTEXT') !== undefined && map.get('PLAINTEXT') !== 'PLAINTEXT') throw new ConfigError('--kafka-listener is a PLAINTEXT listener; use --listeners for other protocols');
    return defined({ kafkaListener: o.kafkaListener, advertisedListener: o.advertisedListener }) as Record<string, never>;
  }
  if (given('kafkaListener') || given('advertisedListener')) throw new ConfigError('--listeners and --kafka-listener/--advertised-listener both name the Kafka listeners; give one of them');
  const listeners = resolveListeners(o.listeners, o.advertisedListeners, o.listenerSecurityProtocolMap ?? DEFAULT_PROTOCOL_MAP);
  const interName = o.interBrokerListenerName ?? listeners[0]!.name;
  const inter = listeners.find((l) => l.name === interName);
  if (inter === undefined) throw new ConfigError(`--inter-broker-listener-name ${interName} is not one of --listeners (${listeners.map((l) => l.name).join(', ')})`);
  return { listeners, interBrokerListenerName: interName, kafkaListener: inter.bind, advertisedListener: inter.advertised };
}

function interBrokerLogin(o: StartOptionValues): PeerLogin {
  if (o.interBrokerSaslUsername === undefined || o.interBrokerSaslPassword === undefined) throw new ConfigError('--inter-broker-sasl-username and --inter-broker-sasl-password go together');
  return { mechanism: o.saslMechanismInterBrokerProtocol ?? 'SCRAM-SHA-512', username: o.interBrokerSaslUsername, password: o.interBrokerSaslPassword };
}

function oauthBearerConfig(o: StartOptionValues, mechanisms: readonly string[]): { oauthBearer?: OAuthBearerConfig } {
  const url = o.saslOauthbearerJwksEndpointUrl;
  if (!mechanisms.includes('OAUTHBEARER')) {
    if (url !== undefined) throw new ConfigError('--sasl-oauthbearer-jwks-endpoint-url is set but OAUTHBEARER is not in --sasl-enabled-mechanisms');
    return {};
  }
  if (url === undefined) throw new ConfigError('OAUTHBEARER in --sasl-enabled-mechanisms needs --sasl-oauthbearer-jwks-endpoint-url');
  return {
    oauthBearer: {
      jwksEndpointUrl: url,
      jwksRefreshMs: o.saslOauthbearerJwksEndpointRefreshMs ?? 3_600_000,
      subClaimName: o.saslOauthbearerSubClaimName ?? 'sub',
      clockSkewSeconds: o.saslOauthbearerClockSkewSeconds ?? 30,
      ...(o.saslOauthbearerExpectedIssuer !== undefined ? { expectedIssuer: o.saslOauthbearerExpectedIssuer } : {}),
      ...(o.saslOauthbearerExpectedAudience !== undefined ? { expectedAudience: o.saslOauthbearerExpectedAudience } : {}),
    },
  };
}

function securityConfig(o: StartOptionValues): SecurityConfig {
  const defaults = defaultSecurityConfig();
  const cert = o.sslCertificateLocation;
  const key = o.sslKeyLocation;
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('--ssl-certificate-location and --ssl-key-location go together');
  if (cert === undefined && (o.sslCaLocation !== undefined || o.sslKeyPassword !== undefined)) throw new ConfigError('--ssl-ca-location and --ssl-key-password need --ssl-certificate-location and --ssl-key-location');
  const clientAuth = o.sslClientAuth ?? 'none';
  for (const door of ['http', 'grpc'] as const) {
    if ((door === 'http' ? o.httpTls : o.grpcTls) && cert === undefined) throw new ConfigError(`--${door}-tls needs --ssl-certificate-location and --ssl-key-location`);
  }
  if (clientAuth !== 'none' && o.sslCaLocation === undefined) throw new ConfigError(`--ssl-client-auth ${clientAuth} needs --ssl-ca-location (the CA client certificates chain to)`);
  return {
    ...(cert !== undefined && key !== undefined
      ? {
          ssl: {
            certificateLocation: cert,
            keyLocation: key,
            ...(o.sslKeyPassword !== undefined ? { keyPassword: o.sslKeyPassword } : {}),
            ...(o.sslCaLocation !== undefined ? { caLocation: o.sslCaLocation } : {}),
            clientAuth,
            principalMappingRules: o.sslPrincipalMappingRules ?? 'DEFAULT',
            reloadIntervalMs: o.sslReloadIntervalMs ?? 60_000,
          },
        }
      : {}),
    saslEnabledMechanisms: o.saslEnabledMechanisms ?? defaults.saslEnabledMechanisms,
    connectionsMaxReauthMs: o.connectionsMaxReauthMs ?? defaults.connectionsMaxReauthMs,
    failedAuthenticationDelayMs: o.connectionFailedAuthenticationDelayMs ?? defaults.failedAuthenticationDelayMs,
    superUsers: o.superUsers ?? [],
    bootstrapScramUsers: o.addScram ?? [],
    ...oauthBearerConfig(o, o.saslEnabledMechanisms ?? defaults.saslEnabledMechanisms),
    ...(o.interBrokerSaslUsername !== undefined || o.interBrokerSaslPassword !== undefined ? { interBroker: interBrokerLogin(o) } : {}),
    ...(o.authorizerClassName !== undefined ? { authorizer: { className: o.authorizerClassName, allowEveryoneIfNoAclFound: o.allowEveryoneIfNoAclFound ?? false } } : {}),
    http: { tls: o.httpTls ?? false, authentication: o.httpAuthentication ?? 'none' },
    grpc: { tls: o.grpcTls ?? false, authentication: o.grpcAuthentication ?? 'none' },
  };
}

/** Where the stores are and the cluster timing, as `start` would resolve them. */
export interface StoreConfig {
  readonly dataDir: string;
  readonly metadataUrl: string;
  readonly storageUrl: string;
  /** Whether the agents run as a cluster with leases (`--cluster`, auto: postgres://). */
  readonly clustered: boolean;
  readonly heartbeatIntervalMs: number;
  readonly leaseTtlMs: number;
}

/**
 * The store options of a command parsed with `addStartOptions(command, STORE_OPTION_FLAGS)`,
 * resolved as startConfig resolves them (DATABASE_URL stands in for --metadata, the derived
 * defaults under --data-dir). Throws ConfigError with one line.
 */
export function storeConfig(command: Command, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const o = command.opts<StartOptionValues>();
  const resolved = defaultBrokerConfig(
    defined({
      dataDir: o.dataDir,
      metadataUrl: o.metadata ?? (env.DATABASE_URL ? metadataUrl(env.DATABASE_URL, '--metadata') : undefined),
      storageUrl: o.storage,
      clusterMode: o.cluster,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      leaseTtlMs: o.leaseTtlMs,
    }),
  );
  if (resolved.leaseTtlMs < 2 * resolved.heartbeatIntervalMs) {
    throw new ConfigError(`--lease-ttl-ms (${resolved.leaseTtlMs}) must be at least twice --heartbeat-interval-ms (${resolved.heartbeatIntervalMs})`);
  }
  return {
    dataDir: resolved.dataDir,
    metadataUrl: resolved.metadataUrl,
    storageUrl: resolved.storageUrl,
    clustered: isClustered(resolved.clusterMode, resolved.metadataUrl),
    heartbeatIntervalMs: resolved.heartbeatIntervalMs,
    leaseTtlMs: resolved.leaseTtlMs,
  };
}

/** `--cluster`: on, off, or auto (on exactly when the metadata store is PostgreSQL). */
export function isClustered(mode: BrokerConfig['clusterMode'], metadataUrl: string): boolean {
  return mode === 'on' || (mode === 'auto' && /^postgres(ql)?:\/\//.test(metadataUrl));
}

/** The README's configuration table, made from START_OPTIONS (a unit test keeps them equal). */
export function startOptionsTable(): string {
  const rows = START_OPTIONS.map((o) => `| \`--${o.flag}\` | \`${o.env}\` | ${o.defaultText} | ${o.description.replace(/\|/g, '\\|')} |`);
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
