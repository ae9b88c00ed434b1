import { Command, Option } from 'commander';
import { ApiKey } from '../../protocol/api-codec.js';
import { errorInfo } from '../../protocol/error-codes.js';
import { codeOfName, OPERATION_NAMES, PATTERN_TYPE_NAMES, PERMISSION_NAMES, RESOURCE_TYPE_NAMES, CLUSTER_RESOURCE_NAME, AclOperation, AclPermission, PatternType, ResourceType } from '../../agent/security/acl.js';
import { CommandError, UsageError } from './cli-errors.js';
import { addKafkaListenerOptions, withKafkaClient } from './kafka-listener-options.js';
import { stdout, table } from './output.js';

// `streamctl acl create|list|delete` (docs/security.md): ACL bindings through Kafka's
// CreateAcls / DescribeAcls / DeleteAcls on a Kafka listener, with kafka-acls' vocabulary
// (--allow-principal/--deny-principal, --operation, --topic/--group/--cluster/--transactional-id,
// --resource-pattern-type).

interface ResourceOptions {
  topic?: string;
  group?: string;
  cluster?: boolean;
  transactionalId?: string;
  resourcePatternType?: string;
}

interface Resource {
  readonly type: number;
  readonly name: string | null;
}

const errorName = (code: number): string => errorInfo(code).name;

function resourceOf(o: ResourceOptions, required: boolean): Resource {
  const given: Resource[] = [
    ...(o.topic !== undefined ? [{ type: ResourceType.TOPIC, name: o.topic }] : []),
    ...(o.group !== undefined ? [{ type: ResourceType.GROUP, name: o.group }] : []),
    ...(o.cluster ? [{ type: ResourceType.CLUSTER, name: CLUSTER_RESOURCE_NAME }] : []),
    ...(o.transactionalId !== undefined ? [{ type: ResourceType.TRANSACTIONAL_ID, name: o.transactionalId }] : []),
  ];
  if (given.length > 1) throw new UsageError('give one of --topic, --group, --cluster, --transactional-id');
  if (given.length === 0) {
    if (required) throw new UsageError('give the resource: --topic, --group, --cluster or --transactional-id');
    return { type: ResourceType.ANY, name: null };
  }
  return given[0]!;
}

function patternOf(text: string | undefined, allowed: readonly PatternType[], fallback: PatternType): PatternType {
  if (text === undefined) return fallback;
  const code = codeOfName(PATTERN_TYPE_NAMES, text);
  if (code === undefined || !allowed.includes(code)) throw new UsageError(`--resource-pattern-type must be ${allowed.map((p) => PATTERN_TYPE_NAMES[p]!.toLowerCase()).join(', ')}, got "${text}"`);
  return code;
}

function operationsOf(texts: string[] | undefined, fallback: AclOperation[]): AclOperation[] {
  if (texts === undefined || texts.length === 0) return fallback;
  return texts.flatMap((t) => t.split(',')).map((t) => {
    const code = codeOfName(OPERATION_NAMES, t);
    if (code === undefined || code < AclOperation.ANY) throw new UsageError(`unknown --operation "${t}" (Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All)`);
    return code;
  });
}

/** Kafka's operation names are CamelCase on the command line (IdempotentWrite); accept both. */
function normalizeOperation(t: string): string {
  return t.replace(/([a-z])([A-Z])/g, '$1_$2');
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function resourceOptions(c: Command): Command {
  return c
    .option('--topic <name>', 'a topic (or a prefix with --resource-pattern-type prefixed)')
    .option('--group <name>', 'a consumer group')
    .option('--cluster', 'the cluster resource (kafka-cluster)')
    .option('--transactional-id <id>', 'a transactional id');
}

interface Row {
  resourceType: string;
  resourceName: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permission: string;
}

function print(rows: Row[], json: boolean | undefined): void {
  if (json) return stdout.json(rows);
  for (const l of table(['RESOURCE_TYPE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'], rows.map((r) => [r.resourceType, r.resourceName, r.patternType, r.principal, r.host, r.operation, r.permission]))) stdout.line(l);
}

const name = (names: Readonly<Record<number, string>>, code: number) => names[code] ?? String(code);

export function registerAclCommands(program: Command): void {
  const acl = addKafkaListenerOptions(
    program.command('acl').description('ACL bindings of the authorizer (authorizer.class.name) over a Kafka listener'),
    'who logs in (a super user, or one with ALTER on the cluster; DESCRIBE for list)',
  );

  resourceOptions(acl.command('create').description('add ALLOW (--allow-principal) or DENY (--deny-principal) bindings'))
    .option('--allow-principal <principal>', 'User:alice or User:* (repeatable)', collect)
    .option('--deny-principal <principal>', 'User:alice or User:* (repeatable)', collect)
    .option('--host <host>', 'the client IP address the binding applies to', '*')
    .option('--operation <operation>', 'Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite or All (repeatable, or comma-separated)', collect)
    .addOption(new Option('--resource-pattern-type <type>', 'literal or prefixed').default('literal'))
    .action(async (o: ResourceOptions & { allowPrincipal?: string[]; denyPrincipal?: string[]; host: string; operation?: string[] }, cmd: Command) => {
      const resource = resourceOf(o, true);
      const pattern = patternOf(o.resourcePatternType, [PatternType.LITERAL, PatternType.PREFIXED], PatternType.LITERAL);
      const operations = operationsOf(o.operation?.map(normalizeOperation), []);
      if (operations.length === 0) throw new UsageError('give at least one --operation');
      const principals = [...(o.allowPrincipal ?? []).map((p) => ({ p, permission: AclPermission.ALLOW })), ...(o.denyPrincipal ?? []).map((p) => ({ p, permission: AclPermission.DENY }))];
      if (principals.length === 0) throw new UsageError('give --allow-principal or --deny-principal');
      const creations = principals.flatMap(({ p, permission }) => operations.map((operation) => ({ resourceType: resource.type, resourceName: resource.name!, resourcePatternType: pattern, principal: p, host: o.host, operation, permissionType: permission })));
      await withKafkaClient(cmd, async (client) => {
        const r = await client.request(ApiKey.CreateAcls, 3, { creations });
        const failed = r.results.map((x, i) => ({ x, c: creations[i]! })).filter(({ x }) => x.errorCode !== 0);
        if (failed.length > 0) throw new CommandError(failed.map(({ x, c }) => `${c.principal} ${name(OPERATION_NAMES, c.operation)}: ${errorName(x.errorCode)}${x.errorMessage ? ` (${x.errorMessage})` : ''}`).join('; '));
        stdout.line(`created ${creations.length} ACL${creations.length === 1 ? '' : 's'} on ${name(RESOURCE_TYPE_NAMES, resource.type)}:${name(PATTERN_TYPE_NAMES, pattern)}:${resource.name}`);
      });
    });

  const filterCommand = (c: Command) =>
    resourceOptions(c)
      .option('--principal <principal>', 'only bindings of this principal')
      .option('--host <host>', 'only bindings of this host')
      .option('--operation <operation>', 'only bindings of this operation', collect)
      .option('--permission <permission>', 'allow or deny')
      .addOption(new Option('--resource-pattern-type <type>', 'any, match (every binding that applies to the name), literal or prefixed').default('any'));

  type FilterOptions = ResourceOptions & { principal?: string; host?: string; operation?: string[]; permission?: string };
  const filtersOf = (o: FilterOptions) => {
    const resource = resourceOf(o, false);
    const pattern = patternOf(o.resourcePatternType, [PatternType.ANY, PatternType.MATCH, PatternType.LITERAL, PatternType.PREFIXED], PatternType.ANY);
    let permission = AclPermission.ANY;
    if (o.permission !== undefined) {
      const code = codeOfName(PERMISSION_NAMES, o.permission);
      if (code !== AclPermission.ALLOW && code !== AclPermission.DENY) throw new UsageError(`--permission must be allow or deny, got "${o.permission}"`);
      permission = code;
    }
    return operationsOf(o.operation?.map(normalizeOperation), [AclOperation.ANY]).map((operation) => ({
      resourceTypeFilter: resource.type,
      resourceNameFilter: resource.name,
      patternTypeFilter: pattern,
      principalFilter: o.principal ?? null,
      hostFilter: o.host ?? null,
      operation,
      permissionType: permission,
    }));
  };

  filterCommand(acl.command('list').description('bindings the filter selects (all without one)')).action(async (o: FilterOptions, cmd: Command) => {
    const filters = filtersOf(o);
    await withKafkaClient(cmd, async (client, c) => {
      const rows: Row[] = [];
      for (const f of filters) {
        const r = await client.request(ApiKey.DescribeAcls, 3, f);
        if (r.errorCode !== 0) throw new CommandError(`DescribeAcls: ${errorName(r.errorCode)}${r.errorMessage ? ` (${r.errorMessage})` : ''}`);
        for (const res of r.resources) {
          for (const a of res.acls) rows.push({ resourceType: name(RESOURCE_TYPE_NAMES, res.resourceType), resourceName: res.resourceName, patternType: name(PATTERN_TYPE_NAMES, res.patternType), principal: a.principal, host: a.host, operation: name(OPERATION_NAMES, a.operation), permission: name(PERMISSION_NAMES, a.permissionType) });
        }
      }
      print(rows, c.json);
    });
  });

  filterCommand(acl.command('delete').description('remove the bindings the filter selects; prints them')).action(async (o: FilterOptions & ResourceOptions, cmd: Command) => {
    const filters = filtersOf(o);
    if (filters.every((f) => f.resourceTypeFilter === ResourceType.ANY && f.principalFilter === null && f.hostFilter === null && f.operation === AclOperation.ANY && f.permissionType === AclPermission.ANY)) {
      throw new UsageError('refusing to delete every ACL: narrow it with a resource, --principal, --host, --operation or --permission');
    }
    await withKafkaClient(cmd, async (client, c) => {
      const r = await client.request(ApiKey.DeleteAcls, 3, { filters });
      const failed = r.filterResults.find((x) => x.errorCode !== 0);
      if (failed) throw new CommandError(`DeleteAcls: ${errorName(failed.errorCode)}${failed.errorMessage ? ` (${failed.errorMessage})` : ''}`);
      const rows = r.filterResults.flatMap((x) => x.matchingAcls.map((m) => ({ resourceType: name(RESOURCE_TYPE_NAMES, m.resourceType), resourceName: m.resourceName, patternType: name(PATTERN_TYPE_NAMES, m.patternType), principal: m.principal, host: m.host, operation: name(OPERATION_NAMES, m.operation), permission: name(PERMISSION_NAMES, m.permissionType) })));
      if (c.json) stdout.json(rows);
      else {
        stdout.line(`deleted ${rows.length} ACL${rows.length === 1 ? '' : 's'}`);
        if (rows.length > 0) print(rows, false);
      }
    });
  });
}
