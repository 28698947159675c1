// What a partner chooses besides its patterns — its indicators' ids, and how many of them name one
// value — must not make the matcher's cost grow with their square. Indicators the indexes decide
// outright cost nothing against a source's budget (a feed of a million hashes is compiled whole), so
// their own costs must stay linear: one add, one lookup, one hit each.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher, partnerExactMatches, type OverBudget } from './bulk-matcher.ts';
import { indicator, now, observation } from './test-support.ts';

const partner = 'identity--a1e00000-0000-4000-8000-0000000000a1';
const count = 20_000;
const address = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

function timeToAdd(ids: readonly string[]): number {
  const matcher = new BulkMatcher();
  const started = performance.now();
  ids.forEach((id, i) => matcher.add(indicator(`[ipv4-addr:value = '${address(i)}']`, { id }), { now, source: partner }));
  const took = performance.now() - started;
  assert.equal(matcher.stats().indicators, ids.length);
  assert.ok(ids.every((id) => matcher.has(id)));
  return took;
}

describe('bulk matcher: what a partner chooses besides its patterns', () => {
  it('ids sharing their first 32 bits are added as fast as any (each probed one run of the id table, growing with their number)', () => {
    const colliding = Array.from({ length: count }, (_, i) => `indicator--5eed0000-0000-4000-8000-${hex(i, 12)}`);
    const spread = Array.from({ length: count }, (_, i) => `indicator--${hex(Math.imul(i + 1, 0x9e3779b1) >>> 0, 8)}-0000-4000-8000-${hex(i, 12)}`);
    timeToAdd(spread.slice(0, 2_000)); // warm up
    // A complexity guard, not a speed goal: quadratic probing took 15 times as long. The best of three
    // each, so that a collection or a busy core during one run does not decide it.
    const best = (ids: readonly string[]): number => Math.min(timeToAdd(ids), timeToAdd(ids), timeToAdd(ids));
    const ratio = best(colliding) / best(spread);
    assert.ok(ratio < 3, `colliding ids took ${ratio.toFixed(1)} times as long`);
  });

  it("40,000 indicators naming one value are each matched once, in less time than adding them took (each hit was looked for among the others; the node's own, as a partner's are matched only up to partnerExactMatches)", () => {
    const many = 2 * count;
    const matcher = new BulkMatcher();
    const started = performance.now();
    for (let i = 0; i < many; i++) matcher.add(indicator("[ipv4-addr:value = '192.0.2.8']", { id: `indicator--${hex(Math.imul(i + 1, 0x9e3779b1) >>> 0, 8)}-0000-4000-8000-${hex(i, 12)}` }), { now });
    const adding = performance.now() - started;
    const matching = performance.now();
    // The value twice in one observation: each indicator still matched once.
    const matches = matcher.match(observation([{ type: 'ipv4-addr', value: '192.0.2.8' }, { type: 'ipv4-addr', value: '192.0.2.8' }]));
    const took = performance.now() - matching;
    assert.equal(matches.length, many);
    assert.equal(new Set(matches.map((m) => m.indicatorId)).size, many);
    assert.ok(took < adding, `matching took ${Math.round(took)} ms, adding ${Math.round(adding)} ms`);
  });
});

describe("bulk matcher: a partner's exact indicators matching one observation", () => {
  // Free against the source budget, a partner's indicators naming one value all matched each
  // observation holding it: an alert, and a sighting stored and shared, for each of 40,000.
  const other = 'identity--a1e00000-0000-4000-8000-0000000000b1';
  const value = '192.0.2.9';
  const on = (i: number, prefix: string): ReturnType<typeof indicator> =>
    indicator(`[ipv4-addr:value = '${value}']`, { id: `indicator--${prefix}${hex(i, 4)}-0000-4000-8000-${hex(i, 12)}` });

  it(`are matched up to ${partnerExactMatches} a partner; the rest are counted and told, the node's own and another partner's all matched`, () => {
    const told: OverBudget[] = [];
    const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
    for (let i = 0; i < partnerExactMatches + 500; i++) matcher.add(on(i, 'aaaa'), { now, source: partner });
    for (let i = 0; i < 10; i++) matcher.add(on(i, 'bbbb'), { now, source: other });
    const own = Array.from({ length: 5 }, (_, i) => on(i, 'cccc'));
    for (const item of own) matcher.add(item, { now });
    const matched = matcher.match(observation([{ type: 'ipv4-addr', value }])).map((m) => m.indicatorId);
    assert.equal(matched.filter((id) => id.startsWith('indicator--aaaa')).length, partnerExactMatches);
    assert.equal(matched.filter((id) => id.startsWith('indicator--bbbb')).length, 10);
    assert.deepEqual(matched.filter((id) => id.startsWith('indicator--cccc')).sort(), own.map((item) => String(item['id'])).sort());
    assert.equal(matcher.stats().overBudget, 1);
    assert.equal(told[0]?.untested, 500);
    assert.ok(told[0] !== undefined && told[0].indicatorIds.length > 0 && told[0].indicatorIds.every((id) => id.startsWith('indicator--aaaa')));
    // The next observation has the partner's whole part again.
    assert.equal(matcher.match(observation([{ type: 'ipv4-addr', value }])).length, partnerExactMatches + 15);
  });
});
