import { describe, expect, it } from 'vitest';
import { CompressionType } from '../../protocol/records/compression.js';
import { parseTopicPolicy } from './topic-policy.js';

describe('parseTopicPolicy', () => {
  it('turns effective config values into the policy the agent applies', () => {
    const values: Record<string, string> = { 'retention.ms': '3600000', 'retention.bytes': '-1', 'cleanup.policy': 'compact, delete', 'max.message.bytes': '2048', 'compression.type': 'lz4', 'message.timestamp.type': 'LogAppendTime' };
    expect(parseTopicPolicy((n) => values[n] ?? null)).toEqual({ retentionMs: 3600000n, retentionBytes: -1n, deletes: true, compacts: true, maxMessageBytes: 2048, compression: CompressionType.Lz4, logAppendTime: true });
    expect(parseTopicPolicy(() => null)).toEqual({ retentionMs: -1n, retentionBytes: -1n, deletes: true, compacts: false, maxMessageBytes: 1048588, compression: undefined, logAppendTime: false });
    expect(parseTopicPolicy((n) => (n === 'compression.type' ? 'producer' : n === 'cleanup.policy' ? 'compact' : null))).toMatchObject({ compression: undefined, deletes: false, compacts: true });
  });
});
