import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FingerprintSet, fingerprintOf, fingerprintSeed, stepFingerprint } from './value-fingerprints.ts';

describe('value fingerprints', () => {
  it('the fingerprint of a string is its code units stepped through from the seed (as the screen computes it in place)', () => {
    for (const text of ['', 'evil.example', 'café', '\u{1F600}', '198.51.100.7']) {
      let hash = fingerprintSeed;
      for (let i = 0; i < text.length; i++) hash = stepFingerprint(hash, text.charCodeAt(i));
      assert.equal(fingerprintOf(text), hash, text);
    }
  });

  it('a set holds every fingerprint added, through growth, and the fingerprint 0 too', () => {
    const set = new FingerprintSet();
    const added = Array.from({ length: 5000 }, (_, i) => fingerprintOf(`value-${i}`));
    for (const fingerprint of [...added, 0]) set.add(fingerprint);
    for (const fingerprint of [...added, 0]) assert.equal(set.has(fingerprint), true);
    assert.equal(set.size, 5001);
  });

  it('answers "no" for fingerprints never added (bar a shared 32-bit value)', () => {
    const set = new FingerprintSet();
    for (let i = 0; i < 5000; i++) set.add(fingerprintOf(`value-${i}`));
    const held = Array.from({ length: 5000 }, (_, i) => fingerprintOf(`other-${i}`)).filter((fingerprint) => set.has(fingerprint));
    assert.ok(held.length <= 1, `${held.length} false "maybe"s`);
  });

  it('adding a fingerprint twice keeps one', () => {
    const set = new FingerprintSet();
    set.add(fingerprintOf('x'));
    set.add(fingerprintOf('x'));
    assert.equal(set.size, 1);
  });
});
