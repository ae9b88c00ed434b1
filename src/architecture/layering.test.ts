/**
 * The code's layering, checked on every import of every production file under src/:
 * - the protocol codec, the storage and the metadata stores import nothing above them;
 * - the agent core imports no door;
 * - the doors (Kafka src/broker, gRPC src/grpc, HTTP src/http) never import each other;
 * - src/cli, src/server and the package entry sit on top and may import anything.
 * KNOWN_DEBT lists imports allowed to break these rules (none today); the test fails on any new
 * one and on a listed one that is gone, so the list only shrinks.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..');

/** Rank of each top-level folder: a file may import its own folder or a lower rank. */
const RANK: Record<string, number> = { common: 0, protocol: 0, storage: 1, metadata: 1, agent: 2, broker: 3, grpc: 3, http: 3, cli: 4, server: 4, index: 4, version: 0, architecture: 4 };
const DOORS = new Set(['broker', 'grpc', 'http']);

const KNOWN_DEBT = new Set<string>([]);

function productionFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'test-support') out.push(...productionFiles(path));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

const folderOf = (path: string): string => relative(SRC, path).split('/')[0]!.replace(/\.ts$/, '');

function breaches(): string[] {
  const found = new Set<string>();
  for (const file of productionFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts');
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to) continue;
      const allowed = target.startsWith(SRC + '/') && (RANK[to] ?? 99) <= (RANK[from] ?? -1) && !(DOORS.has(from) && DOORS.has(to));
      if (!allowed) found.add(`${relative(SRC, file)} -> ${target.startsWith(SRC + '/') ? relative(SRC, target) : relative(resolve(SRC, '..'), target)}`);
    }
  }
  return [...found].sort();
}

describe('layering of src/', () => {
  it('has no import across layers beyond the listed debt, and every listed debt still exists', () => {
    const now = breaches();
    expect(now.filter((b) => !KNOWN_DEBT.has(b)), 'new imports that break the layering').toEqual([]);
    expect([...KNOWN_DEBT].filter((b) => !now.includes(b)), 'debt that is gone: remove it from KNOWN_DEBT').toEqual([]);
  });

  it('knows every top-level folder of src/', () => {
    const folders = readdirSync(SRC).map((n) => n.replace(/\.ts$/, '')).filter((n) => !n.endsWith('.test'));
    expect(folders.filter((f) => RANK[f] === undefined)).toEqual([]);
  });
});
