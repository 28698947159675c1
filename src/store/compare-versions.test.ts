import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, equivalentVersionKeys } from './compare-versions.ts';

describe('version keys', () => {
  it('orders timestamps in time whatever the length of their fractions', () => {
    assert.equal(compareVersions('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.5Z'), -1);
    assert.equal(compareVersions('2026-01-01T00:00:00.500Z', '2026-01-01T00:00:00.5Z'), 0);
  });

  it('spells one instant every way STIX allows, so match[version] finds it however it was stored', () => {
    const keys = equivalentVersionKeys('2016-01-01T01:01:01.444000Z');
    assert.ok(keys.includes('2016-01-01T01:01:01.444Z'));
    assert.ok(keys.includes('2016-01-01T01:01:01.444000000Z'));
    assert.ok(!keys.includes('2016-01-01T01:01:01.44Z'));
    assert.equal(keys.length, 7);
    for (const key of keys) assert.equal(compareVersions(key, '2016-01-01T01:01:01.444Z'), 0);
  });

  it('includes the form without a fraction for a whole second', () => {
    const keys = equivalentVersionKeys('2016-01-01T01:01:01.000Z');
    assert.deepEqual(keys.slice(0, 3), ['2016-01-01T01:01:01Z', '2016-01-01T01:01:01.0Z', '2016-01-01T01:01:01.00Z']);
    assert.equal(keys.length, 10);
  });

  it('leaves keys that are not timestamps as they are', () => {
    assert.deepEqual(equivalentVersionKeys('not-a-time'), ['not-a-time']);
  });
});
