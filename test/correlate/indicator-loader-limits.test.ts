// An indicator whose pattern is past a planning limit arrives from a partner like any other: it is valid
// STIX, so the node accepts and keeps it (TAXII POST, then read back), but the loader leaves it out of the
// matcher, counting it under the limit it exceeded and listing it with its id, version and the message
// (ENT_PATTERN_OVER_LIMIT) for the caller to warn about; the indicators beside it are loaded and matched.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher } from '../../src/correlate/bulk-matcher.ts';
import { IndicatorLoader } from '../../src/correlate/load-indicators.ts';
import { observation } from '../../src/correlate/test-support.ts';
import { patternLimits } from '../../src/pattern/pattern-limits.ts';
import { ADD_TEST, API, TAXII, bearer, indicator, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';

const now = new Date('2026-11-20T10:00:00Z');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** 1,001 comparisons in parentheses of 500: within the parser's bound, past `comparisons`. */
const manyComparisons = `[${[range(500), range(500).map((i) => i + 500), [1000]]
  .map((group) => `(${group.map((i) => `ipv4-addr:value = '${ip(i)}'`).join(' OR ')})`)
  .join(' OR ')}]`;
const overComparisons = indicator(801, { pattern: manyComparisons });
const overRepeats = indicator(802, { pattern: `[ipv4-addr:value = '198.51.100.2'] REPEATS ${patternLimits.repeats + 1} TIMES` });
const ordinary = indicator(803, { pattern: "[ipv4-addr:value = '198.51.100.3']" });

describe('the indicator loader and patterns past a planning limit', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true });
    const response = await node.app.inject({
      method: 'POST',
      url: `${API}collections/${ADD_TEST}/objects/`,
      headers: { ...bearer('analyst'), 'content-type': TAXII },
      payload: JSON.stringify({ objects: [overComparisons, overRepeats, ordinary] }),
    });
    assert.equal(response.statusCode, 202);
    assert.equal(response.json<{ success_count: number }>().success_count, 3, response.body.slice(0, 500));
  });
  after(() => node.close());

  it('keeps them (valid STIX), read back whole', async () => {
    const back = await node.app.inject({ method: 'GET', url: `${API}collections/${ADD_TEST}/objects/${overComparisons.id}/`, headers: { ...bearer('analyst'), accept: TAXII } });
    assert.equal(back.statusCode, 200);
    assert.equal(back.json<{ objects: { pattern: string }[] }>().objects[0]?.pattern, manyComparisons);
  });

  it('compiles the others only, counting and listing each left out under the limit it exceeded', async () => {
    const matcher = new BulkMatcher();
    const loader = new IndicatorLoader(node.store, [ADD_TEST], matcher);
    const loaded = await loader.load({ now });
    assert.equal(loaded.added, 1);
    assert.deepEqual([...loaded.refused].sort(), [
      ['pattern over limit (comparisons)', 1],
      ['pattern over limit (repeats)', 1],
    ]);
    assert.deepEqual(
      loaded.overLimit.map(({ indicatorId, version, limit }) => ({ indicatorId, version, limit })).sort((a, b) => a.indicatorId.localeCompare(b.indicatorId)),
      [
        { indicatorId: overComparisons.id, version: overComparisons['modified'], limit: 'comparisons' },
        { indicatorId: overRepeats.id, version: overRepeats['modified'], limit: 'repeats' },
      ],
    );
    const comparisons = loaded.overLimit.find((o) => o.limit === 'comparisons');
    assert.match(comparisons?.message ?? '', /^ENT_PATTERN_OVER_LIMIT: indicator--\S+ is not matched: comparisons: 1,001 comparisons, more than the 1,000 planned for matching$/);

    const matched = (value: string): string[] => matcher.match(observation([{ type: 'ipv4-addr', value }], now.toISOString())).map((m) => m.indicatorId);
    assert.deepEqual(matched('198.51.100.3'), [ordinary.id]);
    assert.deepEqual(matched(ip(7)), []);
  });
});

describe('ingest of a pattern past the parser\'s bound', () => {
  it('refuses it as invalid, with the reason, and takes the rest of the envelope', async () => {
    // 2,000 ANDs: past maxTreeDepth. Such chains were accepted, and overflowed the call stack of whatever
    // read them recursively (the evaluator from about 3,000, the parser itself from about 8,000, failing
    // the whole request).
    const tooDeep = indicator(804, { pattern: range(2_000).map((i) => `[ipv4-addr:value = '${ip(i)}']`).join(' AND ') });
    const alongside = indicator(805);
    const node = await startTestNode({ empty: true });
    try {
      const response = await node.app.inject({
        method: 'POST',
        url: `${API}collections/${ADD_TEST}/objects/`,
        headers: { ...bearer('analyst'), 'content-type': TAXII },
        payload: JSON.stringify({ objects: [tooDeep, alongside] }),
      });
      assert.equal(response.statusCode, 202);
      const status = response.json<{ success_count: number; failures?: { id: string; message?: string }[] }>();
      assert.equal(status.success_count, 1);
      assert.equal(status.failures?.[0]?.id, tooDeep.id);
      assert.match(status.failures?.[0]?.message ?? '', /nested deeper than 1000 levels/);
    } finally {
      await node.close();
    }
  });
});
