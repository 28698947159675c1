import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refang } from './refang.ts';

const FORMS: readonly (readonly [string, string])[] = [
  ['hxxp://evil.com', 'http://evil.com'],
  ['hxxps://evil.com', 'https://evil.com'],
  ['hXXps://evil.com', 'https://evil.com'],
  ['h**p://evil.com', 'http://evil.com'],
  ['fxp://files.evil.com', 'ftp://files.evil.com'],
  ['evil[.]com', 'evil.com'],
  ['evil(.)com', 'evil.com'],
  ['evil{.}com', 'evil.com'],
  ['evil[dot]com', 'evil.com'],
  ['evil(dot)com', 'evil.com'],
  ['evil[DOT]com', 'evil.com'],
  ['evil dot com', 'evil.com'],
  ['evil[ . ]com', 'evil.com'],
  ['evil[.com', 'evil.com'],
  ['evil.]com', 'evil.com'],
  ['user[@]evil.com', 'user@evil.com'],
  ['user(@)evil.com', 'user@evil.com'],
  ['user[at]evil.com', 'user@evil.com'],
  ['user(at)evil.com', 'user@evil.com'],
  ['http[:]//evil.com', 'http://evil.com'],
  ['http[://]evil.com', 'http://evil.com'],
  ['http:\\/\\/evil.com', 'http://evil.com'],
  ['http://evil.com[/]x', 'http://evil.com/x'],
  ['1.2.3 . 4', '1.2.3.4'],
  ['hxxp[:]//evil[.]com', 'http://evil.com'],
];

for (const [input, expected] of FORMS) {
  test(`refangs ${JSON.stringify(input)}`, () => {
    const r = refang(input);
    assert.equal(r.text, expected);
    assert.ok(r.replacements > 0);
    // The end of the refanged text maps to the end of the original.
    assert.equal(r.toOriginal(r.text.length), input.length);
  });
}

test('leaves ordinary prose alone', () => {
  const prose = 'The attacker (at the time) used a dot matrix printer. Connect the dot. Then wxxp: and exp: values [1].';
  const r = refang(prose);
  assert.equal(r.text, prose);
  assert.equal(r.replacements, 0);
  assert.equal(r.toOriginal(10), 10);
});

test('maps every position of a refanged value back to the original span', () => {
  const original = 'see hxxps://bad[.]example[.]org/x and bad(at)mail(dot)ru here';
  const r = refang(original);
  const url = 'https://bad.example.org/x';
  const s = r.text.indexOf(url);
  assert.equal(original.slice(r.toOriginal(s), r.toOriginal(s + url.length)), 'hxxps://bad[.]example[.]org/x');
  const mail = 'bad@mail.ru';
  const m = r.text.indexOf(mail);
  assert.equal(original.slice(r.toOriginal(m), r.toOriginal(m + mail.length)), 'bad(at)mail(dot)ru');
  const here = r.text.indexOf('here');
  assert.equal(r.toOriginal(here), original.indexOf('here'));
  assert.equal(r.defangedWithin(m, m + mail.length), true);
  assert.equal(r.defangedWithin(here, here + 4), false);
});

test('spaced forms beside each other and beside bracketed forms (found from their word or dot, not their space)', () => {
  const tlds = new Set(['com', 'uk', 'co']);
  const cases: readonly (readonly [string, string])[] = [
    ['1 . 2 . 3 . 4', '1.2.3.4'],
    ['10 . . 1', '10 . . 1'],
    ['evil dot co dot uk', 'evil.co.uk'],
    ['evil DOT com and evil Dot com', 'evil.com and evil Dot com'],
    ['[ dot ] dot com', '. dot com'],
    ['a( . )b . c', 'a.b . c'],
    ['x .] y', 'x .] y'],
    ['dot com', 'dot com'],
    ['evil dot', 'evil dot'],
    ['[. . 5', '[. . 5'],
    ['8 .[.]com', '8 ..com'],
  ];
  for (const [text, refanged] of cases) assert.equal(refang(text, { tlds }).text, refanged, text);
});

test('a text of megabytes refangs as its parts do, lone surrogates and non-Latin-1 characters kept', () => {
  // Over Node's threshold for decoding a buffer into an external string (see joinPieces).
  const part = 'see evil[.]com \ud800 and “hxxp://x[.]org/\udfff” é ';
  const big = part.repeat(Math.ceil(2_000_000 / part.length));
  const small = refang(part).text;
  const r = refang(big);
  assert.equal(r.text, small.repeat(Math.ceil(2_000_000 / part.length)));
  assert.equal(r.toOriginal(r.text.length), big.length);
});
