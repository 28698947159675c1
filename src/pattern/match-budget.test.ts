import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileLinearRegex } from './compile-linear-regex.ts';
import { matchLike } from './match-like.ts';
import { runWithStepBudget, stepBudget } from './match-budget.ts';
import { testComparison } from './test-comparison.ts';
import { parsePattern } from './parse-pattern.ts';
import type { Comparison } from './pattern-ast.ts';

function comparisonOf(pattern: string): Comparison {
  const parsed = parsePattern(pattern);
  if (!parsed.ok || parsed.value.kind !== 'observation' || parsed.value.comparison.kind !== 'comparison') return assert.fail(pattern);
  return parsed.value.comparison;
}

// 7,996 instructions, within the engine's limits: on a long run of 'a' about 4,000 states stay live.
const costly = 'a(?:.{0,999}){4}xy';

describe('MATCHES and LIKE under a step budget', () => {
  it('a search that would outrun its budget stops early, undecided, with the budget spent', () => {
    const regex = compileLinearRegex(costly);
    assert.ok(regex.ok);
    const budget = { remaining: 1_000_000 };
    const started = performance.now();
    assert.equal(regex.value.searchWithin('http://q.test/xy' + 'a'.repeat(256_000), budget), undefined);
    assert.ok(performance.now() - started < 1000, 'stopped long before the ~20 s the whole search takes');
    assert.ok(budget.remaining <= 0);
  });

  it('a search within its budget answers as search does, and is charged for its work', () => {
    const regex = compileLinearRegex('ev[a-z]l\\.com$');
    assert.ok(regex.ok);
    const budget = { remaining: 1_000_000 };
    assert.equal(regex.value.searchWithin('x.evil.com', budget), true);
    assert.equal(regex.value.searchWithin('x.evil.org', budget), false);
    assert.ok(budget.remaining < 1_000_000 && budget.remaining > 0);
  });

  it('LIKE stops too when its scan outruns the budget', () => {
    const budget = { remaining: 10_000 };
    assert.equal(matchLike('%a%b', 'a'.repeat(100_000), budget), undefined);
    assert.equal(matchLike('%a%b', 'ab', { remaining: 10_000 }), true);
  });

  it('a comparison whose test ran out of budget does not hold, with or without NOT, and is counted', () => {
    const value = 'http://q.test/xy' + 'a'.repeat(64_000);
    const budget = stepBudget(100_000);
    assert.equal(
      runWithStepBudget(budget, () => testComparison(comparisonOf(`[url:value MATCHES '${costly}']`), value)),
      false,
    );
    assert.equal(
      runWithStepBudget(budget, () => testComparison(comparisonOf(`[url:value NOT MATCHES '${costly}']`), value)),
      false,
    );
    assert.equal(runWithStepBudget(budget, () => testComparison(comparisonOf("[url:value NOT LIKE '%q.test%']"), value)), false);
    assert.equal(budget.exhausted, 3);
  });

  it('outside runWithStepBudget nothing is counted or cut short', () => {
    assert.equal(testComparison(comparisonOf("[url:value MATCHES 'a{3}$']"), 'x'.repeat(10_000) + 'aaa'), true);
  });
});
