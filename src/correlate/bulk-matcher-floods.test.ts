// What a partner chooses besides its patterns — its indicators' ids, and how many of them name one
// value — must not make the matcher's cost grow with their square. Indicators the indexes decide
// outright cost nothing against a source's budget (a feed of a million hashes is compiled whole), so
// their own costs must stay linear: one add, one lookup, one hit each.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher, partnerMatchesPerObservation, type OverBudget } from './bulk-matcher.ts';
import { indicator, now, observation } from './test-support.ts';

const partner = 'identity--a1e00000-0000-4000-8000-0000000000a1';
const count = 20_000;
const address = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/**
 * The CPU time of each run in ms, the least of three: what this process spent, not the wall clock, so
 * that other processes on a busy CI machine do not count; the least, so that one collection does not.
 */
function cpuTimesOf(...runs: (() => void)[]): number[] {
  const best = runs.map(() => Infinity);
  // Interleaved: a slow spell of the machine falls on each kind of run alike.
  for (let round = 0; round < 3; round++) {
    runs.forEach((run, i) => {
      const started = process.cpuUsage();
      run();
      const used = process.cpuUsage(started);
      best[i] = Math.min(best[i] as number, (used.user + used.system) / 1000);
    });
  }
  return best;
}

function addAll(ids: readonly string[]): void {
  const matcher = new BulkMatcher();
  ids.forEach((id, i) => matcher.add(indicator(`[ipv4-addr:value = '${address(i)}']`, { id }), { now, source: partner }));
  assert.equal(matcher.stats().indicators, ids.length);
  assert.ok(ids.every((id) => matcher.has(id)));
}

// Complexity guards, not speed goals (those are benchmarks): each compares two runs doing the same
// work, laid out as a partner chooses and as usual, where the quadratic paths took 12 to 20 times as long
// (CPU time); a ratio of 4 leaves a margin of 3 either way.
describe('bulk matcher: what a partner chooses besides its patterns', () => {
  it('ids sharing their first 32 bits are added as fast as any (each probed one run of the id table, growing with their number)', () => {
    const colliding = Array.from({ length: count }, (_, i) => `indicator--5eed0000-0000-4000-8000-${hex(i, 12)}`);
    const spread = Array.from({ length: count }, (_, i) => `indicator--${hex(Math.imul(i + 1, 0x9e3779b1) >>> 0, 8)}-0000-4000-8000-${hex(i, 12)}`);
    addAll(spread.slice(0, 2_000)); // warm up
    const [collidingMs, spreadMs] = cpuTimesOf(() => addAll(colliding), () => addAll(spread)) as [number, number];
    assert.ok(collidingMs < 4 * spreadMs, `colliding ids took ${(collidingMs / spreadMs).toFixed(1)} times as long`);
  });

  it('80,000 indicators naming one value are each matched once, as fast as 80,000 spread over 160 values (each hit was looked for among the others: 2 s for 40,000)', () => {
    const many = 4 * count;
    const idOf = (i: number): string => `indicator--${hex(Math.imul(i + 1, 0x9e3779b1) >>> 0, 8)}-0000-4000-8000-${hex(i, 12)}`;
    // The node's own, as a partner's are matched only up to partnerMatchesPerObservation.
    const oneValue = new BulkMatcher();
    for (let i = 0; i < many; i++) oneValue.add(indicator("[ipv4-addr:value = '192.0.2.8']", { id: idOf(i) }), { now });
    const spreadValues = new BulkMatcher();
    for (let i = 0; i < many; i++) spreadValues.add(indicator(`[ipv4-addr:value = '192.0.2.${i % 160}']`, { id: idOf(i) }), { now });
    // The value twice in one observation: each indicator still matched once.
    const onOne = observation([{ type: 'ipv4-addr', value: '192.0.2.8' }, { type: 'ipv4-addr', value: '192.0.2.8' }]);
    const matches = oneValue.match(onOne);
    assert.equal(matches.length, many);
    assert.equal(new Set(matches.map((m) => m.indicatorId)).size, many);
    const onEach = Array.from({ length: 160 }, (_, v) => observation([{ type: 'ipv4-addr', value: `192.0.2.${v}` }]));
    assert.equal(onEach.reduce((sum, o) => sum + spreadValues.match(o).length, 0), many);
    const [oneMs, spreadMs] = cpuTimesOf(
      () => oneValue.match(onOne),
      () => onEach.forEach((o) => spreadValues.match(o)),
    ) as [number, number];
    assert.ok(oneMs < 4 * spreadMs, `one value took ${(oneMs / spreadMs).toFixed(1)} times as long as the same matches spread over 160`);
  });
});

describe("bulk matcher: a partner's exact indicators matching one observation", () => {
  // Free against the source budget, a partner's indicators naming one value all matched each
  // observation holding it: an alert, and a sighting stored and shared, for each of 40,000.
  const other = 'identity--a1e00000-0000-4000-8000-0000000000b1';
  const value = '192.0.2.9';
  const on = (i: number, prefix: string): ReturnType<typeof indicator> =>
    indicator(`[ipv4-addr:value = '${value}']`, { id: `indicator--${prefix}${hex(i, 4)}-0000-4000-8000-${hex(i, 12)}` });

  it(`are matched up to ${partnerMatchesPerObservation} a partner; the rest are counted and told, the node's own and another partner's all matched`, () => {
    const told: OverBudget[] = [];
    const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
    for (let i = 0; i < partnerMatchesPerObservation + 500; i++) matcher.add(on(i, 'aaaa'), { now, source: partner });
    for (let i = 0; i < 10; i++) matcher.add(on(i, 'bbbb'), { now, source: other });
    const own = Array.from({ length: 5 }, (_, i) => on(i, 'cccc'));
    for (const item of own) matcher.add(item, { now });
    const matched = matcher.match(observation([{ type: 'ipv4-addr', value }])).map((m) => m.indicatorId);
    assert.equal(matched.filter((id) => id.startsWith('indicator--aaaa')).length, partnerMatchesPerObservation);
    assert.equal(matched.filter((id) => id.startsWith('indicator--bbbb')).length, 10);
    assert.deepEqual(matched.filter((id) => id.startsWith('indicator--cccc')).sort(), own.map((item) => String(item['id'])).sort());
    assert.equal(matcher.stats().overBudget, 1);
    assert.equal(told[0]?.untested, 500);
    assert.ok(told[0] !== undefined && told[0].indicatorIds.length > 0 && told[0].indicatorIds.every((id) => id.startsWith('indicator--aaaa')));
    // The next observation has the partner's whole part again.
    assert.equal(matcher.match(observation([{ type: 'ipv4-addr', value }])).length, partnerMatchesPerObservation + 15);
  });
});

describe("bulk matcher: a partner's exact hits counted per observation, across the round counter's wrap", () => {
  // Each observation is a round (a 32-bit counter) in which a partner's exact hits are counted; at a
  // few hundred thousand observations a second it wraps within hours. A count kept from the round of
  // the same number before the wrap must not carry over: that partner's exact indicators would all be
  // left unmatched on that observation.
  it('starts the count afresh in the first rounds after the wrap', () => {
    const value = '192.0.2.10';
    const matcher = new BulkMatcher();
    for (let i = 0; i < partnerMatchesPerObservation + 1; i++) matcher.add(indicator(`[ipv4-addr:value = '${value}']`), { now, source: partner });
    const rounds = matcher as unknown as { round: number };
    const matchedOnce = (): number => matcher.match(observation([{ type: 'ipv4-addr', value }])).length;
    rounds.round = 0; // the first round: 1
    assert.equal(matchedOnce(), partnerMatchesPerObservation);
    rounds.round = 0xffffffff; // the last before the wrap: the next is 1 again
    assert.equal(matchedOnce(), partnerMatchesPerObservation);
  });
});

describe("bulk matcher: a partner's evaluated indicators matching one observation", () => {
  // Not exact, so charged against its source budget, but cheaply: 2 units each (an anchored `=` and a
  // `!=` tested on a hit), 50,000 within the budget, and about 200 steps each of its part of the step
  // budget, so about as many tested on every observation holding the value. Each matched raised an
  // alert, and a sighting stored and shared: the flood the cap on exact ones stops, through another door.
  const other = 'identity--a1e00000-0000-4000-8000-0000000000b1';
  const value = '192.0.2.11';
  const on = (i: number, prefix: string): ReturnType<typeof indicator> =>
    indicator(`[ipv4-addr:value = '${value}' AND ipv4-addr:value != '198.51.100.${i & 255}']`, { id: `indicator--${prefix}${hex(i, 4)}-0000-4000-8000-${hex(i, 12)}` });

  it(`are matched up to ${partnerMatchesPerObservation} a partner with its exact ones; the rest are counted and told, the node's own and another partner's all matched`, () => {
    const told: OverBudget[] = [];
    const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
    for (let i = 0; i < partnerMatchesPerObservation + 300; i++) assert.equal(matcher.add(on(i, 'aaaa'), { now, source: partner }).added, true);
    // And 200 exact ones of the same partner: one count for both kinds.
    for (let i = 0; i < 200; i++) matcher.add(indicator(`[ipv4-addr:value = '${value}']`, { id: `indicator--aaab${hex(i, 4)}-0000-4000-8000-${hex(i, 12)}` }), { now, source: partner });
    for (let i = 0; i < 10; i++) matcher.add(on(i, 'bbbb'), { now, source: other });
    const own = Array.from({ length: 5 }, (_, i) => on(i, 'cccc'));
    for (const item of own) matcher.add(item, { now });
    const matched = matcher.match(observation([{ type: 'ipv4-addr', value }])).map((m) => m.indicatorId);
    assert.equal(matched.filter((id) => id.startsWith('indicator--aaa')).length, partnerMatchesPerObservation);
    assert.equal(matched.filter((id) => id.startsWith('indicator--bbbb')).length, 10);
    assert.deepEqual(matched.filter((id) => id.startsWith('indicator--cccc')).sort(), own.map((item) => String(item['id'])).sort());
    assert.equal(told.length, 1);
    assert.equal(told[0]?.untested, 500);
    assert.ok(told[0] !== undefined && told[0].indicatorIds.length > 0 && told[0].indicatorIds.every((id) => id.startsWith('indicator--aaa')));
  });
});
