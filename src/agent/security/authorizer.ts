// Authorization in the agent core (docs/security.md), Kafka's rules: super.users may do
// anything; otherwise a DENY binding that matches wins over any ALLOW; an ALLOW of READ,
// WRITE, DELETE or ALTER also allows DESCRIBE, and ALTER_CONFIGS allows DESCRIBE_CONFIGS;
// a resource no binding applies to is allowed only with allow.everyone.if.no.acl.found.
// Every denied check that a client asked for is audited (one log line and
// streamhouse_authorization_denials_total). Doors map their requests to these checks.

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { AclOperation, AclPermission, OPERATION_NAMES, OPERATIONS_OF_RESOURCE, PatternType, RESOURCE_TYPE_NAMES, WILDCARD, WILDCARD_PRINCIPAL, type AclBinding, type BindableResourceType, type ResourceType } from './acl.js';
import { AclIndex } from './acl-index.js';
import { principalToString, type KafkaPrincipal } from './principal.js';

/** Kafka's class names for its authorizers; either turns ours on. */
export const AUTHORIZER_CLASS_NAMES = ['org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'kafka.security.authorizer.AclAuthorizer'] as const;

export interface AuthorizerConfig {
  /** authorizer.class.name as configured (one of AUTHORIZER_CLASS_NAMES). */
  readonly className: string;
  /** allow.everyone.if.no.acl.found (Kafka's default: false). */
  readonly allowEveryoneIfNoAclFound: boolean;
}

/** Who asks: the principal and where the client connects from. */
export interface Requester {
  readonly principal: KafkaPrincipal;
  /** The client's IP address, matched against the bindings' hosts. */
  readonly host: string;
  /** host:port for the audit line. */
  readonly client: string;
}

export interface AuthorizerOptions {
  readonly superUsers: readonly KafkaPrincipal[];
  readonly allowEveryoneIfNoAclFound: boolean;
  readonly logger?: Logger;
  readonly registry?: Registry;
}

/** The IP of `host:port` or `[v6]:port`, IPv4-mapped IPv6 written as IPv4 (what bindings name). */
export function hostOfAddress(address: string): string {
  let host = address;
  const bracket = /^\[(.*)\]:\d+$/.exec(address);
  if (bracket) host = bracket[1]!;
  else {
    const colon = address.lastIndexOf(':');
    if (colon > 0 && /^\d+$/.test(address.slice(colon + 1))) host = address.slice(0, colon);
  }
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

/** Operations whose ALLOW also allows `op` (Kafka's implied operations). */
function allowingOperations(op: AclOperation): readonly AclOperation[] {
  if (op === AclOperation.DESCRIBE) return [AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.ALL];
  if (op === AclOperation.DESCRIBE_CONFIGS) return [AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.ALL];
  return [op, AclOperation.ALL];
}

export class Authorizer {
  private index = new AclIndex([]);
  private readonly superUsers: ReadonlySet<string>;
  private readonly denials: Counter<'operation' | 'resource_type'>;

  constructor(private readonly opts: AuthorizerOptions) {
    this.superUsers = new Set(opts.superUsers.map(principalToString));
    this.denials = new Counter({
      name: 'streamhouse_authorization_denials_total',
      help: 'Operations refused by the ACL authorizer, by operation and resource type',
      labelNames: ['operation', 'resource_type'],
      registers: opts.registry ? [opts.registry] : [],
    });
  }

  /** Puts a new set of bindings in force (all at once: a decision sees the old or the new set). */
  replace(bindings: readonly AclBinding[]): void {
    this.index = new AclIndex(bindings);
  }

  get aclCount(): number {
    return this.index.size;
  }

  isSuperUser(principal: KafkaPrincipal): boolean {
    return this.superUsers.has(principalToString(principal));
  }

  /**
   * Whether the requester may do `op` on the resource. `audit` false for checks that only
   * shape an answer (Metadata's topic list, authorized-operation fields): no log, no count.
   */
  authorize(who: Requester, op: AclOperation, type: BindableResourceType, name: string, audit = true): boolean {
    const allowed = this.decide(who, op, type, name);
    if (!allowed && audit) this.denied(who, op, type, name);
    return allowed;
  }

  /**
   * Whether the requester may do `op` on at least one resource of the type that is not
   * denied to it (Kafka's authorizeByResourceType: InitProducerId for idempotence).
   */
  authorizeAny(who: Requester, op: AclOperation, type: BindableResourceType): boolean {
    if (this.isSuperUser(who.principal)) return true;
    const bindings = this.index.ofType(type);
    if (bindings.length === 0) return this.opts.allowEveryoneIfNoAclFound;
    const principal = principalToString(who.principal);
    const applies = (b: AclBinding, ops: readonly AclOperation[]) => (b.principal === principal || b.principal === WILDCARD_PRINCIPAL) && (b.host === who.host || b.host === WILDCARD) && ops.includes(b.operation);
    const denies = bindings.filter((b) => b.permission === AclPermission.DENY && applies(b, [op, AclOperation.ALL]));
    if (denies.some((d) => d.patternType === PatternType.LITERAL && d.resourceName === WILDCARD)) return false;
    for (const allow of bindings) {
      if (allow.permission !== AclPermission.ALLOW || !applies(allow, allowingOperations(op))) continue;
      if (allow.patternType === PatternType.LITERAL && allow.resourceName !== WILDCARD) {
        if (this.decide(who, op, type, allow.resourceName)) return true;
      } else if (!denies.some((d) => d.patternType === PatternType.PREFIXED && allow.resourceName !== WILDCARD && allow.resourceName.startsWith(d.resourceName))) {
        return true;
      }
    }
    return false;
  }

  /** Kafka's authorized-operations bit field (bit n: AclOperation n) for one resource. */
  authorizedOperations(who: Requester, type: BindableResourceType, name: string): number {
    let bits = 0;
    for (const op of OPERATIONS_OF_RESOURCE[type]) if (this.decide(who, op, type, name)) bits |= 1 << op;
    return bits;
  }

  /** Audits a denial decided elsewhere (a request refused before any resource check). */
  denied(who: Requester, op: AclOperation, type: ResourceType, name: string): void {
    const operation = OPERATION_NAMES[op] ?? String(op);
    const resourceType = RESOURCE_TYPE_NAMES[type] ?? String(type);
    this.denials.inc({ operation, resource_type: resourceType });
    this.opts.logger?.info({ principal: principalToString(who.principal), client: who.client, operation, resource: `${resourceType}:${name}` }, 'authorization denied');
  }

  private decide(who: Requester, op: AclOperation, type: BindableResourceType, name: string): boolean {
    if (this.isSuperUser(who.principal)) return true;
    const { bindings, resourceHasAcls } = this.index.matching(type, name, principalToString(who.principal));
    if (!resourceHasAcls) return this.opts.allowEveryoneIfNoAclFound;
    const allowing = allowingOperations(op);
    let allowed = false;
    // only the principal's own and User:* bindings come back
    for (const b of bindings) {
      if (b.host !== who.host && b.host !== WILDCARD) continue;
      if (b.permission === AclPermission.DENY) {
        // a DENY of READ does not deny DESCRIBE: only the operation itself or ALL
        if (b.operation === op || b.operation === AclOperation.ALL) return false;
      } else if (allowing.includes(b.operation)) {
        allowed = true;
      }
    }
    return allowed;
  }
}
