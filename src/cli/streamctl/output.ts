/** Everything streamctl prints goes through here, so tests and scripts see stable formats. */

export interface Out {
  line(text: string): void;
  json(value: unknown): void;
}

export const stdout: Out = {
  line: (text) => void process.stdout.write(`${text}\n`),
  json: (value) => void process.stdout.write(`${toJson(value)}\n`),
};

/** JSON where bigint becomes a number when exact (offsets, counts) and a string beyond 2^53. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    return v;
  });
}

export type Align = 'left' | 'right';

/** A plain-text table: a header row, then rows, columns padded to fit, two spaces between. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | bigint>>, align: readonly Align[] = []): string[] {
  const cells = [headers.map(String), ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** Bytes as text when they are valid UTF-8, else as base64 marked so. */
export function bytesForHumans(b: Buffer | null): string {
  if (b === null) return 'null';
  const text = b.toString('utf8');
  return Buffer.from(text, 'utf8').equals(b) ? text : `base64:${b.toString('base64')}`;
}

/** Bytes for --json: a string when valid UTF-8, else {"base64": "..."}; null stays null. */
export function bytesForJson(b: Buffer | null): string | { base64: string } | null {
  if (b === null) return null;
  const text = b.toString('utf8');
  return Buffer.from(text, 'utf8').equals(b) ? text : { base64: b.toString('base64') };
}
