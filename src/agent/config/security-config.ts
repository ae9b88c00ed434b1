// Security settings of the Kafka door (docs/security.md): TLS files and client
// authentication, SASL mechanisms, re-authentication, super users and the SCRAM users to
// create at start. Parsers throw ConfigError with one line that never repeats a secret.

import type { ScramMechanismName } from '../../metadata/metadata-store.js';
import { SCRAM_MAX_ITERATIONS, SCRAM_MIN_ITERATIONS, isScramMechanism } from '../security/scram.js';
import { parseMappingRules, PrincipalMappingError } from '../security/ssl-principal-mapper.js';
import { parseSuperUsers, type KafkaPrincipal } from '../security/principal.js';
import { ConfigError } from './broker-config.js';
import { AUTHORIZER_CLASS_NAMES, type AuthorizerConfig } from '../security/authorizer.js';
import { DOOR_AUTHENTICATION_MODES, type DoorAuthenticationMode } from '../security/door-authenticator.js';
import type { OAuthBearerConfig } from '../security/jwt-validator.js';
import type { PeerLogin } from '../cluster/peer-kafka-client.js';

export type SslClientAuth = 'required' | 'requested' | 'none';

/** PEM files of the TLS listeners (SSL, SASL_SSL). */
export interface SslConfig {
  readonly certificateLocation: string;
  readonly keyLocation: string;
  /** Passphrase of an encrypted key. */
  readonly keyPassword?: string;
  /** CA certificates that client certificates must chain to (ssl.client.auth). */
  readonly caLocation?: string;
  readonly clientAuth: SslClientAuth;
  readonly principalMappingRules: string;
  /** How often the files are read again; a change is picked up without a restart. */
  readonly reloadIntervalMs: number;
}

/** Security of the HTTP or the gRPC door: TLS with the ssl.* files, and how requests authenticate. */
export interface DoorSecurityConfig {
  readonly tls: boolean;
  readonly authentication: DoorAuthenticationMode;
}

/** A SCRAM user created at start when it has no credential for that mechanism yet. */
export interface BootstrapScramUser {
  readonly mechanism: ScramMechanismName;
  readonly name: string;
  readonly password: string;
  readonly iterations: number;
}

export interface SecurityConfig {
  readonly ssl?: SslConfig;
  readonly saslEnabledMechanisms: readonly string[];
  /** connections.max.reauth.ms: 0 keeps a session for the connection's lifetime. */
  readonly connectionsMaxReauthMs: number;
  /** connection.failed.authentication.delay.ms: the answer to a failed login waits this long. */
  readonly failedAuthenticationDelayMs: number;
  readonly superUsers: readonly KafkaPrincipal[];
  readonly bootstrapScramUsers: readonly BootstrapScramUser[];
  /** authorizer.class.name and its settings; absent: no authorization (everything allowed). */
  readonly authorizer?: AuthorizerConfig;
  /** sasl.oauthbearer.*: how OAUTHBEARER tokens are validated (needed when the mechanism is enabled). */
  readonly oauthBearer?: OAuthBearerConfig;
  /** The broker user agents log in as on a SASL inter-broker listener. */
  readonly interBroker?: PeerLogin;
  readonly http: DoorSecurityConfig;
  readonly grpc: DoorSecurityConfig;
}

export const SUPPORTED_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
/** Enabled unless sasl.enabled.mechanisms says otherwise (OAUTHBEARER needs a JWKS endpoint). */
export const DEFAULT_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export function defaultSecurityConfig(): SecurityConfig {
  return { saslEnabledMechanisms: [...DEFAULT_SASL_MECHANISMS], connectionsMaxReauthMs: 0, failedAuthenticationDelayMs: 100, superUsers: [], bootstrapScramUsers: [], http: { tls: false, authentication: 'none' }, grpc: { tls: false, authentication: 'none' } };
}

export function parseSaslMechanisms(text: string, what: string): string[] {
  const names = text.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  if (names.length === 0) throw new ConfigError(`${what} needs at least one mechanism (${SUPPORTED_SASL_MECHANISMS.join(', ')})`);
  for (const n of names) {
    if (!(SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(n)) throw new ConfigError(`${what}: ${n} is not supported (${SUPPORTED_SASL_MECHANISMS.join(', ')})`);
  }
  return [...new Set(names)];
}

export function parseDoorAuthentication(text: string, what: string): DoorAuthenticationMode {
  const v = text.trim().toLowerCase();
  const mode = DOOR_AUTHENTICATION_MODES.find((m) => m === v);
  if (mode === undefined) throw new ConfigError(`${what} must be ${DOOR_AUTHENTICATION_MODES.join(' or ')}, got "${text}"`);
  return mode;
}

export function parseClientAuth(text: string, what: string): SslClientAuth {
  const v = text.trim().toLowerCase();
  if (v !== 'required' && v !== 'requested' && v !== 'none') throw new ConfigError(`${what} must be required, requested or none, got "${text}"`);
  return v;
}

export function checkMappingRules(text: string, what: string): string {
  try {
    parseMappingRules(text);
  } catch (err) {
    if (err instanceof PrincipalMappingError) throw new ConfigError(`${what}: ${err.message}`);
    throw err;
  }
  return text;
}

/** authorizer.class.name: Kafka's two authorizer names turn ACLs on; anything else is refused. */
export function parseAuthorizerClassName(text: string, what: string): string {
  const name = text.trim();
  if (!(AUTHORIZER_CLASS_NAMES as readonly string[]).includes(name)) throw new ConfigError(`${what} must be ${AUTHORIZER_CLASS_NAMES.join(' or ')}, got "${name}"`);
  return name;
}

export function parseSuperUsersOption(text: string, what: string): KafkaPrincipal[] {
  try {
    return parseSuperUsers(text);
  } catch (err) {
    throw new ConfigError(`${what}: ${(err as Error).message}; write User:alice;User:bob`);
  }
}

/**
 * Kafka's `--add-scram` form of kafka-storage: `SCRAM-SHA-256=[name=alice,password=secret]`,
 * several separated by ';', `iterations=8192` optional. Error messages name the entry by its
 * position and user, never its password.
 */
export function parseAddScram(text: string, what: string): BootstrapScramUser[] {
  const out: BootstrapScramUser[] = [];
  const entries = text.split(/;(?=\s*SCRAM-)/i).map((s) => s.trim()).filter((s) => s !== '');
  entries.forEach((entry, index) => {
    const at = `${what} entry ${index + 1}`;
    const m = /^([A-Za-z0-9-]+)=\[(.*)\]$/s.exec(entry);
    if (!m) throw new ConfigError(`${at} must look like SCRAM-SHA-256=[name=alice,password=...]`);
    const mechanism = m[1]!.toUpperCase();
    if (!isScramMechanism(mechanism)) throw new ConfigError(`${at}: unknown mechanism ${mechanism} (SCRAM-SHA-256 or SCRAM-SHA-512)`);
    const fields = new Map<string, string>();
    // password last may contain commas: split on ",key=" for the known keys only
    const body = m[2]!;
    const re = /(?:^|,)(name|password|iterations|salt)=/g;
    const marks: Array<{ key: string; start: number; valueStart: number }> = [];
    for (let hit = re.exec(body); hit !== null; hit = re.exec(body)) marks.push({ key: hit[1]!, start: hit.index, valueStart: hit.index + hit[0].length });
    if (marks.length === 0 || marks[0]!.start !== 0) throw new ConfigError(`${at} must look like SCRAM-SHA-256=[name=alice,password=...]`);
    marks.forEach((mark, i) => fields.set(mark.key, unquote(body.slice(mark.valueStart, i + 1 < marks.length ? marks[i + 1]!.start : body.length))));
    const name = fields.get('name');
    const password = fields.get('password');
    if (name === undefined || name === '') throw new ConfigError(`${at} has no name=`);
    if (password === undefined || password === '') throw new ConfigError(`${at} (user ${name}) has no password=`);
    if (fields.has('salt')) throw new ConfigError(`${at} (user ${name}): salt= is not supported, a random salt is made`);
    const iterationsText = fields.get('iterations') ?? String(SCRAM_MIN_ITERATIONS);
    const iterations = Number(iterationsText);
    if (!Number.isInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
      throw new ConfigError(`${at} (user ${name}): iterations must be ${SCRAM_MIN_ITERATIONS}-${SCRAM_MAX_ITERATIONS}`);
    }
    out.push({ mechanism, name, password, iterations });
  });
  return out;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}
