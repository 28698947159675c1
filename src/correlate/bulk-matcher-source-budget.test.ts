// Each pattern limit bounds one indicator; the source budget bounds what all the indicators of one
// source (the partner organisation they came from) cost the matcher together. Without it a compromised
// partner could send 100,000 indicators each just within every pattern limit, and every observation
// would evaluate all of them. Past its budget a partner's indicators are refused like a pattern past a
// limit (`source-budget`, ENT_PATTERN_OVER_LIMIT): kept and shared, not matched. The node's own
// indicators (no source) are never refused, and one partner's budget takes nothing from another's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher, defaultSourceMatchingBudget, everyObservationWeight, partnerMatchesPerObservation, partnerTestSteps, patternOverLimitRefusal, type AddOutcome, type OverBudget } from './bulk-matcher.ts';
import { indicator, now, observation } from './test-support.ts';
import type { JsonRecord } from './log-observation.ts';

const partner = 'identity--a1e00000-0000-4000-8000-0000000000a1';
const other = 'identity--a1e00000-0000-4000-8000-0000000000b1';
const url = (value: string): JsonRecord => ({ type: 'url', value });
/** Evaluated on every observation (`!=` has no anchor): one test, weighing everyObservationWeight. */
const everywhere = (i: number): JsonRecord => indicator(`[url:value != 'http://x.test/${i}']`);
/** Anchored on a substring, evaluated when an observation holds it: one test. */
const anchored = (i: number): JsonRecord => indicator(`[url:value LIKE '%evil-${i}/%']`);

function added(outcome: AddOutcome): boolean {
  return outcome.added;
}

function matchedIds(matcher: BulkMatcher, value: string): string[] {
  return matcher.match(observation([url(value)])).map((m) => m.indicatorId);
}

describe('bulk matcher: what one source may cost the matcher', () => {
  it('a partner sending many costly indicators has the first compiled up to its budget, the rest refused naming the source-budget and the partner', () => {
    const matcher = new BulkMatcher({ sourceMatchingBudget: 10 * everyObservationWeight });
    const outcomes = Array.from({ length: 25 }, (_, i) => matcher.add(everywhere(i), { now, source: partner }));
    assert.deepEqual(outcomes.map(added), [...Array<boolean>(10).fill(true), ...Array<boolean>(15).fill(false)]);
    const refused = outcomes[10];
    assert.ok(refused !== undefined && !refused.added);
    assert.equal(refused.limit?.limit, 'source-budget');
    assert.deepEqual([refused.limit?.found, refused.limit?.allowed], [11 * everyObservationWeight, 10 * everyObservationWeight]);
    assert.ok(refused.reason.startsWith(`${patternOverLimitRefusal}: source-budget: `), refused.reason);
    assert.match(refused.reason, new RegExp(`${partner}.*ENT_PATTERN_OVER_LIMIT`));
    // Nothing of what was refused is compiled, nor evaluated.
    assert.deepEqual([matcher.stats().indicators, matcher.stats().alwaysLeaves], [10, 10]);
    assert.equal(matcher.stats().overSourceBudget, 15);
  });

  it("the node's own indicators (no source) are never refused, whatever partners hold", () => {
    const matcher = new BulkMatcher({ sourceMatchingBudget: 2 * everyObservationWeight });
    for (let i = 0; i < 5; i++) matcher.add(everywhere(i), { now, source: partner });
    const own = Array.from({ length: 50 }, (_, i) => indicator(`[url:value != 'http://own.test/${i}']`));
    assert.ok(own.every((item) => matcher.add(item, { now }).added));
    assert.equal(matcher.stats().indicators, 52);
  });

  it("each source has its own budget: one partner's spent budget takes nothing from another's", () => {
    const matcher = new BulkMatcher({ sourceMatchingBudget: 3 * everyObservationWeight });
    const first = Array.from({ length: 5 }, (_, i) => matcher.add(everywhere(i), { now, source: partner }));
    const second = Array.from({ length: 5 }, (_, i) => matcher.add(everywhere(100 + i), { now, source: other }));
    assert.deepEqual(first.map(added), [true, true, true, false, false]);
    assert.deepEqual(second.map(added), [true, true, true, false, false]);
  });

  it('an indicator its indexes decide outright costs nothing: a partner feed of 2,000 addresses is compiled whole', () => {
    const matcher = new BulkMatcher({ sourceMatchingBudget: 1 });
    for (let i = 0; i < 2_000; i++) {
      const outcome = matcher.add(indicator(`[ipv4-addr:value = '10.0.${i >> 8}.${i & 255}']`), { now, source: partner });
      assert.equal(outcome.added, true);
    }
    assert.equal(matcher.stats().exact, 2_000);
  });

  it('costs each test once, and a test evaluated on every observation 100 times one evaluated only when an index hits', () => {
    // LIKE anchored (1) AND != (1) in one `[…]`: anchored on the LIKE, so 2 in all.
    const two = indicator("[url:value LIKE '%evil-a/%' AND url:value != 'http://x.test/']");
    // An IN of 3 elements AND != : 4 tests, anchored on the IN.
    const four = indicator("[url:value IN ('http://a.test/', 'http://b.test/', 'http://c.test/') AND url:value != 'x']");
    const matcher = new BulkMatcher({ sourceMatchingBudget: everyObservationWeight + 2 + 4 + 3 });
    assert.equal(matcher.add(everywhere(1), { now, source: partner }).added, true);
    assert.equal(matcher.add(two, { now, source: partner }).added, true);
    assert.equal(matcher.add(four, { now, source: partner }).added, true);
    assert.deepEqual([1, 2, 3].map((i) => matcher.add(anchored(i), { now, source: partner }).added), [true, true, true]);
    const over = matcher.add(anchored(4), { now, source: partner });
    assert.equal(over.added ? undefined : over.limit?.found, everyObservationWeight + 2 + 4 + 3 + 1);
  });

  it("withdrawing or replacing a partner's indicator gives back what it cost", () => {
    const matcher = new BulkMatcher({ sourceMatchingBudget: 2 * everyObservationWeight });
    const a = everywhere(1);
    const b = everywhere(2);
    assert.ok(matcher.add(a, { now, source: partner }).added && matcher.add(b, { now, source: partner }).added);
    assert.equal(matcher.add(everywhere(3), { now, source: partner }).added, false);
    matcher.remove(String(a['id']));
    assert.equal(matcher.add(everywhere(4), { now, source: partner }).added, true);
    // A new version of b replaces it: charged once, not twice.
    assert.equal(matcher.add({ ...b, modified: '2026-02-01T00:00:00.000Z' }, { now, source: partner }).added, true);
    assert.equal(matcher.stats().indicators, 2);
  });

  it('by default a partner may hold 1,000 tests evaluated on every observation, or 100,000 evaluated on index hits', () => {
    assert.equal(defaultSourceMatchingBudget, 100_000);
    assert.equal(everyObservationWeight, 100);
    const matcher = new BulkMatcher();
    const outcomes = Array.from({ length: 1_200 }, (_, i) => matcher.add(everywhere(i), { now, source: partner }));
    assert.equal(outcomes.filter(added).length, 1_000);
  });

  it("a partner's 5,000 indicators each within every pattern limit leave at most its budget compiled, and the home's indicator is still matched", () => {
    const matcher = new BulkMatcher();
    // 16 tests evaluated on every observation each: ~1,600 cost units, within every pattern limit.
    const costly = (i: number): JsonRecord =>
      indicator(`[${Array.from({ length: 16 }, (_, k) => `url:value != 'http://x.test/${i}/${k}'`).join(' AND ')}]`);
    let refused = 0;
    for (let i = 0; i < 5_000; i++) if (!matcher.add(costly(i), { now, source: partner }).added) refused++;
    const home = indicator("[url:value MATCHES '^http://home\\\\.test/[0-9]+$']");
    assert.equal(matcher.add(home, { now }).added, true);
    assert.equal(refused, 5_000 - Math.floor(defaultSourceMatchingBudget / (16 * everyObservationWeight)));
    assert.ok(matcher.stats().alwaysLeaves <= 63, `${matcher.stats().alwaysLeaves} leaves evaluated on every observation`);
    assert.ok(matchedIds(matcher, 'http://home.test/42').includes(String(home['id'])));
  });
});

describe("bulk matcher: one partner's indicators and the step budget of an observation", () => {
  // Within every pattern limit and the partner's budget (1,000 tests on every observation), each costs
  // ~400 steps a character on a long value: all together, far more than an observation's budget. Tested
  // with a fair share each of what was left, they spent it all before the home's indicator, compiled
  // after them, had its turn; its test cut short was tried again only after theirs, with nothing left.
  const partnerCostly = (i: number): JsonRecord => indicator(`[url:value MATCHES 'a(?:.{0,99}){4}x${i % 10}']`);
  // ~8 million steps on the value below: within half the budget.
  const home = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");
  const value = `http://q.test/a${'a'.repeat(1_000)}xy`;

  it("the node's own indicator is still tested in full, and matched: each source with candidates has its part of the budget", () => {
    const told: { indicatorIds: readonly string[] }[] = [];
    const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
    const sent = Array.from({ length: defaultSourceMatchingBudget / everyObservationWeight }, (_, i) => partnerCostly(i));
    for (const item of sent) assert.equal(matcher.add(item, { now, source: partner }).added, true);
    assert.equal(matcher.add(home, { now }).added, true);
    assert.deepEqual(matchedIds(matcher, value), [String(home['id'])]);
    // What ran out of budget is the partner's alone.
    const partnerIds = new Set(sent.map((item) => String(item['id'])));
    assert.ok(told.length === 1 && told[0]?.indicatorIds.every((id) => partnerIds.has(id)));
  });

  it("what sources left unspent goes to the node's own tests cut short first, then to the partners'", () => {
    // Four sources with candidates: 5 million steps each, less than the home's test needs. Two partners
    // spend little of theirs: the home's test, tried again before the costly partner's, has what they left.
    const third = 'identity--a1e00000-0000-4000-8000-0000000000c1';
    const matcher = new BulkMatcher();
    for (let i = 0; i < 1_000; i++) matcher.add(partnerCostly(i), { now, source: partner });
    assert.equal(matcher.add(indicator("[url:value MATCHES '^zz']"), { now, source: other }).added, true);
    assert.equal(matcher.add(indicator("[url:value MATCHES '^zy']"), { now, source: third }).added, true);
    assert.equal(matcher.add(home, { now }).added, true);
    assert.deepEqual(matchedIds(matcher, value), [String(home['id'])]);
  });

  it('one partner among others has its part, not the whole: a second partner is tested too', () => {
    const matcher = new BulkMatcher();
    for (let i = 0; i < 1_000; i++) matcher.add(partnerCostly(i), { now, source: partner });
    const second = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");
    assert.equal(matcher.add(second, { now, source: other }).added, true);
    assert.deepEqual(matchedIds(matcher, value), [String(second['id'])]);
  });
});

describe("bulk matcher: partners' indicators and the step budget of a turn of the event loop", () => {
  const partnerCostly = (i: number): JsonRecord => indicator(`[url:value MATCHES 'a(?:.{0,99}){4}x${i % 10}']`);
  // A few hundred thousand steps on the value below: what the home's indicator needs is little.
  const home = indicator("[url:value MATCHES 'a(?:.{0,49}){2}xy']");
  const value = `http://q.test/a${'a'.repeat(1_000)}xy`;

  it("the partners' candidates together have at most half a turn's budget: the node's own is matched on every line of the turn", () => {
    const matcher = new BulkMatcher({ turnStepBudget: 30_000_000 });
    for (let i = 0; i < 1_000; i++) matcher.add(partnerCostly(i), { now, source: partner });
    assert.equal(matcher.add(home, { now }).added, true);
    // Matched synchronously: one turn. The partner's candidates each spend all they are given.
    const found = Array.from({ length: 10 }, () => matchedIds(matcher, value).length);
    assert.deepEqual(found, Array<number>(10).fill(1));
  });

  it('without a partner, the node\'s own indicators have the whole turn budget, as before', () => {
    const matcher = new BulkMatcher({ turnStepBudget: 30_000_000 });
    const costly = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");
    assert.equal(matcher.add(costly, { now }).added, true);
    // ~8 million steps each: three within 30 million, in one turn.
    const found = Array.from({ length: 3 }, () => matchedIds(matcher, value).length);
    assert.deepEqual(found, [1, 1, 1]);
  });
});

describe("bulk matcher: partners' tests of any kind and the step budget", () => {
  // 12,000 indicators of one partner on one common anchor, 2 tests each: within its source budget
  // (24,000 of 100,000), yet every observation hitting the anchor evaluated all 12,000. A partner's
  // test now spends partnerTestSteps of its source's part of the budget, as MATCHES and LIKE spend
  // theirs: past it, the partner's other candidates go untested (counted), never the node's own.
  const flood = (i: number): JsonRecord => indicator(`[url:value LIKE '%evil.test/%' AND url:value != 'http://x.test/${i}']`);
  const home = indicator("[url:value LIKE '%evil.test/%' AND url:value != 'http://home.test/']");

  it("a partner's candidates on one observation are tested within its part of the budget; the node's own are all tested", () => {
    const budget = 2_000_000;
    const told: OverBudget[] = [];
    const matcher = new BulkMatcher({ observationStepBudget: budget, onOverBudget: (event) => told.push(event) });
    // Tested but not holding (the `!=` fails on this observation), so what is counted untested is what
    // went untested for want of steps, not matches past partnerMatchesPerObservation.
    for (let i = 0; i < 12_000; i++) assert.equal(matcher.add(indicator("[url:value LIKE '%evil.test/%' AND url:value != 'http://evil.test/a']"), { now, source: partner }).added, true);
    assert.equal(matcher.add(home, { now }).added, true);
    const found = matcher.match(observation([url('http://evil.test/a')])).map((m) => m.indicatorId);
    assert.deepEqual(found, [String(home['id'])]);
    // Its part, then what the node's own left, each test paying partnerTestSteps and the LIKE's own steps.
    const most = budget / (2 * partnerTestSteps);
    const tested = 12_000 - (told[0]?.untested ?? 0);
    assert.ok(tested > 0 && tested < most, `${tested} of the partner's 12,000 tested, fewer than ${most}`);
    assert.equal(matcher.stats().overBudget, 1);
  });

  it('a partner whose candidates fit its part is tested in full, as before', () => {
    const matcher = new BulkMatcher();
    for (let i = 0; i < 100; i++) matcher.add(flood(i), { now, source: partner });
    assert.equal(matcher.match(observation([url('http://evil.test/a')])).length, 100);
    assert.equal(matcher.stats().overBudget, 0);
  });
});

describe("bulk matcher: a partner past its matches on one observation", () => {
  // Past partnerMatchesPerObservation its other candidates would not be matched whatever their tests
  // say: tested all the same, they spent its whole part of the budget for nothing, part that the node's
  // own test cut short is retried with.
  const third = 'identity--a1e00000-0000-4000-8000-0000000000c1';
  const value = `http://q.test/a${'a'.repeat(1_000)}xy`;
  // Hold on the value, each test a LIKE over its thousand characters.
  const holding = (i: number): JsonRecord => indicator(`[url:value LIKE '%q.test/a%' AND url:value != 'http://x.test/${i}']`);
  // ~8 million steps on the value: more than a third of the budget (three sources), less than two.
  const home = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");

  it("tests none of its candidates once it has them all, and what it leaves goes to the node's own", () => {
    const told: OverBudget[] = [];
    const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
    for (let i = 0; i < 8 * partnerMatchesPerObservation; i++) assert.equal(matcher.add(holding(i), { now, source: partner }).added, true);
    assert.equal(matcher.add(indicator("[url:value MATCHES '^zz']"), { now, source: third }).added, true);
    assert.equal(matcher.add(home, { now }).added, true);
    const found = matcher.match(observation([url(value)])).map((m) => m.indicatorId);
    assert.equal(found.length, partnerMatchesPerObservation + 1);
    assert.ok(found.includes(String(home['id'])));
    assert.equal(told[0]?.untested, 7 * partnerMatchesPerObservation);
  });
});

describe("bulk matcher: the node's own tests beside a partner's that need little", () => {
  // ~12 million steps on this value: within the observation's 20 million, more than half. A test cut
  // short is tried again from its start, so a fixed half for the node's own left it untested whenever
  // any partner had a candidate on the observation, however little that one needed: one cheap
  // indicator evaluated on every observation halved what the node's own tests had on every line.
  const home = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");
  const value = `http://q.test/a${'a'.repeat(1_500)}xy`;

  it("has all that the partners' candidates leave, tested after theirs", () => {
    const alone = new BulkMatcher();
    assert.equal(alone.add(home, { now }).added, true);
    assert.deepEqual(matchedIds(alone, value), [String(home['id'])]);
    const beside = new BulkMatcher();
    assert.equal(beside.add(indicator("[url:value MATCHES '^zz']"), { now, source: partner }).added, true);
    assert.equal(beside.add(home, { now }).added, true);
    assert.deepEqual(matchedIds(beside, value), [String(home['id'])]);
  });
});
