/**
 * Authorized-operations bit fields (bit n set = AclOperation n allowed), as Kafka answers them
 * with no authorizer: every operation the resource type supports (the core's list of them).
 * INT32_MIN means "not asked".
 */
import { OPERATIONS_OF_RESOURCE, ResourceType, type AclOperation, type BindableResourceType } from '../../agent/security/acl.js';

const bits = (ops: readonly AclOperation[]): number => ops.reduce((acc, op) => acc | (1 << op), 0);

export const OPERATIONS_NOT_REQUESTED = -2147483648;

/** Every operation of a resource type, as a bit field. */
export function allOperationsOf(type: BindableResourceType): number {
  return bits(OPERATIONS_OF_RESOURCE[type]);
}

/** READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (8). */
export const TOPIC_AUTHORIZED_OPERATIONS = allOperationsOf(ResourceType.TOPIC);

/** CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE (7). */
export const CLUSTER_AUTHORIZED_OPERATIONS = allOperationsOf(ResourceType.CLUSTER);

/** READ, DELETE, DESCRIBE (3). */
export const GROUP_AUTHORIZED_OPERATIONS = allOperationsOf(ResourceType.GROUP);
