// Coded errors so callers branch on `code` instead of parsing messages.

export type StorageErrorCode =
  | 'OBJECT_EXISTS'
  | 'OBJECT_NOT_FOUND'
  | 'INVALID_KEY'
  | 'INVALID_RANGE'
  | 'STORE_CLOSED'
  | 'UNSUPPORTED_STORE'
  | 'SEGMENT_CORRUPT'
  | 'SEGMENT_INVALID_INPUT';

export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class ObjectExistsError extends StorageError {
  readonly key: string;
  constructor(key: string) {
    super('OBJECT_EXISTS', `object already exists: ${key}`);
    this.key = key;
  }
}

export class ObjectNotFoundError extends StorageError {
  readonly key: string;
  constructor(key: string) {
    super('OBJECT_NOT_FOUND', `object not found: ${key}`);
    this.key = key;
  }
}

export class InvalidKeyError extends StorageError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super('INVALID_KEY', `invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.key = key;
  }
}

export class InvalidRangeError extends StorageError {
  constructor(message: string) {
    super('INVALID_RANGE', message);
  }
}

export class StoreClosedError extends StorageError {
  constructor() {
    super('STORE_CLOSED', 'object store is closed');
  }
}

export class UnsupportedStoreError extends StorageError {
  constructor(message: string) {
    super('UNSUPPORTED_STORE', message);
  }
}

/** The bytes of a segment object fail a structural or checksum check. */
export class SegmentCorruptError extends StorageError {
  constructor(message: string) {
    super('SEGMENT_CORRUPT', message);
  }
}

/** The writer was given chunks it cannot encode (bad offsets, oversized topic name…). */
export class SegmentInputError extends StorageError {
  constructor(message: string) {
    super('SEGMENT_INVALID_INPUT', message);
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
