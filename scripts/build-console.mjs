#!/usr/bin/env node
// Builds the web console into dist/console/ (served by the broker at /): type-checks
// console/ (tsc -p console/tsconfig.json), bundles console/src/main.tsx with esbuild
// (preact JSX, uPlot and the stylesheets into app.js + app.css, minified, with source maps)
// and copies index.html. Everything comes from node_modules: no CDN, no network.
// Exits non-zero on any error. `--no-typecheck` skips tsc (quick rebuilds while editing).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(repo, 'console');
const out = join(repo, 'dist/console');
const typecheck = !process.argv.includes('--no-typecheck');

function fail(message) {
  console.error(`build-console: ${message}`);
  process.exit(1);
}

if (typecheck) {
  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  const res = spawnSync(process.execPath, [tsc, '-p', join(src, 'tsconfig.json')], { stdio: 'inherit' });
  if (res.status !== 0) fail(`type errors in console/ (tsc exit ${res.status ?? res.signal})`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

try {
  const result = await build({
    entryPoints: { app: join(src, 'src/main.tsx') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
    absWorkingDir: repo,
  });
  if (result.errors.length > 0) fail(`${result.errors.length} esbuild errors`);
  copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
  const files = Object.keys(result.metafile.outputs).map((f) => resolve(repo, f));
  files.push(join(out, 'index.html'));
  for (const f of files.sort()) console.log(`  ${relative(repo, f).padEnd(36)} ${(statSync(f).size / 1024).toFixed(1).padStart(8)} KiB`);
} catch (err) {
  // esbuild has printed the errors with their locations already
  fail(err instanceof Error ? err.message.split('\n')[0] : String(err));
}
