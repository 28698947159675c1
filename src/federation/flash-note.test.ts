import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP2_MARKING_IDS } from '../policy/tlp.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import { abstractOf, toFlashNote } from './flash-note.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const SENDER = 'identity--00000000-0000-4000-8000-000000000001';
const options = { noteId: 'note--6a1e4f0e-3c2b-4d5a-9e8f-7a6b5c4d3e2f', now: new Date('2026-11-23T10:00:00.000Z'), homeOrganisationId: HOME, tlp: 'amber' as const };

describe('flash → note', () => {
  it('abstract is the first non-blank line, shortened; content is the whole text', () => {
    assert.equal(abstractOf('\n  Patch the gateways  \nDetails follow'), 'Patch the gateways');
    assert.equal([...abstractOf('x'.repeat(500))].length, 200);
    const note = toFlashNote({ id: 'f1', text: 'Patch now\nsecond line', indicatorId: undefined, senderOrganisationId: SENDER }, options);
    assert.equal(note['abstract'], 'Patch now');
    assert.equal(note['content'], 'Patch now\nsecond line');
  });

  it('refers to the indicator when the flash names one, else to the sender; carries the TLP and the flash id; is valid STIX', () => {
    const indicator = 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f';
    const withIndicator = toFlashNote({ id: 'f1', text: 'Patch now', indicatorId: indicator, senderOrganisationId: SENDER }, options);
    assert.deepEqual(withIndicator['object_refs'], [indicator]);
    assert.deepEqual(withIndicator['object_marking_refs'], [TLP2_MARKING_IDS.amber]);
    assert.deepEqual((withIndicator['external_references'] as { external_id: string }[])[0]?.external_id, 'f1');
    const withoutIndicator = toFlashNote({ id: 'f1', text: 'Patch now', indicatorId: undefined, senderOrganisationId: SENDER }, options);
    assert.deepEqual(withoutIndicator['object_refs'], [SENDER]);
    // Who sent it is not the note's prose to tell: the release decision strips attribution from properties, never from text.
    assert.equal(JSON.stringify(withIndicator).includes(SENDER), false);
    for (const note of [withIndicator, withoutIndicator]) {
      const report = validateForIngest(note);
      assert.equal(report.valid, true, JSON.stringify(report.issues));
    }
  });
});
