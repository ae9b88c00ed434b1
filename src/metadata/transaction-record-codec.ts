// A transaction's partitions and groups are small and always read whole with their record,
// so each is one JSON text column, the same text in both backends. Group ids are Kafka
// strings and may hold NUL: JSON escapes it (\u0000), so the text never contains one.

import { MetadataStoreError, type TransactionRecord, type TransactionRecordInput } from './metadata-store.js';

type EncodedPartition = [topic: string, partition: number];

export function encodeTransactionPartitions(partitions: TransactionRecord['partitions']): string {
  const encoded: EncodedPartition[] = partitions.map((p) => [p.topic, p.partition]);
  return JSON.stringify(encoded);
}

export function decodeTransactionPartitions(text: string): Array<{ topic: string; partition: number }> {
  return (JSON.parse(text) as EncodedPartition[]).map(([topic, partition]) => ({ topic, partition }));
}

export function encodeTransactionGroups(groups: TransactionRecord['groups']): string {
  return JSON.stringify(groups);
}

export function decodeTransactionGroups(text: string): string[] {
  return JSON.parse(text) as string[];
}

/** put/delete guards: versions start at 1 with the first put, 0 meaning "not there yet". */
export function assertExpectedVersion(expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new MetadataStoreError('INVALID_ARGUMENT', `expectedVersion must be a non-negative integer, got ${expectedVersion}`);
  }
}

/** What a put stored, as get would read it back: the input (copied) at its new version. */
export function storedTransactionRecord(record: TransactionRecordInput, version: number): TransactionRecord {
  return {
    transactionalId: record.transactionalId,
    producerId: record.producerId,
    producerEpoch: record.producerEpoch,
    lastProducerEpoch: record.lastProducerEpoch,
    state: record.state,
    timeoutMs: record.timeoutMs,
    partitions: record.partitions.map((p) => ({ topic: p.topic, partition: p.partition })),
    groups: [...record.groups],
    startedAtMs: record.startedAtMs,
    updatedAtMs: record.updatedAtMs,
    version,
  };
}
