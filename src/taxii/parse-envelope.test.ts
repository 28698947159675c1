import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ENVELOPE_OBJECTS, parseEnvelope } from './parse-envelope.ts';

describe('parseEnvelope', () => {
  it('takes the objects of a TAXII envelope or of a STIX bundle', () => {
    assert.deepEqual(parseEnvelope({ objects: [{ type: 'indicator' }] }), { ok: true, value: [{ type: 'indicator' }] });
    assert.deepEqual(parseEnvelope({ type: 'bundle', objects: [] }), { ok: true, value: [] });
  });

  it('refuses what is not an envelope as ENT_INPUT_NOT_ENVELOPE', () => {
    for (const body of [undefined, null, [], 'objects', {}, { objects: {} }]) {
      const parsed = parseEnvelope(body);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.error.code, 'ENT_INPUT_NOT_ENVELOPE');
    }
  });

  it(`takes up to ${MAX_ENVELOPE_OBJECTS} objects and refuses more as ENT_INPUT_TOO_LARGE, naming the count and the cap`, () => {
    // Each item is decided, and possibly quarantined, in memory and written in one transaction:
    // 300,000 tiny items in 0.6 MB took 48 s and 400 MB before this cap.
    assert.equal(MAX_ENVELOPE_OBJECTS, 10_000);
    const full = parseEnvelope({ objects: Array.from({ length: MAX_ENVELOPE_OBJECTS }, () => 1) });
    assert.equal(full.ok, true);
    const over = parseEnvelope({ objects: Array.from({ length: MAX_ENVELOPE_OBJECTS + 1 }, () => 1) });
    assert.equal(over.ok, false);
    if (!over.ok) {
      assert.equal(over.error.code, 'ENT_INPUT_TOO_LARGE');
      assert.match(over.error.message, /10001 objects/);
      assert.match(over.error.message, /10000/);
    }
  });
});
