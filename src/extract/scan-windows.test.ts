// The token triggers (indexOf and a look at what follows) against the regexes they replaced: from
// every position of random and adversarial texts, the next trigger must be the regex's next match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXTRACTORS } from './extractors.ts';
import { FEATURE_COLONS2, FEATURE_SEPARATORS5, addressLiteralWindows, attackIdWindows, familyWindows, gluedDigestLength, nextArrow, nextColon, nextDotted, nextHexSeparator, isWhiteSpaceCode, nextUnderscore } from './scan-windows.ts';

const TRIGGERS: readonly (readonly [name: string, next: (text: string, from: number) => number, regex: RegExp])[] = [
  ['dotted', nextDotted, /\.(?=[^\s.])/g],
  ['colon', nextColon, /:(?=[A-Za-z0-9/+:])/g],
  ['underscore', nextUnderscore, /_(?=[0-9a-f]{12}_)/g],
  ['hexsep', nextHexSeparator, /-(?=[0-9a-fA-F]{2}-[0-9a-fA-F]{2}-)/g],
  ['arrow', nextArrow, /->|<>/g],
];

function regexNext(regex: RegExp, text: string, from: number): number {
  regex.lastIndex = from;
  return regex.exec(text)?.index ?? -1;
}

// Characters each trigger looks at, their near misses, and every kind of white space \s knows.
const ALPHABET = [
  '.', '.', ':', ':', '_', '-', '-', '/', '+', 'a', 'f', 'A', 'F', 'g', 'G', 'z', '0', '9', '7',
  ' ', '\n', '\t', '\r', '\u00a0', '\u2028', '\u3000', '\ufeff', '\u2009', '\u00e9', '@', '[', ']',
];

function randomText(seed: number, length: number): string {
  let state = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    // Runs of hex digits with separators now and then, so the longer look-aheads get exercised.
    out += state % 5 === 0 ? (state >>> 8).toString(16).slice(0, 2) : (ALPHABET[(state >>> 16) % ALPHABET.length] ?? '');
  }
  return out;
}

const TEXTS: readonly string[] = [
  '',
  '.',
  'a.',
  '.a',
  '..a',
  'x_0123456789ab_y _0123456789aB_ _0123456789a_',
  't13d1516h2_8daaf6152771_b0da82dd1658',
  '00-1a-2b-3c-4d-5f -0a-0b- -0a-0b -0g-0b-',
  'http://a.b:80/x std::map a:/ b:+ c:: d:\u00e9',
  'end. next.\u00a0x.\u2028y.\ufeffz e.g. 1.2.3.4',
  'rule rule\trulerule ru le rules rule\nrule\u00a0rule',
  '->',
  '>-> <> <<>> -<>- >',
  ...Array.from({ length: 20 }, (_, i) => randomText(i + 100, 200).replace(/[af]/g, (c) => (c === 'a' ? '->' : '<>'))),
  ...Array.from({ length: 60 }, (_, i) => randomText(i + 1, 400)),
];

for (const [name, next, regex] of TRIGGERS) {
  test(`${name} trigger: the next position from every offset equals the regex's next match`, () => {
    for (const text of TEXTS) {
      for (let from = 0; from <= text.length; from++) {
        assert.equal(next(text, from), regexNext(regex, text, from), `${name} from ${from} in ${JSON.stringify(text)}`);
      }
    }
  });
}

test('token windows never overlap and each one holds its trigger', () => {
  for (const text of TEXTS) {
    for (const family of ['dotted', 'colon', 'underscore', 'hexsep'] as const) {
      let lastEnd = 0;
      for (const [start, end] of familyWindows(text, family)) {
        assert.ok(start >= lastEnd && end > start, `${family} ${start}-${end} after ${lastEnd} in ${JSON.stringify(text)}`);
        lastEnd = end;
      }
    }
  }
});

/** Every maximal alphanumeric run of 26 or more, a glued upper-case digest split from its name. */
function referenceLongRuns(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(/[A-Za-z0-9]+/g)) {
    const s = m.index;
    const e = s + m[0].length;
    if (e - s < 26) continue;
    const glued = e - s > 32 ? gluedDigestLength(text, s, e) : 0;
    if (glued === 0) out.push([s, e]);
    else {
      out.push([s, s + glued]);
      if (e - s - glued >= 26) out.push([s + glued, e]);
    }
  }
  return out;
}

function randomRuns(seed: number, count: number): string {
  let state = seed;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = next() % 6;
    // Lengths around the thresholds (25, 26, 32, 33) and digests glued to lower-case names.
    const length = [1, 5, 24, 25, 26, 27, 32, 33, 40, 64, 90][next() % 11] ?? 1;
    const hex = (upper: boolean): string => Array.from({ length }, () => (upper ? '0123456789ABCDEF' : '0123456789abcdef')[next() % 16]).join('');
    if (kind === 0) pieces.push(hex(true) + 'marzo.duckdns.org');
    else if (kind === 1) pieces.push(hex(false));
    else if (kind === 2) pieces.push('word'.repeat(1 + (next() % 9)));
    else pieces.push(hex(true));
    pieces.push([' ', '.', '\n', '-', '', '\u00e9'][next() % 6] ?? ' ');
  }
  return pieces.join('');
}

test('long-run windows are every maximal alphanumeric run of 26 or more, at any offset', () => {
  const texts = [
    '',
    'a'.repeat(25),
    'a'.repeat(26),
    ` ${'b'.repeat(26)}`,
    `${'c'.repeat(26)} `,
    `${'d'.repeat(25)} ${'e'.repeat(26)} ${'f'.repeat(51)}`,
    ...Array.from({ length: 80 }, (_, i) => randomRuns(i + 1, 40)),
  ];
  for (const base of texts) {
    // Shifted by 0 to 12 characters, so runs meet every alignment.
    for (let shift = 0; shift < 13; shift++) {
      const text = 'x '.repeat(shift).slice(0, shift) + base;
      const got = familyWindows(text, 'longrun').map(([s, e]) => [s, e]);
      assert.deepEqual(got, referenceLongRuns(text), JSON.stringify(text));
    }
  }
});

/** A copy (own lastIndex) of the regex of the extractor row `id`, so the tests follow the row's changes. */
function rowRegex(id: string): RegExp {
  const row = EXTRACTORS.find((candidate) => candidate.id === id);
  if (row === undefined) throw new Error(`no extractor row ${id}`);
  return new RegExp(row.regex);
}

// The ATT&CK/ATLAS id row's regex, run over the whole text and over the windows.
const ATTACK_ID = rowRegex('attack');

function idsInWindows(text: string): string[] {
  const out: string[] = [];
  for (const [start, end] of attackIdWindows(text)) {
    const slice = text.slice(start, end);
    ATTACK_ID.lastIndex = 0;
    for (let m = ATTACK_ID.exec(slice); m !== null; m = ATTACK_ID.exec(slice)) out.push(`${start + m.index}:${m[0]}`);
  }
  return out;
}

function idsInText(text: string): string[] {
  return [...text.matchAll(ATTACK_ID)].map((m) => `${m.index}:${m[0]}`);
}

function randomIds(seed: number, count: number): string {
  let state = seed;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const pieces = ['AML.', 'AML', 'ML.', 'T', 'TA', 'CS', 'C', 'G', 'S', 'M', 'A', 'x', '_', '.', ' ', '\n', '(', '0', '1', '9', '001', '.00'];
  let out = '';
  for (let i = 0; i < count; i++) {
    out += pieces[next() % pieces.length] ?? '';
    // Four digits now and then, so triggers are frequent and ids overlap and touch.
    if (next() % 3 === 0) out += String(1000 + (next() % 9000));
  }
  return out;
}

test('ATT&CK id windows: the id regex finds on them exactly what it finds on the whole text', () => {
  const texts = [
    '',
    'T1059',
    'AML.TA0001.001x',
    'T1059.001 and T1566.002, G0016; S0002 M1040 TA0001 CS0001 AML.T0051.000 AML.CS0000',
    'T1059T1059 T10590 xT1059 T1059_ T1059.0011 AML.AML.T0001',
    ...Array.from({ length: 150 }, (_, i) => randomIds(i + 1, 120)),
  ];
  for (const text of texts) assert.deepEqual(idsInWindows(text), idsInText(text), JSON.stringify(text));
});

// The address-literal row's regex, over the whole text and over the windows.
const ADDRESS_LITERAL = rowRegex('email-ip-literal');

test('address-literal windows: the row regex finds on them exactly what it finds on the whole text', () => {
  let state = 11;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const pieces = ['@[', '@', '[', ']', '.', '1', '25', '255', '1000', 'a', ' ', '@[1.2.3.4]', '@[10.0.0.1]]', '@[@[1.1.1.1]'];
  const texts = ['', '@[', 'a@[192.168.0.1]', 'a@[192.168.100.200] b@[1.2.3.4]@[5.6.7.8]', 'x@[1.2.3]', 'x@[1.2.3.4.5]'];
  for (let i = 0; i < 300; i++) texts.push(Array.from({ length: 40 }, () => pieces[next() % pieces.length] ?? '').join(''));
  for (const text of texts) {
    const inWindows: string[] = [];
    for (const [start, end] of addressLiteralWindows(text)) {
      const slice = text.slice(start, end);
      ADDRESS_LITERAL.lastIndex = 0;
      for (let m = ADDRESS_LITERAL.exec(slice); m !== null; m = ADDRESS_LITERAL.exec(slice)) inWindows.push(`${start + m.index}:${m[0]}`);
    }
    assert.deepEqual(inWindows, [...text.matchAll(ADDRESS_LITERAL)].map((m) => `${m.index}:${m[0]}`), JSON.stringify(text));
  }
});

test('the white-space table is \\s, code unit by code unit', () => {
  for (let c = 0; c < 0x10000; c++) assert.equal(isWhiteSpaceCode(c), /\s/.test(String.fromCharCode(c)), `U+${c.toString(16)}`);
  assert.equal(isWhiteSpaceCode(Number.NaN), false);
});

test('colon windows say whether they hold two colons (IPv6, ssdeep) and five colons or dashes (MAC)', () => {
  for (const text of TEXTS) {
    for (const [start, end, , features] of familyWindows(text, 'colon')) {
      const colons = text.slice(start, end).split(':').length - 1;
      const dashes = text.slice(start, end).split('-').length - 1;
      assert.equal((features & FEATURE_COLONS2) !== 0, colons >= 2, `${start}-${end} in ${JSON.stringify(text)}`);
      assert.equal((features & FEATURE_SEPARATORS5) !== 0, colons >= 5 || dashes >= 5, `${start}-${end} in ${JSON.stringify(text)}`);
    }
  }
});
