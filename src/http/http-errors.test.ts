import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/error-codes.js';
import { fromKafkaError, STATUS_BY_KAFKA_CODE } from './http-errors.js';

const HTTP_DIR = import.meta.dirname;
const DOC = readFileSync(resolve(HTTP_DIR, '../../docs/rest-api.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** error_code strings the door writes itself: HttpError(status, 'CODE', ...), badRequest(..., 'CODE'), error_code: 'CODE'. */
function codesInSource(): string[] {
  const found = new Set<string>(['INVALID_REQUEST', 'NOT_FOUND']);
  for (const file of sources(HTTP_DIR)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new HttpError\(\d{3}, '([A-Z_]+)'/g)) found.add(m[1]!);
    for (const m of text.matchAll(/(?:badRequest|notFound)\([^;]*?, '([A-Z_]+)'\)/g)) found.add(m[1]!);
    for (const m of text.matchAll(/error_code: '([A-Z_]+)'/g)) found.add(m[1]!);
  }
  return [...found].sort();
}

describe('REST errors', () => {
  it('are all listed in docs/rest-api.md with their status', () => {
    const codes = codesInSource();
    expect(codes.length).toBeGreaterThan(8);
    const missing = codes.filter((c) => !DOC.includes(`\`${c}\``));
    expect(missing, 'error codes the HTTP door sends that docs/rest-api.md does not list').toEqual([]);
    for (const [code, status] of STATUS_BY_KAFKA_CODE) {
      const name = fromKafkaError(code, '').errorCode;
      const row = DOC.split('\n').find((l) => l.includes(`\`${name}\``));
      expect(row, `docs/rest-api.md lists ${name}`).toBeDefined();
      expect(row!.startsWith(`| ${status} |`), `${name} is listed under ${status}`).toBe(true);
    }
  });

  it('map Kafka codes to statuses, retriable ones to 503', () => {
    expect(fromKafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, 'x')).toMatchObject({ statusCode: 409, errorCode: 'TOPIC_ALREADY_EXISTS', message: 'x' });
    expect(fromKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, '')).toMatchObject({ statusCode: 404, message: 'This server does not host this topic-partition.' });
    expect(fromKafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'y').statusCode).toBe(503);
    expect(fromKafkaError(ErrorCode.INVALID_CONFIG, 'z').statusCode).toBe(400);
  });
});
