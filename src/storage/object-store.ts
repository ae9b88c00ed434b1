/** Bytes [start, end) of an object; `end` is exclusive and must not exceed the object size. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The last `suffixLength` bytes of an object (the whole object if it is shorter).
 * Lets a reader fetch a fixed-size trailer without first learning the object size,
 * which S3 supports natively (`Range: bytes=-N`).
 */
export interface SuffixRange {
  suffixLength: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/**
 * Immutable blob storage for segment objects. Keys are `/`-separated relative paths
 * (see validateObjectKey). Objects are written once and never replaced.
 */
export interface ObjectStore {
  /** Stores `body` under `key`; throws ObjectExistsError (OBJECT_EXISTS) if the key exists. */
  put(key: string, body: Buffer): Promise<void>;

  /**
   * Returns the object (or the requested range). Throws ObjectNotFoundError
   * (OBJECT_NOT_FOUND) for a missing key, InvalidRangeError (INVALID_RANGE) for a
   * range outside the object.
   */
  get(key: string, range?: ByteRange | SuffixRange): Promise<Buffer>;

  /** Removes the object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;

  /** Objects whose key starts with `prefix`, in ascending UTF-8 byte order of key. */
  list(prefix?: string): AsyncIterable<ObjectInfo>;

  /** Releases resources; later calls throw StoreClosedError (STORE_CLOSED). */
  close(): Promise<void>;
}
