import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SENTENCE_CHARS, splitSentences } from './split-sentences.ts';

const texts = (t: string): string[] => splitSentences(t).map((s) => t.slice(s.start, s.end));

test('a sentence ends at . ! or ? followed by white space, and at a line break', () => {
  assert.deepEqual(texts('It runs. It hides!  Does it spread? Yes\nNext line'), ['It runs.', 'It hides!', 'Does it spread?', 'Yes', 'Next line']);
});

test('abbreviations, initials, decimals, versions, file names and domains do not end a sentence', () => {
  assert.deepEqual(texts('Tools, e.g. Mimikatz, were used by U.S. targets. Version 2.0 of loader.dll ran from evil.com today.'), [
    'Tools, e.g. Mimikatz, were used by U.S. targets.',
    'Version 2.0 of loader.dll ran from evil.com today.',
  ]);
});

test('closing quotes and brackets stay with their sentence; spans are trimmed and never empty', () => {
  const t = '  He said "it ran." (Then it stopped.)  \n\n  ';
  assert.deepEqual(texts(t), ['He said "it ran."', '(Then it stopped.)']);
  for (const s of splitSentences(t)) assert.ok(s.end > s.start);
});

test('an endless line is cut into pieces of at most MAX_SENTENCE_CHARS', () => {
  const spans = splitSentences('A'.repeat(MAX_SENTENCE_CHARS * 2 + 5));
  assert.equal(spans.length, 3);
  assert.ok(spans.every((s) => s.end - s.start <= MAX_SENTENCE_CHARS));
});
