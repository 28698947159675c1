import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePattern } from './parse-pattern.ts';
import { plainDecimal, printPattern } from './print-pattern.ts';
import type {
  ComparisonExpression,
  ObjectPath,
  ObservationExpression,
  PathStep,
  PatternAst,
  PrimitiveLiteral,
  Qualifier,
  Span,
  TimestampLiteral,
} from './pattern-ast.ts';
import { specificationExamples } from './specification-examples.ts';

const span: Span = { start: 0, end: 0 };

/** The tree without spans, for comparing a reparsed tree with the original. */
function withoutSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSpans);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'span').map(([key, inner]) => [key, withoutSpans(inner)]));
  }
  return value;
}

function reparse(ast: PatternAst): PatternAst {
  const text = printPattern(ast);
  const result = parsePattern(text);
  if (!result.ok) assert.fail(`${text}\n${result.error.map((e) => e.message).join('\n')}`);
  return result.value;
}

// Generators of valid trees ---------------------------------------------------------------------------

const objectType = fc.constantFrom('file', 'ipv4-addr', 'network-traffic', 'x-custom-object', 'windows-registry-key');
const keyName = fc.oneof(
  fc.constantFrom('name', 'value', 'hashes', 'SHA-256', 'extensions', 'windows-pebinary-ext', 'dst_ref', 'AND', 't', "it's", 'back\\slash', ''),
  fc.string({ maxLength: 6 }),
);
const step: fc.Arbitrary<PathStep> = fc.oneof(
  keyName.map((name) => ({ kind: 'key' as const, name })),
  fc.nat(20).map((index) => ({ kind: 'index' as const, index })),
  fc.constant({ kind: 'any-index' as const }),
);
const path = (type: string): fc.Arbitrary<ObjectPath> =>
  fc.tuple(keyName, fc.array(step, { maxLength: 3 })).map(([first, rest]) => ({ objectType: type, steps: [{ kind: 'key', name: first }, ...rest], span }));

const timestampText = fc
  .tuple(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 86399 }), fc.option(fc.stringMatching(/^[0-9]{1,9}$/)))
  .map(([year, month, day, seconds, fraction]) => {
    const pad = (n: number): string => String(n).padStart(2, '0');
    const time = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
    return `${year}-${pad(month)}-${pad(day)}T${time}${fraction === null ? '' : `.${fraction}`}Z`;
  });
const timestamp: fc.Arbitrary<TimestampLiteral> = timestampText.map((value) => ({ kind: 'timestamp', value, span }));
const finiteFloat = fc.double({ noNaN: true, noDefaultInfinity: true });

const literalOfFamily = {
  string: fc.string({ maxLength: 8 }).map((value) => ({ kind: 'string' as const, value, span })),
  integer: fc.maxSafeInteger().map((value) => ({ kind: 'integer' as const, value, span })),
  float: finiteFloat.map((value) => ({ kind: 'float' as const, value, span })),
  boolean: fc.boolean().map((value) => ({ kind: 'boolean' as const, value, span })),
  timestamp,
  binary: fc.uint8Array({ maxLength: 8 }).map((bytes) => ({ kind: 'binary' as const, value: Buffer.from(bytes).toString('base64'), span })),
  hex: fc.stringMatching(/^([0-9a-fA-F]{2}){0,4}$/).map((value) => ({ kind: 'hex' as const, value, span })),
};
const orderable = fc.oneof(literalOfFamily.string, literalOfFamily.integer, literalOfFamily.float, literalOfFamily.timestamp, literalOfFamily.binary, literalOfFamily.hex);
const primitive: fc.Arbitrary<PrimitiveLiteral> = fc.oneof(orderable, literalOfFamily.boolean);
const set = fc
  .constantFrom<keyof typeof literalOfFamily>('string', 'integer', 'boolean', 'timestamp', 'hex')
  .chain((family) => fc.array(literalOfFamily[family] as fc.Arbitrary<PrimitiveLiteral>, { maxLength: 3 }))
  .map((elements) => ({ kind: 'set' as const, elements, span }));
const ipText = fc.oneof(
  fc.tuple(fc.ipV4(), fc.option(fc.integer({ min: 0, max: 32 }))).map(([ip, prefix]) => (prefix === null ? ip : `${ip}/${prefix}`)),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, prefix]) => `${ip}/${prefix}`),
);
const safeRegex = fc.constantFrom('^a.*b$', '(foo|bar)+', '[a-z0-9]{2,5}', '\\d+\\.\\d+', 'x?y*z', '(?i)evil');

const comparison = (type: string): fc.Arbitrary<ComparisonExpression> =>
  fc.oneof(
    fc.record({ path: path(type), negated: fc.boolean(), operator: fc.constantFrom('=' as const, '!=' as const), value: primitive }).map((c) => ({ kind: 'comparison' as const, ...c, span })),
    fc.record({ path: path(type), negated: fc.boolean(), operator: fc.constantFrom('<' as const, '<=' as const, '>' as const, '>=' as const), value: orderable }).map((c) => ({ kind: 'comparison' as const, ...c, span })),
    fc.record({ path: path(type), negated: fc.boolean(), value: set }).map((c) => ({ kind: 'comparison' as const, operator: 'IN' as const, ...c, span })),
    fc.record({ path: path(type), negated: fc.boolean(), value: literalOfFamily.string }).map((c) => ({ kind: 'comparison' as const, operator: 'LIKE' as const, ...c, span })),
    fc.record({ path: path(type), negated: fc.boolean(), value: safeRegex.map((value) => ({ kind: 'string' as const, value, span })) }).map((c) => ({ kind: 'comparison' as const, operator: 'MATCHES' as const, ...c, span })),
    fc.record({ path: path(type), negated: fc.boolean(), operator: fc.constantFrom('ISSUBSET' as const, 'ISSUPERSET' as const), value: ipText.map((value) => ({ kind: 'string' as const, value, span })) }).map((c) => ({ kind: 'comparison' as const, ...c, span })),
    path(type).map((p) => ({ kind: 'exists' as const, path: p, span })),
  );

/** Comparisons on one object type, so that every AND is allowed. */
const comparisonTree = (type: string): fc.Arbitrary<ComparisonExpression> =>
  fc.letrec<{ node: ComparisonExpression }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comparison(type),
      fc.record({ kind: fc.constantFrom('comparison-and' as const, 'comparison-or' as const), left: tie('node'), right: tie('node') }).map((n) => ({ ...n, span })),
    ),
  })).node;

const qualifier: fc.Arbitrary<Qualifier> = fc.oneof(
  fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0.001, max: 1e6, noNaN: true })).map((seconds) => ({ kind: 'within' as const, seconds, span })),
  fc.integer({ min: 1, max: 50 }).map((times) => ({ kind: 'repeats' as const, times, span })),
  fc
    .tuple(timestamp, timestamp)
    .filter(([a, b]) => a.value.slice(0, 19) !== b.value.slice(0, 19))
    .map(([a, b]) => (a.value < b.value ? [a, b] : [b, a]))
    .map(([start, stop]) => ({ kind: 'start-stop' as const, start: start as TimestampLiteral, stop: stop as TimestampLiteral, span })),
);

const observationTree: fc.Arbitrary<ObservationExpression> = fc.letrec<{ node: ObservationExpression }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    objectType.chain((type) => comparisonTree(type)).map((c) => ({ kind: 'observation' as const, comparison: c, span })),
    fc.record({ kind: fc.constantFrom('observation-and' as const, 'observation-or' as const, 'followed-by' as const), left: tie('node'), right: tie('node') }).map((n) => ({ ...n, span })),
    fc.record({ expression: tie('node'), qualifier }).map((n) => ({ kind: 'qualified' as const, ...n, span })),
  ),
})).node;

describe('printPattern', () => {
  it('prints canonical text', () => {
    const text = "([file:hashes.'SHA-256'=='x'   AND file:size<>1] followedby) ";
    assert.equal(parsePattern(text).ok, false);
    const cases: [string, string][] = [
      ["[file:hashes.'SHA-256'=='x'   AND file:size<>1]", "[file:hashes.'SHA-256' = 'x' AND file:size != 1]"],
      ["[file:name NOT IN('a','b')] REPEATS 2 TIMES WITHIN 5.0 SECONDS", "[file:name NOT IN ('a', 'b')] REPEATS 2 TIMES WITHIN 5 SECONDS"],
      ["(([file:a = 1]) AND ([file:b = 1] OR [file:c = 1]))", '[file:a = 1] AND ([file:b = 1] OR [file:c = 1])'],
      ['[file:a = 1] AND ([file:b = 1] AND [file:c = 1])', '[file:a = 1] AND ([file:b = 1] AND [file:c = 1])'],
      ['([file:a = 1] AND [file:b = 1]) AND [file:c = 1]', '[file:a = 1] AND [file:b = 1] AND [file:c = 1]'],
      ["[file:'AND' = .5 OR file:'x y' = -0.0]", "[file:'AND' = 0.5 OR file:'x y' = -0.0]"],
      ["[x-foo:a = 'it\\'s \\\\']", "[x-foo:a = 'it\\'s \\\\']"],
      ['[EXISTS file:extensions.windows-pebinary-ext]', "[EXISTS file:extensions.'windows-pebinary-ext']"],
    ];
    for (const [input, canonical] of cases) {
      const result = parsePattern(input);
      assert.ok(result.ok, input);
      if (result.ok) assert.equal(printPattern(result.value), canonical);
    }
  });

  it('writes floats without exponents', () => {
    assert.equal(plainDecimal(7), '7.0');
    assert.equal(plainDecimal(1e21), '1000000000000000000000.0');
    assert.equal(plainDecimal(1.5e-7), '0.00000015');
    assert.equal(plainDecimal(-2.5e-10), '-0.00000000025');
    assert.equal(plainDecimal(123.456), '123.456');
    assert.equal(Number(plainDecimal(5e-324)), 5e-324);
    assert.equal(Number(plainDecimal(1.7976931348623157e308)), 1.7976931348623157e308);
  });

  it('reprints every specification example to text that parses to the same tree', () => {
    for (const example of specificationExamples) {
      const first = parsePattern(example);
      assert.ok(first.ok);
      if (first.ok) assert.deepEqual(withoutSpans(reparse(first.value)), withoutSpans(first.value));
    }
  });

  it('round-trips random trees: parsePattern(printPattern(ast)) equals ast once spans are ignored', () => {
    fc.assert(
      fc.property(observationTree, (ast) => {
        assert.deepEqual(withoutSpans(reparse(ast)), withoutSpans(ast));
      }),
      { seed: 20260601, numRuns: 3000 },
    );
  });
});
