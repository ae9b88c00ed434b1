import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS_DOC, generateKafkaTables, renderErrorsDoc, TABLES_DIR } from '../../scripts/generate-kafka-tables.js';
import { ERRORS_FILE, MESSAGES_FILE, readErrorDefinitions, readMessageDefinitions, renderDefinitions } from '../../scripts/kafka-definitions.js';
import { ApiKey, API_VERSIONS_KEY, apiName } from './api-codec.js';
import { ALL_ERRORS, ErrorCode, errorInfo, errorMessage } from './error-codes.js';
import { API_NAMES } from './generated/api-keys.js';
import { GENERATED_APIS } from './messages/generated/index.js';

describe('tables generated from Kafka definitions', () => {
  it('src/protocol/generated and docs/kafka-errors.md are what the generator writes (run `npm run generate`)', () => {
    const expected = generateKafkaTables();
    const inTablesDir = [...expected.keys()].filter((p) => p.startsWith(TABLES_DIR)).map((p) => basename(p));
    expect(readdirSync(TABLES_DIR).sort()).toEqual(inTablesDir.sort());
    for (const [path, text] of expected) expect(readFileSync(path, 'utf8'), `${path} is stale`).toBe(text);
  });

  it('the committed definitions are in the layout the extractor writes', () => {
    expect(readFileSync(MESSAGES_FILE, 'utf8')).toBe(renderDefinitions(readMessageDefinitions()));
    expect(readFileSync(ERRORS_FILE, 'utf8')).toBe(renderDefinitions(readErrorDefinitions()));
  });
});

describe('error table', () => {
  it('keeps ErrorCode.X for callers and agrees with the entries', () => {
    expect(ErrorCode.NONE).toBe(0);
    expect(ErrorCode.UNKNOWN_SERVER_ERROR).toBe(-1);
    expect(ErrorCode.NOT_LEADER_OR_FOLLOWER).toBe(6);
    expect(ErrorCode.UNSUPPORTED_VERSION).toBe(35);
    expect(ErrorCode.UNKNOWN_TOPIC_ID).toBe(100);
    expect(ErrorCode.TRANSACTION_ABORTABLE).toBe(120);
    expect(Object.keys(ErrorCode)).toHaveLength(ALL_ERRORS.length);
    for (const e of ALL_ERRORS) expect(ErrorCode[e.name], e.name).toBe(e.code);
    expect(new Set(ALL_ERRORS.map((e) => e.code)).size).toBe(ALL_ERRORS.length);
  });

  it("carries Kafka's default messages and retriable flags", () => {
    expect(errorInfo(ErrorCode.COORDINATOR_NOT_AVAILABLE)).toEqual({ code: 15, name: 'COORDINATOR_NOT_AVAILABLE', message: 'The coordinator is not available.', retriable: true });
    expect(errorMessage(ErrorCode.UNKNOWN_TOPIC_ID)).toBe('This server does not host this topic ID.');
    expect(errorMessage(ErrorCode.NONE)).toBe('NONE');
    for (const name of ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'REQUEST_TIMED_OUT', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'KAFKA_STORAGE_ERROR', 'UNKNOWN_TOPIC_ID'] as const) {
      expect(errorInfo(ErrorCode[name]).retriable, name).toBe(true);
    }
    for (const name of ['NONE', 'UNKNOWN_SERVER_ERROR', 'OFFSET_OUT_OF_RANGE', 'TOPIC_ALREADY_EXISTS', 'INVALID_REQUEST', 'UNSUPPORTED_VERSION', 'REBALANCE_IN_PROGRESS', 'MESSAGE_TOO_LARGE'] as const) {
      expect(errorInfo(ErrorCode[name]).retriable, name).toBe(false);
    }
    for (const e of ALL_ERRORS) expect(e.message.length, e.name).toBeGreaterThan(0);
  });

  it('reports a code Kafka does not define as UNKNOWN_SERVER_ERROR with that code', () => {
    expect(errorInfo(9999)).toEqual({ ...errorInfo(ErrorCode.UNKNOWN_SERVER_ERROR), code: 9999 });
    expect(errorInfo(9999).retriable).toBe(false);
  });
});

describe('docs/kafka-errors.md', () => {
  const rows = new Map<number, string[]>();
  for (const line of readFileSync(ERRORS_DOC, 'utf8').split('\n')) {
    const m = /^\| (-?\d+) \| `([A-Z0-9_]+)` \| (yes|no) \| (.*) \|$/.exec(line);
    if (m) rows.set(Number(m[1]), [m[2]!, m[3]!, m[4]!]);
  }

  it('lists every error code with its name and retriable flag', () => {
    for (const e of ALL_ERRORS) {
      const row = rows.get(e.code);
      expect(row, `docs/kafka-errors.md misses code ${e.code} (${e.name})`).toBeDefined();
      expect(row![0], `code ${e.code}`).toBe(e.name);
      expect(row![1], `${e.name} retriable`).toBe(e.retriable ? 'yes' : 'no');
    }
    expect([...rows.keys()].sort((a, b) => a - b)).toEqual(ALL_ERRORS.map((e) => e.code));
  });

  it('fails when the doc misses a code', () => {
    const defs = readErrorDefinitions();
    const without = renderErrorsDoc({ ...defs, errors: defs.errors.filter((e) => e.code !== ErrorCode.NOT_COORDINATOR) });
    expect(without).not.toBe(readFileSync(ERRORS_DOC, 'utf8'));
    expect(without).not.toContain('`NOT_COORDINATOR`');
  });
});

describe('API keys', () => {
  it("names every Kafka API by its definition's key", () => {
    expect(ApiKey.Produce).toBe(0);
    expect(ApiKey.Fetch).toBe(1);
    expect(ApiKey.Metadata).toBe(3);
    expect(ApiKey.ApiVersions).toBe(18);
    expect(ApiKey.DescribeCluster).toBe(60);
    expect(API_VERSIONS_KEY).toBe(ApiKey.ApiVersions);
    for (const [name, key] of Object.entries(ApiKey)) expect(API_NAMES.get(key), name).toBe(name);
    expect(API_NAMES.size).toBe(Object.keys(ApiKey).length);
  });

  it('agrees with the generated schemas', () => {
    for (const api of GENERATED_APIS) {
      expect(API_NAMES.get(api.apiKey), `API ${api.apiKey}`).toBe(api.name);
      expect(apiName(api.apiKey)).toBe(api.name);
    }
  });
});
