/**
 * Transactions with librdkafka (python3-confluent-kafka 1.7, librdkafka 2.0) and kcat against a
 * broker process: a transactional producer commits some transactions and aborts others on a
 * 3-partition topic; read_committed readers see exactly the committed records, read_uncommitted
 * ones everything, both at the offsets the log must hold (a marker after each transaction on
 * each partition it wrote to), and ListOffsets' end offset at read_committed stops at an open
 * transaction and equals the high watermark once none is open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { byPartition, createTopics, expectedLog, kcatRead, runConfluent, waitUntilStable, type PlannedTransaction, type Row } from './support.js';

const PARTITIONS = 3;
const TOPIC = 'confluent-txn';

/** 6 transactions, commits and aborts mixed; txn 3 writes to partitions 0 and 1 only. */
function plannedTransactions(): PlannedTransaction[] {
  const outcome = [true, false, true, true, false, true];
  return outcome.map((commit, t) => {
    const count = t === 3 ? 4 : 7;
    const records = Array.from({ length: count }, (_, i) => {
      const partition = t === 3 ? i % 2 : i % PARTITIONS;
      return { partition, key: `t${t}-${i}`, value: `txn${t}-rec${i}-${commit ? 'commit' : 'abort'}` };
    });
    return { commit, records };
  });
}

interface DeliveryReport {
  partition: number;
  offset: number;
  key: string;
  value: string;
  error: unknown;
}
interface ReadResult {
  high: Record<string, number>;
  records: Row[];
}
type Watermarks = Record<'read_committed' | 'read_uncommitted', Record<string, [number, number]>>;

describe('confluent-kafka (librdkafka) transactions', () => {
  let broker: BrokerProcess;
  const planned = plannedTransactions();
  const expected = expectedLog(planned, PARTITIONS);

  beforeAll(async () => {
    broker = await startBrokerProcess();
    await createTopics(broker.bootstrap, [{ topic: TOPIC, numPartitions: PARTITIONS }]);
  });
  afterAll(async () => {
    await broker?.cleanup();
  });

  it('committed and aborted transactions: each record at its offset, read_committed sees only the committed ones, kcat agrees', async () => {
    const produced = await runConfluent(broker.bootstrap, [{ op: 'transactions', topic: TOPIC, transactional_id: 'confluent-txn-1', transactions: planned }]);
    expect(produced.errors).toEqual([]);
    const txns = produced.results[0] as Array<{ commit: boolean; reports: DeliveryReport[] }>;
    // every record acknowledged at the offset the layout gives it (aborted ones are written too)
    expect(txns.map((t) => t.commit)).toEqual(planned.map((t) => t.commit));
    // (librdkafka reports each partition's deliveries in order, partitions interleaved)
    txns.forEach((t, i) => {
      const want = planned[i]!.records.map((r) => ({ partition: r.partition, key: r.key, value: r.value, error: null }));
      const got = t.reports.map((r) => ({ partition: r.partition, key: r.key, value: r.value, error: r.error }));
      for (let p = 0; p < PARTITIONS; p++) expect(got.filter((r) => r.partition === p)).toEqual(want.filter((r) => r.partition === p));
      expect(got).toHaveLength(want.length);
    });
    const reportedRows: Row[] = txns.flatMap((t) => t.reports.map((r): Row => [r.partition, r.offset, r.key, r.value]));
    expect(byPartition(reportedRows, PARTITIONS)).toEqual(expected.all);

    // no transaction open any more: read_committed's end offset is the high watermark
    expect(await waitUntilStable(broker.bootstrap, TOPIC, PARTITIONS)).toEqual(expected.end);

    const out = await runConfluent(broker.bootstrap, [
      { op: 'read', topic: TOPIC, partitions: PARTITIONS, isolation: 'read_committed' },
      { op: 'read', topic: TOPIC, partitions: PARTITIONS, isolation: 'read_uncommitted' },
      { op: 'watermarks', topic: TOPIC, partitions: PARTITIONS },
    ]);
    expect(out.errors).toEqual([]);
    const [committed, uncommitted, marks] = out.results as [ReadResult, ReadResult, Watermarks];

    // the end offsets librdkafka asked for at each isolation level are the same, the real end
    const ends = Object.fromEntries(expected.end.map((e, p) => [String(p), e]));
    expect(committed.high).toEqual(ends);
    expect(uncommitted.high).toEqual(ends);
    expect(marks.read_committed).toEqual(Object.fromEntries(expected.end.map((e, p) => [String(p), [0, e]])));
    expect(marks.read_uncommitted).toEqual(marks.read_committed);

    // read_committed: exactly the committed records, per partition in produce order, at their offsets
    expect(byPartition(committed.records, PARTITIONS)).toEqual(expected.committed);
    expect(committed.records.every((r) => r[3]!.endsWith('-commit'))).toBe(true);
    // read_uncommitted: committed and aborted alike, never a marker (control records are not handed out)
    expect(byPartition(uncommitted.records, PARTITIONS)).toEqual(expected.all);
    const markerOffsets = expected.markers;
    for (const r of uncommitted.records) expect(markerOffsets[r[0]]).not.toContain(r[1]);
    // the committed records' offsets are a subset of the uncommitted ones'; the gaps are aborted records and markers
    const uncommittedOffsets = new Set(uncommitted.records.map((r) => `${r[0]}@${r[1]}`));
    for (const r of committed.records) expect(uncommittedOffsets.has(`${r[0]}@${r[1]}`)).toBe(true);
    expect(committed.records.length).toBe(planned.filter((t) => t.commit).reduce((n, t) => n + t.records.length, 0));
    expect(uncommitted.records.length).toBe(planned.reduce((n, t) => n + t.records.length, 0));

    // kcat (librdkafka 2.0, its own consumer) agrees with both
    const kcatCommitted = await kcatRead(broker.bootstrap, TOPIC, 'read_committed');
    expect(byPartition(kcatCommitted, PARTITIONS)).toEqual(byPartition(committed.records, PARTITIONS));
    const kcatUncommitted = await kcatRead(broker.bootstrap, TOPIC, 'read_uncommitted');
    expect(byPartition(kcatUncommitted, PARTITIONS)).toEqual(expected.all);
  });

  it('an open transaction holds read_committed end offsets at its first record; they move to the high watermark when it commits', async () => {
    const topic = `${TOPIC}-open`;
    await createTopics(broker.bootstrap, [{ topic, numPartitions: PARTITIONS }]);
    const first: PlannedTransaction = { commit: true, records: [0, 1, 2].map((partition) => ({ partition, key: `first-${partition}`, value: `first-p${partition}-commit` })) };
    const before = await runConfluent(broker.bootstrap, [{ op: 'transactions', topic, transactional_id: 'confluent-txn-first', transactions: [first] }]);
    expect(before.errors).toEqual([]);
    const start = await waitUntilStable(broker.bootstrap, topic, PARTITIONS);
    expect(start).toEqual([2, 2, 2]);

    const records = [0, 1, 2, 0, 1, 2].map((partition, i) => ({ partition, key: `open-${i}`, value: `open-rec${i}-commit` }));
    const out = await runConfluent(broker.bootstrap, [{ op: 'open_transaction', topic, partitions: PARTITIONS, transactional_id: 'confluent-txn-open', records, commit: true }]);
    expect(out.errors).toEqual([]);
    const { reports, open } = out.results[0] as { reports: DeliveryReport[]; open: Watermarks };
    const layout = expectedLog([first, { commit: true, records }], PARTITIONS);
    expect(byPartition(reports.map((r): Row => [r.partition, r.offset, r.key, r.value]), PARTITIONS)).toEqual(layout.all.map((rows) => rows.slice(1)));
    // while open: the high watermark is past its records, the last stable offset is where they begin
    expect(open.read_uncommitted).toEqual({ '0': [0, 4], '1': [0, 4], '2': [0, 4] });
    expect(open.read_committed).toEqual({ '0': [0, 2], '1': [0, 2], '2': [0, 2] });

    // committed: both end offsets past its marker, and a read_committed reader gets every record
    expect(await waitUntilStable(broker.bootstrap, topic, PARTITIONS)).toEqual([5, 5, 5]);
    expect(layout.end).toEqual([5, 5, 5]);
    const read = await runConfluent(broker.bootstrap, [{ op: 'read', topic, partitions: PARTITIONS, isolation: 'read_committed' }]);
    expect(read.errors).toEqual([]);
    expect(byPartition((read.results[0] as ReadResult).records, PARTITIONS)).toEqual(layout.committed);
  });
});
