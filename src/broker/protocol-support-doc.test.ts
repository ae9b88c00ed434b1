import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, protocolSupportRows, renderProtocolSupportDoc } from '../../scripts/generate-protocol-doc.js';
import { GENERATED_APIS } from '../protocol/messages/generated/index.js';
import { buildHandlerRegistry } from './build-handler-registry.js';

describe('docs/protocol-support.md', () => {
  it('is what scripts/generate-protocol-doc.ts writes today (run `npx tsx scripts/generate-protocol-doc.ts`)', () => {
    expect(readFileSync(DOC_PATH, 'utf8')).toBe(renderProtocolSupportDoc());
  });

  it('lists every registered API as implemented with the advertised range, inside the schema range', () => {
    const advertised = buildHandlerRegistry().advertised();
    const rows = protocolSupportRows();
    for (const a of advertised) {
      const row = rows.find((r) => r.apiKey === a.apiKey);
      expect(row?.advertised, `API ${a.apiKey}`).toEqual({ min: a.minVersion, max: a.maxVersion });
      expect(row!.schemaVersions, `API ${a.apiKey} has a schema`).not.toBeNull();
      expect(a.minVersion).toBeGreaterThanOrEqual(row!.schemaVersions![0]);
      expect(a.maxVersion).toBeLessThanOrEqual(row!.schemaVersions![1]);
    }
    expect(rows.filter((r) => r.advertised).map((r) => r.apiKey)).toEqual(advertised.map((a) => a.apiKey));
  });

  it('renders a row per API with its status', () => {
    const text = renderProtocolSupportDoc(protocolSupportRows([{ apiKey: 0, minVersion: 0, maxVersion: 9 }, { apiKey: 18, minVersion: 0, maxVersion: 4 }]));
    expect(text).toContain('| 0 | Produce | 0–9 | 0–11 | 9+ | implemented |');
    expect(text).toContain('| 1 | Fetch | — | 0–17 | 12+ | not yet |');
    expect(text).toContain('| 17 | SaslHandshake | — | 0–1 | none | not yet |');
    expect(text).toContain('| 47 | OffsetDelete | — | 0 | none | not yet |');
    expect(text).toContain(`The broker implements 2 of the ${GENERATED_APIS.length} APIs listed here.`);
  });
});
