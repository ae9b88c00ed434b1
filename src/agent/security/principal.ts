// Who a connection is, as the future authorizer (ACLs) will see it (docs/security.md). Every
// door maps its credentials to a KafkaPrincipal: the Kafka door from SASL or the TLS client
// certificate, ANONYMOUS on a PLAINTEXT listener.

/** Kafka's principal: a type and a name, written `User:alice`. */
export interface KafkaPrincipal {
  readonly type: string;
  readonly name: string;
}

export const ANONYMOUS: KafkaPrincipal = Object.freeze({ type: 'User', name: 'ANONYMOUS' });

export function userPrincipal(name: string): KafkaPrincipal {
  return { type: 'User', name };
}

export function principalToString(p: KafkaPrincipal): string {
  return `${p.type}:${p.name}`;
}

export function samePrincipal(a: KafkaPrincipal, b: KafkaPrincipal): boolean {
  return a.type === b.type && a.name === b.name;
}

/** Kafka's four security protocols of a listener. */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export function usesTls(p: SecurityProtocol): boolean {
  return p === 'SSL' || p === 'SASL_SSL';
}

export function usesSasl(p: SecurityProtocol): boolean {
  return p === 'SASL_PLAINTEXT' || p === 'SASL_SSL';
}

/**
 * How a connection authenticated and as whom. `expiresAtMs` is set when
 * `connections.max.reauth.ms` limits the session (KIP-368): after it only re-authentication
 * is allowed.
 */
export interface SecuritySession {
  readonly principal: KafkaPrincipal;
  /** 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'SSL' (a client certificate) or null (none). */
  readonly mechanism: string | null;
  readonly authenticatedAtMs: number;
  readonly expiresAtMs?: number;
}

/** `super.users`: principals the authorizer will let do anything (`User:admin;User:ops`). */
export function parseSuperUsers(text: string): KafkaPrincipal[] {
  const out: KafkaPrincipal[] = [];
  for (const part of text.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    if (colon <= 0 || colon === item.length - 1) throw new Error(`"${item}" is not a principal like User:alice`);
    out.push({ type: item.slice(0, colon), name: item.slice(colon + 1) });
  }
  return out;
}
