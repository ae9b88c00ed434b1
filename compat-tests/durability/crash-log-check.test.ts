import { describe, expect, it } from 'vitest';
import type { BatchHeader } from './batch-headers.js';
import { checkCrashLog } from './crash-log-check.js';
import type { DeliveryReport, ReadPartition, ReadRecord } from './python-clients.js';

const rec = (offset: number, value: string): ReadRecord => [offset, null, value, 0, []];
const part = (values: string[], low = 0): ReadPartition => ({ low, high: low + values.length, records: values.map((v, i) => rec(low + i, v)) });
const ok = (v: string, p: number, o: number): DeliveryReport => ({ p, o, v, e: null });
const timedOut = (v: string, p: number): DeliveryReport => ({ p, o: -1, v, e: { code: -192, name: '_MSG_TIMED_OUT', message: 'Local: Message timed out' } });
const batch = (baseOffset: number, lastOffset: number, producerEpoch: number, baseSequence: number): BatchHeader => ({ baseOffset, lastOffset, producerId: 1000n, producerEpoch, baseSequence });

describe('checkCrashLog', () => {
  it('accepts a log holding every acknowledged record once, and a failed one written once', () => {
    const reports = [ok('m-0', 0, 0), ok('m-1', 1, 0), timedOut('m-2', 0), ok('m-3', 1, 1), timedOut('m-4', 0)];
    const verdict = checkCrashLog(reports, 5, [part(['m-0', 'm-2']), part(['m-1', 'm-3'])], { batches: [[batch(0, 1, 0, 0)], [batch(0, 0, 0, 0), batch(1, 1, 0, 1)]] });
    expect(verdict).toEqual({ acked: 3, failed: 2, inLog: 4, failedButWritten: 1, resentAfterEpochBump: 0, failedByError: { _MSG_TIMED_OUT: 2 }, problems: [] });
  });

  it('flags a duplicated record, a moved acknowledged record and a missing one', () => {
    const reports = [ok('m-0', 0, 0), ok('m-1', 1, 0), ok('m-2', 0, 1), ok('m-3', 1, 1), timedOut('m-4', 0)];
    const verdict = checkCrashLog(reports, 5, [part(['m-0', 'm-4', 'm-4', 'm-2']), part(['m-1'])]);
    expect(verdict.problems).toEqual([
      'm-4 is in the log 2 times: 0@1, 0@2',
      'm-2 was acknowledged at 0@1 but sits at 0@3',
      'm-3 was acknowledged at 1@1 but is not in the log',
    ]);
  });

  it('flags gaps, a log that does not start at 0, foreign values and missing reports', () => {
    const gap: ReadPartition = { low: 0, high: 3, records: [rec(0, 'm-0'), rec(2, 'm-2')] };
    const verdict = checkCrashLog([ok('m-0', 0, 0)], 4, [gap, part(['x', 'm-2'], 5)]);
    expect(verdict.problems).toEqual([
      'partition 0: read 2 records between 0 and the high watermark 3',
      'partition 0: record #1 has offset 2, expected 1',
      'partition 1: log start 5, expected 0',
      'partition 1 offset 5: unexpected value "x"',
      'partition 1 offset 6: m-2 was sent to partition 0',
      'm-2 is in the log 2 times: 0@2, 1@6',
      '4 records produced but 1 have a delivery report',
    ]);
  });

  it('accepts a copy resent under a newer epoch only when allowed, and never one in the same epoch', () => {
    // m-0 and m-1 written in epoch 3, the client timed m-0 out, bumped to epoch 4 and resent m-1
    const log = [part(['m-0', 'm-1', 'm-1', 'm-2'])];
    const reports = [timedOut('m-0', 0), ok('m-1', 0, 2), ok('m-2', 0, 3)];
    const bumped = [[batch(0, 1, 3, 0), batch(2, 3, 4, 0)]];
    expect(checkCrashLog(reports, 3, log, { batches: bumped, allowResendAfterEpochBump: true })).toEqual({
      acked: 2, failed: 1, inLog: 4, failedButWritten: 1, resentAfterEpochBump: 1, failedByError: { _MSG_TIMED_OUT: 1 }, problems: [],
    });
    expect(checkCrashLog(reports, 3, log, { batches: bumped }).problems).toEqual(['m-1 is in the log 2 times: 0@1 (producer 1000 epoch 3), 0@2 (producer 1000 epoch 4)']);
    const sameEpoch = [[batch(0, 1, 3, 0), batch(2, 3, 3, 2)]];
    expect(checkCrashLog(reports, 3, log, { batches: sameEpoch, allowResendAfterEpochBump: true }).problems).toEqual([
      'm-1 is in the log 2 times: 0@1 (producer 1000 epoch 3), 0@2 (producer 1000 epoch 3)',
    ]);
  });

  it('checks the batch headers: tiling, epochs never going back, sequences from 0 without gaps', () => {
    const log = [part(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5'])];
    const reports = ['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5'].map((v, i) => ok(v, 0, i));
    const batches = [[batch(0, 1, 2, 0), batch(2, 2, 2, 3), batch(3, 3, 1, 0), batch(5, 5, 5, 1)]];
    expect(checkCrashLog(reports, 6, log, { batches }).problems).toEqual([
      'partition 0 offset 2: producer 1000 epoch 2 sequence 3, expected 2',
      'partition 0 offset 3: producer 1000 epoch 1 written after epoch 2',
      'partition 0: batch at 5, expected one at 4',
      'partition 0 offset 5: producer 1000 epoch 5 starts at sequence 1, not 0',
    ]);
  });
});
