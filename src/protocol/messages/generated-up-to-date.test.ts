import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateAll, OUTPUT_DIR } from '../../../scripts/generate-schemas.js';

describe('generated message schemas', () => {
  it('match what the generator writes from src/protocol/definitions/kafka-messages.json (run `npm run generate`)', () => {
    const expected = generateAll();
    const committed = readdirSync(OUTPUT_DIR).sort();
    expect(committed).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) {
      expect(readFileSync(join(OUTPUT_DIR, name), 'utf8'), `${name} is stale`).toBe(text);
    }
  });
});
