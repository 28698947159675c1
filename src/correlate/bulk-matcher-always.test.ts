// A leaf no index can witness (`!=`, NOT, `<`) is evaluated on every observation: only on those with an
// SCO it may hold on (its type, with the first property of its path), so that a partner's cheap `!=` does
// not spend its part of the step budget, nor the others', on traffic of other types. Counted through the
// step budget's accounting (stats().overBudget, onOverBudget), never timed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher, partnerTestSteps, type OverBudget } from './bulk-matcher.ts';
import { indicator, ip, matchedIds, now } from './test-support.ts';

const partner = 'identity--a1e00000-0000-4000-8000-0000000000a1';

describe('bulk matcher: a leaf evaluated on every observation is evaluated only where it may hold', () => {
  it('a partner\'s `!=` costs nothing on an observation without an SCO of its type and property, and still matches where it holds', () => {
    const told: OverBudget[] = [];
    // Room for exactly one partner test: two candidates would each get half, too little to run.
    const matcher = new BulkMatcher({ observationStepBudget: partnerTestSteps + partnerTestSteps / 2, onOverBudget: (event) => told.push(event) });
    const onAddresses = indicator("[ipv4-addr:value != '10.0.0.1']");
    const onDomains = indicator("[domain-name:value != 'good.example']");
    for (const item of [onAddresses, onDomains]) assert.deepEqual(matcher.add(item, { now, source: partner }), { added: true, mode: 'always' });
    assert.equal(matcher.stats().alwaysLeaves, 2);
    assert.deepEqual(matchedIds(matcher, [ip('10.0.0.2')]), [onAddresses['id']]);
    assert.deepEqual(matchedIds(matcher, [{ type: 'domain-name', value: 'bad.example' }]), [onDomains['id']]);
    assert.deepEqual(matchedIds(matcher, [ip('10.0.0.1'), { type: 'ipv4-addr' }, { type: 'domain-name', resolves_to_refs: ['0'] }]), []);
    // Each observation evaluated only the leaf of its type: its one test within the budget, nothing untested.
    assert.deepEqual(told, []);
    assert.equal(matcher.stats().overBudget, 0);
    // Both types present: both evaluated, and the budget has room for one only.
    assert.equal(matchedIds(matcher, [ip('10.0.0.2'), { type: 'domain-name', value: 'bad.example' }]).length < 2, true);
    assert.equal(matcher.stats().overBudget, 1);
  });
});
