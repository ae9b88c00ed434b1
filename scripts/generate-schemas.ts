/**
 * Writes src/protocol/messages/generated/*.ts from the repository's copy of Kafka's message
 * definitions (src/protocol/definitions/kafka-messages.json, written by
 * scripts/extract-kafka-definitions.ts): one module per API with the request and response
 * schemas as data plus TypeScript interfaces. Run with `npm run generate`, which also writes
 * the error and API key tables and docs/kafka-errors.md (scripts/generate-kafka-tables.ts).
 * `generateAll()` is also used by a test that fails when the committed files are stale.
 */
import { writeFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKafkaTables, TABLES_DIR } from './generate-kafka-tables.js';
import { readMessageDefinitions, type JsonField, type JsonMessage, type KafkaMessageDefinitions } from './kafka-definitions.js';

/**
 * The APIs StreamHouse has schemas for (docs/architecture.md §3). Adding one: list it here,
 * re-run scripts/extract-kafka-definitions.ts against a Kafka checkout, then `npm run generate`.
 */
export const GENERATED_APIS = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator',
  'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups',
  'SaslHandshake', 'ApiVersions', 'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId',
  'DescribeConfigs', 'AlterConfigs', 'SaslAuthenticate', 'CreatePartitions', 'DeleteGroups',
  'IncrementalAlterConfigs', 'OffsetDelete', 'DescribeCluster', 'DescribeUserScramCredentials',
  'AlterUserScramCredentials', 'DescribeAcls', 'CreateAcls', 'DeleteAcls',
  'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'WriteTxnMarkers', 'TxnOffsetCommit',
  'DescribeProducers', 'DescribeTransactions', 'ListTransactions',
] as const;

const here = dirname(fileURLToPath(import.meta.url));
export const OUTPUT_DIR = resolve(here, '../src/protocol/messages/generated');

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid']);

function range(spec: string | undefined): string {
  if (spec === undefined || spec === 'none' || spec === '') return 'NONE';
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return `[${plus[1]}, MAX]`;
  const span = /^(\d+)-(\d+)$/.exec(spec);
  if (span) return `[${span[1]}, ${span[2]}]`;
  if (/^\d+$/.test(spec)) return `[${spec}, ${spec}]`;
  throw new Error(`unparseable version range "${spec}"`);
}

function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function defaultLiteral(field: JsonField, base: string, nullable: boolean): string | undefined {
  const d = field.default;
  if (d === undefined) return undefined;
  const text = String(d);
  if (text === 'null') return nullable ? 'null' : undefined;
  switch (base) {
    case 'bool':
      return text === 'true' ? 'true' : 'false';
    case 'int64':
      return `${BigInt(text)}n`;
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'float64':
      return String(Number(text));
    case 'string':
      return JSON.stringify(text);
    default:
      return undefined;
  }
}

interface TypeCollector {
  interfaces: string[];
  names: Set<string>;
}

/** Emits the FieldSchema literal for one field, collecting the TS interface text of structs. */
function emitField(field: JsonField, owner: string, structs: Map<string, JsonField[]>, types: TypeCollector, indent: string): { schema: string; tsType: string; optional: boolean } {
  const isArray = field.type.startsWith('[]');
  const base = isArray ? field.type.slice(2) : field.type;
  const isStruct = !PRIMITIVES.has(base);
  const nullable = field.nullableVersions !== undefined && field.nullableVersions !== 'none';
  let tsType: string;
  let nested = '';
  if (isStruct) {
    const subFields = field.fields ?? structs.get(base);
    if (!subFields) throw new Error(`${owner}: struct ${base} has no fields`);
    const iface = base.startsWith(owner) ? base : `${owner}${base}`;
    const parts = subFields.map((f) => emitField(f, owner, structs, types, indent + '    '));
    nested = `,\n${indent}  fields: [\n${parts.map((p) => p.schema).join(',\n')},\n${indent}  ]`;
    if (!types.names.has(iface)) {
      types.names.add(iface);
      const body = subFields.map((f, i) => `  ${camel(f.name)}: ${parts[i]!.tsType};`).join('\n');
      types.interfaces.push(`export interface ${iface} {\n${body}\n}`);
    }
    tsType = iface;
  } else {
    tsType = ({ bool: 'boolean', int64: 'bigint', string: 'string', uuid: 'string', bytes: 'Buffer', records: 'Buffer' } as Record<string, string>)[base] ?? 'number';
  }
  if (isArray) tsType = `${tsType}[]`;
  if (nullable) tsType = `${tsType} | null`;
  const def = defaultLiteral(field, base, nullable);
  const props = [
    `name: '${camel(field.name)}'`,
    `type: '${isStruct ? 'struct' : base}'`,
    `array: ${isArray}`,
    `versions: ${range(field.versions)}`,
    `nullableVersions: ${range(field.nullableVersions)}`,
    `taggedVersions: ${range(field.taggedVersions)}`,
    `tag: ${field.tag ?? -1}`,
  ];
  if (def !== undefined) props.push(`default: ${def}`);
  const schema = `${indent}{ ${props.join(', ')}${nested}${nested ? `\n${indent}}` : ' }'}`;
  return { schema, tsType, optional: false };
}

function emitMessage(msg: JsonMessage, types: TypeCollector): string {
  const structs = new Map<string, JsonField[]>();
  for (const s of msg.commonStructs ?? []) structs.set(s.name, s.fields);
  const parts = msg.fields.map((f) => emitField(f, msg.name, structs, types, '    '));
  const body = msg.fields.map((f, i) => `  ${camel(f.name)}: ${parts[i]!.tsType};`).join('\n');
  types.interfaces.push(`export interface ${msg.name} {\n${body}\n}`);
  return [
    `export const ${msg.name}Schema: MessageSchema = {`,
    `  name: '${msg.name}',`,
    `  apiKey: ${msg.apiKey},`,
    `  kind: '${msg.type}',`,
    `  validVersions: ${range(msg.validVersions)},`,
    `  flexibleVersions: ${range(msg.flexibleVersions)},`,
    `  fields: [`,
    parts.map((p) => p.schema).join(',\n') + ',',
    `  ],`,
    `};`,
  ].join('\n');
}

export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** Returns file name → contents for every generated module. */
export function generateAll(definitions: KafkaMessageDefinitions = readMessageDefinitions()): Map<string, string> {
  const out = new Map<string, string>();
  const header = '// Generated by scripts/generate-schemas.ts from Apache Kafka\'s message definitions. Do not edit.\n';
  const indexLines: string[] = [];
  const registry: string[] = [];
  const typeMap: string[] = [];
  const byName = new Map(definitions.messages.map((m) => [m.name, m]));
  const message = (name: string): JsonMessage => {
    const found = byName.get(name);
    if (!found) throw new Error(`${name} is not in the Kafka definitions; re-run scripts/extract-kafka-definitions.ts`);
    return found;
  };
  for (const api of GENERATED_APIS) {
    const request = message(`${api}Request`);
    const response = message(`${api}Response`);
    const types: TypeCollector = { interfaces: [], names: new Set() };
    const reqSchema = emitMessage(request, types);
    const resSchema = emitMessage(response, types);
    const file = `${kebab(api)}.ts`;
    out.set(
      file,
      [
        header,
        `import type { MessageSchema } from '../../schema/schema-types.js';\n`,
        `const MAX = 0x7fff;`,
        `const NONE = [1, 0] as const;\n`,
        `export const ${api}ApiKey = ${request.apiKey};\n`,
        types.interfaces.join('\n\n'),
        '',
        reqSchema,
        '',
        resSchema,
        '',
      ].join('\n'),
    );
    indexLines.push(`export * from './${kebab(api)}.js';`);
    indexLines.push(`import { ${api}RequestSchema, ${api}ResponseSchema, type ${api}Request, type ${api}Response } from './${kebab(api)}.js';`);
    registry.push(`  { apiKey: ${request.apiKey}, name: '${api}', request: ${api}RequestSchema, response: ${api}ResponseSchema },`);
    typeMap.push(`  ${request.apiKey}: { request: ${api}Request; response: ${api}Response };`);
  }
  out.set(
    'index.ts',
    [
      header,
      `import type { MessageSchema } from '../../schema/schema-types.js';`,
      ...indexLines,
      '',
      `export interface GeneratedApi {\n  readonly apiKey: number;\n  readonly name: string;\n  readonly request: MessageSchema;\n  readonly response: MessageSchema;\n}`,
      '',
      `export const GENERATED_APIS: readonly GeneratedApi[] = [`,
      ...registry,
      `];`,
      '',
      `/** Request and response types by API key. */`,
      `export interface ApiMessages {`,
      ...typeMap,
      `}`,
      '',
    ].join('\n'),
  );
  return out;
}

function main(): void {
  if (process.argv.length > 2) {
    throw new Error('generate-schemas takes no arguments; to read other Kafka definitions run scripts/extract-kafka-definitions.ts <path> first');
  }
  const files = generateAll();
  rmSync(OUTPUT_DIR, { recursive: true, force: true });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(OUTPUT_DIR, name), text);
  console.log(`wrote ${files.size} files to ${OUTPUT_DIR} (${readdirSync(OUTPUT_DIR).length} present)`);
  const tables = generateKafkaTables();
  rmSync(TABLES_DIR, { recursive: true, force: true });
  mkdirSync(TABLES_DIR, { recursive: true });
  for (const [path, text] of tables) writeFileSync(path, text);
  console.log(`wrote ${[...tables.keys()].join(', ')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
