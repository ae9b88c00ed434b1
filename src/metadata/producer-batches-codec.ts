// Producer batch history is small (at most MAX_PRODUCER_BATCHES entries) and always read
// whole, so it is stored as one JSON text per producer and partition. Offsets are written
// as strings: JSON numbers cannot carry int64 exactly.

import { MAX_PRODUCER_BATCHES, type ProducerBatchRecord } from './metadata-store.js';

type EncodedBatch = [firstSequence: number, lastSequence: number, baseOffset: string, lastOffset: string];

/** Encodes the newest MAX_PRODUCER_BATCHES batches (the input is oldest first). */
export function encodeProducerBatches(batches: readonly ProducerBatchRecord[]): string {
  const kept = batches.slice(-MAX_PRODUCER_BATCHES);
  const encoded: EncodedBatch[] = kept.map((b) => [b.firstSequence, b.lastSequence, b.baseOffset.toString(), b.lastOffset.toString()]);
  return JSON.stringify(encoded);
}

export function decodeProducerBatches(text: string): ProducerBatchRecord[] {
  const encoded = JSON.parse(text) as EncodedBatch[];
  return encoded.map(([firstSequence, lastSequence, baseOffset, lastOffset]) => ({
    firstSequence,
    lastSequence,
    baseOffset: BigInt(baseOffset),
    lastOffset: BigInt(lastOffset),
  }));
}
