import { crc32c } from '@node-rs/crc32';
import { randomBytes } from 'node:crypto';

export const SEGMENT_KEY_SUFFIX = '.seg';
const TIMESTAMP_DIGITS = 15;
const COUNTER_DIGITS = 6;
const COUNTER_LIMIT = 10 ** COUNTER_DIGITS;

export interface SegmentKeyParts {
  /** Two lowercase hex digits derived from the agent id. */
  hashPrefix: string;
  agentId: string;
  timestampMs: number;
  counter: number;
  random: string;
}

/**
 * Agent ids become one key segment: percent-encode anything outside a safe set so a
 * `/` or `..` in an id can neither add directories nor escape them.
 */
function encodeAgentId(agentId: string): string {
  if (agentId.length === 0) throw new Error('agentId must not be empty');
  const escape = (ch: string): string =>
    [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  let encoded = agentId.replace(/[^A-Za-z0-9._-]/gu, escape);
  if (encoded === '.' || encoded === '..') encoded = encoded.replace(/\./g, escape);
  if (Buffer.byteLength(encoded) > 200) throw new Error(`agentId is too long for an object key: ${agentId}`);
  return encoded;
}

/** The shared prefix of every key one agent writes, e.g. `3f/agent-1/`. */
export function segmentKeyPrefix(agentId: string): string {
  const encoded = encodeAgentId(agentId);
  // S3 partitions request rate by key prefix; a hash spreads agents over 256 prefixes.
  const hash = (crc32c(encoded) & 0xff).toString(16).padStart(2, '0');
  return `${hash}/${encoded}/`;
}

/**
 * Hands out keys `<hash>/<agentId>/<ms, 15 digits>-<counter, 6 digits>-<8 hex>.seg`
 * that sort in creation order within one generator, even if the clock steps back:
 * time never goes below the last value issued and the counter orders keys of one ms.
 */
export class SegmentKeyGenerator {
  private lastMs = -1;
  private counter = 0;
  private readonly prefix: string;

  constructor(
    agentId: string,
    private readonly now: () => number = Date.now,
    private readonly random: () => string = () => randomBytes(4).toString('hex'),
  ) {
    this.prefix = segmentKeyPrefix(agentId);
  }

  next(): string {
    let ms = Math.max(Math.floor(this.now()), this.lastMs);
    if (ms === this.lastMs) {
      this.counter += 1;
      if (this.counter >= COUNTER_LIMIT) {
        ms += 1;
        this.counter = 0;
      }
    } else {
      this.counter = 0;
    }
    this.lastMs = ms;
    const stamp = String(ms).padStart(TIMESTAMP_DIGITS, '0');
    const counter = String(this.counter).padStart(COUNTER_DIGITS, '0');
    return `${this.prefix}${stamp}-${counter}-${this.random()}${SEGMENT_KEY_SUFFIX}`;
  }
}

const generators = new Map<string, SegmentKeyGenerator>();

/** A fresh, unique segment key for `agentId` (one generator per agent id per process). */
export function newSegmentKey(agentId: string): string {
  let generator = generators.get(agentId);
  if (generator === undefined) {
    generator = new SegmentKeyGenerator(agentId);
    generators.set(agentId, generator);
  }
  return generator.next();
}

const KEY_PATTERN = /^([0-9a-f]{2})\/([A-Za-z0-9._%-]+)\/(\d{15})-(\d{6})-([0-9a-f]{8})\.seg$/;

/** Splits a segment key into its parts; undefined for keys this scheme did not make. */
export function parseSegmentKey(key: string): SegmentKeyParts | undefined {
  const m = KEY_PATTERN.exec(key);
  if (m === null) return undefined;
  const [hashPrefix, encodedAgent, stamp, counter, random] = [m[1]!, m[2]!, m[3]!, m[4]!, m[5]!];
  let agentId: string;
  try {
    agentId = decodeURIComponent(encodedAgent);
  } catch {
    return undefined;
  }
  if (segmentKeyPrefix(agentId) !== `${hashPrefix}/${encodedAgent}/`) return undefined;
  return { hashPrefix, agentId, timestampMs: Number(stamp), counter: Number(counter), random };
}
