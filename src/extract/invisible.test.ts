// Invisible formatting characters (zero-width, soft hyphen, bidi controls) inside an indicator: the
// analyst reads the rendered report, where they show as nothing, so the proposed value must be the
// one the analyst sees (not a fragment of it, not nothing), with the span still covering the
// characters in the text and the value flagged. Every input kind reaches the extractor through the
// same entry point, so each is checked here on the text its reader produces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from './extract-observables.ts';
import type { Observable } from './extract-observables.ts';
import { loadExtractData } from './load-extract-data.ts';
import { INVISIBLE_CHARACTERS, INVISIBLE_CLASS, stripInvisible } from './invisible.ts';
import { EXTRACTORS } from './extractors.ts';
import { readDocument } from '../documents/read-document.ts';
import { layoutPdfPage } from '../documents/pdf-layout.ts';
import { message, textPart } from '../../test/fixtures/documents/make-eml.ts';

const data = loadExtractData();

function extract(text: string): Observable[] {
  return extractObservables(text, { tlds: data.tlds, warninglists: data.warninglists }).observables;
}

function found(text: string): string[] {
  return extract(text).map((o) => `${o.type} ${o.value}`);
}

// The ones the review named, and the Arabic letter mark (a bidi mark like U+200E/U+200F).
const INVISIBLE = [
  '\u00ad', '\u061c', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
  '\u2060', '\u2061', '\u2062', '\u2063', '\u2064', '\u2066', '\u2067', '\u2068', '\u2069', '\ufeff',
];

test('every zero-width, soft-hyphen and bidi control character is in the one set the extractor removes', () => {
  for (const c of INVISIBLE) assert.ok(INVISIBLE_CHARACTERS.includes(c), c.charCodeAt(0).toString(16));
  // Not white space, not ordinary text.
  for (const c of [' ', '\u00a0', '\t', 'a', '.', '-', '\u2010']) assert.ok(!INVISIBLE_CHARACTERS.includes(c), c);
});

test('plain text: an invisible character inside an indicator is removed, so the value is the one the analyst sees', () => {
  for (const c of INVISIBLE) {
    const code = c.charCodeAt(0).toString(16);
    // Before: nothing for the domain, URL and hash; 85.220.101.4 for the address; il.com for the e-mail.
    assert.deepEqual(found(`C2 evil${c}-c2.com was seen.`), ['domain-name evil-c2.com'], code);
    assert.deepEqual(found(`C2 1${c}85.220.101.4 was seen.`), ['ipv4-addr 185.220.101.4'], code);
    assert.deepEqual(found(`Mail ops@ev${c}il-c2.com now.`), ['email-addr ops@evil-c2.com'], code);
    assert.deepEqual(found(`Hash d41d8cd98f00b204${c}e9800998ecf8427e here.`), ['file d41d8cd98f00b204e9800998ecf8427e'], code);
    assert.deepEqual(found(`Get https://evil${c}-c2.com/dl/a${c}b.bin now`), ['url https://evil-c2.com/dl/ab.bin', 'domain-name evil-c2.com'], code);
  }
});

test('the span covers the invisible characters in the original text, and the value is flagged', () => {
  const text = 'Beacon to \u202aevil\u200b-c2[.]com\u202c and 45.77.12.3 daily.';
  const [domain, ip] = extract(text);
  assert.equal(domain?.value, 'evil-c2.com');
  assert.equal(text.slice(domain?.start, domain?.end), 'evil\u200b-c2[.]com', 'the span is the indicator as written, the isolates around it left out');
  assert.equal(domain?.invisible, true);
  assert.equal(domain?.defanged, true);
  assert.equal(text.slice(domain?.sentence.start, domain?.sentence.end), text);
  assert.equal(ip?.value, '45.77.12.3');
  assert.equal(text.slice(ip?.start, ip?.end), '45.77.12.3');
  assert.equal(ip?.invisible, undefined, 'only a value that held one is flagged');
});

test('characters around an indicator, not inside it, do not flag it (an RTL report isolates its LTR values)', () => {
  const [o] = extract('\u05d4\u05e9\u05e8\u05ea \u2066evil-c2.com\u2069 \u200f.');
  assert.equal(o?.value, 'evil-c2.com');
  assert.equal(o?.invisible, undefined);
});

test('text without invisible characters is extracted exactly as before (same string, same offsets)', () => {
  const text = 'C2 evil-c2[.]com and hxxp://45.77.12.3/x then d41d8cd98f00b204e9800998ecf8427e.';
  const r = stripInvisible(text);
  assert.equal(r.text, text);
  assert.equal(r.removed, 0);
  assert.ok(extract(text).every((o) => o.invisible === undefined));
});

test('e-mail: a plain-text body with a zero-width space inside an indicator', async () => {
  const eml = message(['From: a@mailer.net', 'To: b@mailer.net', 'Subject: invoice'], textPart('Pay at evil\u200b-c2.com from 1\u200b85.220.101.4 today.'));
  const doc = await readDocument(Buffer.from(eml), 'zw.eml');
  const values = extract(doc.text).map((o) => o.value);
  assert.ok(values.includes('evil-c2.com'), values.join(' '));
  assert.ok(values.includes('185.220.101.4'), values.join(' '));
  assert.ok(!values.includes('85.220.101.4'));
});

test('HTML: invisible characters inside an indicator are read as the browser shows them', async () => {
  const html = '<!doctype html><html><body><p>C2 evil&#8203;-c2.com and 1&#x202e;85.220.101.4 and ev&shy;il-c2.net.</p></body></html>';
  const doc = await readDocument(Buffer.from(html), 'zw.html');
  assert.deepEqual(found(doc.text), ['domain-name evil-c2.com', 'ipv4-addr 185.220.101.4', 'domain-name evil-c2.net']);
});

test('PDF: a text layer with a zero-width space and a soft hyphen inside indicators', () => {
  const lines = layoutPdfPage({ page: 1, width: 612, height: 792, items: [['C2 evil\u200b-c2.com and 1\u00ad85.220.101.4 seen', 72, 700, 200, 10, 0]] });
  assert.deepEqual(found(lines.join('\n')), ['domain-name evil-c2.com', 'ipv4-addr 185.220.101.4']);
});

test('one set, used everywhere: the class matches exactly the characters, and the URL row alone ends a URL at each of them', () => {
  const klass = new RegExp(`^[${INVISIBLE_CLASS}]$`);
  for (let code = 0; code <= 0xffff; code++) {
    const c = String.fromCharCode(code);
    assert.equal(klass.test(c), INVISIBLE_CHARACTERS.includes(c), code.toString(16));
  }
  // A caller of the URL row alone (no stripping first) gets the URL the reader sees end there, not
  // a value that carries the character.
  const url: RegExp | undefined = EXTRACTORS.find((r) => r.id === 'url')?.regex;
  assert.ok(url !== undefined);
  for (const c of INVISIBLE) {
    const re: RegExp = new RegExp(url.source, url.flags);
    const m: RegExpExecArray | null = re.exec(`see https://evil.example/a${c}b now`);
    assert.equal(m?.[0], 'https://evil.example/a', c.charCodeAt(0).toString(16));
  }
});
