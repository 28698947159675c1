// The running node's matcher spends a bounded number of MATCHES/LIKE steps on what it is posted: an
// indicator whose expression is costly against a long value (a partner's, or a careless one) must
// not hold the node, and the operator is told which observation and indicators ran out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OverBudget } from '../../src/correlate/bulk-matcher.ts';
import { HIGH_VALUE, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator, standaloneMatcher } from './alert-test-kit.ts';

const at = '2026-11-20T10:00:00Z';
const urlObservation = (url: string): string =>
  JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'url', value: url } } });

describe('the running matcher under a costly MATCHES', () => {
  let node: TestNode;
  // About 8,000 instructions: each character of a long URL costs thousands of steps.
  const costly = ipIndicator(41, '0.0.0.0', { pattern: "[url:value MATCHES 'a(?:.{0,999}){4}xy']" });
  before(async () => {
    node = await startTestNode({ empty: true });
    await node.store.addObjects(HIGH_VALUE, [costly]);
  });
  after(() => node.close());

  it('tests a 256 KB URL within its budget, counts it as not matching, and tells the operator which indicator ran out', async () => {
    const told: OverBudget[] = [];
    const matcher = standaloneMatcher(node, at, { onOverBudget: (event) => told.push(event) });
    await matcher.refresh();
    assert.equal(matcher.indicators, 1);
    const outcome = await matcher.matchLines(urlObservation(`https://example.org/${'a'.repeat(256 * 1024)}`), 'budget-test');
    assert.equal(outcome.matches, 0, 'an untested comparison does not hold');
    assert.equal(told.length, 1, 'the operator is told once for the observation');
    assert.equal(told[0]?.code, 'ENT_MATCH_OVER_BUDGET');
    assert.deepEqual(told[0]?.indicatorIds, [costly.id]);
    await matcher.stop();
  });
});
