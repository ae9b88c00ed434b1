// `npx streamhouse start` in a fresh clone: npm does not link a project's own `bin`
// entries into its node_modules/.bin, so prepare does it after the build.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const binDir = join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
for (const [name, target] of Object.entries(pkg.bin ?? {})) {
  const file = join(root, target);
  if (!existsSync(file)) throw new Error(`bin ${name}: ${target} was not built`);
  chmodSync(file, 0o755);
  const link = join(binDir, name);
  rmSync(link, { force: true });
  symlinkSync(relative(binDir, file), link);
}
