// Rows read on their family's windows must find what their regex finds on the whole text (YARA:
// within the windows' keyword reach), and a row's prefilter may only turn away
// windows where build() would keep nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXTRACTORS } from './extractors.ts';
import type { ExtractContext, ExtractorFamily, ExtractorRow } from './extractors.ts';
import { familyWindows } from './scan-windows.ts';
import type { Windows } from './scan-windows.ts';

function row(id: string): ExtractorRow {
  const found = EXTRACTORS.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no extractor row ${id}`);
  return found;
}

function matchesIn(regex: RegExp, text: string, windows: Windows): string[] {
  const re = new RegExp(regex);
  const out: string[] = [];
  for (const [start, end] of windows) {
    const slice = text.slice(start, end);
    re.lastIndex = 0;
    for (let m = re.exec(slice); m !== null; m = re.exec(slice)) out.push(`${start + m.index}:${m[0]}`);
  }
  return out;
}

function matchesInText(regex: RegExp, text: string): string[] {
  return [...text.matchAll(new RegExp(regex))].map((m) => `${m.index}:${m[0]}`);
}

function randomTexts(seed: number, pieces: readonly string[], count: number, length: number): string[] {
  let state = seed;
  // The high bits: the low bits of this generator repeat with short periods.
  const next = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16);
  return Array.from({ length: count }, () => Array.from({ length }, () => pieces[next() % pieces.length] ?? '').join(''));
}

const CASES: readonly (readonly [rowId: string, family: ExtractorFamily, texts: readonly string[]])[] = [
  [
    'registry',
    'registry-root',
    [
      '',
      '\\',
      'HKLM\\Software HKCU\\x hkey_local_machine\\y xHKLM\\z HKU\\a HKCC\\b',
      'HKEY_CURRENT_CONFIG\\x _HKCR\\y HKCR\\\\z',
      'xHKEY_CURRENT_CONFIG\\a',
      ...randomTexts(1, ['HKLM', 'HKEY_', 'LOCAL_MACHINE', 'CURRENT_CONFIG', 'hkcu', 'HK', 'U', 'x', '_', ' ', '\\', '\\\\', '\n', '\u00e9'], 300, 30),
    ],
  ],
  [
    'asn',
    'asn',
    [
      '',
      'AS',
      'AS1 ASN2 ASN 3 AS12345678901 xAS5 AS6x AS7_ ASAS8 AS 9',
      ...randomTexts(2, ['AS', 'ASN', 'N', ' ', 'x', '_', '1', '42', '1234567890', '\n', '.'], 300, 30),
    ],
  ],
  [
    'cve',
    'cve',
    [
      '',
      'CVE-',
      'CVE-2021-44228 cve-2019-0708 xCVE-2020-1234 CVE-2020-12345678 CvE-2014-0160_ CVE-CVE-2017-0144',
      ...randomTexts(3, ['CVE-', 'cve-', 'Cve', 'VE-', '-', '2021', '1234', '1234567', '0', 'x', '_', ' ', '\n'], 300, 30),
    ],
  ],
  [
    'sigma',
    'sigma-title',
    [
      '',
      'title: a\ndetection:\n',
      'title:\ntitle: x\r\ntitle:  y\u2028title: z\n xtitle: w\ndetection:',
      ...randomTexts(4, ['title:', 'title', ':', ' ', '\t', 'x', '\n', '\r', '\u2028', 'detection:'], 300, 30),
    ],
  ],
  [
    'posix-path',
    'posix-root',
    [
      '',
      '/etc/passwd ~/.ssh/id_rsa /lib64/x /lib/y /libx/z http://h/usr/bin/x a/tmp/b ~/ ~x/y /tmp/ /Users/a/b.txt',
      '/etc/a/etc/b//etc/c~/d/~/e /var/' + 'a'.repeat(300) + '/b',
      ...randomTexts(7, ['/', '//', '~', '~/', 'etc', 'lib', 'lib64', 'Users', 'usr', 'a', '.', '-', '@', '+', ':', ' ', '\n', '\u00e9', 'x'.repeat(60)], 300, 24),
    ],
  ],
];

for (const [rowId, family, texts] of CASES) {
  test(`${family} windows: the ${rowId} row's regex finds on them exactly what it finds on the whole text`, () => {
    const regex = row(rowId).regex;
    for (const text of texts) {
      // The Sigma windows are empty without a "detection:", where no rule can be.
      const expected = family === 'sigma-title' && !text.includes('detection:') ? [] : matchesInText(regex, text);
      assert.deepEqual(matchesIn(regex, text, familyWindows(text, family)), expected, JSON.stringify(text));
    }
  });
}

/**
 * What YARA_RE finds on the whole text, less the headers whose "rule" keyword stands more than 40
 * characters into its line: the windows look no further (two modifiers and their blanks fit), where
 * the regex allows any number of leading blanks.
 */
function yaraHeadersInText(text: string): string[] {
  return [...text.matchAll(new RegExp(row('yara').regex))]
    .filter((m) => m[0].search(/rule[ \t]/) <= 40)
    .map((m) => `${m.index}:${m[0]}`);
}

test('yara windows: the YARA row finds on them what its regex finds on the whole text, the "{" on the header\'s line or after it', () => {
  const regex = row('yara').regex;
  const texts = [
    '',
    'rule a {',
    'rule a\n{\n}',
    'rule a\r\n{\r\n}',
    'rule a : tag1 tag2\n\n  {\n  condition: true\n}',
    `rule a\n${' '.repeat(70)}{`,
    '  private global rule a : b c {\nrule b {} rule c {\n\tglobal rule d{\nx rule e {',
    `${' '.repeat(37)}rule a { ${' '.repeat(38)}rule b {`,
    `${' '.repeat(40)}rule a {\n${' '.repeat(41)}rule b {\n\t${' '.repeat(39)}rule c {`,
    ...randomTexts(5, ['rule', 'rule ', 'rule\t', ' ', '\t', 'private ', 'global ', 'a', '_x', ':', '{', '}', '\n', '\r', '\n{', ' \u2028'], 600, 30),
  ];
  for (const text of texts) {
    assert.deepEqual(matchesIn(regex, text, familyWindows(text, 'yara')), yaraHeadersInText(text), JSON.stringify(text));
  }
});

function contextFor(text: string): ExtractContext {
  return { text, tlds: new Set(['com', 'net', 'ru', 'io', 'zip', 'sh', 'test', 'xn--p1ai']), strictTld: true, defanged: () => false, budget: { remaining: 1_000_000 } };
}

for (const rowId of ['domain', 'file-name']) {
  test(`the ${rowId} row's prefilter turns away only windows where build() keeps nothing`, () => {
    const r = row(rowId);
    const prefilter = r.prefilter;
    assert.ok(prefilter !== undefined);
    const texts = [
      'e.g. Fig.3a end.The v1.2',
      'mail.ru',
      'x.io',
      'run.sh',
      'a.js',
      'evil.com a.b.ru x.zip run.sh setup.exe report.PDF notes.txt.bak a.xn--p1ai a.XN--P1AI',
      'a.\u0441\u043e\u043c b.co\u0301 c.\u017fh d.\u212azip',
      ...randomTexts(6, ['a', 'evil', '.', 'com', 'COM', 'ru', 'exe', 'EXE', 'zip', 'sh', 'txt', '7z', 'library-ms', '-', '_', '1', '\u00e9', '\u017f', 'xn--', 'p1ai'], 400, 12),
    ];
    for (const text of texts) {
      if (prefilter(text, contextFor(text))) continue;
      for (const regex of [r.regex, r.asciiRegex ?? r.regex]) {
        const re = new RegExp(regex);
        for (let m = re.exec(text); m !== null; m = re.exec(text)) {
          assert.equal(r.build(m, contextFor(text)), null, `${rowId} kept ${m[0]} in ${JSON.stringify(text)}`);
        }
      }
    }
  });
}
