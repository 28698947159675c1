import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePattern } from './parse-pattern.ts';
import { specificationExamples } from './specification-examples.ts';
import type { Comparison, ComparisonExpression, ObservationExpression, PatternAst } from './pattern-ast.ts';

function parsed(text: string): PatternAst {
  const result = parsePattern(text);
  if (!result.ok) assert.fail(`${text}\n${result.error.map((e) => e.message).join('\n')}`);
  return result.value;
}

function messages(text: string): string[] {
  const result = parsePattern(text);
  assert.equal(result.ok, false, `expected ${text} to be refused`);
  return result.ok ? [] : result.error.map((e) => e.message);
}

function onlyComparison(text: string): Comparison {
  const ast = parsed(text);
  assert.equal(ast.kind, 'observation');
  const comparison = ast.kind === 'observation' ? ast.comparison : undefined;
  assert.equal(comparison?.kind, 'comparison');
  return comparison as Comparison;
}

/** Shape of a tree as a compact string: operators and leaf paths, no spans. */
function shape(node: ObservationExpression | ComparisonExpression): string {
  switch (node.kind) {
    case 'observation':
      return `[${shape(node.comparison)}]`;
    case 'qualified':
      return `(${shape(node.expression)} ${node.qualifier.kind})`;
    case 'observation-and':
    case 'observation-or':
    case 'followed-by':
    case 'comparison-and':
    case 'comparison-or':
      return `(${shape(node.left)} ${node.kind.replace(/^(observation|comparison)-/, '')} ${shape(node.right)})`;
    case 'exists':
      return `exists ${node.path.steps.map((s) => (s.kind === 'key' ? s.name : '?')).join('.')}`;
    case 'comparison':
      return node.path.steps.map((s) => (s.kind === 'key' ? s.name : s.kind === 'index' ? `[${s.index}]` : '[*]')).join('.');
  }
}


describe('parsePattern: the specification examples', () => {
  for (const example of specificationExamples) {
    it(`parses ${example.slice(0, 90)}`, () => {
      parsed(example);
    });
  }
});

describe('parsePattern: precedence and association', () => {
  it('binds qualifiers tightest: WITHIN applies to the last observation only', () => {
    assert.equal(shape(parsed("[file:name = 'a'] AND [file:name = 'b'] WITHIN 5 SECONDS")), '([name] and ([name] within))');
  });
  it('ranks FOLLOWEDBY below OR below AND between observations', () => {
    const ast = parsed("[file:a = 1] FOLLOWEDBY [file:b = 1] OR [file:c = 1] AND [file:d = 1]");
    assert.equal(shape(ast), '([a] followed-by ([b] or ([c] and [d])))');
  });
  it('associates to the left', () => {
    assert.equal(shape(parsed('[file:a = 1] AND [file:b = 1] AND [file:c = 1]')), '(([a] and [b]) and [c])');
    assert.equal(shape(parsed('[file:a = 1] FOLLOWEDBY [file:b = 1] FOLLOWEDBY [file:c = 1]')), '(([a] followed-by [b]) followed-by [c])');
    assert.equal(shape(parsed('[file:a = 1 OR file:b = 1 OR file:c = 1]')), '[((a or b) or c)]');
  });
  it('ranks AND above OR inside brackets, and parentheses override it', () => {
    assert.equal(shape(parsed('[file:a = 1 OR file:b = 1 AND file:c = 1]')), '[(a or (b and c))]');
    assert.equal(shape(parsed('[(file:a = 1 OR file:b = 1) AND file:c = 1]')), '[((a or b) and c)]');
  });
  it('lets parentheses group observations, and several qualifiers follow one another', () => {
    const ast = parsed("([file:a = 1] AND [file:b = 1]) REPEATS 2 TIMES WITHIN 60 SECONDS START t'2026-01-01T00:00:00Z' STOP t'2026-01-02T00:00:00Z'");
    assert.equal(shape(ast), '(((([a] and [b]) repeats) within) start-stop)');
  });
  it('ignores whitespace anywhere between tokens, and comments', () => {
    const ast = parsed("/* c2 */ [ file : name\n=\t'a' ] // trailing\n");
    assert.equal(shape(ast), '[name]');
  });
});

describe('parsePattern: operators', () => {
  const cases: [string, string, boolean][] = [
    ['[file:size = 1]', '=', false],
    ['[file:size == 1]', '=', false],
    ['[file:size != 1]', '!=', false],
    ['[file:size <> 1]', '!=', false],
    ['[file:size < 1]', '<', false],
    ['[file:size <= 1]', '<=', false],
    ['[file:size > 1]', '>', false],
    ['[file:size >= 1]', '>=', false],
    ['[file:size NOT = 1]', '=', true],
    ['[file:size NOT < 1]', '<', true],
    ["[file:name IN ('a', 'b')]", 'IN', false],
    ["[file:name NOT IN ('a')]", 'IN', true],
    ["[file:name LIKE 'a%']", 'LIKE', false],
    ["[file:name NOT LIKE 'a_']", 'LIKE', true],
    ["[file:name MATCHES '^a'] ", 'MATCHES', false],
    ["[file:name NOT MATCHES '^a']", 'MATCHES', true],
    ["[ipv4-addr:value ISSUBSET '10.0.0.0/8']", 'ISSUBSET', false],
    ["[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", 'ISSUBSET', true],
    ["[ipv4-addr:value ISSUPERSET '10.0.0.1']", 'ISSUPERSET', false],
    ["[ipv4-addr:value NOT ISSUPERSET '10.0.0.1']", 'ISSUPERSET', true],
  ];
  for (const [text, operator, negated] of cases) {
    it(`reads ${text}`, () => {
      const comparison = onlyComparison(text);
      assert.equal(comparison.operator, operator);
      assert.equal(comparison.negated, negated);
    });
  }
  it('reads EXISTS with its path', () => {
    const ast = parsed('[EXISTS file:extensions.ntfs-ext]');
    assert.equal(ast.kind === 'observation' && ast.comparison.kind, 'exists');
  });
  it('refuses a literal an operator does not take', () => {
    assert.deepEqual(messages('[file:size < TRUE]'), ["at 13: expected a string, number, timestamp, binary or hex literal, found 'TRUE'"]);
    assert.deepEqual(messages('[file:name LIKE 5]'), ["at 16: expected a string '…', found '5'"]);
    assert.deepEqual(messages("[file:name IN 'a']"), ["at 14: expected '(' starting a set such as ('a', 'b'), found '''"]);
    assert.deepEqual(messages('[NOT file:size = 1]'), ["at 1: expected an object path such as file:name, '(' or EXISTS, found 'NOT'"]);
  });
});

describe('parsePattern: literals', () => {
  const value = (text: string): unknown => {
    const comparison = onlyComparison(`[file:x = ${text}]`);
    const { span: _span, ...rest } = comparison.value as { span: unknown };
    return rest;
  };
  it('reads strings with the two escapes \\\' and \\\\', () => {
    assert.deepEqual(value("'it\\'s C:\\\\dir'"), { kind: 'string', value: "it's C:\\dir" });
    assert.deepEqual(value("''"), { kind: 'string', value: '' });
    assert.deepEqual(value("'ünïcödé ✓'"), { kind: 'string', value: 'ünïcödé ✓' });
  });
  it('refuses any other escape and an unclosed string', () => {
    assert.deepEqual(messages("[file:x = 'a\\n']"), ["at 12: string may only escape \\' and \\\\ (write a backslash as \\\\)"]);
    assert.deepEqual(messages("[file:x = 'abc]"), ["at 10: string is not closed with '"]);
  });
  it('reads integers and floats, signed', () => {
    assert.deepEqual(value('0'), { kind: 'integer', value: 0 });
    assert.deepEqual(value('-42'), { kind: 'integer', value: -42 });
    assert.deepEqual(value('+7'), { kind: 'integer', value: 7 });
    assert.deepEqual(value('7.25'), { kind: 'float', value: 7.25 });
    assert.deepEqual(value('-0.5'), { kind: 'float', value: -0.5 });
    assert.deepEqual(value('.5'), { kind: 'float', value: 0.5 });
    assert.deepEqual(value('-.5'), { kind: 'float', value: -0.5 });
    assert.deepEqual(value('9007199254740991'), { kind: 'integer', value: 9007199254740991 });
  });
  it('refuses malformed numbers', () => {
    assert.deepEqual(messages('[file:x = 007]'), ['at 10: integers have no leading zeros']);
    assert.deepEqual(messages('[file:x = 9007199254740992]'), ['at 10: integer is outside the STIX integer range (±2^53−1)']);
    assert.deepEqual(messages('[file:x = 1.]'), ["at 11: expected ']' or AND/OR, found '.'"]);
    assert.deepEqual(messages('[file:x = 12abc]'), ['at 10: a number must not run into letters']);
  });
  it('reads booleans (upper case only)', () => {
    assert.deepEqual(value('TRUE'), { kind: 'boolean', value: true });
    assert.deepEqual(value('FALSE'), { kind: 'boolean', value: false });
    assert.match(messages('[file:x = true]')[0] ?? '', /found 'true'/);
  });
  it('reads timestamps, with or without fractions, and refuses impossible ones', () => {
    assert.deepEqual(value("t'2026-01-01T00:00:00Z'"), { kind: 'timestamp', value: '2026-01-01T00:00:00Z' });
    assert.deepEqual(value("t'2016-02-29T23:59:60.123456789Z'"), { kind: 'timestamp', value: '2016-02-29T23:59:60.123456789Z' });
    assert.match(messages("[file:x = t'2457-73-22T32:81:84.1Z']")[0] ?? '', /^at 10: t'2457-73-22T32:81:84.1Z' is not a UTC timestamp/);
    assert.match(messages("[file:x = t'2015-02-29T00:00:00Z']")[0] ?? '', /not a UTC timestamp/);
    assert.match(messages("[file:x = t'2026-01-01T00:00:00+01:00']")[0] ?? '', /not a UTC timestamp/);
  });
  it('reads binary (padded base64) and hex literals', () => {
    assert.deepEqual(value("b'dGhpcyBpcyBhIHRlc3Q='"), { kind: 'binary', value: 'dGhpcyBpcyBhIHRlc3Q=' });
    assert.deepEqual(value("h'ffD8'"), { kind: 'hex', value: 'ffD8' });
    assert.deepEqual(value("h''"), { kind: 'hex', value: '' });
    assert.deepEqual(messages("[artifact:payload_bin = b'====']"), ["at 24: b'…' must hold padded base64"]);
    assert.deepEqual(messages("[file:x = b'abc']"), ["at 10: b'…' must hold padded base64"]);
    assert.deepEqual(messages("[file:x = h'abc']"), ["at 10: h'…' must hold pairs of hex digits"]);
  });
  it('reads sets of one type, including the empty set', () => {
    const set = onlyComparison("[file:x IN ('a', 'b', 'c')]").value;
    assert.equal(set.kind === 'set' && set.elements.length, 3);
    assert.equal(onlyComparison('[file:x IN ()]').value.kind, 'set');
    assert.equal(onlyComparison('[file:x IN (1, 2.5, -3)]').value.kind, 'set');
    assert.deepEqual(messages("[file:x IN ('a', 1)]"), ['at 11: the elements of a set must all be of one type (found string, number)']);
  });
});

describe('parsePattern: object paths', () => {
  const steps = (text: string): unknown => onlyComparison(`[${text} = 1]`).path.steps;
  it('reads nested keys, indices, [*] and quoted keys', () => {
    assert.deepEqual(steps("file:extensions.'windows-pebinary-ext'.sections[*].entropy"), [
      { kind: 'key', name: 'extensions' },
      { kind: 'key', name: 'windows-pebinary-ext' },
      { kind: 'key', name: 'sections' },
      { kind: 'any-index' },
      { kind: 'key', name: 'entropy' },
    ]);
    assert.deepEqual(steps("file:hashes.'SHA-256'"), [{ kind: 'key', name: 'hashes' }, { kind: 'key', name: 'SHA-256' }]);
    assert.deepEqual(steps('email-message:body_multipart[0].body_raw_ref.name'), [
      { kind: 'key', name: 'body_multipart' },
      { kind: 'index', index: 0 },
      { kind: 'key', name: 'body_raw_ref' },
      { kind: 'key', name: 'name' },
    ]);
    assert.deepEqual(steps("x-custom-thing:'quoted first'"), [{ kind: 'key', name: 'quoted first' }]);
  });
  it('records the object type and the span of the path', () => {
    const path = onlyComparison("[file:hashes.'SHA-256' = 'x']").path;
    assert.equal(path.objectType, 'file');
    assert.deepEqual(path.span, { start: 1, end: 22 });
  });
  it('refuses paths without a colon, negative indices and invalid type names', () => {
    assert.deepEqual(messages('[file.size = 1280]'), ["at 5: expected ':', found '.'"]);
    assert.deepEqual(messages('[file:names[-1] = 1]'), ["at 12: expected a list index (0, 1, …) or '*', found '-1'"]);
    assert.deepEqual(messages("[x_whatever:detected = t'2018-03-22T12:11:14.1Z']"), [
      "at 1: 'x_whatever' is not a STIX object type name (lowercase letters, digits and single hyphens, 3 to 250 characters)",
    ]);
    assert.match(messages('[File:name = 1]')[0] ?? '', /'File' is not a STIX object type name/);
  });
});

describe('parsePattern: qualifiers', () => {
  const qualifier = (text: string): unknown => {
    const ast = parsed(text);
    assert.equal(ast.kind, 'qualified');
    const { span: _span, ...rest } = (ast as Extract<PatternAst, { kind: 'qualified' }>).qualifier;
    return rest;
  };
  it('reads WITHIN with integer or float seconds, REPEATS and START/STOP', () => {
    assert.deepEqual(qualifier('[file:a = 1] WITHIN 300 SECONDS'), { kind: 'within', seconds: 300 });
    assert.deepEqual(qualifier('[file:a = 1] WITHIN 0.5 SECONDS'), { kind: 'within', seconds: 0.5 });
    assert.deepEqual(qualifier('[file:a = 1] REPEATS 5 TIMES'), { kind: 'repeats', times: 5 });
    const startStop = qualifier("[file:a = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'") as { start: { value: string } };
    assert.equal(startStop.start.value, '2016-06-01T00:00:00Z');
  });
  it('refuses zero or negative WITHIN and REPEATS, other time units, and START not before STOP', () => {
    assert.deepEqual(messages('[file:a = 1] WITHIN 0 SECONDS'), ['at 13: WITHIN needs a number of seconds greater than 0']);
    assert.deepEqual(messages('[file:a = 1] WITHIN -5 SECONDS'), ['at 13: WITHIN needs a number of seconds greater than 0']);
    assert.deepEqual(messages('[file:a = 1] REPEATS 0 TIMES'), ['at 13: REPEATS needs a count of at least 1']);
    assert.deepEqual(messages('[file:a = 1] REPEATS 1.5 TIMES'), ["at 21: expected a positive integer, found '1'"]);
    assert.deepEqual(messages('[file:a = 1] WITHIN 5 HOURS'), ["at 22: expected SECONDS, found 'HOURS'"]);
    assert.deepEqual(messages("[file:a = 1] START t'2016-07-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'"), [
      "at 13: START t'2016-07-01T00:00:00Z' must be earlier than STOP t'2016-06-01T00:00:00Z'",
    ]);
    assert.match(messages("[file:a = 1] START t'2016-07-01T00:00:00Z' STOP t'2016-07-01T00:00:00.000Z'")[0] ?? '', /must be earlier/);
    assert.deepEqual(messages("[file:a = 1] START '2016-07-01T00:00:00Z' STOP t'2016-08-01T00:00:00Z'"), [
      "at 19: expected a timestamp t'…', found '''",
    ]);
  });
});

describe('parsePattern: the rules beyond the grammar', () => {
  it('refuses comparisons on different object types joined by AND, but allows them joined by OR', () => {
    assert.deepEqual(messages("[network-traffic:src_port = 37020 AND user-account:user_id = 'root']"), [
      'at 1: comparisons joined by AND must refer to the same object type (found network-traffic and user-account); one observation expression matches one SCO — use [a] AND [b] for two objects',
    ]);
    parsed("[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'example.com']");
    parsed("[(file:name = 'a' OR process:name = 'a') AND file:size > 1]");
    assert.equal(messages("[(file:name = 'a' OR process:name = 'a') AND url:value = 'x']").length, 1);
  });
  it('refuses MATCHES expressions that would need backtracking, and bad IP ranges', () => {
    assert.match(messages("[file:name MATCHES '(a)\\\\1']")[0] ?? '', /^at 19: MATCHES: backreferences are not supported/);
    assert.match(messages("[file:name MATCHES 'a(?=b)']")[0] ?? '', /lookahead and lookbehind are not supported/);
    assert.match(messages("[file:name MATCHES '(']")[0] ?? '', /group is not closed/);
    assert.deepEqual(messages("[ipv4-addr:value ISSUBSET '10.0.0.0/33']"), [
      "at 26: ISSUBSET needs an IPv4 or IPv6 address or CIDR block such as '198.51.100.0/24', found '10.0.0.0/33'",
    ]);
  });
  it('reports every rule broken, not only the first', () => {
    assert.equal(messages("[x:a = 1] AND [file:a = 1] WITHIN 0 SECONDS AND [file:name MATCHES '\\\\1']").length, 3);
  });
});

describe('parsePattern: syntax errors name the place and what was expected', () => {
  const cases: [string, string][] = [
    ['file:size = 1280', "at 0: expected '[' or '(', found 'file'"],
    ['[file:size = 1280 foo]', "at 18: expected ']' or AND/OR, found 'foo'"],
    ['[file:size = 1280', "at 17: expected ']' or AND/OR, found end of pattern"],
    ["[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]", "at 19: expected a string, number, boolean, timestamp, binary or hex literal, found 'cead3f77f6cda6ec00f57d76…'"],
    ['[file:name MATCHES /.*\\.dll/]', "at 19: unexpected character '/'"],
    ["[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']", "at 18: unexpected character '?'"],
    ['[foo:bar=1] within 2 seconds', "at 12: expected AND, OR, FOLLOWEDBY, a qualifier (WITHIN, START, REPEATS) or end of pattern, found 'within' (keywords are upper case: WITHIN)"],
    ["[network-traffic:dst_ref.value ISSUBSET ]", "at 40: expected a string '…', found ']'"],
    ['[file:a = 1] AND', "at 16: expected '[' or '(', found end of pattern"],
    ['([file:a = 1]', "at 13: expected ')', AND/OR/FOLLOWEDBY or a qualifier, found end of pattern"],
    ['[]', "at 1: expected an object path such as file:name, '(' or EXISTS, found ']'"],
    ['', "at 0: expected '[' or '(', found end of pattern"],
    ['[file:a = 1]\n  AND [file:b = ]', "at 29 (line 2, column 17): expected a string, number, boolean, timestamp, binary or hex literal, found ']'"],
    ['[file:a = 1] /* open', 'at 13: comment is not closed with */'],
  ];
  for (const [text, message] of cases) {
    it(`${JSON.stringify(text)} → ${message}`, () => {
      const result = parsePattern(text);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.error.length, 1);
        assert.equal(result.error[0]?.message, message);
      }
    });
  }
  it('carries offset, line, column, expected and found as data', () => {
    const result = parsePattern("[file:a = 1]\n[file:b = 2]");
    assert.equal(result.ok, false);
    if (!result.ok) {
      const error = result.error[0];
      assert.equal(error?.offset, 13);
      assert.equal(error?.line, 2);
      assert.equal(error?.column, 1);
      assert.equal(error?.found, "'['");
      assert.ok(error?.expected.includes('FOLLOWEDBY'));
    }
  });
  it('refuses nesting beyond the depth limit instead of overflowing the stack', () => {
    const deep = '('.repeat(10_000) + '[file:a = 1]' + ')'.repeat(10_000);
    assert.match(messages(deep)[0] ?? '', /nested deeper than 200 levels/);
    const deepComparison = '[' + '('.repeat(10_000) + 'file:a = 1' + ')'.repeat(10_000) + ']';
    assert.match(messages(deepComparison)[0] ?? '', /nested deeper than 200 levels/);
  });
});

describe('parsePattern: spans', () => {
  it('gives each node the source range it came from, parentheses included', () => {
    const text = "([file:a = 1] AND [file:b = 'x']) WITHIN 5 SECONDS";
    const ast = parsed(text);
    assert.deepEqual(ast.span, { start: 0, end: text.length });
    assert.equal(ast.kind, 'qualified');
    if (ast.kind === 'qualified') {
      assert.equal(text.slice(ast.expression.span.start, ast.expression.span.end), "([file:a = 1] AND [file:b = 'x'])");
      assert.equal(text.slice(ast.qualifier.span.start, ast.qualifier.span.end), 'WITHIN 5 SECONDS');
    }
  });
});

describe('parsePattern never throws', () => {
  const alphabet = "[]()':.,*=!<>-+_0123456789abcfhtzANDORNOTINLIKEMATCHESXISTFOLWBYREPATSWHSC \\\n/%";
  it('on random text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 80 })), (text) => {
        const result = parsePattern(text);
        if (!result.ok) assert.ok(result.error.length > 0 && result.error.every((e) => e.message.startsWith('at ')));
      }),
      { seed: 6, numRuns: 5000 },
    );
  });
  it('on random mutations of valid patterns', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...specificationExamples),
        fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 4 })), { minLength: 1, maxLength: 4 }),
        (example, edits) => {
          let text = example;
          for (const [at, remove, insert] of edits) {
            const position = at % (text.length + 1);
            text = text.slice(0, position) + insert + text.slice(position + remove);
          }
          const result = parsePattern(text);
          if (!result.ok) {
            for (const error of result.error) {
              assert.ok(error.offset >= 0 && error.offset <= text.length);
              assert.ok(error.line >= 1 && error.column >= 1);
            }
          }
        },
      ),
      { seed: 66, numRuns: 5000 },
    );
  });
  it('on values that are not strings at all', () => {
    assert.equal(parsePattern(undefined as unknown as string).ok, false);
    assert.equal(parsePattern(42 as unknown as string).ok, false);
  });
});
