import { decodeOrderEvent } from '../shared/order-event.js';

/**
 * The analytics of one partition of `orders`, computed from a contiguous prefix of its log:
 * every record below `nextOffset`, each applied once. Amounts are integer cents, so sums are
 * exact. An order id seen before (a producer retry can write an order twice) is not counted again.
 */
export class PartitionLedger {
  readonly partition: number;
  /** The first offset not applied yet. */
  nextOffset = 0n;
  orders = 0;
  revenueCents = 0;
  /** Records that were not orders, and orders seen twice. */
  skipped = 0;
  duplicates = 0;
  readonly customerRevenueCents = new Map<string, number>();
  readonly productQuantities = new Map<string, number>();
  private readonly seen = new Set<string>();

  constructor(partition: number) {
    this.partition = partition;
  }

  /** Applies the record at `offset` unless it is below nextOffset; the caller has applied everything before it. */
  apply(offset: bigint, value: Buffer | null): boolean {
    if (offset < this.nextOffset) return false;
    this.nextOffset = offset + 1n;
    const order = decodeOrderEvent(value);
    if (order === undefined) {
      this.skipped++;
      return true;
    }
    if (this.seen.has(order.order_id)) {
      this.duplicates++;
      return true;
    }
    this.seen.add(order.order_id);
    this.orders++;
    this.revenueCents += order.total_cents;
    this.customerRevenueCents.set(order.customer_id, (this.customerRevenueCents.get(order.customer_id) ?? 0) + order.total_cents);
    for (const line of order.items) this.productQuantities.set(line.sku, (this.productQuantities.get(line.sku) ?? 0) + line.quantity);
    return true;
  }
}
