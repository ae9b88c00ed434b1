import { ProtocolError } from '../protocol-error.js';
import { Reader } from '../primitives/reader.js';
import { ByteParts, Writer, type BytesValue } from '../primitives/writer.js';
import { inRange, type FieldSchema, type MessageSchema, type PrimitiveType } from './schema-types.js';

type Value = unknown;
type Obj = Record<string, Value>;
type DecodeFn = (r: Reader) => Value;
type EncodeFn = (w: Writer, v: Value) => void;

/** Encoder/decoder pair for one message at one version. */
export interface CompiledMessage<T> {
  readonly version: number;
  readonly flexible: boolean;
  decode(reader: Reader): T;
  encode(writer: Writer, message: T): void;
}

interface FieldPlan {
  readonly name: string;
  readonly decode: DecodeFn;
  readonly encode: EncodeFn;
  readonly defaultValue: () => Value;
  readonly isDefault: (v: Value) => boolean;
  readonly minSize: number;
}

interface StructPlan {
  readonly regular: FieldPlan[];
  readonly tagged: Map<number, FieldPlan>;
  readonly taggedOrdered: Array<[number, FieldPlan]>;
  /** Fields absent in this version: filled with defaults when decoding. */
  readonly absent: FieldPlan[];
  readonly flexible: boolean;
  readonly minSize: number;
}

const UUID_ZERO = '00000000-0000-0000-0000-000000000000';

function zeroOf(field: FieldSchema, nullable: boolean): Value {
  if (field.default !== undefined) return field.default;
  if (field.array) return nullable ? null : [];
  switch (field.type) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return nullable ? null : '';
    case 'uuid':
      return UUID_ZERO;
    case 'bytes':
      return nullable ? null : Buffer.alloc(0);
    case 'records':
      return null;
    case 'struct':
      return nullable ? null : undefined; // replaced by a default struct below
    default:
      return 0;
  }
}

function fixedSize(type: PrimitiveType): number {
  switch (type) {
    case 'bool':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    default:
      return 1; // length prefix of strings/bytes is at least one byte
  }
}

function primitiveCodec(type: PrimitiveType, nullable: boolean, compact: boolean): { decode: DecodeFn; encode: EncodeFn } {
  switch (type) {
    case 'bool':
      return { decode: (r) => r.readBool(), encode: (w, v) => void w.writeBool(v as boolean) };
    case 'int8':
      return { decode: (r) => r.readInt8(), encode: (w, v) => void w.writeInt8(v as number) };
    case 'int16':
      return { decode: (r) => r.readInt16(), encode: (w, v) => void w.writeInt16(v as number) };
    case 'uint16':
      return { decode: (r) => r.readUInt16(), encode: (w, v) => void w.writeUInt16(v as number) };
    case 'int32':
      return { decode: (r) => r.readInt32(), encode: (w, v) => void w.writeInt32(v as number) };
    case 'int64':
      return { decode: (r) => r.readInt64(), encode: (w, v) => void w.writeInt64(v as bigint) };
    case 'float64':
      return { decode: (r) => r.readFloat64(), encode: (w, v) => void w.writeFloat64(v as number) };
    case 'uuid':
      return { decode: (r) => r.readUuid(), encode: (w, v) => void w.writeUuid(v as string) };
    case 'string':
      return nullable
        ? { decode: (r) => r.readNullableString(compact), encode: (w, v) => void w.writeNullableString(v as string | null, compact) }
        : { decode: (r) => r.readString(compact), encode: (w, v) => void w.writeString(v as string, compact) };
    case 'bytes':
    case 'records':
      return nullable || type === 'records'
        ? { decode: (r) => r.readNullableBytes(compact), encode: (w, v) => void w.writeNullableBytes(v as BytesValue | null, compact) }
        : { decode: (r) => r.readBytes(compact), encode: (w, v) => void w.writeNullableBytes(v as BytesValue, compact) };
  }
}

function withPath(err: unknown, segment: string): never {
  if (err instanceof ProtocolError) throw new ProtocolError(stripPath(err), joinPath(segment, err.path));
  throw err;
}

function joinPath(segment: string, rest: string): string {
  if (!rest) return segment;
  return rest.startsWith('[') ? `${segment}${rest}` : `${segment}.${rest}`;
}

function stripPath(err: ProtocolError): string {
  return err.path && err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message;
}

function planField(field: FieldSchema, version: number, flexible: boolean): FieldPlan {
  const nullable = inRange(field.nullableVersions, version);
  const compact = flexible;
  let decodeOne: DecodeFn;
  let encodeOne: EncodeFn;
  let elementMin: number;
  let structPlan: StructPlan | undefined;
  if (field.type === 'struct') {
    const sp = planStruct(field.fields ?? [], version, flexible);
    structPlan = sp;
    decodeOne = (r) => decodeStruct(sp, r);
    encodeOne = (w, v) => encodeStruct(sp, w, v as Obj);
    elementMin = sp.minSize;
  } else {
    const c = primitiveCodec(field.type, nullable && !field.array, compact);
    decodeOne = c.decode;
    encodeOne = c.encode;
    elementMin = fixedSize(field.type);
  }

  let decode: DecodeFn;
  let encode: EncodeFn;
  if (field.array) {
    decode = (r) => {
      const n = r.readArrayLength(compact, elementMin);
      if (n < 0) {
        if (!nullable) throw new ProtocolError('null array where an array is required');
        return null;
      }
      const out: Value[] = [];
      for (let i = 0; i < n; i++) {
        try {
          out.push(decodeOne(r));
        } catch (e) {
          withPath(e, `[${i}]`);
        }
      }
      return out;
    };
    encode = (w, v) => {
      if (v === null || v === undefined) {
        if (!nullable) throw new ProtocolError('null array where an array is required');
        w.writeArrayLength(null, compact);
        return;
      }
      const arr = v as Value[];
      w.writeArrayLength(arr.length, compact);
      for (let i = 0; i < arr.length; i++) encodeOne(w, arr[i]);
    };
  } else if (field.type === 'struct' && nullable) {
    // nullable structs carry a one-byte presence marker (-1 null, 1 present)
    decode = (r) => (r.readInt8() < 0 ? null : decodeOne(r));
    encode = (w, v) => {
      if (v === null || v === undefined) w.writeInt8(-1);
      else {
        w.writeInt8(1);
        encodeOne(w, v);
      }
    };
  } else {
    decode = decodeOne;
    encode = field.type === 'struct' ? (w, v) => encodeOne(w, v ?? defaultStruct(structPlan!)) : encodeOne;
  }

  const zero = zeroOf(field, nullable);
  const defaultValue =
    field.type === 'struct' && !field.array && zero === undefined ? () => defaultStruct(structPlan!) : field.array && zero !== null ? () => [] : () => zero;
  const isDefault = (v: Value): boolean => {
    if (v === undefined) return true;
    if (field.array) return v === null ? zero === null : Array.isArray(v) && v.length === 0 && zero !== null;
    if (field.type === 'struct') return v === null || v === undefined ? zero === null || nullable : isDefaultStruct(structPlan!, v as Obj);
    if (Buffer.isBuffer(v) || v instanceof ByteParts) return zero !== null && v.length === 0;
    return v === zero;
  };
  return { name: field.name, decode, encode, defaultValue, isDefault, minSize: field.array ? 1 : elementMin };
}

function planStruct(fields: readonly FieldSchema[], version: number, flexible: boolean): StructPlan {
  const regular: FieldPlan[] = [];
  const tagged = new Map<number, FieldPlan>();
  const absent: FieldPlan[] = [];
  let minSize = flexible ? 1 : 0;
  for (const f of fields) {
    const present = inRange(f.versions, version);
    // a field outside its versions still needs a plan for its default value
    const plan = planField(f, present ? version : Math.max(f.versions[0], 0), flexible);
    if (!present) {
      absent.push(plan);
    } else if (flexible && inRange(f.taggedVersions, version)) {
      tagged.set(f.tag, plan);
      absent.push(plan);
    } else {
      regular.push(plan);
      minSize += plan.minSize;
    }
  }
  const taggedOrdered = [...tagged.entries()].sort((a, b) => a[0] - b[0]);
  return { regular, tagged, taggedOrdered, absent, flexible, minSize: Math.max(minSize, 1) };
}

function defaultStruct(plan: StructPlan): Obj {
  const o: Obj = {};
  for (const f of plan.absent) o[f.name] = f.defaultValue();
  for (const f of plan.regular) o[f.name] = f.defaultValue();
  return o;
}

function isDefaultStruct(plan: StructPlan, o: Obj): boolean {
  for (const f of plan.regular) if (!f.isDefault(o[f.name])) return false;
  for (const [, f] of plan.taggedOrdered) if (!f.isDefault(o[f.name])) return false;
  return true;
}

function decodeStruct(plan: StructPlan, r: Reader): Obj {
  const o: Obj = {};
  for (let i = 0; i < plan.absent.length; i++) {
    const f = plan.absent[i]!;
    o[f.name] = f.defaultValue();
  }
  let current = '';
  try {
    for (let i = 0; i < plan.regular.length; i++) {
      const f = plan.regular[i]!;
      current = f.name;
      o[f.name] = f.decode(r);
    }
    if (plan.flexible) {
      current = '_tagged';
      r.readTaggedFields((tag, sub) => {
        const f = plan.tagged.get(tag);
        if (!f) return false;
        current = f.name;
        o[f.name] = f.decode(sub);
        return true;
      });
    }
  } catch (e) {
    if (e instanceof ProtocolError) throw new ProtocolError(stripPath(e), joinPath(current, e.path));
    throw e;
  }
  return o;
}

function encodeStruct(plan: StructPlan, w: Writer, o: Obj): void {
  for (let i = 0; i < plan.regular.length; i++) {
    const f = plan.regular[i]!;
    const v = o[f.name];
    f.encode(w, v === undefined ? f.defaultValue() : v);
  }
  if (!plan.flexible) return;
  let count = 0;
  for (const [, f] of plan.taggedOrdered) if (!f.isDefault(o[f.name])) count++;
  w.writeUnsignedVarint(count);
  if (count === 0) return;
  for (const [tag, f] of plan.taggedOrdered) {
    const v = o[f.name];
    if (f.isDefault(v)) continue;
    const sub = new Writer(64);
    f.encode(sub, v);
    const bytes = sub.toBuffer();
    w.writeUnsignedVarint(tag).writeUnsignedVarint(bytes.length).writeRaw(bytes);
  }
}

const cache = new WeakMap<MessageSchema, Map<number, CompiledMessage<unknown>>>();

/** Builds (once per schema and version) the encoder and decoder for a message. */
export function compileMessage<T>(schema: MessageSchema, version: number): CompiledMessage<T> {
  let byVersion = cache.get(schema);
  if (!byVersion) cache.set(schema, (byVersion = new Map()));
  const hit = byVersion.get(version);
  if (hit) return hit as CompiledMessage<T>;
  if (!inRange(schema.validVersions, version)) {
    throw new ProtocolError(`${schema.name} has no version ${version}`);
  }
  const flexible = inRange(schema.flexibleVersions, version);
  const plan = planStruct(schema.fields, version, flexible);
  const compiled: CompiledMessage<T> = {
    version,
    flexible,
    decode: (reader) => decodeStruct(plan, reader) as T,
    encode: (writer, message) => encodeStruct(plan, writer, message as Obj),
  };
  byVersion.set(version, compiled as CompiledMessage<unknown>);
  return compiled;
}

/** The default object of a message at a version (every field at its default). */
export function defaultMessage<T>(schema: MessageSchema, version: number): T {
  const flexible = inRange(schema.flexibleVersions, version);
  return defaultStruct(planStruct(schema.fields, version, flexible)) as T;
}
