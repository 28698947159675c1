import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileLinearRegex, maxRegexProgramSize } from './compile-linear-regex.ts';

function search(source: string, input: string): boolean {
  const compiled = compileLinearRegex(source);
  if (!compiled.ok) assert.fail(`${source}: ${compiled.error}`);
  return compiled.value.search(input);
}

function refusal(source: string): string {
  const compiled = compileLinearRegex(source);
  assert.equal(compiled.ok, false, `${source} should be refused`);
  return compiled.ok ? '' : compiled.error;
}

describe('compileLinearRegex', () => {
  it('supports the PCRE syntax that needs no backtracking', () => {
    const cases: [string, string, boolean][] = [
      ['abc', 'xxabcxx', true],
      ['^abc$', 'abc', true],
      ['^abc$', 'abc\n', true],
      ['^abc\\z', 'abc\n', false],
      ['(?m)^b$', 'a\nb\nc', true],
      ['^b$', 'a\nb\nc', false],
      ['a.c', 'a\nc', false],
      ['(?s)a.c', 'a\nc', true],
      ['(?i)HeLLo', 'say hello', true],
      ['(?i:a)b', 'Ab', true],
      ['(?i:a)b', 'AB', false],
      ['[a-c]+z', 'bbcaz', true],
      ['[^a-c]', 'abc', false],
      ['[[:digit:]]{3}', 'a123', true],
      ['[\\d.]+', '1.2', true],
      ['\\bcat\\b', 'a cat!', true],
      ['\\bcat\\b', 'concat', false],
      ['\\Bcat', 'concat', true],
      ['colou?r', 'color', true],
      ['a{2,3}b', 'aab', true],
      ['a{2,3}b', 'ab', false],
      ['a{2}', 'a', false],
      ['a{,2}', 'a{,2}', true],
      ['(foo|bar)baz', 'barbaz', true],
      ['(?:foo|bar)+?$', 'foobar', true],
      ['(?<name>x)y', 'xy', true],
      ['\\x41\\u0042\\x{43}', 'ABC', true],
      ['\\t\\.', '\t.', true],
      ['🙂.', 'a🙂b', true],
      ['^.$', '🙂', true],
      ['', 'anything', true],
      ['a|', 'zzz', true],
      ['(a*)*b', 'aaab', true],
      ['(?#comment)x', 'x', true],
    ];
    for (const [source, input, expected] of cases) assert.equal(search(source, input), expected, `${source} on ${JSON.stringify(input)}`);
  });

  it('refuses what would need backtracking, with the reason', () => {
    assert.match(refusal('(a)\\1'), /backreferences are not supported/);
    assert.match(refusal('\\k<n>'), /backreferences/);
    assert.match(refusal('a(?=b)'), /lookahead and lookbehind are not supported/);
    assert.match(refusal('(?<!a)b'), /lookahead and lookbehind/);
    assert.match(refusal('(?>a+)b'), /atomic groups are not supported/);
    assert.match(refusal('a++'), /possessive quantifiers are not supported/);
    assert.match(refusal('\\p{L}'), /Unicode property classes/);
    assert.match(refusal('(?R)'), /unsupported group syntax/);
    assert.match(refusal('*a'), /nothing to repeat/);
    assert.match(refusal('a{1001}'), /repetition counts above 1000/);
    assert.match(refusal('(a{1000}){1000}'), new RegExp(`more than ${maxRegexProgramSize} steps`));
    assert.match(refusal('[z-a]'), /out of order/);
    assert.match(refusal('(ab'), /not closed/);
    assert.match(refusal('ab)'), /unmatched '\)'/);
    assert.match(refusal('\\q'), /unknown escape/);
  });

  it('refuses a POSIX class name that is only a property every object inherits', () => {
    // The one lower-case name on Object.prototype, the only kind the class syntax can spell.
    assert.match(refusal('^[[:constructor:]]+$'), /unknown POSIX class/);
    assert.match(refusal('^[[:^constructor:]]+$'), /unknown POSIX class/);
    assert.equal(search('^[[:alpha:]]+$', 'abc'), true, 'a real class still compiles');
  });

  it('runs in time linear in the input on expressions that are exponential for backtracking engines', () => {
    const input = 'a'.repeat(50_000) + '!';
    for (const source of ['(a+)+$', '(a|aa)+$', '^(a|a?)+$', '^(\\w+\\s?)*$', '(x+x+)+y']) {
      const started = performance.now();
      assert.equal(search(source, input), false);
      assert.ok(performance.now() - started < 2000, source);
    }
  });

  it('agrees with the JavaScript engine on random expressions of the shared syntax', () => {
    const atom = fc.oneof(fc.constantFrom('a', 'b', 'c', '.', '\\d', '\\w', '[ab]', '[^a]', '[a-c0-2]', '\\.', '^', '$', '\\b'));
    const regex: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        atom,
        fc.tuple(tie('node'), tie('node')).map(([a, b]) => a + b),
        fc.tuple(tie('node'), tie('node')).map(([a, b]) => `(?:${a}|${b})`),
        fc.tuple(tie('node'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '*?', '{0,}')).map(([a, q]) => `(?:${a})${q}`),
        tie('node').map((a) => `(${a})`),
      ),
    })).node;
    fc.assert(
      fc.property(regex, fc.string({ unit: fc.constantFrom('a', 'b', 'c', '1', '.', ' ', '_'), maxLength: 12 }), (source, input) => {
        assert.equal(search(source, input), new RegExp(source).test(input), `/${source}/ on ${JSON.stringify(input)}`);
      }),
      { seed: 1996, numRuns: 3000 },
    );
  });
});
