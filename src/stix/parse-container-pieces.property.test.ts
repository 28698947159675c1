import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseContainerPieces, readContainer, streamBundleElements, type ReadBytes } from './read-container-chunks.ts';
import { parseJson } from './parse-json.ts';
import type { JsonValue } from './types.ts';

// The TAXII client (decodeJsonPieces) takes parseContainerPieces' value whenever it gives one, and
// parses the joined body otherwise. That is only sound if the piece reader never gives a value the
// whole body would not: a value for a body the whole-text path refuses, or another value.

/** What the TAXII client made of a whole body before 6eecae2: strict UTF-8, then parseJson. */
function parsedWhole(bytes: Buffer, maxDepth?: number): { ok: true; value: JsonValue } | { ok: false } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false };
  }
  const parsed = parseJson(text, maxDepth === undefined ? {} : { maxDepth });
  return parsed.ok ? { ok: true, value: parsed.value } : { ok: false };
}

/** `bytes` cut at the given places (any order, repeats and out-of-range ones ignored), as a socket delivers a body. */
function cut(bytes: Buffer, at: readonly number[]): Buffer[] {
  const places = [...new Set(at.map((place) => place % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const place of places) {
    pieces.push(bytes.subarray(from, place));
    from = place;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

/** The piece reader agrees with the whole-text path: no value, or the very value the whole body gives. */
function assertAgrees(bytes: Buffer, at: readonly number[], maxDepth?: number): boolean {
  const pieces = parseContainerPieces(cut(bytes, at), maxDepth === undefined ? {} : { maxDepth });
  if (pieces === undefined) return false;
  const whole = parsedWhole(bytes, maxDepth);
  assert.ok(whole.ok, `the piece reader gave a value for a body the whole-text path refuses: ${bytes.toString('latin1')}`);
  assert.deepEqual(pieces, whole.value, bytes.toString('latin1'));
  return true;
}

// Number tokens JSON.parse keeps, changes (overflow, past 2^53 - 1) or that the scan asks about (1e20).
const NUMBERS = ['0', '-0', '1', '-1.5', '0.1e1', '1e20', '1E400', '-1e400', '1e-400', '9007199254740991', '9007199254740993', '123456789012345678901234567890'];
const STRINGS = ['"s"', '"\\u00e9"', '"é"', '"{[\\"]}"', '"\\\\"', '"🛰"', '"\\ud83d\\udef0"', '""'];
// Member names, `objects` among them plainly and written with escapes; repeats make duplicate keys.
const NAMES = ['"a"', '"n"', '"type"', '"objects"', '"obj\\u0065cts"', '"\\u006fbjects"', '"__proto__"', '"id"'];
const SPACE = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');

const leaf = fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...STRINGS), fc.constantFrom('true', 'false', 'null'));

const { value: valueText } = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
  object: fc
    .array(fc.tuple(fc.constantFrom(...NAMES), SPACE, tie('value')), { maxLength: 4 })
    .map((members) => `{${members.map(([name, space, value]) => `${space}${name}:${space}${value}`).join(',')}}`),
  array: fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
}));

const member = fc.tuple(fc.constantFrom(...NAMES), SPACE, valueText).map(([name, space, value]) => `${name}${space}:${value}`);
const element = fc.array(member, { maxLength: 4 }).map((members) => `{${members.join(',')}}`);
const objectsMember = fc
  .tuple(fc.constantFrom('"objects"', '"obj\\u0065cts"'), fc.array(fc.tuple(SPACE, element), { maxLength: 4 }), SPACE)
  .map(([name, elements, space]) => `${name}:[${elements.map(([before, text]) => `${before}${text}`).join(',')}${space}]`);

/** A TAXII envelope or bundle as a peer might write it: members around an `objects` array, maybe repeated, maybe a BOM. */
const document = fc
  .tuple(fc.constantFrom('', '\ufeff', '\ufeff\ufeff'), fc.array(member, { maxLength: 3 }), objectsMember, fc.array(member, { maxLength: 3 }), SPACE)
  .map(([bom, before, objects, after, space]) => `${bom}${space}{${[...before, objects, ...after].join(',')}}${space}`);

describe('parseContainerPieces gives no value the whole body would not give', () => {
  it('drops no refusal: a number the whole-text check refuses in a member a later one of the same name replaces', () => {
    // parseJson checks the text for unsafe numbers only when the value it parsed holds a suspect one
    // (1e20: an integer past 2^53 - 1, which the text check accepts when written with an exponent).
    // Whole, the suspect number in one part makes the check read the dropped member in the other; in
    // parts, the part with the dropped member holds nothing suspect and is not checked.
    for (const text of [
      '{"objects":[{"n":1e20}],"x":1e400,"x":1}',
      '{"n":1e20,"objects":[{"x":1e400,"x":1}]}',
      '{"n":1e20,"objects":[{"x":9007199254740993,"x":1}]}',
      '{"objects":[{"n":1e20},{"x":1e400,"x":1}]}',
    ]) {
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(parsedWhole(bytes).ok, false, `the whole-text path refuses ${text}`);
      for (const at of [[], [1], [13, 20]]) assert.equal(parseContainerPieces(cut(bytes, at)), undefined, text);
    }
  });

  it('and neither do the file readers that share its scan (readContainer, streamBundleElements): such a bundle is left to the whole text', () => {
    const reader = (bytes: Buffer): ReadBytes => {
      let offset = 0;
      return (into, at, length) => {
        const count = Math.min(length, 7, bytes.length - offset);
        bytes.copy(into, at, offset, offset + count);
        offset += count;
        return count;
      };
    };
    for (const text of ['{"type":"bundle","objects":[{"n":1e20}],"x":1e400,"x":1}', '{"type":"bundle","n":1e20,"objects":[{"x":1e400,"x":1}]}']) {
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(parsedWhole(bytes).ok, false);
      assert.equal(readContainer(reader(bytes)), undefined, text);
      const stream = streamBundleElements(reader(bytes));
      let next = stream.next();
      while (next.done !== true) next = stream.next();
      assert.equal(next.value, false, `${text}: the stream says it is not read as the whole text reads it`);
    }
  });

  it('agrees with the whole body for generated envelopes: duplicate keys, escaped names, BOMs, every kind of number, any cuts', () => {
    let parsed = 0;
    fc.assert(
      fc.property(document, fc.array(fc.nat(), { maxLength: 6 }), (text, at) => {
        if (assertAgrees(Buffer.from(text, 'utf8'), at)) parsed += 1;
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: about a tenth of the bodies (no suspect number, no other `type`, one `objects`) are parsed in pieces.
    assert.ok(parsed > 150, `only ${parsed} of 3000 bodies were parsed in pieces`);
  });

  it('agrees with the whole body at the depth limit, in the skeleton and in elements', () => {
    const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    for (let maxDepth = 3; maxDepth <= 6; maxDepth += 1) {
      for (let depth = 0; depth <= 6; depth += 1) {
        for (const text of [
          `{"objects":[{"a":${nested(depth)}}]}`,
          `{"a":${nested(depth)},"objects":[{}]}`,
          `{"a":${nested(depth)},"a":1,"objects":[{}]}`,
          `{"objects":[{"a":${nested(depth)},"a":1e20}]}`,
        ]) {
          for (const at of [[], [5], [2, 9, 14]]) assertAgrees(Buffer.from(text, 'utf8'), at, maxDepth);
        }
      }
    }
  });

  it('agrees with the whole body when bytes that are not UTF-8 fall anywhere, split across pieces', () => {
    const base = Buffer.from('{"n":"ab","objects":[{"v":"cd"} , {"w":"ef"}]}', 'utf8');
    const broken = [[0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x9b], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff], [0xef, 0xbb, 0xbf]];
    fc.assert(
      fc.property(fc.nat(base.length), fc.constantFrom(...broken), fc.array(fc.nat(), { maxLength: 4 }), (place, bad, at) => {
        assertAgrees(Buffer.concat([base.subarray(0, place), Buffer.from(bad), base.subarray(place)]), at);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads an element larger than many pieces and than its window, cut anywhere', () => {
    const big = JSON.stringify({ objects: [{ type: 'note', content: 'é{["'.repeat(100_000), n: 1 }, { type: 'note', content: 'x' }] });
    const bytes = Buffer.from(big, 'utf8');
    const at = Array.from({ length: 64 }, (_, index) => Math.floor((index * bytes.length) / 64) + 1);
    assert.deepEqual(parseContainerPieces(cut(bytes, at)), JSON.parse(big));
  });
});
