// A LabelSet answers as the plain question "is the lower-cased run one of the labels?" would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLabelSet } from './label-set.ts';

const LABELS = ['com', 'ru', 'io', 'xn--p1ai', 'library-ms', 'settingcontent-ms', 'a_b', '7z', 'k', 'sqlite', 'exe'];
const PIECES = ['c', 'o', 'm', 'C', 'O', 'M', 'r', 'u', 'i', 'k', 'K', '\u212a', '7', 'z', '-', '_', 'a', 'b', 'x', 'n', 'e', '.', '\u00e9', 'sqlite', 'library-ms'];

test('a label set answers as lower-casing the run and asking a Set would', () => {
  const set = createLabelSet(LABELS);
  const plain = new Set(LABELS);
  let state = 7;
  // The high bits: the low bits of this generator repeat with short periods.
  const next = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16);
  const texts = [...LABELS, ...LABELS.map((l) => l.toUpperCase()), '', 'COM', 'Com', '\u212a', 'comm', 'co'];
  for (let i = 0; i < 3000; i++) texts.push(Array.from({ length: 1 + (next() % 4) }, () => PIECES[next() % PIECES.length] ?? '').join(''));
  for (const text of texts) {
    const padded = `.${text}.`;
    assert.equal(set.has(padded, 1, 1 + text.length), plain.has(text.toLowerCase()), JSON.stringify(text));
  }
});
