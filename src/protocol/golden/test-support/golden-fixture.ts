import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES_DIR = join(import.meta.dirname, '..', 'fixtures');

/** One request a real client sent and the broker's answer, both as raw wire frames. */
export interface CapturedExchange {
  /** Connection number within the capture (1 = first connection the client opened). */
  readonly connection: number;
  readonly api: string;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** Hex of the request frame, 4-byte size prefix included. */
  readonly request: string;
  /** Hex of the response frame, size prefix included; null when none came back. */
  readonly response: string | null;
}

export interface GoldenFixture {
  readonly client: string;
  readonly commands: readonly string[];
  readonly exchanges: readonly CapturedExchange[];
}

export function loadFixture(name: string): GoldenFixture {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8')) as GoldenFixture;
}

/** Raw frame bytes of a hex string from a fixture. */
export function hex(text: string): Buffer {
  return Buffer.from(text, 'hex');
}

/** Values the broker put into its answers during the committed capture. */
export const CAPTURED_CLUSTER_ID = 'jDXFm8A2gOuSSCG_UTah7w';
export const CAPTURED_BROKER = { nodeId: 0, host: '127.0.0.1', port: 39092, rack: null };
/** What ApiVersions advertised at capture time (the broker's registry then). */
export const CAPTURED_ADVERTISED = [
  { apiKey: 3, minVersion: 0, maxVersion: 9 },
  { apiKey: 18, minVersion: 0, maxVersion: 4 },
  { apiKey: 19, minVersion: 0, maxVersion: 7 },
  { apiKey: 20, minVersion: 0, maxVersion: 6 },
  { apiKey: 32, minVersion: 0, maxVersion: 4 },
  { apiKey: 37, minVersion: 0, maxVersion: 3 },
  { apiKey: 60, minVersion: 0, maxVersion: 1 },
];

export function exchangesOf(fixture: GoldenFixture, apiKey: number, apiVersion?: number): CapturedExchange[] {
  return fixture.exchanges.filter((e) => e.apiKey === apiKey && (apiVersion === undefined || e.apiVersion === apiVersion));
}

/** The exchange with this connection number and correlation id (unique within a fixture). */
export function exchange(fixture: GoldenFixture, connection: number, correlationId: number): CapturedExchange {
  const found = fixture.exchanges.find((e) => e.connection === connection && e.correlationId === correlationId);
  if (!found) throw new Error(`no exchange c${connection}/#${correlationId} in ${fixture.client}`);
  return found;
}

export function responseBytes(e: CapturedExchange): Buffer {
  if (e.response === null) throw new Error(`${e.api} v${e.apiVersion} #${e.correlationId} got no response`);
  return hex(e.response);
}
