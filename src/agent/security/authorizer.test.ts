import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AclOperation as Op, AclPermission, PatternType, ResourceType, filterMatches, bindingProblem, type AclBinding, type BindableResourceType } from './acl.js';
import { Authorizer, hostOfAddress, type Requester } from './authorizer.js';
import { userPrincipal } from './principal.js';

const alice: Requester = { principal: userPrincipal('alice'), host: '10.0.0.1', client: '10.0.0.1:5000' };
const bob: Requester = { principal: userPrincipal('bob'), host: '10.0.0.2', client: '10.0.0.2:5000' };
const admin: Requester = { principal: userPrincipal('admin'), host: '10.0.0.3', client: '10.0.0.3:5000' };

function acl(partial: Partial<AclBinding> & { operation: Op }): AclBinding {
  return { resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL, principal: 'User:alice', host: '*', permission: AclPermission.ALLOW, ...partial };
}

function authorizer(bindings: AclBinding[], allowEveryoneIfNoAclFound = false): Authorizer {
  const a = new Authorizer({ superUsers: [userPrincipal('admin')], allowEveryoneIfNoAclFound });
  a.replace(bindings);
  return a;
}

const topic = (a: Authorizer, who: Requester, op: Op, name: string, type: BindableResourceType = ResourceType.TOPIC) => a.authorize(who, op, type, name, false);

describe('Authorizer', () => {
  it('denies without a binding, allows the bound principal only for the bound operation', () => {
    const a = authorizer([acl({ operation: Op.WRITE })]);
    expect(topic(a, alice, Op.WRITE, 'orders')).toBe(true);
    expect(topic(a, alice, Op.READ, 'orders')).toBe(false);
    expect(topic(a, bob, Op.WRITE, 'orders')).toBe(false);
    expect(topic(a, alice, Op.WRITE, 'orders2')).toBe(false);
    expect(topic(a, alice, Op.WRITE, 'orders', ResourceType.GROUP)).toBe(false);
  });

  it('lets READ, WRITE, DELETE and ALTER imply DESCRIBE, and ALTER_CONFIGS imply DESCRIBE_CONFIGS', () => {
    for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) {
      const a = authorizer([acl({ operation: op })]);
      expect(topic(a, alice, Op.DESCRIBE, 'orders')).toBe(true);
      expect(topic(a, alice, Op.DESCRIBE_CONFIGS, 'orders')).toBe(false);
    }
    const configs = authorizer([acl({ operation: Op.ALTER_CONFIGS })]);
    expect(topic(configs, alice, Op.DESCRIBE_CONFIGS, 'orders')).toBe(true);
    expect(topic(configs, alice, Op.DESCRIBE, 'orders')).toBe(false);
    const describe = authorizer([acl({ operation: Op.DESCRIBE })]);
    expect(topic(describe, alice, Op.READ, 'orders')).toBe(false);
  });

  it('lets ALL allow every operation', () => {
    const a = authorizer([acl({ operation: Op.ALL })]);
    for (const op of [Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS]) expect(topic(a, alice, op, 'orders')).toBe(true);
  });

  it('lets DENY win over ALLOW, a DENY of ALL deny everything, and a DENY of READ leave DESCRIBE', () => {
    const a = authorizer([acl({ operation: Op.ALL }), acl({ operation: Op.WRITE, permission: AclPermission.DENY })]);
    expect(topic(a, alice, Op.WRITE, 'orders')).toBe(false);
    expect(topic(a, alice, Op.READ, 'orders')).toBe(true);
    const all = authorizer([acl({ operation: Op.READ }), acl({ operation: Op.ALL, permission: AclPermission.DENY, resourceName: 'ord', patternType: PatternType.PREFIXED })]);
    expect(topic(all, alice, Op.READ, 'orders')).toBe(false);
    expect(topic(all, alice, Op.DESCRIBE, 'orders')).toBe(false);
    const read = authorizer([acl({ operation: Op.READ }), acl({ operation: Op.DESCRIBE }), acl({ operation: Op.READ, permission: AclPermission.DENY })]);
    expect(topic(read, alice, Op.READ, 'orders')).toBe(false);
    expect(topic(read, alice, Op.DESCRIBE, 'orders')).toBe(true);
  });

  it('matches PREFIXED patterns on the start of the name, and the * literal on every name', () => {
    const a = authorizer([acl({ operation: Op.READ, resourceName: 'app-', patternType: PatternType.PREFIXED }), acl({ operation: Op.WRITE, resourceName: '*' })]);
    expect(topic(a, alice, Op.READ, 'app-')).toBe(true);
    expect(topic(a, alice, Op.READ, 'app-orders')).toBe(true);
    expect(topic(a, alice, Op.READ, 'app')).toBe(false);
    expect(topic(a, alice, Op.READ, 'xapp-orders')).toBe(false);
    expect(topic(a, alice, Op.WRITE, 'anything')).toBe(true);
    // a PREFIXED "*" is a prefix like any other, not a wildcard
    const star = authorizer([acl({ operation: Op.READ, resourceName: '*', patternType: PatternType.PREFIXED })]);
    expect(topic(star, alice, Op.READ, 'orders')).toBe(false);
    expect(topic(star, alice, Op.READ, '*x')).toBe(true);
  });

  it('matches the User:* principal and the host exactly or *', () => {
    const a = authorizer([acl({ operation: Op.READ, principal: 'User:*', host: '10.0.0.2' })]);
    expect(topic(a, bob, Op.READ, 'orders')).toBe(true);
    expect(topic(a, alice, Op.READ, 'orders')).toBe(false);
    const other = authorizer([acl({ operation: Op.READ, principal: 'Group:*' })]);
    expect(topic(other, alice, Op.READ, 'orders')).toBe(false);
  });

  it('lets super users do anything, even against a DENY', () => {
    const a = authorizer([acl({ operation: Op.ALL, principal: 'User:*', permission: AclPermission.DENY })]);
    expect(topic(a, admin, Op.DELETE, 'orders')).toBe(true);
    expect(a.authorize(admin, Op.ALTER, ResourceType.CLUSTER, 'kafka-cluster')).toBe(true);
    expect(topic(a, alice, Op.READ, 'orders')).toBe(false);
  });

  it('allows everyone on resources without bindings only with allow.everyone.if.no.acl.found', () => {
    const a = authorizer([acl({ operation: Op.READ, principal: 'User:bob' })], true);
    expect(topic(a, alice, Op.READ, 'payments')).toBe(true);
    // orders has a binding: the rule no longer applies there
    expect(topic(a, alice, Op.READ, 'orders')).toBe(false);
    expect(topic(a, bob, Op.READ, 'orders')).toBe(true);
  });

  it('answers authorized operations as Kafka bit fields', () => {
    const a = authorizer([acl({ operation: Op.READ }), acl({ operation: Op.ALTER_CONFIGS })]);
    expect(a.authorizedOperations(alice, ResourceType.TOPIC, 'orders')).toBe((1 << Op.READ) | (1 << Op.DESCRIBE) | (1 << Op.DESCRIBE_CONFIGS) | (1 << Op.ALTER_CONFIGS));
    expect(a.authorizedOperations(bob, ResourceType.TOPIC, 'orders')).toBe(0);
    expect(a.authorizedOperations(admin, ResourceType.GROUP, 'g')).toBe((1 << Op.READ) | (1 << Op.DELETE) | (1 << Op.DESCRIBE));
  });

  it('decides "some resource of the type" for idempotent producers like Kafka', () => {
    expect(authorizer([acl({ operation: Op.WRITE, resourceName: 'x' })]).authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(true);
    expect(authorizer([acl({ operation: Op.READ })]).authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
    expect(authorizer([acl({ operation: Op.WRITE }), acl({ operation: Op.WRITE, permission: AclPermission.DENY })]).authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
    expect(authorizer([acl({ operation: Op.WRITE, resourceName: 'a-b', patternType: PatternType.PREFIXED }), acl({ operation: Op.WRITE, resourceName: 'a-', patternType: PatternType.PREFIXED, permission: AclPermission.DENY })]).authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
    expect(authorizer([acl({ operation: Op.WRITE, resourceName: '*' }), acl({ operation: Op.WRITE, resourceName: '*', permission: AclPermission.DENY, principal: 'User:*' })]).authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
    expect(authorizer([]).authorizeAny(admin, Op.WRITE, ResourceType.TOPIC)).toBe(true);
  });

  it('finds prefixed bindings among 10,000 without scanning them', () => {
    const many: AclBinding[] = [];
    for (let i = 0; i < 10_000; i++) many.push(acl({ operation: Op.WRITE, resourceName: `team-${i}-`, patternType: PatternType.PREFIXED, principal: `User:u${i}` }));
    const a = authorizer(many);
    expect(a.aclCount).toBe(10_000);
    expect(topic(a, { ...alice, principal: userPrincipal('u4242') }, Op.WRITE, 'team-4242-events')).toBe(true);
    expect(topic(a, { ...alice, principal: userPrincipal('u4242') }, Op.WRITE, 'team-4243-events')).toBe(false);
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) topic(a, alice, Op.WRITE, `team-${i % 10_000}-events`);
    // a scan of 10,000 bindings per decision would take seconds
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('audits denied checks that ask to be audited: one log line and the denial counter', async () => {
    const registry = new Registry();
    const lines: Array<Record<string, unknown>> = [];
    const logger = { info: (obj: Record<string, unknown>) => lines.push(obj) } as unknown as import('pino').Logger;
    const a = new Authorizer({ superUsers: [], allowEveryoneIfNoAclFound: false, logger, registry });
    a.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders');
    a.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders', false);
    expect(lines).toEqual([{ principal: 'User:alice', client: '10.0.0.1:5000', operation: 'READ', resource: 'TOPIC:orders' }]);
    expect(await registry.getSingleMetricAsString('streamhouse_authorization_denials_total')).toContain('streamhouse_authorization_denials_total{operation="READ",resource_type="TOPIC"} 1');
  });
});

describe('ACL model', () => {
  it('parses the host of a client address', () => {
    expect(hostOfAddress('10.1.2.3:5555')).toBe('10.1.2.3');
    expect(hostOfAddress('::ffff:127.0.0.1:9092')).toBe('127.0.0.1');
    expect(hostOfAddress('[::1]:9092')).toBe('::1');
    expect(hostOfAddress('::1:9092')).toBe('::1');
  });

  it('matches filters as Kafka: ANY, MATCH, LITERAL, PREFIXED and null fields', () => {
    const literal = acl({ operation: Op.READ });
    const prefixed = acl({ operation: Op.READ, resourceName: 'ord', patternType: PatternType.PREFIXED });
    const star = acl({ operation: Op.READ, resourceName: '*' });
    const f = (patternType: PatternType, resourceName: string | null) => ({ resourceType: ResourceType.TOPIC, resourceName, patternType, principal: null, host: null, operation: Op.ANY, permission: AclPermission.ANY });
    const pick = (filter: ReturnType<typeof f>) => [literal, prefixed, star].filter((b) => filterMatches(filter, b)).map((b) => `${b.patternType}:${b.resourceName}`);
    expect(pick(f(PatternType.ANY, null))).toEqual(['3:orders', '4:ord', '3:*']);
    expect(pick(f(PatternType.ANY, 'orders'))).toEqual(['3:orders']);
    expect(pick(f(PatternType.MATCH, 'orders'))).toEqual(['3:orders', '4:ord', '3:*']);
    expect(pick(f(PatternType.MATCH, 'ordinal'))).toEqual(['4:ord', '3:*']);
    expect(pick(f(PatternType.LITERAL, null))).toEqual(['3:orders', '3:*']);
    expect(pick(f(PatternType.PREFIXED, 'ord'))).toEqual(['4:ord']);
    expect(filterMatches({ ...f(PatternType.ANY, null), principal: 'User:bob' }, literal)).toBe(false);
    expect(filterMatches({ ...f(PatternType.ANY, null), operation: Op.WRITE }, literal)).toBe(false);
    expect(filterMatches({ ...f(PatternType.ANY, null), permission: AclPermission.DENY }, literal)).toBe(false);
    expect(filterMatches({ ...f(PatternType.ANY, null), resourceType: ResourceType.GROUP }, literal)).toBe(false);
  });

  it('refuses bindings Kafka refuses', () => {
    const ok = { resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: Op.READ, permission: AclPermission.ALLOW };
    expect(bindingProblem(ok)).toBeUndefined();
    expect(bindingProblem({ ...ok, resourceType: ResourceType.ANY })).toMatch(/resource type/);
    expect(bindingProblem({ ...ok, patternType: PatternType.MATCH })).toMatch(/pattern type/);
    expect(bindingProblem({ ...ok, resourceName: '' })).toMatch(/empty resource name/);
    expect(bindingProblem({ ...ok, operation: Op.ANY })).toMatch(/operation/);
    expect(bindingProblem({ ...ok, operation: Op.IDEMPOTENT_WRITE })).toMatch(/not valid for resource type TOPIC/);
    expect(bindingProblem({ ...ok, permission: AclPermission.ANY })).toMatch(/permission/);
    expect(bindingProblem({ ...ok, principal: 'alice' })).toMatch(/principal/);
    expect(bindingProblem({ ...ok, resourceType: ResourceType.CLUSTER, resourceName: 'other', operation: Op.ALTER })).toMatch(/kafka-cluster/);
    expect(bindingProblem({ ...ok, resourceType: ResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: Op.ALTER })).toBeUndefined();
  });
});
