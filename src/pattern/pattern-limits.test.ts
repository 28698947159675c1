// What a compromised or careless partner can put in an indicator's pattern, and what the node does with
// it: parsing never throws and never recurses without bound (a pattern past the parser's safety bound is
// refused as invalid, at ingest too); a pattern within that bound but past a planning limit is valid STIX
// (kept) and named over which limit by patternOverLimit, so that the matcher leaves it out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePattern, maxTreeDepth } from './parse-pattern.ts';
import { patternLimits, patternOverLimit, patternTextOverLimit, type PatternLimitExceeded } from './pattern-limits.ts';
import type { PatternAst } from './pattern-ast.ts';

function parsed(text: string): PatternAst {
  const result = parsePattern(text);
  if (!result.ok) assert.fail(`${text.slice(0, 200)}…\n${result.error.map((e) => e.message).join('\n')}`);
  return result.value;
}

function overLimit(text: string): PatternLimitExceeded | undefined {
  return patternTextOverLimit(text) ?? patternOverLimit(parsed(text));
}

const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const leaf = (i: number): string => `[ipv4-addr:value = '${ip(i)}']`;
const test = (i: number): string => `ipv4-addr:value = '${ip(i)}'`;
/** `n` items joined by `op` in groups of `size` inside parentheses, so that no chain is longer than the parser allows. */
function grouped(items: readonly string[], op: string, size = 500): string {
  const groups: string[] = [];
  for (let start = 0; start < items.length; start += size) groups.push(`(${items.slice(start, start + size).join(` ${op} `)})`);
  return groups.join(` ${op} `);
}
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('parsing hostile patterns never throws', () => {
  // Each chain of one operator is parsed by a loop, but makes a syntax tree one level deeper per operator,
  // which every reader of the tree (validation, planning, the evaluator, printing) walks recursively:
  // 100,000 of them overflowed the call stack inside parsePattern (a RangeError out of ingest).
  const chains: Record<string, string> = {
    'observations joined by AND': range(100_000).map(leaf).join(' AND '),
    'observations joined by FOLLOWEDBY': range(100_000).map(leaf).join(' FOLLOWEDBY '),
    'comparisons joined by OR': `[${range(100_000).map(test).join(' OR ')}]`,
    'comparisons joined by AND': `[${range(100_000).map((i) => `ipv4-addr:value != '${ip(i)}'`).join(' AND ')}]`,
    'a chain of qualifiers': `${leaf(1)}${' REPEATS 2 TIMES'.repeat(100_000)}`,
    'parentheses nested 100,000 deep': `${'('.repeat(100_000)}${leaf(1)}${')'.repeat(100_000)}`,
  };
  for (const [name, text] of Object.entries(chains)) {
    it(`${name}: refused as too deeply nested, with the bound, not thrown`, () => {
      const result = parsePattern(text);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : (result.error[0]?.message ?? ''), /nested deeper than \d+ levels/);
    });
  }

  it(`a chain as long as the bound (${maxTreeDepth} levels) still parses`, () => {
    // The observation node is one level, the comparison another: the chain of ORs has the rest.
    const text = range(maxTreeDepth - 1).map(leaf).join(' OR ');
    assert.equal(parsePattern(text).ok, true);
    assert.equal(parsePattern(`${text} OR ${leaf(99_999)}`).ok, false);
  });

  it('many object types joined by OR inside one [ ] are checked in time linear in their number', () => {
    // The check of AND across object types keeps, per subexpression, the types it allows: a union
    // rebuilt by copying made 40,000 distinct types cost seconds, seven times what the same pattern
    // costs with one type. Compared with that like work (same length, same tree, one type), measured
    // in the same minute after a first parse warmed the code, the bound holds on a loaded machine
    // where one in milliseconds did not.
    const comparisons = range(40_000);
    const distinctTypes = `[${grouped(comparisons.map((i) => `x-t${i}:value = 'a'`), 'OR')}]`;
    const oneType = `[${grouped(comparisons.map((i) => `x-tt:value${i} = 'a'`), 'OR')}]`;
    const cpuOfParse = (text: string): number => {
      let best = Number.POSITIVE_INFINITY;
      for (let run = 0; run < 3; run += 1) {
        const before = process.cpuUsage();
        assert.equal(parsePattern(text).ok, true);
        const used = process.cpuUsage(before);
        best = Math.min(best, used.user + used.system);
      }
      return best;
    };
    cpuOfParse(oneType);
    const like = cpuOfParse(oneType);
    const distinct = cpuOfParse(distinctTypes);
    assert.ok(distinct < 3 * like, `40,000 distinct types cost ${Math.round(distinct / 1000)} ms of CPU, one type ${Math.round(like / 1000)} ms: ${(distinct / like).toFixed(1)} times as much`);
  });
});

describe('planning limits', () => {
  it('ordinary patterns are within every limit', () => {
    for (const text of [
      leaf(1),
      "[file:hashes.'SHA-256' = 'aa' OR file:hashes.MD5 = 'bb'] AND [file:name LIKE '%.exe'] WITHIN 300 SECONDS",
      "[domain-name:value MATCHES '^([a-z0-9-]{1,63}\\\\.){1,10}example\\\\.com$']",
      `[ipv4-addr:value IN (${range(500).map((i) => `'${ip(i)}'`).join(', ')})]`,
      range(200).map(leaf).join(' OR '),
      `([network-traffic:dst_port = 22] REPEATS 5 TIMES) FOLLOWEDBY [network-traffic:dst_port = 3389] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'`,
    ]) {
      assert.equal(overLimit(text), undefined, text.slice(0, 120));
    }
  });

  it('a pattern of megabytes is over `length`, decided on its text before it is parsed', () => {
    const text = `[url:value = '${'a'.repeat(5_000_000)}']`;
    const over = patternTextOverLimit(text);
    assert.equal(over?.limit, 'length');
    assert.equal(over?.found, text.length);
    assert.equal(over?.allowed, patternLimits.length);
    assert.match(over?.message ?? '', /^length: /);
  });

  it('parentheses nested deeper than `depth` (a chain of one operator is one level)', () => {
    const nested = (levels: number): string => `${'('.repeat(levels)}${leaf(1)} AND ${leaf(2)}${')'.repeat(levels)}`;
    const alternating = (levels: number): string => {
      let text = leaf(0);
      for (let i = 1; i <= levels; i++) text = `(${text} ${i % 2 === 0 ? 'AND' : 'OR'} ${leaf(i)})`;
      return text;
    };
    // Redundant parentheses add no level: they leave nothing in the syntax tree.
    assert.equal(overLimit(nested(150)), undefined);
    assert.equal(overLimit(alternating(patternLimits.depth + 5))?.limit, 'depth');
    const comparisons = (levels: number): string => {
      let text = test(0);
      for (let i = 1; i <= levels; i++) text = `(${text} ${i % 2 === 0 ? 'AND' : 'OR'} ipv4-addr:value != '${ip(i)}')`;
      return `[${text}]`;
    };
    // The `[…]` is a level, and so is each comparison.
    assert.equal(overLimit(comparisons(patternLimits.depth - 2)), undefined);
    assert.equal(overLimit(comparisons(patternLimits.depth - 1))?.limit, 'depth');
    assert.equal(overLimit(comparisons(patternLimits.depth + 5))?.limit, 'depth');
  });

  it('tens of thousands of comparisons are over `comparisons`', () => {
    // Past `length` too: the tree is measured whatever the text's length (the matcher checks both).
    const over = patternOverLimit(parsed(`[${grouped(range(20_000).map(test), 'OR')}]`));
    assert.equal(over?.limit, 'comparisons');
    assert.equal(over?.found, 20_000);
    assert.equal(overLimit(`[${grouped(range(patternLimits.comparisons + 1).map(test), 'OR')}]`)?.limit, 'comparisons');
    assert.equal(overLimit(`[${grouped(range(patternLimits.comparisons).map(test), 'OR')}]`), undefined);
  });

  it('an enormous IN list is over `set-elements`', () => {
    const over = overLimit(`[ipv4-addr:value IN (${range(patternLimits.setElements + 1).map((i) => `'${ip(i)}'`).join(',')})]`);
    assert.equal(over?.limit, 'set-elements');
    assert.equal(over?.found, patternLimits.setElements + 1);
  });

  it('many observation expressions joined by OR, each matched on its own, are bounded by `comparisons`', () => {
    assert.equal(overLimit(grouped(range(patternLimits.comparisons + 1).map(leaf), 'OR'))?.limit, 'comparisons');
    assert.equal(overLimit(grouped(range(patternLimits.comparisons).map(leaf), 'OR')), undefined);
  });

  it('many observation expressions joined by FOLLOWEDBY or AND, or qualified, are over `correlated-observations`', () => {
    const many = patternLimits.correlatedObservations + 1;
    assert.equal(overLimit(range(many).map(leaf).join(' FOLLOWEDBY '))?.limit, 'correlated-observations');
    assert.equal(overLimit(range(many).map(leaf).join(' AND '))?.limit, 'correlated-observations');
    assert.equal(overLimit(`(${range(many).map(leaf).join(' OR ')}) WITHIN 60 SECONDS`)?.limit, 'correlated-observations');
    assert.equal(overLimit(range(many - 1).map(leaf).join(' FOLLOWEDBY ')), undefined);
  });

  it('long qualifier chains are over `qualifiers`, large REPEATS counts over `repeats`', () => {
    assert.equal(overLimit(`${leaf(1)}${' WITHIN 5 SECONDS'.repeat(patternLimits.qualifiers + 1)}`)?.limit, 'qualifiers');
    assert.equal(overLimit(`${leaf(1)}${' REPEATS 2 TIMES'.repeat(patternLimits.qualifiers + 1)}`)?.limit, 'qualifiers');
    assert.equal(overLimit(`${leaf(1)} REPEATS ${patternLimits.repeats + 1} TIMES`)?.limit, 'repeats');
    assert.equal(overLimit(`${leaf(1)} REPEATS ${patternLimits.repeats} TIMES`), undefined);
  });

  it('a huge MATCHES or LIKE operand is over `operand-length`', () => {
    const long = 'a'.repeat(patternLimits.operandLength + 1);
    assert.equal(overLimit(`[url:value MATCHES '${long}']`)?.limit, 'operand-length');
    assert.equal(overLimit(`[url:value LIKE '%${long}%']`)?.limit, 'operand-length');
    // Equality keys are hash probes whatever their length: only the text's length bounds them.
    assert.equal(overLimit(`[url:value = '${long}']`), undefined);
  });

  it('regular expressions that together compile to more states than one may are over `regex-size`', () => {
    // One expression may be as large as the engine compiles (the budget bounds its time); several
    // together may not, or a pattern of short `.{0,999}` expressions would hold millions of states.
    assert.equal(overLimit("[url:value MATCHES 'a(?:.{0,999}){4}xy']"), undefined);
    const medium = "url:value MATCHES 'a.{0,900}b'";
    assert.equal(overLimit(`[${range(5).map(() => medium).join(' OR ')}]`), undefined);
    const over = overLimit(`[${range(6).map(() => medium).join(' OR ')}]`);
    assert.equal(over?.limit, 'regex-size');
    assert.equal(over?.allowed, patternLimits.regexSize);
  });

  it('the classic catastrophic-backtracking expressions are within the limits: the engine is linear', () => {
    // (a+)+$ and its kin cost backtracking engines exponential time; compile-linear-regex.ts runs them in
    // input × program time, so they need no limit of their own (catch-all.ts and the budget do the rest).
    for (const regex of ['(a+)+$', '(a|aa)+$', '(a|a?)+b', '^(\\\\w+\\\\s?)*$', '(.*a){12}']) {
      assert.equal(overLimit(`[url:value MATCHES '${regex}']`), undefined, regex);
    }
  });

  it('each limit exceeded is named in the message with what was found and what is allowed', () => {
    const over = overLimit(`[ipv4-addr:value IN (${range(patternLimits.setElements + 1).map((i) => `'${ip(i)}'`).join(',')})]`);
    assert.equal(
      over?.message,
      `set-elements: ${(patternLimits.setElements + 1).toLocaleString('en')} elements in IN sets, more than the ${patternLimits.setElements.toLocaleString('en')} planned for matching`,
    );
  });
});
