import { ApiKey as API_KEYS } from './generated/api-keys.js';
import { GENERATED_APIS, type ApiMessages, type GeneratedApi } from './messages/generated/index.js';
import { compileMessage } from './schema/compile-schema.js';
import { inRange } from './schema/schema-types.js';
import { Reader } from './primitives/reader.js';
import { Writer } from './primitives/writer.js';
import { ProtocolError } from './protocol-error.js';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
} from './headers.js';

/**
 * As a value, every Kafka API key by name (`ApiKey.Produce === 0`, generated from Kafka's
 * definitions); as a type, the keys StreamHouse has schemas for (what handlers may register).
 */
export const ApiKey = API_KEYS;
export type ApiKey = keyof ApiMessages;
export type RequestOf<K extends ApiKey> = ApiMessages[K]['request'];
export type ResponseOf<K extends ApiKey> = ApiMessages[K]['response'];

export const API_VERSIONS_KEY = ApiKey.ApiVersions;

const BY_KEY = new Map<number, GeneratedApi>(GENERATED_APIS.map((a) => [a.apiKey, a]));

export function apiDefinition(apiKey: number): GeneratedApi | undefined {
  return BY_KEY.get(apiKey);
}

export function apiName(apiKey: number): string {
  return BY_KEY.get(apiKey)?.name ?? `Unknown(${apiKey})`;
}

function requireApi(apiKey: number): GeneratedApi {
  const api = BY_KEY.get(apiKey);
  if (!api) throw new ProtocolError(`unknown API key ${apiKey}`);
  return api;
}

export function isFlexible(apiKey: number, version: number): boolean {
  return inRange(requireApi(apiKey).request.flexibleVersions, version);
}

export function requestHeaderVersion(apiKey: number, version: number): 1 | 2 {
  return isFlexible(apiKey, version) ? 2 : 1;
}

/** ApiVersions responses always use header v0 so that any client can read the version list. */
export function responseHeaderVersion(apiKey: number, version: number): 0 | 1 {
  if (apiKey === API_VERSIONS_KEY) return 0;
  return isFlexible(apiKey, version) ? 1 : 0;
}

export interface DecodedRequest {
  header: RequestHeader;
  body: unknown;
}

/** Decodes a request frame (without its 4-byte length prefix). */
export function decodeRequest(frame: Buffer): DecodedRequest {
  if (frame.length < 4) throw new ProtocolError(`frame of ${frame.length} bytes is shorter than a request header`);
  const apiKey = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const api = requireApi(apiKey);
  if (!inRange(api.request.validVersions, version)) {
    throw new ProtocolError(`${api.name} has no version ${version}`);
  }
  const reader = new Reader(frame);
  const header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, version));
  const body = compileMessage(api.request, version).decode(reader);
  return { header, body };
}

export function decodeRequestBody<K extends ApiKey>(apiKey: K, version: number, reader: Reader): RequestOf<K> {
  return compileMessage<RequestOf<K>>(requireApi(apiKey).request, version).decode(reader);
}

/** Writes a response with its header and 4-byte length prefix (the prefix covers referenced parts too). */
function writeResponse(writer: Writer, apiKey: number, version: number, correlationId: number, body: unknown): void {
  const lengthAt = writer.reserveInt32();
  encodeResponseHeader(writer, correlationId, responseHeaderVersion(apiKey, version));
  compileMessage(requireApi(apiKey).response, version).encode(writer, body);
  writer.patchInt32(lengthAt, writer.size - 4);
}

/** Encodes a response with its header and 4-byte length prefix, ready for the socket. */
export function encodeResponse(apiKey: number, version: number, correlationId: number, body: unknown, sizeHint = 256): Buffer {
  const writer = new Writer(sizeHint);
  writeResponse(writer, apiKey, version, correlationId, body);
  return writer.toBuffer();
}

/**
 * Encodes a response like `encodeResponse`, but as a list of buffers to be written in order:
 * large `ByteParts` parts in the body (Fetch records) are passed by reference, not copied.
 * The 4-byte length prefix at the start covers them too.
 */
export function encodeResponseSegments(apiKey: number, version: number, correlationId: number, body: unknown, sizeHint = 256): { segments: Buffer[]; size: number } {
  const writer = new Writer(sizeHint, { segmented: true });
  writeResponse(writer, apiKey, version, correlationId, body);
  return { segments: writer.toSegments(), size: writer.size };
}

/** Encodes a request with its header and length prefix (clients, tests, the CLI). */
export function encodeRequest(header: RequestHeader, body: unknown): Buffer {
  const writer = new Writer(256);
  const lengthAt = writer.reserveInt32();
  encodeRequestHeader(writer, header, requestHeaderVersion(header.apiKey, header.apiVersion));
  compileMessage(requireApi(header.apiKey).request, header.apiVersion).encode(writer, body);
  writer.patchInt32(lengthAt, writer.offset - 4);
  return writer.toBuffer();
}

/** Decodes a response frame (without its length prefix). */
export function decodeResponse<K extends ApiKey>(apiKey: K, version: number, frame: Buffer): { correlationId: number; body: ResponseOf<K> } {
  const reader = new Reader(frame);
  const { correlationId } = decodeResponseHeader(reader, responseHeaderVersion(apiKey, version));
  const body = compileMessage<ResponseOf<K>>(requireApi(apiKey).response, version).decode(reader);
  return { correlationId, body };
}
