import { describe, expect, it } from 'vitest';
import { ConsumerProtocolError, parseConsumerSubscription } from './consumer-protocol.js';
import { encodeSubscription } from '../../broker/groups/test-support/consumer-protocol-bytes.js';

describe('parseConsumerSubscription', () => {
  it('reads v0: topics and user data', () => {
    const bytes = Buffer.from('0000' + '00000002' + '0001' + '61' + '0002' + '6263' + '00000002' + 'beef', 'hex');
    expect(parseConsumerSubscription(bytes)).toEqual({ version: 0, topics: ['a', 'bc'], userData: Buffer.from('beef', 'hex'), ownedPartitions: [], generationId: -1, rackId: null });
  });

  it('reads v1-v3: owned partitions, generation and rack', () => {
    const bytes = encodeSubscription(['t1', 't2'], { version: 3, userData: null, owned: [{ topic: 't1', partitions: [0, 2] }], generationId: 7, rackId: 'rack-a' });
    expect(parseConsumerSubscription(bytes)).toEqual({
      version: 3,
      topics: ['t1', 't2'],
      userData: null,
      ownedPartitions: [{ topic: 't1', partitions: [0, 2] }],
      generationId: 7,
      rackId: 'rack-a',
    });
    expect(parseConsumerSubscription(encodeSubscription(['x'], { version: 1, owned: [] }))).toEqual({ version: 1, topics: ['x'], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
    expect(parseConsumerSubscription(encodeSubscription(['x'], { version: 2, generationId: 3 })).generationId).toBe(3);
  });

  it('reads a newer version as far as v3 and ignores what follows', () => {
    const v3 = encodeSubscription(['t'], { version: 3, rackId: null });
    const v4 = Buffer.concat([Buffer.from([0, 4]), v3.subarray(2), Buffer.from('ffffffff', 'hex')]);
    expect(parseConsumerSubscription(v4)).toEqual({ version: 4, topics: ['t'], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
  });

  it('with maxVersion 0 reads only the shared prefix', () => {
    const truncatedV1 = encodeSubscription(['t'], { version: 1 }).subarray(0, -4);
    expect(parseConsumerSubscription(truncatedV1, 0).topics).toEqual(['t']);
    expect(() => parseConsumerSubscription(truncatedV1)).toThrow(ConsumerProtocolError);
  });

  it('rejects truncated input, lying counts and negative lengths', () => {
    expect(() => parseConsumerSubscription(Buffer.from([0]))).toThrow('subscription ends inside version');
    expect(() => parseConsumerSubscription(Buffer.from('0000' + '7fffffff', 'hex'))).toThrow('subscription ends inside topics');
    expect(() => parseConsumerSubscription(Buffer.from('0000' + '00000001' + 'fffe', 'hex'))).toThrow('negative length -2 of topic name');
    expect(() => parseConsumerSubscription(Buffer.from('0000' + '00000001' + 'ffff' + 'ffffffff', 'hex'))).toThrow('topic name is null');
    expect(() => parseConsumerSubscription(Buffer.from('0000' + 'ffffffff', 'hex'))).toThrow('negative count -1 of topics');
    expect(() => parseConsumerSubscription(Buffer.from('ffff', 'hex'))).toThrow('unsupported subscription version -1');
  });
});
