// A partner's indicator whose pattern is past a planning limit is kept but never matched: the running
// node tells its operator which one and why, once when it loads the indicators and again for each one
// that a later refresh takes in, so that "this indicator never alerts" is never a silent surprise.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PatternOverLimit } from '../../src/correlate/load-indicators.ts';
import { patternLimits } from '../../src/pattern/pattern-limits.ts';
import { HIGH_VALUE, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator, standaloneMatcher } from './alert-test-kit.ts';

const at = '2026-11-20T10:00:00Z';
const overRepeats = (n: number, address: string) =>
  ipIndicator(n, address, { pattern: `[ipv4-addr:value = '${address}'] REPEATS ${patternLimits.repeats + 1} TIMES` });

describe('the running matcher and patterns past a planning limit', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true });
    await node.store.addObjects(HIGH_VALUE, [overRepeats(51, '198.51.100.51'), ipIndicator(52, '198.51.100.52')]);
  });
  after(() => node.close());

  it('names each indicator left out, with its version and the limit, at load and at each refresh that takes one in', async () => {
    const told: PatternOverLimit[][] = [];
    const matcher = standaloneMatcher(node, at, { onPatternOverLimit: (entries) => told.push([...entries]) });
    await matcher.refresh();
    assert.equal(matcher.indicators, 1, 'the indicator within the limits is matched');
    assert.equal(told.length, 1);
    assert.deepEqual(told[0]?.map((entry) => [entry.indicatorId, entry.limit]), [[overRepeats(51, '198.51.100.51').id, 'repeats']]);
    assert.match(told[0]?.[0]?.message ?? '', /ENT_PATTERN_OVER_LIMIT/);

    await matcher.refresh();
    assert.equal(told.length, 1, 'a refresh that takes in nothing new says nothing');

    const later = overRepeats(53, '198.51.100.53');
    await node.store.addObjects(HIGH_VALUE, [later]);
    await matcher.refresh();
    assert.deepEqual(told.at(-1)?.map((entry) => entry.indicatorId), [later.id], 'only the one the refresh took in');
    await matcher.stop();
  });
});
