// Backend-independent checks of a FlushCommit, run before any transaction starts so a
// malformed commit from a buggy writer can never corrupt the chunk index.

import { MetadataStoreError, type FlushChunk, type FlushCommit } from './metadata-store.js';

function invalid(message: string): MetadataStoreError {
  return new MetadataStoreError('INVALID_ARGUMENT', `Invalid flush commit: ${message}`);
}

export function partitionKey(topic: string, partition: number): string {
  // NUL cannot appear in a Kafka topic name, so the key is unambiguous.
  return `${topic}\u0000${partition}`;
}

function isNonNegativeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

export function validateFlushCommit(commit: FlushCommit): void {
  if (commit.objectKey.length === 0) throw invalid('objectKey is empty');
  if (!isNonNegativeInteger(commit.objectSize)) throw invalid(`objectSize ${commit.objectSize} is not a non-negative integer`);

  const chunksByPartition = new Map<string, FlushChunk[]>();
  for (const update of commit.partitions) {
    const key = partitionKey(update.topic, update.partition);
    if (chunksByPartition.has(key)) throw invalid(`partition ${update.topic}-${update.partition} listed twice`);
    if (update.newHighWatermark < update.expectedHighWatermark) {
      throw invalid(`partition ${update.topic}-${update.partition} HWM would move backwards`);
    }
    chunksByPartition.set(key, []);
  }

  for (const chunk of commit.chunks) {
    const name = `${chunk.topic}-${chunk.partition}`;
    const list = chunksByPartition.get(partitionKey(chunk.topic, chunk.partition));
    if (list === undefined) throw invalid(`chunk of ${name} has no partition update`);
    if (chunk.lastOffset < chunk.baseOffset) throw invalid(`chunk of ${name} ends before it starts`);
    if (!isNonNegativeInteger(chunk.recordCount) || !isNonNegativeInteger(chunk.byteOffset) || !isNonNegativeInteger(chunk.byteLength)) {
      throw invalid(`chunk of ${name} has a negative or fractional count`);
    }
    if (chunk.byteOffset + chunk.byteLength > commit.objectSize) throw invalid(`chunk of ${name} lies outside the object`);
    list.push(chunk);
  }

  for (const update of commit.partitions) {
    const name = `${update.topic}-${update.partition}`;
    const chunks = chunksByPartition.get(partitionKey(update.topic, update.partition)) ?? [];
    chunks.sort((a, b) => (a.baseOffset < b.baseOffset ? -1 : a.baseOffset > b.baseOffset ? 1 : 0));
    // Contiguity is what lets the index find a chunk by offset with one range seek.
    let next = update.expectedHighWatermark;
    for (const chunk of chunks) {
      if (chunk.baseOffset !== next) throw invalid(`chunks of ${name} do not continue at offset ${next}`);
      next = chunk.lastOffset + 1n;
    }
    if (next !== update.newHighWatermark) {
      throw invalid(`chunks of ${name} end at ${next} but the new HWM is ${update.newHighWatermark}`);
    }
  }

  const seenProducers = new Set<string>();
  for (const state of commit.producerStates) {
    const name = `${state.topic}-${state.partition}`;
    if (!chunksByPartition.has(partitionKey(state.topic, state.partition))) {
      throw invalid(`producer state of ${name} has no partition update`);
    }
    const producerKey = `${partitionKey(state.topic, state.partition)}\u0000${state.producerId}`;
    if (seenProducers.has(producerKey)) throw invalid(`producer ${state.producerId} listed twice for ${name}`);
    seenProducers.add(producerKey);
  }

  // The ABORT markers are written by this flush, so each lies in its partition's new range
  // [expectedHighWatermark, newHighWatermark), at an offset of its own.
  const updates = new Map(commit.partitions.map((u) => [partitionKey(u.topic, u.partition), u]));
  const seenMarkers = new Set<string>();
  for (const aborted of commit.abortedTransactions ?? []) {
    const name = `${aborted.topic}-${aborted.partition}`;
    const update = updates.get(partitionKey(aborted.topic, aborted.partition));
    if (update === undefined) throw invalid(`aborted transaction of ${name} has no partition update`);
    if (aborted.lastOffset < aborted.firstOffset) throw invalid(`aborted transaction of ${name} ends before it starts`);
    if (aborted.lastOffset < update.expectedHighWatermark || aborted.lastOffset >= update.newHighWatermark) {
      throw invalid(`aborted transaction of ${name} has its marker at ${aborted.lastOffset}, outside this flush`);
    }
    const markerKey = `${partitionKey(aborted.topic, aborted.partition)}\u0000${aborted.lastOffset}`;
    if (seenMarkers.has(markerKey)) throw invalid(`aborted transaction of ${name} shares its marker offset ${aborted.lastOffset} with another`);
    seenMarkers.add(markerKey);
  }
}
