/**
 * Authorized-operations bit fields (bit n set = AclOperation n allowed), as Kafka answers them
 * with no authorizer: every operation the resource type supports. INT32_MIN means "not asked".
 */
const enum AclOperation {
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

const bits = (...ops: AclOperation[]): number => ops.reduce((acc, op) => acc | (1 << op), 0);

export const OPERATIONS_NOT_REQUESTED = -2147483648;

/** READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (8). */
export const TOPIC_AUTHORIZED_OPERATIONS = bits(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);

/** CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE (7). */
export const CLUSTER_AUTHORIZED_OPERATIONS = bits(AclOperation.CREATE, AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE);

/** READ, DELETE, DESCRIBE (3). */
export const GROUP_AUTHORIZED_OPERATIONS = bits(AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE);
