import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GroupAdminError } from '../agent/groups/group-admin.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { KAFKA_ERROR_KEY, toServiceError } from './grpc-status.js';

describe('toServiceError', () => {
  it.each([
    [ErrorCode.NON_EMPTY_GROUP, status.FAILED_PRECONDITION, 'NON_EMPTY_GROUP'],
    [ErrorCode.GROUP_ID_NOT_FOUND, status.NOT_FOUND, 'GROUP_ID_NOT_FOUND'],
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, status.NOT_FOUND, 'UNKNOWN_TOPIC_OR_PARTITION'],
    [ErrorCode.COORDINATOR_NOT_AVAILABLE, status.UNAVAILABLE, 'COORDINATOR_NOT_AVAILABLE'],
    [ErrorCode.INVALID_REQUEST, status.INVALID_ARGUMENT, 'INVALID_REQUEST'],
    [ErrorCode.UNKNOWN_SERVER_ERROR, status.INTERNAL, 'UNKNOWN_SERVER_ERROR'],
  ])('answers a GroupAdminError with Kafka code %i as status %i, keeping its message', (code, expected, name) => {
    const unexpected: unknown[] = [];
    const e = toServiceError(new GroupAdminError(code, "consumer group 'g' says no"), (err) => unexpected.push(err));
    expect(e).toMatchObject({ code: expected, details: "consumer group 'g' says no" });
    expect(e.metadata?.get(KAFKA_ERROR_KEY)).toEqual([name]);
    expect(unexpected).toEqual([]);
  });
});
