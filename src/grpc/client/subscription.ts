import type { ClientReadableStream } from '@grpc/grpc-js';
import type { SubscribeResponseMsg } from '../messages.js';
import { consumerRecord, recordBytes, type ConsumerRecord } from './consumer.js';
import { ConsumerMetrics, type ClientMetricsOptions } from './client-metrics.js';
import { RpcChannel, type ChannelOptions } from './rpc-channel.js';
import { StreamHouseError } from './streamhouse-error.js';

export interface SubscriptionOptions extends ChannelOptions, ClientMetricsOptions {
  readonly topic: string;
  readonly partition: number;
  /** Start here; otherwise the group's committed offset, else offsetReset. */
  readonly offset?: bigint;
  readonly groupId?: string;
  readonly offsetReset?: 'earliest' | 'latest';
  /** Records per streamed message (default 500). */
  readonly maxRecords?: number;
}

/**
 * One partition as an endless stream of record batches. Reading slowly is fine: the stream
 * is paused while nobody asks for the next batch, and the broker waits.
 */
export class Subscription implements AsyncIterable<ConsumerRecord[]> {
  private readonly channel: RpcChannel;
  private readonly stream: ClientReadableStream<SubscribeResponseMsg>;
  private cancelled = false;
  private readonly metrics: ConsumerMetrics;
  private readonly topic: string;

  constructor(options: SubscriptionOptions) {
    this.channel = new RpcChannel(options);
    this.topic = options.topic;
    this.metrics = new ConsumerMetrics(options, 'subscription');
    this.stream = this.channel.subscribe({
      topic: options.topic,
      partition: options.partition,
      ...(options.offset !== undefined ? { offset: options.offset.toString() } : {}),
      group: options.groupId ?? '',
      offsetReset: options.offsetReset === 'earliest' ? 'OFFSET_RESET_EARLIEST' : 'OFFSET_RESET_LATEST',
      maxRecords: options.maxRecords ?? 0,
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord[]> {
    try {
      for await (const message of this.stream as AsyncIterable<SubscribeResponseMsg>) {
        const records = message.records.map(consumerRecord);
        this.metrics.consumed(this.topic, records.length, recordBytes(records));
        yield records;
      }
    } catch (err) {
      if (this.cancelled) return;
      if (typeof err === 'object' && err !== null && 'code' in err && 'details' in err) throw StreamHouseError.from(err as Parameters<typeof StreamHouseError.from>[0]);
      throw err;
    } finally {
      this.close();
    }
  }

  /** Ends the stream; a loop over it finishes without an error. */
  close(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.stream.cancel();
    this.channel.close();
    this.metrics.close();
  }
}
