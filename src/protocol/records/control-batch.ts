// Transaction markers (KIP-98): a control batch holds one record whose key is
// (version int16 = 0, type int16: 0 ABORT, 1 COMMIT) and whose value is
// (version int16 = 0, coordinatorEpoch int32). Clients skip control batches and use the
// marker to end the producer's transaction on the partition.

import { ProtocolError } from '../protocol-error.js';
import { CONTROL_FLAG_MASK, RECORDS_OFFSET, readBatchHeader } from './record-batch.js';
import { buildRecordBatch, decodeRecords } from './record-codec.js';

export const ControlRecordType = { ABORT: 0, COMMIT: 1 } as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

export interface TransactionMarker {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly commit: boolean;
  readonly coordinatorEpoch: number;
  readonly timestamp: bigint;
}

/** One control batch (base offset 0: the log assigns it) ending the producer's transaction. */
export function buildControlBatch(marker: TransactionMarker): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(marker.commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  const batch = buildRecordBatch({
    baseOffset: 0n,
    records: [{ key, value, timestamp: marker.timestamp }],
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
  });
  return batch;
}

/** The marker type of a control batch (COMMIT or ABORT). */
export function controlRecordType(batch: Buffer): ControlRecordType {
  const header = readBatchHeader(batch);
  if ((header.attributes & CONTROL_FLAG_MASK) === 0 || batch.length <= RECORDS_OFFSET) throw new ProtocolError('not a control batch', 'records.attributes');
  const [record] = decodeRecords(batch).records;
  const key = record?.key;
  if (!key || key.length < 4) throw new ProtocolError('control record without a 4-byte key', 'records.key');
  const type = key.readInt16BE(2);
  if (type !== ControlRecordType.ABORT && type !== ControlRecordType.COMMIT) throw new ProtocolError(`unknown control record type ${type}`, 'records.key');
  return type;
}
