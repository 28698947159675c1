import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isStringifyForm } from './stringify-form.ts';

function holds(text: string): boolean {
  return isStringifyForm(text, JSON.parse(text) as unknown);
}

describe('isStringifyForm', () => {
  it('recognises what JSON.stringify wrote', () => {
    for (const value of [{}, [], { type: 'indicator', n: 12.5, neg: -3, ok: true, none: null, list: ['a', { b: 1e-7 }] }, 'x', 0, { __proto__x: 1 }]) {
      assert.equal(holds(JSON.stringify(value)), true, JSON.stringify(value));
    }
  });

  it('refuses texts whose stringify form differs', () => {
    for (const text of [
      '{"a": 1}',
      '{"a":1.0}',
      '{"a":1e3}',
      '{"a":-0}',
      '{"a":"\\/"}',
      '{"a":"\\u0041"}',
      '{"a":1,"a":2}',
      '{"b":1,"7":2}',
      '{"a":{"x":1,"x":1}}',
      ' {"a":1}',
      '{"a":[1, 2]}',
      '{"a":100000000000000000000000}',
    ]) {
      assert.equal(holds(text), false, text);
    }
  });

  it('refuses characters JSON.parse was given but JSON.stringify never writes (a byte-order mark)', () => {
    assert.equal(isStringifyForm('\ufeff{"a":1}', { a: 1 }), false);
    assert.equal(isStringifyForm('{"a":"\ud800"}', { a: '\ud800' }), false);
  });

  it('never vouches for a text that JSON.stringify would write differently (property)', () => {
    const whitespace = fc.constantFrom('', '', '', ' ', '\n');
    const texts = fc.oneof(
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.tuple(fc.jsonValue(), whitespace).map(([value, space]) => JSON.stringify(value, null, space === '' ? undefined : space)),
      fc
        .tuple(fc.dictionary(fc.constantFrom('a', 'b', '1', '__proto__', 'c\u2028'), fc.jsonValue()), fc.constantFrom('a', 'b', '1'), fc.jsonValue())
        .map(([object, key, value]) => `${JSON.stringify(object).slice(0, -1)}${Object.keys(object).length > 0 ? ',' : ''}${JSON.stringify(key)}:${JSON.stringify(value)}}`),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const value = JSON.parse(text) as unknown;
        if (isStringifyForm(text, value)) assert.equal(JSON.stringify(value), text);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        const parsed = JSON.parse(text) as unknown;
        if (!text.includes('\\') && !/"[0-9][^"]*":/.test(text) && !/\d[eE]/.test(text)) assert.equal(isStringifyForm(text, parsed), true, text);
      }),
      { numRuns: 2000 },
    );
  });
});
