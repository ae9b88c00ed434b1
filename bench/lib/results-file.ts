import { appendFileSync } from 'node:fs';

/**
 * Appends one result as a JSON line, for run-all.sh to collect into its summary table.
 * Does nothing without a path, so every script works stand-alone.
 */
export function appendResult(path: string, result: Record<string, unknown>): void {
  if (!path) return;
  appendFileSync(path, JSON.stringify(result) + '\n');
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
