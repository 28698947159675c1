// A partner's indicator whose pattern is past a planning limit (pattern/pattern-limits.ts) is not
// compiled: add() refuses it with a reason that names the limit, it costs the matcher nothing, and the
// indicators beside it are matched as before. Patterns the parser itself refuses as too deep are
// refused as invalid, never thrown out of add() (which runs inside the loader, for every indicator).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher, patternOverLimitRefusal } from './bulk-matcher.ts';
import { patternLimits } from '../pattern/pattern-limits.ts';
import { indicator, now, observation } from './test-support.ts';
import type { JsonRecord } from './log-observation.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const leaf = (i: number): string => `[ipv4-addr:value = '${ip(i)}']`;
const url = (value: string): JsonRecord => ({ type: 'url', value });
function grouped(items: readonly string[], op: string, size = 500): string {
  const groups: string[] = [];
  for (let start = 0; start < items.length; start += size) groups.push(`(${items.slice(start, start + size).join(` ${op} `)})`);
  return groups.join(` ${op} `);
}

/** What a compromised partner sends, by the limit it is past. */
const hostile: Record<string, string> = {
  length: `[url:value = '${'a'.repeat(3_000_000)}']`,
  depth: (() => {
    let text = "[url:value != 'x']";
    for (let i = 1; i <= patternLimits.depth + 5; i++) text = `(${text} ${i % 2 === 0 ? 'AND' : 'OR'} [url:value != 'x${i}'])`;
    return text;
  })(),
  comparisons: `[${grouped(range(patternLimits.comparisons + 1).map((i) => `url:value != '${i}'`), 'AND')}]`,
  'set-elements': `[ipv4-addr:value IN (${range(patternLimits.setElements + 1).map((i) => `'${ip(i)}'`).join(',')})]`,
  'correlated-observations': range(patternLimits.correlatedObservations + 1).map(() => "[url:value != 'x']").join(' FOLLOWEDBY '),
  qualifiers: `[url:value != 'x']${' REPEATS 2 TIMES'.repeat(patternLimits.qualifiers + 1)}`,
  repeats: `[url:value != 'x'] REPEATS ${patternLimits.repeats + 1} TIMES`,
  'operand-length': `[url:value LIKE '%${'a%'.repeat(patternLimits.operandLength)}']`,
  'regex-size': `[${range(6).map(() => "url:value MATCHES 'q.{0,900}z'").join(' OR ')}]`,
};

describe('bulk matcher: patterns past a planning limit', () => {
  for (const [limit, pattern] of Object.entries(hostile)) {
    it(`${limit}: refused with a reason naming the limit, and nothing compiled`, () => {
      const matcher = new BulkMatcher();
      const outcome = matcher.add(indicator(pattern), { now });
      assert.equal(outcome.added, false);
      const reason = outcome.added ? '' : outcome.reason;
      assert.ok(reason.startsWith(`${patternOverLimitRefusal}: ${limit}: `), reason.slice(0, 200));
      assert.match(reason, /ENT_PATTERN_OVER_LIMIT/);
      assert.equal(outcome.added ? undefined : outcome.limit?.limit, limit);
      assert.deepEqual(
        { indicators: matcher.stats().indicators, alwaysLeaves: matcher.stats().alwaysLeaves, equalityKeys: matcher.stats().equalityKeys, substrings: matcher.stats().substrings },
        { indicators: 0, alwaysLeaves: 0, equalityKeys: 0, substrings: 0 },
      );
    });
  }

  it('a refused new version withdraws the older one compiled under the same id', () => {
    const id = 'indicator--00000000-0000-4000-8000-0000000000d1';
    const matcher = new BulkMatcher();
    assert.equal(matcher.add(indicator("[url:value = 'http://q.test/a']", { id }), { now }).added, true);
    assert.equal(matcher.add(indicator(hostile['comparisons'] as string, { id }), { now }).added, false);
    assert.equal(matcher.has(id), false);
  });

  it('every hostile indicator together does not stop the others from matching, nor take long to add or match', () => {
    const matcher = new BulkMatcher();
    const good = [
      indicator("[url:value = 'http://q.test/exact']"),
      indicator("[url:value LIKE 'http://q.test/like/%']"),
      indicator("[url:value MATCHES '^http://q\\\\.test/re/[0-9]+$']"),
      indicator("[url:value = 'http://q.test/first'] FOLLOWEDBY [url:value = 'http://q.test/second']"),
    ];
    const started = performance.now();
    // Interleaved: a refusal must leave the matcher as it found it for the next indicator.
    for (const [i, pattern] of Object.values(hostile).entries()) {
      assert.equal(matcher.add(indicator(pattern), { now }).added, false);
      const next = good[i % good.length] as JsonRecord;
      if (!matcher.has(String(next['id']))) assert.equal(matcher.add(next, { now }).added, true);
    }
    // Past the parser's bound: invalid, not thrown.
    const tooDeep = range(2_000).map(leaf).join(' AND ');
    assert.match((matcher.add(indicator(tooDeep), { now }) as { reason: string }).reason, /^invalid pattern: .*nested deeper than/);
    assert.ok(performance.now() - started < 5_000, `adding took ${Math.round(performance.now() - started)} ms`);

    const ids = (value: string): string[] => matcher.match(observation([url(value)])).map((m) => m.indicatorId);
    assert.deepEqual(ids('http://q.test/exact'), [good[0]?.['id']]);
    assert.deepEqual(ids('http://q.test/like/x'), [good[1]?.['id']]);
    assert.deepEqual(ids('http://q.test/re/42'), [good[2]?.['id']]);
    assert.deepEqual(ids('http://q.test/first'), []);
    assert.deepEqual(ids('http://q.test/second'), [good[3]?.['id']]);
    assert.equal(matcher.stats().indicators, good.length);
  });

  it('a MATCHES such as (a+)+$ is compiled and costs linear time on a long hostile value', () => {
    const evil = indicator("[url:value MATCHES '^http://q\\\\.test/(a+)+$']");
    const matcher = new BulkMatcher();
    assert.equal(matcher.add(evil, { now }).added, true);
    const started = performance.now();
    assert.deepEqual(matcher.match(observation([url(`http://q.test/${'a'.repeat(200_000)}!`)])), []);
    assert.deepEqual(matcher.match(observation([url(`http://q.test/${'a'.repeat(50)}`)])).map((m) => m.indicatorId), [evil['id']]);
    assert.ok(performance.now() - started < 2_000, `took ${Math.round(performance.now() - started)} ms`);
    assert.equal(matcher.stats().overBudget, 0);
  });
});

describe('bulk matcher: a costly indicator within the limits and the step budget of the others', () => {
  // Within every limit (7,996 instructions, one expression), it costs ~8,000 steps a character: on a
  // 3 KB URL more than an observation's whole budget. Evaluated on every observation (no literal of 3
  // characters), and compiled first, it was tested first, and spent the budget the indicators tested
  // after it needed: their tests went untested, and a partner's one indicator kept the others from matching.
  const costly = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");
  const others = [indicator("[url:value MATCHES 'k[0-9]{4}z']"), indicator("[url:value LIKE '%k____z%']")];
  const value = `http://q.test/${'a'.repeat(3_000)}/k1234z`;

  it('the others are still tested in full, and matched; only the costly one is counted over budget', () => {
    const told: { indicatorIds: readonly string[] }[] = [];
    const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
    for (const item of [costly, ...others]) assert.equal(matcher.add(item, { now }).added, true);
    assert.equal(matcher.stats().alwaysLeaves, 3);
    const found = matcher.match(observation([url(value)])).map((m) => m.indicatorId);
    assert.deepEqual(found.sort(), others.map((o) => String(o['id'])).sort());
    assert.deepEqual(told.map((event) => event.indicatorIds), [[costly['id']]]);
  });

  it('alone, a costly indicator still has the whole budget, as before', () => {
    const matcher = new BulkMatcher();
    assert.equal(matcher.add(costly, { now }).added, true);
    for (const item of others) assert.equal(matcher.add(item, { now }).added, true);
    // ~1,000 characters: ~8 million steps, within the budget once the others took what they needed.
    const found = matcher.match(observation([url(`http://q.test/a${'a'.repeat(1_000)}xy`)])).map((m) => m.indicatorId);
    assert.deepEqual(found, [costly['id']]);
    assert.equal(matcher.stats().overBudget, 0);
  });
});

describe('bulk matcher: correlated patterns within the limits and the step budget', () => {
  // Within every limit, yet the evaluator's search for combinations (bounded at 2 million steps, each
  // merging and keying a combination) took 2–3 s on each log line: nested REPEATS over tests that hold
  // on every observation (`!=`, compiled as exclusions). It now spends the observation's step budget.
  const patterns = [
    "([url:value != 'x'] AND [url:value != 'y']) REPEATS 30 TIMES WITHIN 3600 SECONDS",
    "(([url:value != 'x'] REPEATS 8 TIMES) FOLLOWEDBY ([url:value != 'y'] REPEATS 8 TIMES)) REPEATS 8 TIMES",
    range(16).map((i) => `[url:value != 'x${i}']`).join(' AND '),
  ];
  for (const pattern of patterns) {
    it(`no log line costs more than a fraction of a second: ${pattern.slice(0, 70)}…`, () => {
      const told: { indicatorIds: readonly string[] }[] = [];
      const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
      const costly = indicator(pattern);
      const beside = indicator("[url:value = 'http://e.test/7']");
      assert.equal(matcher.add(costly, { now }).added, true);
      assert.equal(matcher.add(beside, { now }).added, true);
      let worst = 0;
      let besideMatched = 0;
      for (let i = 0; i < 40; i++) {
        const at = new Date(Date.parse('2026-06-01T12:00:00Z') + i * 1000).toISOString();
        const started = performance.now();
        const found = matcher.match(observation([url(`http://e.test/${i}`)], at));
        worst = Math.max(worst, performance.now() - started);
        besideMatched += found.filter((m) => m.indicatorId === beside['id']).length;
      }
      assert.ok(worst < 500, `worst ${Math.round(worst)} ms`);
      assert.equal(besideMatched, 1);
      // What the budget cut short is told, with the indicator.
      for (const event of told) assert.deepEqual(event.indicatorIds, [costly['id']]);
    });
  }
});
