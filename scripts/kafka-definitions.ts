/**
 * The repository's own copy of the Kafka facts the generators read (written by
 * scripts/extract-kafka-definitions.ts, committed under src/protocol/definitions/): where the
 * files are, their shapes, loaders that check the shape, and the JSON layout they are
 * written in.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFINITIONS_DIR = resolve(here, '../src/protocol/definitions');
export const MESSAGES_FILE = join(DEFINITIONS_DIR, 'kafka-messages.json');
export const ERRORS_FILE = join(DEFINITIONS_DIR, 'kafka-errors.json');

/** A field of a Kafka message definition, reduced to what the schema generator reads. */
export interface JsonField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  fields?: JsonField[];
}

export interface JsonStruct {
  name: string;
  versions: string;
  fields: JsonField[];
}

/** A request or response definition, reduced to what the schema generator reads. */
export interface JsonMessage {
  apiKey: number;
  type: 'request' | 'response';
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: JsonField[];
  commonStructs?: JsonStruct[];
}

export interface KafkaMessageDefinitions {
  /** Where the definitions were taken from (free text given to the extractor). */
  source: string;
  /** Every request Kafka defines, by API key. */
  apiKeys: Array<{ name: string; apiKey: number }>;
  /** Request and response definitions of the APIs in GENERATED_APIS. */
  messages: JsonMessage[];
}

export interface KafkaErrorDefinition {
  code: number;
  name: string;
  /** Kafka's default message; null for NONE. */
  message: string | null;
  /** Whether the error's exception extends Kafka's RetriableException. */
  retriable: boolean;
}

export interface KafkaErrorDefinitions {
  source: string;
  errors: KafkaErrorDefinition[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(file: string, what: string): never {
  throw new Error(`${file}: ${what} (re-run scripts/extract-kafka-definitions.ts)`);
}

function checkField(file: string, value: unknown, where: string): void {
  if (!isObject(value) || typeof value.name !== 'string' || typeof value.type !== 'string') fail(file, `${where} is not a field`);
  if (value.fields !== undefined) {
    if (!Array.isArray(value.fields)) fail(file, `${where}.fields is not an array`);
    value.fields.forEach((f, i) => checkField(file, f, `${where}.fields[${i}]`));
  }
}

export function readMessageDefinitions(file = MESSAGES_FILE): KafkaMessageDefinitions {
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(value) || typeof value.source !== 'string' || !Array.isArray(value.apiKeys) || !Array.isArray(value.messages)) {
    fail(file, 'expected { source, apiKeys, messages }');
  }
  for (const k of value.apiKeys) {
    if (!isObject(k) || typeof k.name !== 'string' || typeof k.apiKey !== 'number') fail(file, 'apiKeys holds a malformed entry');
  }
  for (const m of value.messages) {
    if (!isObject(m) || typeof m.name !== 'string' || typeof m.apiKey !== 'number' || !Array.isArray(m.fields)) fail(file, 'messages holds a malformed entry');
    m.fields.forEach((f, i) => checkField(file, f, `${String(m.name)}.fields[${i}]`));
  }
  return value as unknown as KafkaMessageDefinitions;
}

export function readErrorDefinitions(file = ERRORS_FILE): KafkaErrorDefinitions {
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(value) || typeof value.source !== 'string' || !Array.isArray(value.errors)) fail(file, 'expected { source, errors }');
  for (const e of value.errors) {
    if (!isObject(e) || typeof e.code !== 'number' || typeof e.name !== 'string' || typeof e.retriable !== 'boolean' || (e.message !== null && typeof e.message !== 'string')) {
      fail(file, 'errors holds a malformed entry');
    }
  }
  return value as unknown as KafkaErrorDefinitions;
}

/**
 * JSON with two-space indentation where an object or array holding only scalars sits on
 * one line (a field, an error, an API key), so the files stay short and diff well.
 */
export function renderDefinitions(value: KafkaMessageDefinitions | KafkaErrorDefinitions): string {
  return `${render(value as unknown as Json, '')}\n`;
}

function render(value: Json, indent: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => render(v, inner)).join(', ')}]`;
    return `[\n${value.map((v) => inner + render(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  if (entries.every(([, v]) => v === null || typeof v !== 'object')) {
    return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${render(v, inner)}`).join(', ')} }`;
  }
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${render(v, inner)}`).join(',\n')}\n${indent}}`;
}
