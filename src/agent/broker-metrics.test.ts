import { describe, expect, it } from 'vitest';
import { BrokerMetrics, forEachResponseError } from './broker-metrics.js';

class Parts {
  constructor(readonly errorCode: number) {}
}

describe('Kafka response error codes', () => {
  it('finds the top-level and every nested non-zero errorCode, never inside bytes or class instances', () => {
    const codes: number[] = [];
    forEachResponseError(
      {
        errorCode: 15,
        responses: [
          { name: 't', partitions: [{ index: 0, errorCode: 0, records: new Parts(99) }, { index: 1, errorCode: 6, records: Buffer.from([1, 2]) }] },
          { name: 'u', partitions: [{ index: 0, errorCode: 3, nested: { errorCode: 7 } }] },
        ],
      },
      (c) => codes.push(c),
    );
    expect(codes).toEqual([15, 6, 3, 7]);
  });

  it('counts them by API and error name', async () => {
    const m = new BrokerMetrics();
    m.kafkaRequestDone('Produce', 0.002, { responses: [{ partitionResponses: [{ errorCode: 6 }, { errorCode: 6 }, { errorCode: 0 }] }] });
    m.kafkaRequestFailed('Produce', 0.001);
    const text = await m.registry.metrics();
    expect(text).toContain('streamhouse_kafka_response_errors_total{api="Produce",error="NOT_LEADER_OR_FOLLOWER"} 2');
    expect(text).toContain('streamhouse_kafka_requests_total{api="Produce"} 2');
    expect(text).toContain('streamhouse_kafka_request_errors_total{api="Produce"} 1');
    expect(text).toContain('streamhouse_kafka_request_duration_seconds_count{api="Produce"} 2');
  });
});
