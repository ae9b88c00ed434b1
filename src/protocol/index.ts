export * from './api-codec.js';
export * from './error-codes.js';
export * from './headers.js';
export * from './protocol-error.js';
export { Reader } from './primitives/reader.js';
export { ByteParts, Writer } from './primitives/writer.js';
export { compileMessage, defaultMessage } from './schema/compile-schema.js';
export type { MessageSchema, FieldSchema, VersionRange } from './schema/schema-types.js';
export * from './messages/generated/index.js';
