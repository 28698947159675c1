// Whatever the extractor and the tagger propose from real reports, accepting everything publishes
// only valid STIX: every object of every publication passes the checks every ingest applies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractObservables } from '../../src/extract/extract-observables.ts';
import { loadExtractData } from '../../src/extract/load-extract-data.ts';
import { tagText } from '../../src/tagging/tag-text.ts';
import { proposeDraftItems } from '../../src/drafts/propose-draft-items.ts';
import { buildPublication } from '../../src/drafts/build-publication.ts';
import { validateForIngest } from '../../src/store/validate-for-ingest.ts';
import type { DraftItem } from '../../src/drafts/draft.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

function reports(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(txt|md)$/.test(name)) files.push(path);
    }
  };
  walk(join(FIXTURES, 'extraction-gold'));
  walk(join(FIXTURES, 'ioc-extraction'));
  return files;
}

describe('publications from the extraction fixtures', () => {
  it('are valid STIX 2.1 with parsing patterns, object by object, with everything accepted', () => {
    const data = loadExtractData();
    const files = reports();
    assert.ok(files.length >= 30, `${files.length} reports`);
    let objects = 0;
    let uuid = 0;
    const problems: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const observables = extractObservables(text, { tlds: data.tlds, warninglists: data.warninglists }).observables;
      const { items } = proposeDraftItems({ text, observables, tags: tagText(text) });
      const accepted = items.map((item): DraftItem => ({ ...item, decision: { state: 'accepted', analyst: 'ana', decidedAt: '2026-11-23T03:00:00.000Z' } }));
      if (accepted.length === 0) continue;
      const publication = buildPublication({
        draft: { id: '1', source: { fileName: file, sha256: '0'.repeat(64), format: 'text' }, title: 'Fixture', text, createdAt: '2026-11-23T03:00:00.000Z', items: accepted, warnings: [] },
        now: new Date('2026-11-23T03:00:00.000Z'),
        randomUuid: () => `00000000-0000-4000-8000-${(uuid++).toString(16).padStart(12, '0')}`,
        createdByRef: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d',
        tlp: 'green',
        analyst: 'ana',
      });
      for (const object of publication.objects) {
        objects += 1;
        const report = validateForIngest(object);
        if (!report.valid) problems.push(`${file}: ${object.id}: ${report.issues.map((issue) => issue.message).join('; ')}`);
      }
    }
    assert.ok(objects > 1000, `${objects} objects`);
    assert.deepEqual(problems.slice(0, 10), []);
  });
});
