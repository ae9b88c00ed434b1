/** Inclusive version range; `[0, 32767]` means "0+". An empty range is `[1, 0]`. */
export type VersionRange = readonly [number, number];

export const NO_VERSIONS: VersionRange = [1, 0];
export const MAX_VERSION = 0x7fff;

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type DefaultValue = boolean | number | bigint | string | null;

/** One field of a message or struct, straight from Kafka's JSON definitions. */
export interface FieldSchema {
  /** camelCase property name on the decoded object. */
  readonly name: string;
  readonly type: PrimitiveType | 'struct';
  readonly array: boolean;
  readonly versions: VersionRange;
  readonly nullableVersions: VersionRange;
  readonly taggedVersions: VersionRange;
  readonly tag: number;
  /** Value used when the field is absent in a version; undefined means the type's zero. */
  readonly default?: DefaultValue;
  readonly fields?: readonly FieldSchema[];
}

export interface MessageSchema {
  readonly name: string;
  readonly apiKey: number;
  readonly kind: 'request' | 'response';
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  readonly fields: readonly FieldSchema[];
}

export function inRange(range: VersionRange, version: number): boolean {
  return version >= range[0] && version <= range[1];
}
