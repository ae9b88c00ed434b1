/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. produce-load --cpu-prof-dir):
 * share of (idle), (garbage collector) and the functions with the most self time.
 *   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25] [--callers _copyActual]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const callersAt = args.indexOf('--callers');
const callersOf = callersAt >= 0 ? args[callersAt + 1] : undefined;
const files = args.filter((a, i) => !a.startsWith('--') && !(topAt >= 0 && i === topAt + 1) && !(callersAt >= 0 && i === callersAt + 1));
if (files.length === 0) {
  console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N]');
  process.exit(2);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = profile.endTime - profile.startTime;
  const byName = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(dist|src|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byName.set(name, (byName.get(name) ?? 0) + us);
  }
  const sorted = [...byName.entries()].sort((a, b) => b[1] - a[1]);
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s profiled (main thread)`);
  for (const [name, us] of sorted.slice(0, top)) {
    console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
  if (callersOf) printCallers(profile, byId, self, total, callersOf);
}

/** Self time of functions matching `pattern`, split by their call chains (a few frames up). */
function printCallers(profile: Profile, byId: Map<number, ProfileNode>, self: Map<number, number>, total: number, pattern: string): void {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const chains = new Map<string, number>();
  for (const [id, us] of self) {
    if (!byId.get(id)!.callFrame.functionName.includes(pattern)) continue;
    const names: string[] = [];
    for (let p = parent.get(id), depth = 0; p !== undefined && depth < 6; p = parent.get(p), depth++) {
      const f = byId.get(p)!.callFrame;
      names.push(`${f.functionName || '(anonymous)'}${f.url ? `@${f.url.split('/').pop()}:${f.lineNumber + 1}` : ''}`);
    }
    const chain = names.join(' < ');
    chains.set(chain, (chains.get(chain) ?? 0) + us);
  }
  console.log(`callers of ${pattern}:`);
  for (const [chain, us] of [...chains.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${chain}`);
  }
}
