import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseJson, parseJsonNoting, scanJson } from './parse-json.ts';
import type { JsonParseProblem } from './parse-json.ts';

function problemOf(text: string, options: Parameters<typeof parseJson>[1] = {}): JsonParseProblem {
  const result = parseJson(text, options);
  assert.equal(result.ok, false, 'expected a problem');
  if (result.ok) throw new Error('unreachable');
  return result.error;
}

describe('parseJson: well-formed input', () => {
  it('returns what JSON.parse returns', () => {
    const text = '{"type":"indicator","labels":["a","b\\"c"],"n":[1,-2.5,3e2],"ok":true,"none":null}';
    assert.deepEqual(parseJson(text), { ok: true, value: JSON.parse(text) });
  });

  it('agrees with JSON.parse on any JSON value within the depth limit (property)', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
      const text = JSON.stringify(value);
      const result = parseJson(text, { unsafeNumbers: 'allow' });
      assert.ok(result.ok);
      assert.deepEqual(result.value, JSON.parse(text));
    }), { numRuns: 300 });
  });

  it('never throws on arbitrary text (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      const result = parseJson(text);
      if (!result.ok) assert.ok(result.error.message.length > 0);
    }), { numRuns: 1000 });
  });

  it('counts brackets inside strings as text, not nesting', () => {
    const text = `{"pattern":"${'[['.repeat(100)}\\\\","x":"\\"{{{"}`;
    assert.ok(parseJson(text, { maxDepth: 2 }).ok);
  });

  it('ignores a leading UTF-8 byte-order mark (RFC 8259 §8.1 allows it)', () => {
    assert.deepEqual(parseJson('\uFEFF{"a":1}'), { ok: true, value: { a: 1 } });
  });
});

describe('parseJson: attacker input gives a problem naming what and where, never an exception', () => {
  it('rejects 100,000 levels of nesting at the place the limit is passed', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const problem = problemOf(deep);
    assert.equal(problem.code, 'ENT_INPUT_TOO_DEEP');
    assert.equal(problem.position, 64);
    assert.equal(problem.message, 'JSON nested deeper than the limit of 64 levels (line 1, column 65)');
    assert.equal(problemOf('{"a":{"b":[1]}}', { maxDepth: 2 }).column, 11);
  });

  it('accepts a 10 MB string, and refuses it under a smaller byte limit', () => {
    const big = `{"description":"${'x'.repeat(10 * 1024 * 1024)}"}`;
    const result = parseJson(big);
    assert.ok(result.ok);
    const problem = problemOf(big, { maxBytes: 1024 * 1024 });
    assert.equal(problem.code, 'ENT_INPUT_TOO_LARGE');
    assert.equal(problem.message, 'input is larger than the limit of 1048576 bytes');
  });

  it('counts UTF-8 bytes, not characters, against the limit', () => {
    assert.ok(parseJson('"éé"', { maxBytes: 6 }).ok);
    assert.equal(problemOf('"ééé"', { maxBytes: 6 }).code, 'ENT_INPUT_TOO_LARGE');
  });

  it('locates truncated JSON at its end', () => {
    const problem = problemOf('{\n  "type": "indicator",\n  "name": "trunc');
    assert.equal(problem.code, 'ENT_INPUT_MALFORMED_JSON');
    assert.equal(problem.message, 'not valid JSON: Unterminated string (line 3, column 17)');
    assert.equal(problemOf('').message, 'not valid JSON: Unexpected end of JSON input (line 1, column 1)');
  });

  it('recovers the place of an "Unexpected token" error from V8\'s quoted context', () => {
    assert.deepEqual([problemOf('{"a":}').line, problemOf('{"a":}').column], [1, 6]);
    const long = `{"first":"${'a'.repeat(50)}",\n"second":}${' '.repeat(50)}`;
    assert.deepEqual([problemOf(long).line, problemOf(long).column], [2, 10]);
    const atEnd = `[1,2,3,"${'a'.repeat(30)}",]`;
    assert.equal(problemOf(atEnd).column, atEnd.length);
  });

  it('names a UTF-16 file read as UTF-8', () => {
    const utf16le = '\uFFFD\uFFFD{\u0000"\u0000a\u0000"\u0000:\u00001\u0000}\u0000';
    assert.match(problemOf(utf16le).message, /UTF-16 byte-order mark read as UTF-8/);
    assert.match(problemOf('{\u0000"\u0000a\u0000"\u0000:\u00001\u0000}\u0000').message, /NUL characters/);
  });

  it('rejects a raw NUL inside a string at its place', () => {
    const problem = problemOf('{"a":"x\u0000y"}');
    assert.equal(problem.code, 'ENT_INPUT_MALFORMED_JSON');
    assert.equal(problem.column, 8);
  });

  it('keeps "__proto__" keys as own data and never changes a prototype', () => {
    const result = parseJson('{"__proto__":{"polluted":true},"a":{"__proto__":{"isAdmin":true}}}');
    assert.ok(result.ok);
    const value = result.value as Record<string, Record<string, unknown>>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.equal(value.a?.['isAdmin'], undefined);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    // Spread and structuredClone copy it as data too (what Entente code uses); Object.assign would not.
    assert.equal(Object.getPrototypeOf({ ...value }), Object.prototype);
    assert.deepEqual(Object.keys(structuredClone(value)), ['__proto__', 'a']);
  });

  it('refuses integers beyond 2^53 and numbers that overflow, which JSON.parse would change silently', () => {
    const big = problemOf('{"image_base": 18446744073709551615}');
    assert.equal(big.message, 'integer 18446744073709551615 is beyond 2^53 and would lose precision; send it as a string (line 1, column 16)');
    assert.match(problemOf('[1e400]').message, /number 1e400 is too large/);
    assert.ok(parseJson('[9007199254740991, -9007199254740991, 0.1234567890123456789]').ok);
    assert.ok(parseJson('[18446744073709551615]', { unsafeNumbers: 'allow' }).ok);
  });

  it('parses top-level arrays and strings (JSON allows them; rejecting them is the reader\'s job)', () => {
    assert.deepEqual(parseJson('[1]'), { ok: true, value: [1] });
    assert.deepEqual(parseJson('"bundle"'), { ok: true, value: 'bundle' });
  });

  it('handles runs of backslashes before quotes in linear time', () => {
    const text = `["${'\\\\'.repeat(500_000)}", "${'\\"'.repeat(500_000)}"]`;
    const start = performance.now();
    assert.ok(parseJson(text).ok);
    assert.ok(performance.now() - start < 2000);
  });
});

/**
 * What parseJson answered when the scan ran before JSON.parse: the scan's finding first, then JSON.parse's
 * verdict. parseJson now parses first and scans only when the parsed value (or a syntax error) calls for
 * it; these properties hold it to the same answers, message and place included.
 */
function scanFirstVerdict(text: string, maxDepth: number, checkNumbers: boolean): { ok: boolean; code?: string; position?: number } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const offset = body === text ? 0 : 1;
  const scanned = scanJson(body, maxDepth, checkNumbers);
  if (scanned !== undefined) return { ok: false, code: scanned.code, position: scanned.position + offset };
  try {
    JSON.parse(body);
    return { ok: true };
  } catch {
    return { ok: false, code: 'ENT_INPUT_MALFORMED_JSON' };
  }
}

function verdictOf(text: string, maxDepth: number, checkNumbers: boolean): { ok: boolean; code?: string; position?: number } {
  const result = parseJson(text, { maxDepth, unsafeNumbers: checkNumbers ? 'reject' : 'allow' });
  if (result.ok) return { ok: true };
  return result.error.code === 'ENT_INPUT_MALFORMED_JSON' && scanJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, maxDepth, checkNumbers) === undefined
    ? { ok: false, code: result.error.code }
    : { ok: false, code: result.error.code, ...(result.error.position === undefined ? {} : { position: result.error.position }) };
}

/** JSON texts that reach the limits: nesting around the depth limit, numbers around 2^53 and beyond double range, some cut short. */
const edgyJsonText = fc
  .tuple(
    fc.integer({ min: 0, max: 8 }),
    fc.constantFrom('[', '{"k":'),
    fc.constantFrom('1', '9007199254740991', '9007199254740992', '-9007199254740993', '18446744073709551615', '1e20', '1e400', '-1e400', '1.5e300', '0.5', '"[[{"', 'null'),
    fc.jsonValue({ maxDepth: 3 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([depth, opener, leaf, sibling, truncate, bom]) => {
    const closer = opener === '[' ? ']' : '}';
    const inner = opener === '[' ? `${leaf},${JSON.stringify(sibling)}` : leaf;
    const text = opener.repeat(depth) + inner + closer.repeat(depth);
    return (bom ? '\uFEFF' : '') + (truncate ? text.slice(0, Math.max(1, text.length - 1)) : text);
  });

describe('parseJson: the same verdicts as scanning before JSON.parse', () => {
  it('agrees on texts at the depth and number limits, with or without number checks (property)', () => {
    fc.assert(fc.property(edgyJsonText, fc.integer({ min: 0, max: 6 }), fc.boolean(), (text, maxDepth, checkNumbers) => {
      assert.deepEqual(verdictOf(text, maxDepth, checkNumbers), scanFirstVerdict(text, maxDepth, checkNumbers));
    }), { numRuns: 2000 });
  });

  it('agrees on arbitrary JSON values and their truncations (property)', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (value, maxDepth, truncate) => {
      const full = JSON.stringify(value) ?? 'null';
      const text = truncate ? full.slice(0, Math.max(1, full.length - 1)) : full;
      assert.deepEqual(verdictOf(text, maxDepth, true), scanFirstVerdict(text, maxDepth, true));
    }), { numRuns: 1000 });
  });

  it('lets through what only looks like a problem to the walk: 1e20 and 1.5e300 written with an exponent', () => {
    assert.deepEqual(parseJson('{"a":[1e20, 1.5e300]}'), { ok: true, value: { a: [1e20, 1.5e300] } });
  });

  it('differs from the scan only where a duplicate key drops the refused part: what it returns is within the limits', () => {
    // JSON.parse keeps the last member of a name; the walk never sees the one it dropped. The value
    // returned holds nothing too deep and no changed number, which is what the limits protect.
    const deepDropped = `{"a":${'['.repeat(200)}${']'.repeat(200)},"a":1}`;
    assert.equal(scanJson(deepDropped, 64, true)?.code, 'ENT_INPUT_TOO_DEEP');
    assert.deepEqual(parseJson(deepDropped), { ok: true, value: { a: 1 } });
    assert.deepEqual(parseJson('{"n":123456789012345678901,"n":1}'), { ok: true, value: { n: 1 } });
    // Kept, the same part is refused.
    assert.equal(problemOf(`{"a":1,"a":${'['.repeat(200)}${']'.repeat(200)}}`).code, 'ENT_INPUT_TOO_DEEP');
  });

  it('gives the scan\'s verdict first when the text is also malformed', () => {
    assert.equal(problemOf(`${'['.repeat(70)}1,`).code, 'ENT_INPUT_TOO_DEEP');
    assert.equal(problemOf('[18446744073709551615,').code, 'ENT_INPUT_MALFORMED_JSON');
    assert.match(problemOf('[18446744073709551615,').message, /beyond 2\^53/);
  });
});

describe('parseJsonNoting: whether the text of a number had to be read', () => {
  it('says so for a value holding a number past 2^53 - 1 or written with an exponent, and not otherwise', () => {
    const noted = (text: string): boolean | undefined => {
      const parsed = parseJsonNoting(text);
      return parsed.ok ? parsed.value.textRead : undefined;
    };
    assert.equal(noted('{"n":1e20}'), true);
    assert.equal(noted('{"a":[{"n":9007199254740993}]}'), undefined, 'an unsafe integer is refused');
    assert.equal(noted('{"n":1,"s":"1e20","deep":[[[1]]]}'), false);
    const plain = parseJsonNoting('{"a":[1,2]}');
    assert.ok(plain.ok);
    assert.deepEqual(plain.value.value, parseJson('{"a":[1,2]}').ok ? { a: [1, 2] } : undefined);
  });
});
