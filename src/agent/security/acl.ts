// Kafka's ACL model (docs/security.md): a binding is a resource pattern (type, name, LITERAL
// or PREFIXED) and an entry (principal, host, operation, ALLOW or DENY). The numeric codes
// are Kafka's own, as they travel in CreateAcls/DescribeAcls/DeleteAcls.

export enum ResourceType {
  UNKNOWN = 0,
  ANY = 1,
  TOPIC = 2,
  GROUP = 3,
  CLUSTER = 4,
  TRANSACTIONAL_ID = 5,
  DELEGATION_TOKEN = 6,
  USER = 7,
}

export enum PatternType {
  UNKNOWN = 0,
  ANY = 1,
  MATCH = 2,
  LITERAL = 3,
  PREFIXED = 4,
}

export enum AclOperation {
  UNKNOWN = 0,
  ANY = 1,
  ALL = 2,
  READ = 3,
  WRITE = 4,
  CREATE = 5,
  DELETE = 6,
  ALTER = 7,
  DESCRIBE = 8,
  CLUSTER_ACTION = 9,
  DESCRIBE_CONFIGS = 10,
  ALTER_CONFIGS = 11,
  IDEMPOTENT_WRITE = 12,
}

export enum AclPermission {
  UNKNOWN = 0,
  ANY = 1,
  DENY = 2,
  ALLOW = 3,
}

/** The resource types ACLs can be stored for here (Kafka's USER and DELEGATION_TOKEN are not). */
export type BindableResourceType = ResourceType.TOPIC | ResourceType.GROUP | ResourceType.CLUSTER | ResourceType.TRANSACTIONAL_ID;
export type BindablePatternType = PatternType.LITERAL | PatternType.PREFIXED;
export type BindablePermission = AclPermission.ALLOW | AclPermission.DENY;

/** The one name of the CLUSTER resource. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
/** A LITERAL name matching every resource of its type, and the host/principal wildcard. */
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

export interface AclBinding {
  readonly resourceType: BindableResourceType;
  readonly resourceName: string;
  readonly patternType: BindablePatternType;
  /** `Type:name`, e.g. `User:alice`, or `User:*`. */
  readonly principal: string;
  /** An IP address or `*`. */
  readonly host: string;
  readonly operation: AclOperation;
  readonly permission: BindablePermission;
}

/** What DescribeAcls and DeleteAcls select by: null and ANY match everything. */
export interface AclBindingFilter {
  readonly resourceType: ResourceType;
  readonly resourceName: string | null;
  readonly patternType: PatternType;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: AclOperation;
  readonly permission: AclPermission;
}

export const RESOURCE_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'UNKNOWN', 1: 'ANY', 2: 'TOPIC', 3: 'GROUP', 4: 'CLUSTER', 5: 'TRANSACTIONAL_ID', 6: 'DELEGATION_TOKEN', 7: 'USER' };
export const PATTERN_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'UNKNOWN', 1: 'ANY', 2: 'MATCH', 3: 'LITERAL', 4: 'PREFIXED' };
export const OPERATION_NAMES: Readonly<Record<number, string>> = {
  0: 'UNKNOWN', 1: 'ANY', 2: 'ALL', 3: 'READ', 4: 'WRITE', 5: 'CREATE', 6: 'DELETE', 7: 'ALTER', 8: 'DESCRIBE',
  9: 'CLUSTER_ACTION', 10: 'DESCRIBE_CONFIGS', 11: 'ALTER_CONFIGS', 12: 'IDEMPOTENT_WRITE',
};
export const PERMISSION_NAMES: Readonly<Record<number, string>> = { 0: 'UNKNOWN', 1: 'ANY', 2: 'DENY', 3: 'ALLOW' };

/** Parses a Kafka name (`TOPIC`, `topic`, `Transactional-Id`) into its code; undefined when unknown. */
export function codeOfName(names: Readonly<Record<number, string>>, text: string): number | undefined {
  const wanted = text.trim().toUpperCase().replace(/-/g, '_');
  for (const [code, name] of Object.entries(names)) if (name === wanted) return Number(code);
  return undefined;
}

/** The operations Kafka lets an ACL of each resource type name (ALL aside). */
export const OPERATIONS_OF_RESOURCE: Readonly<Record<BindableResourceType, readonly AclOperation[]>> = {
  [ResourceType.TOPIC]: [AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE],
  [ResourceType.CLUSTER]: [AclOperation.CREATE, AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.WRITE, AclOperation.DESCRIBE],
};

/**
 * Why a binding cannot be created (Kafka answers INVALID_REQUEST with it), or undefined.
 */
export function bindingProblem(b: {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permission: number;
}): string | undefined {
  if (b.resourceType !== ResourceType.TOPIC && b.resourceType !== ResourceType.GROUP && b.resourceType !== ResourceType.CLUSTER && b.resourceType !== ResourceType.TRANSACTIONAL_ID) {
    return `Invalid resource type ${RESOURCE_TYPE_NAMES[b.resourceType] ?? b.resourceType}`;
  }
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid pattern type ${PATTERN_TYPE_NAMES[b.patternType] ?? b.patternType}: only LITERAL and PREFIXED ACLs can be created`;
  if (b.resourceName === '') return 'Invalid empty resource name';
  if (b.resourceType === ResourceType.CLUSTER && (b.patternType !== PatternType.LITERAL || b.resourceName !== CLUSTER_RESOURCE_NAME)) return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  if (b.operation < AclOperation.ALL || b.operation > AclOperation.IDEMPOTENT_WRITE) return `Invalid operation ${OPERATION_NAMES[b.operation] ?? b.operation}`;
  if (b.operation !== AclOperation.ALL && !OPERATIONS_OF_RESOURCE[b.resourceType as BindableResourceType].includes(b.operation as AclOperation)) {
    return `Operation ${OPERATION_NAMES[b.operation]} is not valid for resource type ${RESOURCE_TYPE_NAMES[b.resourceType]}`;
  }
  if (b.permission !== AclPermission.ALLOW && b.permission !== AclPermission.DENY) return `Invalid permission type ${PERMISSION_NAMES[b.permission] ?? b.permission}`;
  const colon = b.principal.indexOf(':');
  if (colon <= 0 || colon === b.principal.length - 1) return `Invalid principal "${b.principal}": expected Type:name such as User:alice`;
  if (b.host === '') return 'Invalid empty host';
  return undefined;
}

/** Why a filter cannot select anything (INVALID_REQUEST), or undefined. */
export function filterProblem(f: AclBindingFilter): string | undefined {
  if (f.resourceType === ResourceType.UNKNOWN || f.resourceType > ResourceType.USER) return 'The resource type filter is unknown';
  if (f.patternType === PatternType.UNKNOWN || f.patternType > PatternType.PREFIXED) return 'The pattern type filter is unknown';
  if (f.operation === AclOperation.UNKNOWN || f.operation > AclOperation.IDEMPOTENT_WRITE + 2) return 'The operation filter is unknown';
  if (f.permission === AclPermission.UNKNOWN || f.permission > AclPermission.ALLOW) return 'The permission type filter is unknown';
  return undefined;
}

/** Whether the binding is selected by the filter (Kafka's AclBindingFilter.matches). */
export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (!patternFilterMatches(f.patternType, f.resourceName, b.patternType, b.resourceName)) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  if (f.permission !== AclPermission.ANY && f.permission !== b.permission) return false;
  return true;
}

function patternFilterMatches(filterType: PatternType, filterName: string | null, type: BindablePatternType, name: string): boolean {
  switch (filterType) {
    case PatternType.ANY:
      return filterName === null || filterName === name;
    case PatternType.MATCH:
      // every pattern that would apply to a resource of that name
      if (filterName === null) return true;
      if (type === PatternType.LITERAL) return name === filterName || name === WILDCARD;
      return filterName.startsWith(name);
    default:
      return filterType === type && (filterName === null || filterName === name);
  }
}

/** Kafka's text for a binding, used in logs and by streamctl. */
export function describeBinding(b: AclBinding): string {
  return `(principal=${b.principal}, host=${b.host}, operation=${OPERATION_NAMES[b.operation]}, permissionType=${PERMISSION_NAMES[b.permission]}) on ${RESOURCE_TYPE_NAMES[b.resourceType]}:${PATTERN_TYPE_NAMES[b.patternType]}:${b.resourceName}`;
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return a.resourceType === b.resourceType && a.resourceName === b.resourceName && a.patternType === b.patternType && a.principal === b.principal && a.host === b.host && a.operation === b.operation && a.permission === b.permission;
}
