import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCursor, fingerprintQuery, parseCursor } from './cursor.ts';

describe('next cursor', () => {
  const fingerprint = fingerprintQuery(['collection', 'objects', 'indicator']);

  it('round-trips any dateAdded for the same query', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (after) => {
        const parsed = parseCursor(encodeCursor(after, fingerprint), fingerprint);
        assert.deepEqual(parsed, { ok: true, value: after });
      }),
    );
  });

  it('refuses a cursor issued for another query', () => {
    const other = fingerprintQuery(['collection', 'objects', 'malware']);
    const parsed = parseCursor(encodeCursor(42, other), fingerprint);
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.error.message, /different query/);
  });

  it('refuses garbage and tampered cursors without throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const parsed = parseCursor(text, fingerprint);
        if (parsed.ok) assert.equal(encodeCursor(parsed.value, fingerprint), text);
      }),
    );
    const tampered = Buffer.from(`-5.${fingerprint}`).toString('base64url');
    assert.equal(parseCursor(tampered, fingerprint).ok, false);
    assert.equal(parseCursor(Buffer.from(`99999999999999999.${fingerprint}`).toString('base64url'), fingerprint).ok, false);
    assert.equal(parseCursor('', fingerprint).ok, false);
  });
});
