import { Consumer, type ConsumerRecord, type TopicPartition } from '../shared/streamhouse-client.js';

/**
 * Reads one partition from `from` up to (not including) `to`, or up to its high watermark when
 * `to` is undefined, with a consumer outside the group (it neither joins nor commits).
 */
export async function readPartition(address: string, tp: TopicPartition, from: bigint, to: bigint | undefined, onRecord: (r: ConsumerRecord) => void): Promise<void> {
  const reader = new Consumer({ address, assignment: [tp], offsetReset: 'earliest', maxPollRecords: 5000, maxRecordsPerFetch: 5000 });
  reader.seek(tp, from);
  try {
    for (;;) {
      const position = reader.position(tp);
      if (to !== undefined && position !== undefined && position >= to) return;
      const records = await reader.poll(200);
      for (const r of records) {
        if (to !== undefined && r.offset >= to) return;
        onRecord(r);
      }
      if (records.length === 0 && reader.caughtUp()) return;
    }
  } finally {
    await reader.close();
  }
}
