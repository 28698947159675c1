import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePattern } from '../pattern/parse-pattern.ts';
import { compileMatchesRegex } from '../pattern/matches-regex-cache.ts';
import { matchLike } from '../pattern/match-like.ts';
import { holdsOn } from '../pattern/evaluate-pattern.ts';
import { likeRequiredLiteral, likeRequiredTexts, planPattern, regexRequiredLiteral, regexRequiredTexts, scoNeedsOf, staysInItsSco, type MatchPlan, type RequiredText } from './plan-pattern.ts';

function plan(pattern: string): MatchPlan {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) throw new Error(parsed.error[0]?.message);
  return planPattern(parsed.value);
}

function describeAnchors(pattern: string): string[][] {
  return plan(pattern).leaves.map((leaf) =>
    leaf.anchors === undefined
      ? ['always']
      : leaf.anchors.map((a) => `${a.kind} ${a.path.key} ${a.kind === 'equal' ? String(a.value) : a.kind === 'cidr' ? a.block : a.literal}${leaf.exact ? ' (exact)' : ''}`),
  );
}

describe('planning a pattern for the bulk matcher', () => {
  it('an equality is an exact key on its object path, quoted keys included', () => {
    assert.deepEqual(describeAnchors("[ipv4-addr:value = '198.51.100.7']"), [['equal ipv4-addr:value 198.51.100.7 (exact)']]);
    assert.deepEqual(describeAnchors("[file:hashes.'SHA-256' = 'ab']"), [["equal file:hashes.'SHA-256' ab (exact)"]]);
    assert.deepEqual(describeAnchors('[network-traffic:dst_port = 4444]'), [['equal network-traffic:dst_port 4444 (exact)']]);
  });

  it('IN gives one key per element; ISSUBSET an IP block; LIKE without wildcards a key', () => {
    assert.deepEqual(describeAnchors("[domain-name:value IN ('a.example', 'b.example')]"), [
      ['equal domain-name:value a.example (exact)', 'equal domain-name:value b.example (exact)'],
    ]);
    assert.deepEqual(describeAnchors("[ipv4-addr:value ISSUBSET '10.0.0.0/8']"), [['cidr ipv4-addr:value 10.0.0.0/8 (exact)']]);
    assert.deepEqual(describeAnchors("[domain-name:value LIKE 'exact.example']"), [['equal domain-name:value exact.example (exact)']]);
  });

  it('LIKE and MATCHES give the longest required literal, never exact', () => {
    assert.deepEqual(describeAnchors("[domain-name:value LIKE '%.evil-corp.com']"), [['substring domain-name:value .evil-corp.com']]);
    assert.deepEqual(describeAnchors("[url:value MATCHES '^https?://[a-z]+\\\\.bad-host\\\\.net/']"), [['substring url:value .bad-host.net/']]);
  });

  it('OR needs both sides; AND one side, the more selective, and is never exact', () => {
    assert.deepEqual(describeAnchors("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value ISSUBSET '10.0.0.0/8']"), [
      ['equal ipv4-addr:value 1.2.3.4 (exact)', 'cidr ipv4-addr:value 10.0.0.0/8 (exact)'],
    ]);
    assert.deepEqual(describeAnchors("[file:name LIKE '%invoice%' AND file:hashes.MD5 = 'aa']"), [['equal file:hashes.MD5 aa']]);
    assert.deepEqual(describeAnchors("[file:size > 10 AND file:name = 'x.exe']"), [['equal file:name x.exe']]);
    assert.deepEqual(describeAnchors("[file:size > 10 OR file:name = 'x.exe']"), [['always']]);
  });

  it('tests no key can witness leave the leaf to be evaluated on every observation', () => {
    for (const pattern of [
      "[ipv4-addr:value != '1.2.3.4']",
      "[ipv4-addr:value NOT = '1.2.3.4']",
      '[file:size > 1000]',
      '[EXISTS file:name]',
      "[domain-name:value LIKE '%ab%']",
      "[url:value MATCHES 'a|bcdef']",
      "[artifact:payload_bin = 'aGVsbG8=']",
    ]) {
      assert.deepEqual(describeAnchors(pattern), [['always']], pattern);
    }
  });

  it('observation expressions: one leaf per [...], the widest WITHIN, and whether one leaf alone is a match', () => {
    const followed = plan("([ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'x.example']) WITHIN 300 SECONDS");
    assert.equal(followed.leaves.length, 2);
    assert.equal(followed.withinSeconds, 300);
    assert.equal(followed.anyLeafMatches, false);
    assert.equal(plan("[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'x.example']").anyLeafMatches, true);
    assert.equal(plan("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES").anyLeafMatches, false);
  });
});

describe('required literals', () => {
  it('LIKE: the longest run between % and _', () => {
    assert.equal(likeRequiredLiteral('%.evil.com'), '.evil.com');
    assert.equal(likeRequiredLiteral('inv_ice%2026%.ex'), '2026');
    assert.equal(likeRequiredLiteral('%'), '');
  });

  it('MATCHES: plain runs only; optional characters, classes, groups and escapes like \\d end a run', () => {
    assert.equal(regexRequiredLiteral('^evil\\.example$'), 'evil.example');
    assert.equal(regexRequiredLiteral('^https?://x'), 'http');
    assert.equal(regexRequiredLiteral('^https?://xyz12'), '://xyz12');
    assert.equal(regexRequiredLiteral('abcd*ef'), 'abc');
    assert.equal(regexRequiredLiteral('[a-z]+payload(\\d+)?\\.bin'), 'payload');
    assert.equal(regexRequiredLiteral('x{2,3}yz'), 'yz');
  });

  it('MATCHES: alternation at the top level, inline flags and lookaround give nothing', () => {
    assert.equal(regexRequiredLiteral('evil|good'), '');
    assert.equal(regexRequiredLiteral('(?i)evil'), '');
    assert.equal(regexRequiredLiteral('(a|b)evilhost'), 'evilhost');
  });

  it('MATCHES: a `{` that is no counted repetition is a character, and the alternation after it still gives nothing', () => {
    assert.equal(regexRequiredLiteral('evil{x'), 'evil{x');
    assert.equal(regexRequiredLiteral('abcd{|zzz'), '', 'the engine reads abcd{ OR zzz');
  });
});

/** `"` marks a text that must start or end the value, as the screen looks for it. */
function marked(texts: readonly RequiredText[]): string[] {
  return texts.map(({ text, atStart, atEnd }) => `${atStart ? '"' : ''}${text}${atEnd ? '"' : ''}`);
}

describe('required texts: all of them, and where they must sit', () => {
  it('MATCHES: a run after a leading ^ starts the value, one before a final $ ends it', () => {
    assert.deepEqual(marked(regexRequiredTexts('^zz[0-9]{6}\\.com$')), ['"zz', '.com"']);
    assert.deepEqual(marked(regexRequiredTexts('^https?://[a-z]+/login/x[0-9a-f]*\\.php$')), ['"http', '://', '/login/x', '.php"']);
    assert.deepEqual(marked(regexRequiredTexts('evil\\.example')), ['evil.example']);
  });

  it('MATCHES: nothing is bound to an end it may not reach (optional, repeated or escaped characters, a $ before the end)', () => {
    assert.deepEqual(marked(regexRequiredTexts('^a?bc')), ['bc'], 'the a may be absent: bc need not start the value');
    assert.deepEqual(marked(regexRequiredTexts('ab+$')), ['ab'], 'abbb ends with bb');
    assert.deepEqual(marked(regexRequiredTexts('ab*$')), ['a']);
    assert.deepEqual(marked(regexRequiredTexts('ab\\$')), ['ab$'], 'an escaped $ is a character');
    assert.deepEqual(marked(regexRequiredTexts('(x)^ab')), ['ab'], 'a ^ that does not lead');
    assert.deepEqual(marked(regexRequiredTexts('ab$c')), ['ab', 'c'], 'a $ that does not end the expression');
    assert.deepEqual(regexRequiredTexts('(?m)^ab$'), [], 'multi-line: ^ and $ match at every line');
  });

  it('LIKE: every run between wildcards; the first starts the value and the last ends it unless a wildcard is there', () => {
    assert.deepEqual(marked(likeRequiredTexts('invoice-%.exe')), ['"invoice-', '.exe"']);
    assert.deepEqual(marked(likeRequiredTexts('%.evil-%.com')), ['.evil-', '.com"']);
    assert.deepEqual(marked(likeRequiredTexts('http://x/%')), ['"http://x/']);
    assert.deepEqual(marked(likeRequiredTexts('a_c%')), ['"a', 'c']);
  });

  it('property: every value a MATCHES or LIKE holds on contains every required text, where it is marked to be', () => {
    const holds = (texts: readonly RequiredText[], value: string): boolean =>
      texts.every(({ text, atStart, atEnd }) => value.includes(text) && (!atStart || value.startsWith(text)) && (!atEnd || value.endsWith(text)));
    const values = fc.stringMatching(/^[ab.x{}]{0,12}$/);
    // Expressions over a small alphabet, from pieces the planner reads differently; checked by the engine itself.
    const piece = fc.constantFrom('a', 'b', 'x', 'ab', '.', 'a?', 'b*', 'a+', 'x{2}', 'b{1,2}', '[ab]', '(a|b)', '(ab)?', '\\.', '{', '}', 'a??', '|');
    const expressions = fc.tuple(fc.boolean(), fc.array(piece, { minLength: 1, maxLength: 6 }), fc.boolean()).map(([lead, pieces, trail]) => `${lead ? '^' : ''}${pieces.join('')}${trail ? '$' : ''}`);
    fc.assert(
      fc.property(expressions, fc.array(values, { minLength: 1, maxLength: 8 }), (source, texts) => {
        const regex = compileMatchesRegex(source);
        if (!regex.ok) return;
        const required = regexRequiredTexts(source);
        for (const value of texts) if (regex.value.search(value)) assert.ok(holds(required, value), `${source} on ${value}: ${JSON.stringify(marked(required))}`);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[ab.%_]{1,8}$/), fc.array(values, { minLength: 1, maxLength: 8 }), (pattern, texts) => {
        const required = likeRequiredTexts(pattern);
        for (const value of texts) if (matchLike(pattern, value)) assert.ok(holds(required, value), `${pattern} on ${value}: ${JSON.stringify(marked(required))}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('paths and the SCO their values lie in', () => {
  const path = (pattern: string): Parameters<typeof staysInItsSco>[0] => {
    const anchor = plan(pattern).leaves[0]?.anchors?.[0];
    assert.ok(anchor !== undefined, pattern);
    return anchor.path;
  };

  it('a path of plain keys, list steps and a final reference stays inside its SCO', () => {
    assert.equal(staysInItsSco(path("[file:hashes.'SHA-256' = 'x']")), true);
    assert.equal(staysInItsSco(path("[network-traffic:protocols[*] = 'tcp']")), true);
    assert.equal(staysInItsSco(path("[network-traffic:src_ref = 'ipv4-addr--1']")), true, 'the reference itself, not what it names');
  });

  it('a path that steps past a reference leaves it', () => {
    assert.equal(staysInItsSco(path("[network-traffic:dst_ref.value = '10.0.0.1']")), false);
    assert.equal(staysInItsSco(path("[email-message:to_refs[*].value = 'a@b.example']")), false);
    assert.equal(staysInItsSco(path("[email-message:to_refs[0].value LIKE '%@b.example']")), false);
  });
});

describe('what an SCO must have for a leaf without anchors to hold on it (scoNeedsOf)', () => {
  const needs = (pattern: string): string[] => {
    const leaf = plan(pattern).leaves[0];
    assert.ok(leaf !== undefined, pattern);
    return scoNeedsOf(leaf.node.comparison).map(({ objectType, property }) => `${objectType} ${property ?? '(any)'}`);
  };

  it('a comparison needs an SCO of its type holding the first key of its path', () => {
    assert.deepEqual(needs("[ipv4-addr:value != '10.0.0.1']"), ['ipv4-addr value']);
    assert.deepEqual(needs("[file:hashes.'SHA-256' != 'ab']"), ['file hashes']);
    assert.deepEqual(needs("[network-traffic:dst_ref.value NOT = '10.0.0.1']"), ['network-traffic dst_ref'], 'a reference is followed from the SCO that holds it');
    assert.deepEqual(needs('[EXISTS x-thing:a.b]'), ['x-thing a']);
  });

  it('OR needs what either side needs; AND what one side needs (both hold on the same SCO)', () => {
    assert.deepEqual(needs("[ipv4-addr:value != 'a' OR domain-name:value != 'b']"), ['ipv4-addr value', 'domain-name value']);
    assert.deepEqual(needs("[x-thing:a != 'a' AND x-thing:b != 'b']").length, 1);
    assert.deepEqual(needs("[x-thing:a != 'a' OR x-thing:a > 'b']"), ['x-thing a'], 'the same need once');
  });

  it('property: a leaf never holds on an SCO that meets none of its needs', () => {
    // Also a path through a reference (to an SCO of another type, which must not count), one on `type`
    // itself and one into a list.
    const comparisons = ["x-a:p != 'v'", "x-a:q NOT = 'v'", "x-b:p != 'v'", "x-b:q < 'w'", 'EXISTS x-a:q', "x-a:r.s != 'v'", "x-a:t_ref.p != 'v'", "x-a:type != 'x-z'", "x-b:l[*] != 'v'"];
    const expression = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(...comparisons),
        fc.tuple(tie('node'), fc.constantFrom('AND', 'OR'), tie('node')).map(([a, op, b]) => `(${a} ${op} ${b})`),
      ),
    })).node;
    const sco = fc.record(
      { type: fc.constantFrom('x-a', 'x-b', 'x-c'), p: fc.constantFrom('v', 'u'), q: fc.constantFrom('v', 'a'), r: fc.constant({ s: 'u' }), t_ref: fc.constant('other'), l: fc.constant(['u']) },
      { requiredKeys: ['type'] },
    );
    const other = { type: 'x-b', p: 'u', l: ['u'] };
    fc.assert(
      fc.property(expression, sco, (text, object) => {
        // AND across two types is refused by the parser: nothing to plan.
        const parsed = parsePattern(`[${text}]`);
        if (!parsed.ok) return;
        const leaf = planPattern(parsed.value).leaves[0];
        assert.ok(leaf !== undefined);
        const met = scoNeedsOf(leaf.node.comparison).some(({ objectType, property }) => object.type === objectType && (property === undefined || Object.prototype.hasOwnProperty.call(object, property)));
        if (!met) assert.equal(holdsOn(leaf.node.comparison, object, (ref) => (ref === 'other' ? other : undefined)), false, `${text} on ${JSON.stringify(object)}`);
      }),
      { numRuns: 2000 },
    );
  });
});
