// Kafka listeners (docs/security.md): `listeners`, `advertised.listeners`,
// `listener.security.protocol.map` and `inter.broker.listener.name`, read the Kafka way.

import { SECURITY_PROTOCOLS, type SecurityProtocol } from '../security/principal.js';
import { ConfigError, type HostPort } from './broker-config.js';

/** One Kafka listener: what it binds, how it is secured and what clients are told. */
export interface KafkaListenerConfig {
  /** Listener name, upper case (`PLAINTEXT`, `SASL_SSL`, `INTERNAL`...). */
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  /** Where it binds; host '' or 0.0.0.0 is every interface. */
  readonly bind: HostPort;
  /** What Metadata and FindCoordinator tell clients that came in on it; port 0: the bound port. */
  readonly advertised: HostPort;
}

export const DEFAULT_PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL';

const NAME = /^[A-Za-z0-9_]+$/;

/** `NAME://host:port,...` (an IPv6 host in brackets); names are case-insensitive, kept upper case. */
export function parseListenerList(text: string, what: string): Array<{ name: string; host: string; port: number }> {
  const out: Array<{ name: string; host: string; port: number }> = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^([^:/]+):\/\/(?:\[([^\]]+)\]|([^:/]*)):(\d+)$/.exec(item);
    if (!m || !NAME.test(m[1]!)) throw new ConfigError(`${what} must be NAME://host:port[,NAME://host:port...], got "${item}"`);
    const port = Number(m[4]);
    if (port > 65535) throw new ConfigError(`${what}: port of ${item} must be 0-65535`);
    const name = m[1]!.toUpperCase();
    if (out.some((l) => l.name === name)) throw new ConfigError(`${what} names listener ${name} twice`);
    out.push({ name, host: m[2] ?? m[3] ?? '', port });
  }
  if (out.length === 0) throw new ConfigError(`${what} needs at least one NAME://host:port`);
  return out;
}

/** `NAME:PROTOCOL,...`. */
export function parseProtocolMap(text: string, what: string): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const [name, protocol, extra] = item.split(':').map((s) => s.trim().toUpperCase());
    if (name === undefined || protocol === undefined || extra !== undefined || !NAME.test(name)) throw new ConfigError(`${what} must be NAME:PROTOCOL[,NAME:PROTOCOL...], got "${item}"`);
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) throw new ConfigError(`${what}: ${name} maps to unknown security protocol ${protocol} (one of ${SECURITY_PROTOCOLS.join(', ')})`);
    map.set(name, protocol as SecurityProtocol);
  }
  return map;
}

function reachableHost(host: string): string {
  return host === '' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/**
 * The listeners an agent runs: each of `listeners` with its protocol from the map and its
 * advertised address (from `advertised.listeners`, else its own host, localhost for every
 * interface, and port). Throws ConfigError with one line.
 */
export function resolveListeners(listenersText: string, advertisedText: string | undefined, protocolMapText: string): KafkaListenerConfig[] {
  const listeners = parseListenerList(listenersText, '--listeners');
  const advertised = advertisedText === undefined ? [] : parseListenerList(advertisedText, '--advertised-listeners');
  const map = parseProtocolMap(protocolMapText, '--listener-security-protocol-map');
  for (const a of advertised) {
    if (!listeners.some((l) => l.name === a.name)) throw new ConfigError(`--advertised-listeners names ${a.name}, which is not one of --listeners (${listeners.map((l) => l.name).join(', ')})`);
    if (a.host === '' || a.host === '0.0.0.0' || a.host === '::') throw new ConfigError(`--advertised-listeners: ${a.name} needs a host clients can reach, not "${a.host}"`);
  }
  const ports = new Map<number, string>();
  return listeners.map((l) => {
    const protocol = map.get(l.name);
    if (protocol === undefined) throw new ConfigError(`listener ${l.name} has no security protocol: add ${l.name}:<PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL> to --listener-security-protocol-map`);
    if (l.port !== 0) {
      const other = ports.get(l.port);
      if (other !== undefined) throw new ConfigError(`--listeners: ${other} and ${l.name} both bind port ${l.port}`);
      ports.set(l.port, l.name);
    }
    const adv = advertised.find((a) => a.name === l.name);
    return { name: l.name, securityProtocol: protocol, bind: { host: l.host, port: l.port }, advertised: adv ? { host: adv.host, port: adv.port } : { host: reachableHost(l.host), port: l.port } };
  });
}

/** Kafka's form of the listeners, for DescribeConfigs. */
export function listenersText(listeners: readonly KafkaListenerConfig[], which: 'bind' | 'advertised'): string {
  return listeners.map((l) => `${l.name}://${formatHost(l[which].host)}:${l[which].port}`).join(',');
}

export function protocolMapText(listeners: readonly KafkaListenerConfig[]): string {
  return listeners.map((l) => `${l.name}:${l.securityProtocol}`).join(',');
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
