import { describe, expect, it } from 'vitest';
import { CLUSTER_AUTHORIZED_OPERATIONS, GROUP_AUTHORIZED_OPERATIONS, TOPIC_AUTHORIZED_OPERATIONS } from './authorized-operations.js';

const setBits = (field: number): number[] => Array.from({ length: 31 }, (_, i) => i).filter((i) => (field & (1 << i)) !== 0);

describe('authorized operations without an authorizer', () => {
  // AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
  // CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12
  it('are every operation the resource type supports (librdkafka 0081: 8 for a topic, 7 for the cluster)', () => {
    expect(setBits(TOPIC_AUTHORIZED_OPERATIONS)).toEqual([3, 4, 5, 6, 7, 8, 10, 11]);
    expect(setBits(CLUSTER_AUTHORIZED_OPERATIONS)).toEqual([5, 7, 8, 9, 10, 11, 12]);
    expect(setBits(GROUP_AUTHORIZED_OPERATIONS)).toEqual([3, 6, 8]);
    expect([TOPIC_AUTHORIZED_OPERATIONS, CLUSTER_AUTHORIZED_OPERATIONS, GROUP_AUTHORIZED_OPERATIONS]).toEqual([3576, 8096, 328]);
  });
});
