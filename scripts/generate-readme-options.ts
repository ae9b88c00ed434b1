// Writes the configuration table of README.md from the start options (src/cli/start-options.ts).
//   npx tsx scripts/generate-readme-options.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startOptionsTable } from '../src/cli/start-options.js';

export const README = resolve(import.meta.dirname, '../README.md');
const BEGIN = /<!-- start-options:[^>]*-->\n[\s\S]*?\n<!-- end start-options -->/;

export function readmeWithOptions(readme: string): string {
  const match = BEGIN.exec(readme);
  if (!match) throw new Error('README.md has no <!-- start-options: ... --> block');
  const header = match[0].slice(0, match[0].indexOf('\n'));
  return readme.replace(BEGIN, `${header}\n${startOptionsTable()}\n<!-- end start-options -->`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  writeFileSync(README, readmeWithOptions(readFileSync(README, 'utf8')));
}
