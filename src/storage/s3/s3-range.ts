import { resolveRange } from '../byte-range.js';
import type { ByteRange, SuffixRange } from '../object-store.js';

/** What a GET response covered: bytes [start, end) of an object of `total` bytes. */
export interface ServedRange {
  start: number;
  end: number;
  total: number;
}

/** The HTTP Range header for a non-empty range (HTTP cannot ask for zero bytes). */
export function rangeHeader(range: ByteRange | SuffixRange): string {
  if ('suffixLength' in range) return `bytes=-${range.suffixLength}`;
  if (range.end <= range.start) throw new Error(`cannot express the empty range [${range.start}, ${range.end}) in HTTP`);
  return `bytes=${range.start}-${range.end - 1}`;
}

/** Parses `Content-Range: bytes a-b/total`; undefined for anything else (e.g. a `*` total). */
export function parseContentRange(value: string | undefined): ServedRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim());
  if (m === null) return undefined;
  const [start, last, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!Number.isSafeInteger(total) || last < start || last >= total) return undefined;
  return { start, end: last + 1, total };
}

export type RangeAnswer =
  | { kind: 'slice'; from: number; to: number }
  /** The server sent other bytes than asked (see docs/configuration.md): ask again explicitly. */
  | { kind: 'refetch'; start: number; end: number };

/**
 * Decides how to answer `range` from a response that covered `served`. S3 clamps a range
 * that runs past the end instead of failing, so the object size from the response is
 * checked here and an out-of-bounds request throws InvalidRangeError. Servers that ignore
 * Range (200 with the whole body) or misread a suffix range are answered by slicing or by
 * a second, explicit request.
 */
export function planRangeAnswer(range: ByteRange | SuffixRange | undefined, served: ServedRange): RangeAnswer {
  const want = resolveRange(range, served.total);
  if (want.start === want.end) return { kind: 'slice', from: 0, to: 0 };
  if (served.start <= want.start && served.end >= want.end) {
    return { kind: 'slice', from: want.start - served.start, to: want.end - served.start };
  }
  return { kind: 'refetch', start: want.start, end: want.end };
}
