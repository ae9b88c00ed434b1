// Public surface of the storage layer.
export type { ByteRange, ObjectInfo, ObjectStore, SuffixRange } from './object-store.js';
export * from './storage-errors.js';
export { validateObjectKey, compareKeys } from './object-key.js';
export { openObjectStore, localPathFromUrl } from './open-object-store.js';
export { LocalObjectStore } from './local/local-object-store.js';
export { MemoryObjectStore } from './memory/memory-object-store.js';
export * from './segment/segment-format.js';
export { buildSegment, type BuiltSegment } from './segment/segment-writer.js';
export {
  parseSegment,
  parseSegmentFooter,
  parseSegmentTrailer,
  readSegmentChunk,
  readSegmentFooter,
  verifySegmentChunk,
  type ParsedSegment,
  type SegmentChunk,
  type SegmentTrailer,
} from './segment/segment-reader.js';
export {
  newSegmentKey,
  parseSegmentKey,
  segmentKeyPrefix,
  SegmentKeyGenerator,
  type SegmentKeyParts,
} from './segment/segment-key.js';
