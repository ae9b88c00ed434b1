import { status } from '@grpc/grpc-js';
import { AdminClient, StreamHouseError } from './streamhouse-client.js';

export const ORDERS_TOPIC = 'orders';
export const ORDERS_PARTITIONS = 6;
export const INVENTORY_TOPIC = 'inventory-updates';
export const INVENTORY_PARTITIONS = 4;
export const ANALYTICS_GROUP = 'analytics-pipeline';
export const INVENTORY_GROUP = 'inventory-service';

/** Creates the topic unless it exists (several services may race to create it). */
export async function ensureTopic(address: string, name: string, partitions: number): Promise<void> {
  const admin = new AdminClient({ address });
  try {
    const existing = await admin.describeTopic(name).catch((err: unknown) => {
      if (err instanceof StreamHouseError && err.code === status.NOT_FOUND) return undefined;
      throw err;
    });
    if (existing) {
      if (existing.partitionCount !== partitions) console.warn(`topic ${name} has ${existing.partitionCount} partitions, the demo expects ${partitions}`);
      return;
    }
    await admin.createTopic(name, { partitions }).catch((err: unknown) => {
      if (err instanceof StreamHouseError && err.code === status.ALREADY_EXISTS) return;
      throw err;
    });
  } finally {
    admin.close();
  }
}
