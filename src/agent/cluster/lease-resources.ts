// Names of leased resources (docs/architecture.md §8): partitions and group-coordinator shards.

import { partitionLeaseResource } from '../../metadata/metadata-store.js';

export { partitionLeaseResource };

export const PARTITION_PREFIX = 'partition/';
export const COORDINATOR_SHARD_PREFIX = 'group-shard/';

export function coordinatorShardResource(shard: number): string {
  return `${COORDINATOR_SHARD_PREFIX}${shard}`;
}

/** Topic and partition of a partition resource; undefined for any other resource. */
export function parsePartitionResource(resource: string): { topic: string; partition: number } | undefined {
  if (!resource.startsWith(PARTITION_PREFIX)) return undefined;
  const slash = resource.lastIndexOf('/');
  const partition = Number(resource.slice(slash + 1));
  if (slash < PARTITION_PREFIX.length || !Number.isSafeInteger(partition)) return undefined;
  return { topic: resource.slice(PARTITION_PREFIX.length, slash), partition };
}
