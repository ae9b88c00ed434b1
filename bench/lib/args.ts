import { parseArgs } from 'node:util';

export type FlagSpec = Record<string, { default: string; help: string }>;

/**
 * Parses `--name value` flags against a spec with string defaults, printing usage on
 * --help or on an unknown flag, so every bench script documents its own knobs.
 */
export function parseFlags<S extends FlagSpec>(script: string, spec: S, argv = process.argv.slice(2)): { [K in keyof S]: string } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const name of Object.keys(spec)) options[name] = { type: 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    console.error(`${(err as Error).message}\n`);
    usage(script, spec);
    process.exit(2);
  }
  if (parsed.values.help) {
    usage(script, spec);
    process.exit(0);
  }
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(spec)) {
    const v = parsed.values[name];
    out[name] = typeof v === 'string' ? v : s.default;
  }
  return out as { [K in keyof S]: string };
}

function usage(script: string, spec: FlagSpec): void {
  console.error(`usage: npx tsx bench/${script} [flags]`);
  const width = Math.max(...Object.keys(spec).map((k) => k.length)) + 2;
  for (const [name, s] of Object.entries(spec)) {
    const def = s.default === '' ? '' : ` (default ${s.default})`;
    console.error(`  --${name.padEnd(width)} ${s.help}${def}`);
  }
}

export function intFlag(value: string, name: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

export function numFlag(value: string, name: string, min = 0): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${value}"`);
  return n;
}

export function parseBootstrap(text: string): { host: string; port: number } {
  const first = text.split(',')[0]!.trim();
  const m = /^(.*):(\d+)$/.exec(first);
  if (!m) throw new Error(`--bootstrap must be host:port, got "${text}"`);
  return { host: m[1]!, port: Number(m[2]) };
}
