import { ErrorCode } from '../protocol/error-codes.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import { CompressionType } from '../protocol/records/compression.js';
import { ATTRIBUTES_OFFSET, COMPRESSION_CODEC_MASK, CURRENT_MAGIC, MAGIC_OFFSET, splitBatches, validateBatch } from '../protocol/records/record-batch.js';
import type { PartitionError } from './partition-error.js';

export type ProducedRecords = { readonly batches: Buffer[] } | { readonly error: PartitionError };

const fail = (errorCode: number, errorMessage: string): ProducedRecords => ({ error: { errorCode, errorMessage } });

/**
 * Checks one partition's produced records the way Kafka does, in Kafka's order:
 * ProduceRequest.validateRecords (one magic-v2 batch from v3, no zstd before v7), then per
 * batch the base offset, the size limit, the CRC and LogValidator's client rules. Returns
 * the batches as views into `records`; the log checks transactional batches against their
 * transaction.
 */
export function validateProducedRecords(records: Buffer | null, apiVersion: number, tp: string, maxMessageBytes: number): ProducedRecords {
  if (records === null || records.length === 0) {
    return fail(ErrorCode.INVALID_RECORD, `Produce requests with version ${apiVersion} must have at least one record batch per partition`);
  }
  if (records.length > MAGIC_OFFSET && records.readInt8(MAGIC_OFFSET) !== CURRENT_MAGIC) {
    const magic = records.readInt8(MAGIC_OFFSET);
    return apiVersion >= 3
      ? fail(ErrorCode.INVALID_RECORD, `Produce requests with version ${apiVersion} are only allowed to contain record batches with magic version 2`)
      : fail(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `Message format v${magic} is not supported; only magic v2 record batches can be stored`);
  }
  let batches: Buffer[];
  let partial: Buffer | null;
  try {
    ({ batches, partial } = splitBatches(records));
  } catch (e) {
    if (e instanceof ProtocolError) return fail(ErrorCode.CORRUPT_MESSAGE, e.message);
    throw e;
  }
  if (batches.length === 0) {
    // Kafka's batch iterator stops at an incomplete batch, so it sees no batch at all
    return fail(ErrorCode.INVALID_RECORD, `Produce requests with version ${apiVersion} must have at least one record batch per partition`);
  }
  if (apiVersion < 7) {
    for (const b of batches) {
      if ((b.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) === CompressionType.Zstd) {
        return fail(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `Produce requests with version ${apiVersion} are not allowed to use ZStandard compression`);
      }
    }
  }
  if (partial !== null) {
    return fail(ErrorCode.CORRUPT_MESSAGE, `Records of ${tp} end with ${partial.length} bytes that are not a whole record batch`);
  }
  if (apiVersion >= 3 && batches.length > 1) {
    return fail(ErrorCode.INVALID_RECORD, `Produce requests with version ${apiVersion} are only allowed to contain exactly one record batch per partition`);
  }
  for (const batch of batches) {
    const problem = batchProblem(batch, tp, maxMessageBytes);
    if (problem) return { error: problem };
  }
  return { batches };
}

function batchProblem(batch: Buffer, tp: string, maxMessageBytes: number): PartitionError | undefined {
  const baseOffset = batch.readBigInt64BE(0);
  if (baseOffset !== 0n) {
    return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: `The baseOffset of the record batch in the append to ${tp} should be 0, but it is ${baseOffset}` };
  }
  if (batch.length > maxMessageBytes) {
    return {
      errorCode: ErrorCode.MESSAGE_TOO_LARGE,
      errorMessage: `The record batch size in the append to ${tp} is ${batch.length} bytes which exceeds the maximum configured value of ${maxMessageBytes}.`,
    };
  }
  let header;
  try {
    header = validateBatch(batch, { produce: true });
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    // Kafka's LogValidator answers INVALID_RECORD for inconsistent counts; the rest is corruption
    const countRule = e.path === 'records.recordCount' || e.path === 'records.lastOffsetDelta';
    return { errorCode: countRule ? ErrorCode.INVALID_RECORD : ErrorCode.CORRUPT_MESSAGE, errorMessage: e.message };
  }
  if (header.isControl) {
    return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: `Clients are not allowed to write control records in topic partition ${tp}.` };
  }
  if (header.producerId >= 0n && header.baseSequence < 0) {
    return {
      errorCode: ErrorCode.INVALID_RECORD,
      errorMessage: `Invalid sequence number ${header.baseSequence} in record batch with producerId ${header.producerId} in topic partition ${tp}.`,
    };
  }
  return undefined;
}
