/**
 * Derives the repository's own copy of the Kafka facts the code generators need, so that a
 * clone builds and tests without any Kafka sources next to it:
 *
 *   src/protocol/definitions/kafka-messages.json  the request and response definitions of
 *     the APIs in GENERATED_APIS (only the keys the schema generator reads) and the API key
 *     of every request Kafka defines
 *   src/protocol/definitions/kafka-errors.json    every protocol error: code, name, default
 *     message and whether Kafka treats it as retriable
 *
 * Re-run it when the APIs we generate change or to move to newer Kafka definitions, then run
 * `npm run generate`:
 *
 *   npx tsx scripts/extract-kafka-definitions.ts <kafka checkout> [--source "<label>"]
 *       both files, from clients/src/main/resources/common/message and from
 *       clients/src/main/java/org/apache/kafka/common/protocol/Errors.java (the retriable flag
 *       is whether the error's exception class extends RetriableException)
 *   npx tsx scripts/extract-kafka-definitions.ts <directory of *Request.json files> [--source ...]
 *       kafka-messages.json only
 */
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_APIS } from './generate-schemas.js';
import {
  DEFINITIONS_DIR,
  ERRORS_FILE,
  MESSAGES_FILE,
  renderDefinitions,
  type JsonField,
  type JsonMessage,
  type KafkaErrorDefinition,
  type KafkaErrorDefinitions,
  type KafkaMessageDefinitions,
} from './kafka-definitions.js';

const CHECKOUT_MESSAGES = 'clients/src/main/resources/common/message';
const CHECKOUT_JAVA = 'clients/src/main/java';
const ERRORS_JAVA = 'org/apache/kafka/common/protocol/Errors.java';
const RETRIABLE_BASE = 'org/apache/kafka/common/errors/RetriableException.java';

// ---------------------------------------------------------------------------------------
// Message definitions

/** Kafka's files are JSON plus // line comments (license headers and notes). */
export function parseJsonWithComments(text: string): JsonMessage {
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as JsonMessage;
}

/** Keeps only what scripts/generate-schemas.ts reads from a field, in a fixed key order. */
function compactField(field: JsonField): JsonField {
  const out: JsonField = { name: field.name, type: field.type };
  if (field.versions !== undefined) out.versions = field.versions;
  if (field.nullableVersions !== undefined) out.nullableVersions = field.nullableVersions;
  if (field.taggedVersions !== undefined) out.taggedVersions = field.taggedVersions;
  if (field.tag !== undefined) out.tag = field.tag;
  if (field.default !== undefined) out.default = field.default;
  if (field.fields !== undefined) out.fields = field.fields.map(compactField);
  return out;
}

function compactMessage(msg: JsonMessage): JsonMessage {
  const out: JsonMessage = {
    apiKey: msg.apiKey,
    type: msg.type,
    name: msg.name,
    validVersions: msg.validVersions,
    flexibleVersions: msg.flexibleVersions,
    fields: msg.fields.map(compactField),
  };
  if (msg.commonStructs !== undefined) {
    out.commonStructs = msg.commonStructs.map((s) => ({ name: s.name, versions: s.versions, fields: s.fields.map(compactField) }));
  }
  return out;
}

/** Reads a directory of Kafka message JSON files into the in-repo form. */
export function extractMessages(messagesDir: string, source: string): KafkaMessageDefinitions {
  const apiKeys: Array<{ name: string; apiKey: number }> = [];
  for (const file of readdirSync(messagesDir).filter((f) => f.endsWith('Request.json')).sort()) {
    const msg = parseJsonWithComments(readFileSync(join(messagesDir, file), 'utf8'));
    if (msg.type !== 'request') continue;
    apiKeys.push({ name: msg.name.replace(/Request$/, ''), apiKey: msg.apiKey });
  }
  apiKeys.sort((a, b) => a.apiKey - b.apiKey);
  const seen = new Map<number, string>();
  for (const k of apiKeys) {
    const other = seen.get(k.apiKey);
    if (other !== undefined) throw new Error(`API key ${k.apiKey} is used by both ${other} and ${k.name}`);
    seen.set(k.apiKey, k.name);
  }
  const messages: JsonMessage[] = [];
  for (const api of GENERATED_APIS) {
    for (const kind of ['Request', 'Response'] as const) {
      const path = join(messagesDir, `${api}${kind}.json`);
      if (!existsSync(path)) throw new Error(`${path} is missing (GENERATED_APIS names ${api})`);
      messages.push(compactMessage(parseJsonWithComments(readFileSync(path, 'utf8'))));
    }
  }
  return { source, apiKeys, messages };
}

// ---------------------------------------------------------------------------------------
// Errors.java

interface EnumConstant {
  readonly name: string;
  readonly args: string[];
}

/** Splits the constant list of `public enum Errors { ... ; ...}` into NAME(args...) entries. */
function enumConstants(java: string): EnumConstant[] {
  const start = java.search(/\benum\s+Errors\s*\{/);
  if (start < 0) throw new Error('no `enum Errors {` in Errors.java');
  let i = java.indexOf('{', start) + 1;
  const out: EnumConstant[] = [];
  const skipSpaceAndComments = (): void => {
    for (;;) {
      while (i < java.length && /\s/.test(java[i]!)) i++;
      if (java.startsWith('//', i)) i = java.indexOf('\n', i) < 0 ? java.length : java.indexOf('\n', i);
      else if (java.startsWith('/*', i)) i = java.indexOf('*/', i) + 2;
      else return;
    }
  };
  for (;;) {
    skipSpaceAndComments();
    const ident = /^[A-Z][A-Z0-9_]*/.exec(java.slice(i));
    if (!ident) throw new Error(`unexpected text in the Errors constants: ${java.slice(i, i + 40)}`);
    i += ident[0].length;
    skipSpaceAndComments();
    if (java[i] !== '(') throw new Error(`${ident[0]}: expected "("`);
    i++;
    const args: string[] = [];
    let depth = 0;
    let current = '';
    for (; i < java.length; i++) {
      const c = java[i]!;
      if (c === '"' || c === "'") {
        const end = endOfLiteral(java, i);
        current += java.slice(i, end);
        i = end - 1;
        continue;
      }
      if (c === '(' || c === '{' || c === '[') depth++;
      if (c === ')' || c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      }
      if (c === ',' && depth === 0) {
        args.push(current.trim());
        current = '';
        continue;
      }
      current += c;
    }
    args.push(current.trim());
    i++; // past ")"
    out.push({ name: ident[0], args });
    skipSpaceAndComments();
    if (java[i] === ',') {
      i++;
      continue;
    }
    if (java[i] === ';') return out;
    throw new Error(`${ident[0]}: expected "," or ";" after the constant`);
  }
}

/** Index just past the string or char literal opening at `start`. */
function endOfLiteral(text: string, start: number): number {
  const quote = text[start]!;
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  throw new Error('unterminated literal in Errors.java');
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };

/** Evaluates `null` or a `+`-joined sequence of Java string literals. */
function javaString(expr: string): string | null {
  if (expr === 'null') return null;
  let out = '';
  let i = 0;
  const skip = (): void => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  for (;;) {
    skip();
    if (expr[i] !== '"') throw new Error(`not a string literal: ${expr}`);
    const end = endOfLiteral(expr, i);
    const body = expr.slice(i + 1, end - 1);
    out += body.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
      if (e.startsWith('u') && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
      const known = ESCAPES[e];
      if (known === undefined) throw new Error(`unknown escape \\${e} in ${expr}`);
      return known;
    });
    i = end;
    skip();
    if (i >= expr.length) return out;
    if (expr[i] !== '+') throw new Error(`unexpected "${expr[i]}" in ${expr}`);
    i++;
  }
}

/** Resolves a class name used in `fromFile` to its source file, or null when it is not in the tree. */
function classFile(javaRoot: string, name: string, fromFile: string, source: string): string | null {
  if (name.includes('.')) {
    const path = join(javaRoot, `${name.replace(/\./g, '/')}.java`);
    return existsSync(path) ? path : null;
  }
  const imported = new RegExp(`^import\\s+([\\w.]+\\.${name})\\s*;`, 'm').exec(source);
  if (imported) {
    const path = join(javaRoot, `${imported[1]!.replace(/\./g, '/')}.java`);
    return existsSync(path) ? path : null;
  }
  const sibling = join(dirname(fromFile), `${name}.java`);
  return existsSync(sibling) ? sibling : null;
}

/** Whether the class in `file` has RetriableException among its ancestors. */
function extendsRetriable(javaRoot: string, file: string): boolean {
  const target = join(javaRoot, RETRIABLE_BASE);
  const visited = new Set<string>();
  let current: string | null = file;
  while (current !== null && !visited.has(current)) {
    visited.add(current);
    const source = readFileSync(current, 'utf8');
    const simple = current.slice(current.lastIndexOf('/') + 1, -'.java'.length);
    const decl = new RegExp(`\\bclass\\s+${simple}\\b(?:\\s*<[^{]*?>)?\\s+extends\\s+([\\w.]+)`).exec(source);
    if (!decl) return false;
    current = classFile(javaRoot, decl[1]!, current, source);
    if (current === target) return true;
  }
  return false;
}

/** Reads Kafka's error table from a checkout's Errors.java and the exception classes it names. */
export function extractErrors(checkout: string, source: string): KafkaErrorDefinitions {
  const javaRoot = join(checkout, CHECKOUT_JAVA);
  const errorsFile = join(javaRoot, ERRORS_JAVA);
  const java = readFileSync(errorsFile, 'utf8');
  const errors: KafkaErrorDefinition[] = enumConstants(java).map(({ name, args }) => {
    if (args.length !== 3) throw new Error(`${name}: expected (code, message, builder), found ${args.length} arguments`);
    const code = Number(args[0]);
    if (!Number.isInteger(code)) throw new Error(`${name}: code "${args[0]}" is not an integer`);
    const message = javaString(args[1]!);
    const ctor = /^([\w.]+)::new$/.exec(args[2]!);
    let retriable = false;
    if (ctor) {
      const file = classFile(javaRoot, ctor[1]!, errorsFile, java);
      if (file === null) throw new Error(`${name}: cannot find the source of ${ctor[1]}`);
      retriable = extendsRetriable(javaRoot, file);
    } else if (name !== 'NONE') {
      throw new Error(`${name}: unexpected exception builder ${args[2]}`);
    }
    return { code, name, message, retriable };
  });
  errors.sort((a, b) => a.code - b.code);
  for (let i = 1; i < errors.length; i++) {
    if (errors[i]!.code === errors[i - 1]!.code) throw new Error(`code ${errors[i]!.code} is used twice`);
  }
  return { source, errors };
}

// ---------------------------------------------------------------------------------------

export interface ExtractedDefinitions {
  readonly messages: KafkaMessageDefinitions;
  readonly errors: KafkaErrorDefinitions | null;
}

/** `path` is a Kafka checkout (messages and errors) or a directory of message JSON files. */
export function extractDefinitions(path: string, source: string): ExtractedDefinitions {
  const checkoutMessages = join(path, CHECKOUT_MESSAGES);
  if (existsSync(checkoutMessages)) {
    return { messages: extractMessages(checkoutMessages, source), errors: extractErrors(path, source) };
  }
  if (existsSync(path) && readdirSync(path).some((f) => f.endsWith('Request.json'))) {
    return { messages: extractMessages(path, source), errors: null };
  }
  throw new Error(`${path} is neither a Kafka checkout (no ${CHECKOUT_MESSAGES}) nor a directory of *Request.json files`);
}

function main(argv: readonly string[]): void {
  let path: string | undefined;
  let source = 'Apache Kafka';
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--source') source = argv[++i] ?? source;
    else if (arg === '--check') check = true;
    else if (path === undefined) path = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (path === undefined) {
    console.error('usage: npx tsx scripts/extract-kafka-definitions.ts <kafka checkout | messages dir> [--source "<label>"]');
    process.exit(2);
  }
  if (check) {
    // the committed definitions are still what the extractor takes from this source
    const committedMessages = readFileSync(MESSAGES_FILE, 'utf8');
    const committedSource = (JSON.parse(committedMessages) as { source: string }).source;
    const extracted = extractDefinitions(resolve(path), committedSource);
    const stale = [
      ...(renderDefinitions(extracted.messages) === committedMessages ? [] : [MESSAGES_FILE]),
      ...(extracted.errors && renderDefinitions(extracted.errors) !== readFileSync(ERRORS_FILE, 'utf8') ? [ERRORS_FILE] : []),
    ];
    if (stale.length > 0) {
      console.error(`stale against ${path}: ${stale.join(', ')}; run this script without --check, then npm run generate`);
      process.exit(1);
    }
    console.log(`definitions match ${path}`);
    return;
  }
  const { messages, errors } = extractDefinitions(resolve(path), source);
  mkdirSync(DEFINITIONS_DIR, { recursive: true });
  writeFileSync(MESSAGES_FILE, renderDefinitions(messages));
  console.log(`wrote ${MESSAGES_FILE}: ${messages.messages.length} messages, ${messages.apiKeys.length} API keys`);
  if (errors) {
    writeFileSync(ERRORS_FILE, renderDefinitions(errors));
    console.log(`wrote ${ERRORS_FILE}: ${errors.errors.length} errors`);
  } else {
    console.log(`left ${ERRORS_FILE} as it is (errors come from a Kafka checkout's Errors.java)`);
  }
  console.log('now run `npm run generate`');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
