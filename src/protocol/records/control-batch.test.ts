import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../protocol-error.js';
import { ControlRecordType, buildControlBatch, controlRecordType } from './control-batch.js';
import { CONTROL_FLAG_MASK, CRC_OFFSET, TRANSACTIONAL_FLAG_MASK, computeBatchCrc, readBatchHeader, setBaseOffset, updateBatchCrc, validateBatch } from './record-batch.js';
import { buildRecordBatch, decodeRecords } from './record-codec.js';

const marker = (commit: boolean, coordinatorEpoch = 7) => ({ producerId: 4242n, producerEpoch: 3, commit, coordinatorEpoch, timestamp: 1_700_000_000_123n });

describe('buildControlBatch', () => {
  it('builds one valid v2 control batch: transactional|control, the producer, no sequence, a right CRC', () => {
    const batch = buildControlBatch(marker(true));
    const h = validateBatch(batch);
    expect(h.magic).toBe(2);
    expect(h.crc).toBe(computeBatchCrc(batch));
    expect(batch.readUInt32BE(CRC_OFFSET)).toBe(computeBatchCrc(batch));
    expect(h.attributes).toBe(TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK);
    expect([h.isTransactional, h.isControl, h.compression, h.hasDeleteHorizon]).toEqual([true, true, 0, false]);
    expect([h.baseOffset, h.producerId, h.producerEpoch, h.baseSequence]).toEqual([0n, 4242n, 3, -1]);
    expect([h.recordCount, h.lastOffsetDelta, h.baseTimestamp, h.maxTimestamp]).toEqual([1, 0, 1_700_000_000_123n, 1_700_000_000_123n]);
    expect(validateBatch(batch, { produce: true }).recordCount).toBe(1);
  });

  it('holds one record: key version 0 + type (1 COMMIT, 0 ABORT), value version 0 + coordinator epoch', () => {
    const commit = decodeRecords(buildControlBatch(marker(true, 7))).records;
    expect(commit).toHaveLength(1);
    expect([...commit[0]!.key!]).toEqual([0, 0, 0, 1]);
    expect([...commit[0]!.value!]).toEqual([0, 0, 0, 0, 0, 7]);
    expect([commit[0]!.offset, commit[0]!.timestamp, commit[0]!.headers]).toEqual([0n, 1_700_000_000_123n, []]);

    const abort = decodeRecords(buildControlBatch(marker(false, 0x01020304))).records;
    expect(abort).toHaveLength(1);
    expect([...abort[0]!.key!]).toEqual([0, 0, 0, 0]);
    expect([...abort[0]!.value!]).toEqual([0, 0, 1, 2, 3, 4]);
  });

  it('reads its type back (controlRecordType), also after the log moved its base offset', () => {
    expect(controlRecordType(buildControlBatch(marker(true)))).toBe(ControlRecordType.COMMIT);
    expect(controlRecordType(buildControlBatch(marker(false)))).toBe(ControlRecordType.ABORT);
    const placed = buildControlBatch(marker(false));
    setBaseOffset(placed, 1234n);
    expect(readBatchHeader(placed).baseOffset).toBe(1234n);
    expect(controlRecordType(placed)).toBe(ControlRecordType.ABORT);
    expect([ControlRecordType.ABORT, ControlRecordType.COMMIT]).toEqual([0, 1]);
  });
});

describe('controlRecordType', () => {
  it('rejects a batch that is not a control batch', () => {
    const data = buildRecordBatch({ baseOffset: 0n, records: [{ key: Buffer.from([0, 0, 0, 1]), value: null, timestamp: 1n }], producerId: 1n, producerEpoch: 0, baseSequence: 0, isTransactional: true });
    expect(() => controlRecordType(data)).toThrow(ProtocolError);
    expect(() => controlRecordType(data)).toThrow('not a control batch');
  });

  it('rejects a control record with a short key or an unknown type', () => {
    const short = buildRecordBatch({ baseOffset: 0n, records: [{ key: Buffer.from([0, 0]), value: null, timestamp: 1n }], isControl: true, isTransactional: true });
    expect(() => controlRecordType(short)).toThrow('control record without a 4-byte key');
    const unknown = buildRecordBatch({ baseOffset: 0n, records: [{ key: Buffer.from([0, 0, 0, 5]), value: null, timestamp: 1n }], isControl: true, isTransactional: true });
    expect(() => controlRecordType(unknown)).toThrow('unknown control record type 5');
  });

  it('rejects a control batch whose CRC no longer matches', () => {
    const batch = buildControlBatch(marker(true));
    batch[batch.length - 1] ^= 0xff;
    expect(() => validateBatch(batch)).toThrow(/CRC/);
    expect(() => controlRecordType(batch)).toThrow(ProtocolError);
    // restoring the CRC over the changed bytes makes it well-formed again
    batch[batch.length - 1] ^= 0xff;
    updateBatchCrc(batch);
    expect(controlRecordType(batch)).toBe(ControlRecordType.COMMIT);
  });
});
