import type { BatchHeader } from './batch-headers.js';
import type { DeliveryReport, ReadPartition } from './python-clients.js';

export interface CrashLogOptions {
  /** Each partition's batch headers in offset order: which producer id, epoch and sequences wrote what. */
  batches?: ReadonlyArray<readonly BatchHeader[]>;
  /**
   * librdkafka (2.0.2, and later versions too) fails the expired messages of a batch whose
   * request timed out ("possibly persisted"), bumps its epoch and resends the batch's
   * other messages under the new epoch from sequence 0. If the broker had committed the
   * batch, those records are in the log twice, once per epoch, and no broker can tell.
   * When set, a value may appear more than once if every copy was written by a newer
   * epoch of the same producer than the copy before it.
   */
  allowResendAfterEpochBump?: boolean;
}

export interface CrashLogVerdict {
  /** Delivery reports without error. */
  acked: number;
  /** Delivery reports with an error (the record may or may not have been written). */
  failed: number;
  /** Records between offset 0 and the high watermark, all partitions. */
  inLog: number;
  /** Failed reports whose record is in the log anyway (e.g. "possibly persisted"). */
  failedButWritten: number;
  /** Extra copies of values resent by the client under a newer epoch (see allowResendAfterEpochBump). */
  resentAfterEpochBump: number;
  /** Error names of failed reports, with counts. */
  failedByError: Record<string, number>;
  /** Everything that breaks exactly-once delivery; empty when the log is right. */
  problems: string[];
}

const VALUE = /^m-(\d+)$/;

interface Copy {
  p: number;
  o: number;
  /** `${producerId}/${epoch}` of the batch holding it, when batch headers are known. */
  writer?: { producerId: bigint; epoch: number };
}

/**
 * Broker invariants of the batch headers: batches tile 0..HWM-1, and per producer the
 * epochs never go back and each epoch's sequences run 0, 1, 2, ... without gaps or repeats.
 */
function checkBatches(p: number, high: number, batches: readonly BatchHeader[], problems: string[]): void {
  let next = 0;
  const last = new Map<bigint, { epoch: number; nextSequence: number }>();
  for (const b of batches) {
    if (b.baseOffset !== next) problems.push(`partition ${p}: batch at ${b.baseOffset}, expected one at ${next}`);
    next = b.lastOffset + 1;
    if (b.producerId < 0n) continue;
    const count = b.lastOffset - b.baseOffset + 1;
    const seen = last.get(b.producerId);
    if (seen && b.producerEpoch < seen.epoch) {
      problems.push(`partition ${p} offset ${b.baseOffset}: producer ${b.producerId} epoch ${b.producerEpoch} written after epoch ${seen.epoch}`);
    } else if (!seen || b.producerEpoch > seen.epoch) {
      if (b.baseSequence !== 0) problems.push(`partition ${p} offset ${b.baseOffset}: producer ${b.producerId} epoch ${b.producerEpoch} starts at sequence ${b.baseSequence}, not 0`);
    } else if (b.baseSequence !== seen.nextSequence) {
      problems.push(`partition ${p} offset ${b.baseOffset}: producer ${b.producerId} epoch ${b.producerEpoch} sequence ${b.baseSequence}, expected ${seen.nextSequence}`);
    }
    last.set(b.producerId, { epoch: Math.max(b.producerEpoch, seen?.epoch ?? -1), nextSequence: b.baseSequence + count });
  }
  if (next !== high) problems.push(`partition ${p}: batches end at ${next}, the high watermark is ${high}`);
}

/** Copies of a value that are each written by a newer epoch of the same producer than the one before. */
function resentUnderNewerEpochs(copies: readonly Copy[]): boolean {
  for (let i = 1; i < copies.length; i++) {
    const before = copies[i - 1]!.writer;
    const after = copies[i]!.writer;
    if (!before || !after || before.producerId !== after.producerId || after.epoch <= before.epoch) return false;
  }
  return true;
}

/**
 * Checks a producer's delivery reports against the whole log it wrote (values "m-<n>",
 * sent to partition n % partitions): every acknowledged value sits at exactly its
 * acknowledged offset, no value appears twice (unless allowed above), and each partition
 * holds offsets 0..HWM-1 with no gaps or repeats.
 */
export function checkCrashLog(reports: readonly DeliveryReport[], produced: number, log: readonly ReadPartition[], options: CrashLogOptions = {}): CrashLogVerdict {
  const problems: string[] = [];
  const partitions = log.length;
  const where = new Map<string, Copy[]>();
  let inLog = 0;
  log.forEach((part, p) => {
    if (part.low !== 0) problems.push(`partition ${p}: log start ${part.low}, expected 0`);
    if (part.records.length !== part.high - part.low) problems.push(`partition ${p}: read ${part.records.length} records between ${part.low} and the high watermark ${part.high}`);
    const batches = options.batches?.[p];
    if (batches) checkBatches(p, part.high, batches, problems);
    let b = 0;
    part.records.forEach(([offset, , value], i) => {
      inLog++;
      if (offset !== part.low + i) problems.push(`partition ${p}: record #${i} has offset ${offset}, expected ${part.low + i}`);
      while (batches && b < batches.length && batches[b]!.lastOffset < offset) b++;
      const batch = batches?.[b];
      const writer = batch && batch.baseOffset <= offset ? { producerId: batch.producerId, epoch: batch.producerEpoch } : undefined;
      const m = value === null ? null : VALUE.exec(value);
      if (!m || Number(m[1]) >= produced) {
        problems.push(`partition ${p} offset ${offset}: unexpected value ${JSON.stringify(value)}`);
        return;
      }
      if (Number(m[1]) % partitions !== p) problems.push(`partition ${p} offset ${offset}: ${value} was sent to partition ${Number(m[1]) % partitions}`);
      let copies = where.get(value!);
      if (!copies) where.set(value!, (copies = []));
      copies.push({ p, o: offset, ...(writer ? { writer } : {}) });
    });
  });
  let resentAfterEpochBump = 0;
  for (const [value, copies] of where) {
    if (copies.length < 2) continue;
    if (options.allowResendAfterEpochBump && resentUnderNewerEpochs(copies)) {
      resentAfterEpochBump += copies.length - 1;
      continue;
    }
    const described = copies.map((c) => `${c.p}@${c.o}${c.writer ? ` (producer ${c.writer.producerId} epoch ${c.writer.epoch})` : ''}`);
    problems.push(`${value} is in the log ${copies.length} times: ${described.join(', ')}`);
  }
  let acked = 0;
  let failed = 0;
  let failedButWritten = 0;
  const failedByError: Record<string, number> = {};
  const reported = new Set<string>();
  for (const r of reports) {
    if (reported.has(r.v)) problems.push(`${r.v} has more than one delivery report`);
    reported.add(r.v);
    const copies = where.get(r.v) ?? [];
    if (r.e !== null) {
      failed++;
      failedByError[r.e.name] = (failedByError[r.e.name] ?? 0) + 1;
      if (copies.length > 0) failedButWritten++;
      continue;
    }
    acked++;
    if (copies.length === 0) problems.push(`${r.v} was acknowledged at ${r.p}@${r.o} but is not in the log`);
    else if (!copies.some((c) => c.p === r.p && c.o === r.o)) problems.push(`${r.v} was acknowledged at ${r.p}@${r.o} but sits at ${copies.map((c) => `${c.p}@${c.o}`).join(', ')}`);
  }
  if (reported.size !== produced) problems.push(`${produced} records produced but ${reported.size} have a delivery report`);
  return { acked, failed, inLog, failedButWritten, resentAfterEpochBump, failedByError, problems };
}
