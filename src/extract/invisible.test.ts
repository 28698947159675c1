// Invisible formatting characters (default-ignorable characters: zero-width, soft hyphen, tag characters, bidi controls…) inside an indicator: the
// analyst reads the rendered report, where they show as nothing, so the proposed value must be the
// one the analyst sees (not a fragment of it, not nothing), with the span still covering the
// characters in the text and the value flagged. Every input kind reaches the extractor through the
// same entry point, so each is checked here on the text its reader produces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from './extract-observables.ts';
import type { Observable } from './extract-observables.ts';
import { loadExtractData } from './load-extract-data.ts';
import { domainToASCII } from 'node:url';
import { BLANK_CHARACTERS, INVISIBLE_CHARACTERS, INVISIBLE_CLASS, invisibleInWords, isInvisible, isKeptJoiner, shown, stripInvisible } from './invisible.ts';
import { JOINING_LEFT_RANGES, JOINING_RIGHT_RANGES, JOINING_SCRIPTS, VIRAMA_RANGES, VIRAMA_SCRIPTS } from './joining-data.ts';
import { EXTRACTORS } from './extractors.ts';
import { readDocument } from '../documents/read-document.ts';
import { invisibleWarning } from '../documents/document-text.ts';
import { proposeDraftItems } from '../drafts/propose-draft-items.ts';
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

// What the review added: Unicode tag characters (astral, two UTF-16 units each; "ASCII smuggling"
// spells a hidden text with them), the Mongolian vowel separator, variation selectors (both
// blocks), the combining grapheme joiner, the Khmer inherent vowels.
const ADDED = [
  '\u{e0041}', '\u{e0001}', '\u{e007f}', '\u180e', '\ufe00', '\ufe0f', '\u{e0100}', '\u{e01ef}', '\u034f', '\u17b4', '\u17b5',
];
// Default-ignorable too, but drawn as a blank by HarfBuzz and Uniscribe: read as a space.
const HANGUL_FILLERS = ['\u115f', '\u1160', '\u3164', '\uffa0'];
const hexOf = (c: string): string => (c.codePointAt(0) ?? 0).toString(16);
/** `text` spelled in tag characters (U+E0000 + its ASCII code): nothing on screen. */
const tags = (text: string): string => Array.from(text, (c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');

test('the set is what Unicode tells a renderer to show as nothing (Default_Ignorable_Code_Point), the Hangul fillers apart as blanks', () => {
  const ignorable = /^\p{Default_Ignorable_Code_Point}$/u;
  const set = new Set(Array.from(INVISIBLE_CHARACTERS));
  const blanks = new Set(Array.from(BLANK_CHARACTERS));
  assert.deepEqual([...blanks], HANGUL_FILLERS);
  for (let code = 0; code <= 0x10ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const c = String.fromCodePoint(code);
    assert.equal(set.has(c) || blanks.has(c), ignorable.test(c), code.toString(16));
    assert.ok(!(set.has(c) && blanks.has(c)), code.toString(16));
    assert.equal(isInvisible(code), set.has(c), code.toString(16));
  }
  for (const c of ADDED) assert.ok(set.has(c), hexOf(c));
});

test('draft items: the evidence of a value that held a tag character (two UTF-16 units) covers it in the text, and every later span is exact', () => {
  const text = `\u{1f6a8} Beacons to evil\u{e0041}\u{e0042}-c2.com, then 1\u{e0100}85.220.101.4; later evil-c2.com \u{1f6a8} and 45.77.12.3.`;
  const observables = extract(text);
  const { items } = proposeDraftItems({ text, observables });
  const spans = new Map(items.map((item) => [item.value, item.evidence.map((e) => [text.slice(e.start, e.end), e.invisible === true])]));
  assert.deepEqual(spans.get('evil-c2.com'), [['evil\u{e0041}\u{e0042}-c2.com', true], ['evil-c2.com', false]]);
  assert.deepEqual(spans.get('185.220.101.4'), [['1\u{e0100}85.220.101.4', true]]);
  assert.deepEqual(spans.get('45.77.12.3'), [['45.77.12.3', false]]);
});

test('a Hangul filler is read as the blank a browser draws: it parts two values, it joins none', () => {
  for (const c of HANGUL_FILLERS) {
    const code = hexOf(c);
    // Two addresses on screen, a blank between them: both, where they stand. Removed, the filler
    // made one string of digits, and neither was proposed.
    const two = `From 185.220.101.4${c}45.77.12.3 daily.`;
    const ips = extract(two);
    assert.deepEqual(ips.map((o) => o.value), ['185.220.101.4', '45.77.12.3'], code);
    assert.deepEqual(ips.map((o) => two.slice(o.start, o.end)), ['185.220.101.4', '45.77.12.3'], code);
    assert.ok(ips.every((o) => o.invisible === undefined), code);
    // "evil", a blank, "planted.com": the domain the report shows, not one made by joining them.
    assert.deepEqual(found(`C2 evil${c}planted.com seen.`), ['domain-name planted.com'], code);
    assert.deepEqual(found(`Get https://planted-c2.com/a${c}b now`), ['url https://planted-c2.com/a', 'domain-name planted-c2.com'], code);
    // A renderer that follows Unicode's advice would show nothing there: the word is named.
    assert.deepEqual(invisibleInWords(`C2 evil${c}planted.com seen.`).words, [`evil<U+${code.toUpperCase()}>planted.com`], code);
  }
});

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

test('plain text: the added characters, astral ones included, are removed from inside an indicator too', () => {
  for (const c of ADDED) {
    const code = hexOf(c);
    assert.deepEqual(found(`C2 evil${c}-c2.com was seen.`), ['domain-name evil-c2.com'], code);
    assert.deepEqual(found(`C2 1${c}85.220.101.4 was seen.`), ['ipv4-addr 185.220.101.4'], code);
    assert.deepEqual(found(`Get https://evil${c}-c2.com/dl/a${c}b.bin now`), ['url https://evil-c2.com/dl/ab.bin', 'domain-name evil-c2.com'], code);
  }
});

test('a tag character (two UTF-16 units) inside a domain: the value the analyst sees, its span as written, flagged', () => {
  const text = `Beacon to evil\u{e0041}.com and 45.77.12.3 daily.`;
  const [domain, ip] = extract(text);
  assert.equal(domain?.value, 'evil.com');
  assert.equal(text.slice(domain?.start, domain?.end), 'evil\u{e0041}.com');
  assert.equal(domain?.invisible, true);
  // The offsets after it are those of the original text: the pair counts as two units removed.
  assert.equal(text.slice(ip?.start, ip?.end), '45.77.12.3');
  assert.equal(ip?.invisible, undefined);
  assert.equal(shown('evil\u{e0041}.com'), 'evil<U+E0041>.com', 'named by its code point, not by half of it');
});

test('a Mongolian vowel separator inside an address: the address the analyst sees, flagged', () => {
  const text = 'Scanning from 19\u180e2.0.2.1 and 198.51\u034f.100.7.';
  const values = extract(text);
  assert.deepEqual(values.map((o) => `${o.value} ${o.invisible}`), ['192.0.2.1 true', '198.51.100.7 true']);
  assert.equal(text.slice(values[0]?.start, values[0]?.end), '19\u180e2.0.2.1');
});

test('ASCII smuggling: a text spelled in tag characters is not read, and the visible value next to it is unchanged', () => {
  const text = `Block good-c2.com${tags(' and planted-c2.net 203.0.113.9')} today.`;
  assert.deepEqual(found(text), ['domain-name good-c2.com']);
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

test('each reader: the added characters inside indicators are read as the rendered report shows them, with a warning', async () => {
  const tag = '\u{e0041}';
  const want = ['domain-name evil-c2.com', 'ipv4-addr 185.220.101.4'];
  const html = await readDocument(Buffer.from('<!doctype html><html><body><p>C2 evil&#xE0041;-c2.com and 1&#x180E;85.220.101.4 seen.</p></body></html>'), 'tag.html');
  assert.deepEqual(found(html.text), want, 'HTML');
  assert.ok(html.warnings.some((w) => w.includes('<U+E0041>') && w.includes('<U+180E>')), html.warnings.join('\n'));
  const text = await readDocument(Buffer.from(`C2 evil${tag}-c2.com and 1\u180e85.220.101.4 seen.\n`), 'tag.txt');
  assert.deepEqual(found(text.text), want, 'text');
  assert.ok(text.warnings.some((w) => w.includes('<U+E0041>') && w.includes('<U+180E>')), text.warnings.join('\n'));
  assert.ok(extract(text.text).every((o) => o.invisible === true));
  const eml = message(['From: a@mailer.net', 'To: b@mailer.net', 'Subject: invoice'], textPart(`Pay at evil${tag}-c2.com from 1\u180e85.220.101.4 today.`));
  const mail = found((await readDocument(Buffer.from(eml), 'tag.eml')).text);
  assert.deepEqual(mail.filter((v) => !v.endsWith('@mailer.net')), want, 'e-mail (its headers aside)');
  const lines = layoutPdfPage({ page: 1, width: 612, height: 792, items: [[`C2 evil${tag}-c2.com and 1\u180e85.220.101.4 seen`, 72, 700, 200, 10, 0]] });
  assert.deepEqual(found(lines.join('\n')), want, 'PDF');
});

test('a keycap emoji (a digit, # or *, U+FE0F, U+20E3) is no invisible character to warn of; U+FE0F anywhere else still is', async () => {
  for (const keycap of ['1\ufe0f\u20e3', '0\ufe0f\u20e3', '#\ufe0f\u20e3', '*\ufe0f\u20e3']) {
    assert.deepEqual(invisibleInWords(`Step ${keycap} block it.`), { count: 0, words: [] }, keycap);
    assert.deepEqual(invisibleInWords(`Step ${keycap}: block 185.220.101.4`), { count: 0, words: [] }, keycap);
  }
  // Its value is what the analyst sees after the keycap, unflagged: U+FE0F is not inside it.
  const [ip] = extract('1\ufe0f\u20e3185.220.101.4 first');
  assert.equal(ip?.value, '185.220.101.4');
  assert.equal(ip?.invisible, undefined);
  assert.deepEqual(invisibleInWords('1\ufe0f\u20e3185.220.101.4 first').count, 0);
  // Only that exact sequence: a selector after a digit with no keycap mark hides nothing on screen
  // but is inside the address; another invisible character in or beside a keycap is not the keycap's.
  for (const word of ['1\ufe0f92.0.2.1', '19\ufe0f2.0.2.1', 'a1\ufe0f.com', '1\ufe0f\u200b\u20e392.0.2.1', '1\u200b\ufe0f\u20e392.0.2.1', '1\ufe0f\u20e39\u200b2.0.2.1', 'x\ufe0f\u20e392.0.2.1']) {
    assert.equal(invisibleInWords(`seen ${word} today`).count, 1, shown(word));
  }
  // The flag of a value that holds a keycap stays: its U+FE0F was removed from inside it.
  const [url] = extract('see https://evil-c2.com/1\ufe0f\u20e3x now');
  assert.equal(url?.invisible, true);
  // No reader warns of one.
  const html = await readDocument(Buffer.from('<!doctype html><html><body><p>Step 1&#xFE0F;&#x20E3; block 185.220.101.4</p></body></html>'), 'k.html');
  const text = await readDocument(Buffer.from('Step 1\ufe0f\u20e3 block 185.220.101.4\n'), 'k.txt');
  assert.deepEqual([...html.warnings, ...text.warnings], []);
});

test('the warning says what the set is (default-ignorable characters), not only the zero-width ones it began with', async () => {
  const w = invisibleWarning('r.txt', 1, ['evil<U+E0041>.com']);
  assert.match(w, /default-ignorable characters, e\.g\. zero-width, tag characters, bidi controls/);
  assert.match(w, /evil<U\+E0041>\.com; they are read without them, as the rendered report shows them \(a Hangul filler as a space\)$/);
  // The one a reader gives for a word that holds only a tag character.
  const doc = await readDocument(Buffer.from('C2 evil\u{e0041}.com seen.\n'), 'r.txt');
  assert.deepEqual(doc.warnings, [invisibleWarning('r.txt', 1, ['evil<U+E0041>.com'])]);
});

test('PDF: a text layer with a zero-width space and a soft hyphen inside indicators', () => {
  const lines = layoutPdfPage({ page: 1, width: 612, height: 792, items: [['C2 evil\u200b-c2.com and 1\u00ad85.220.101.4 seen', 72, 700, 200, 10, 0]] });
  assert.deepEqual(found(lines.join('\n')), ['domain-name evil-c2.com', 'ipv4-addr 185.220.101.4']);
});

test('one set, used everywhere: the class matches exactly the characters, and the URL row alone ends a URL at each of them', () => {
  const klass = new RegExp(`^[${INVISIBLE_CLASS}]$`, 'u');
  const set = new Set(Array.from(INVISIBLE_CHARACTERS));
  for (let code = 0; code <= 0x10ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const c = String.fromCodePoint(code);
    assert.equal(klass.test(c), set.has(c), code.toString(16));
  }
  // Without the u flag the class would match the halves of a tag character, not the character:
  // it is written so that such a regex is refused when it is built, not wrong when it runs.
  assert.throws(() => new RegExp(`[${INVISIBLE_CLASS}]`), SyntaxError);
  // A caller of the URL row alone (no stripping first) gets the URL the reader sees end there, not
  // a value that carries the character.
  const row = EXTRACTORS.find((r) => r.id === 'url');
  assert.ok(row !== undefined);
  const url = row.regex;
  // The u flag the class needs must not bring the i flag's Unicode folding to the scheme: ſ is not s.
  assert.equal(new RegExp(url.source, url.flags).exec('see HTTPS://evil.example/a now')?.[0], 'HTTPS://evil.example/a');
  assert.equal(new RegExp(url.source, url.flags).exec('see http\u017f://evil.example/a now'), null);
  /** The value the URL row (its regex, then its build) proposes first in `text`. */
  const urlIn = (text: string): string | undefined => {
    const m = new RegExp(url.source, url.flags).exec(text);
    if (m === null) return undefined;
    const built = row.build(m, { text, tlds: new Set(['com', 'example', 'ir']), strictTld: true, defanged: () => false, budget: { remaining: 1_000_000 } });
    return built === null ? undefined : 'value' in built ? built.value : built[0]?.value;
  };
  for (const c of [...INVISIBLE, ...ADDED, ...HANGUL_FILLERS]) {
    const code = hexOf(c);
    assert.equal(urlIn(`see https://evil.example/a${c}b now`), 'https://evil.example/a', code);
    // The regex alone ends it at each, but at a joiner: the class cannot see the joiner's context,
    // which the build judges.
    if (c !== '\u200c' && c !== '\u200d') assert.equal(new RegExp(url.source, url.flags).exec(`see https://evil.example/a${c}b now`)?.[0], 'https://evil.example/a', code);
  }
  // A joiner IDNA allows where it stands (between two Persian letters that join) is part of the URL.
  assert.equal(urlIn('see https://\u0646\u0631\u0645\u200c\u0627\u0641\u0632\u0627\u0631.ir/a now'), 'https://\u0646\u0631\u0645\u200c\u0627\u0641\u0632\u0627\u0631.ir/a');
});

// IDNA's CONTEXTJ rules (RFC 5892 appendix A.1, A.2): a ZWNJ or ZWJ after a virama, and a ZWNJ
// between a letter that joins the one after it and a letter that joins the one before it (marks
// between). Such a joiner is seen (the letters around it take another form) and names another host
// (its punycode differs), so it is read as written.
const PERSIAN = '\u0646\u0631\u0645\u200c\u0627\u0641\u0632\u0627\u0631'; // نرم‌افزار, "software": ZWNJ after MEEM (dual-joining), before ALEF (right-joining)
const PERSIAN_PLURAL = '\u06a9\u062a\u0627\u0628\u200c\u0647\u0627'; // کتاب‌ها, "books": ZWNJ after BEH, before HEH (both dual-joining)
const HINDI_ZWJ = '\u0915\u094d\u200d\u0937\u0947\u0924\u094d\u0930'; // क्‍षेत्र: ZWJ after the virama (a half form)
const HINDI_ZWNJ = '\u0936\u094d\u200c\u0930\u0940'; // श्‌री: ZWNJ after the virama (the virama shown, no conjunct)
const withoutJoiners = (s: string): string => s.replace(/[\u200c\u200d]/g, '');

test('a joiner IDNA allows in a label (CONTEXTJ) is kept: Persian and Hindi domains are proposed as written, neither flagged nor warned of', async () => {
  for (const label of [PERSIAN, PERSIAN_PLURAL, HINDI_ZWJ, HINDI_ZWNJ]) {
    const name = `${label}.com`;
    const shownAs = shown(name);
    const text = `C2 ${name} seen, with 45.77.12.3.`;
    const [domain, ip] = extract(text);
    // Before: the name without its joiner, a host the report does not name, flagged.
    assert.equal(domain?.value, name, shownAs);
    assert.equal(text.slice(domain?.start, domain?.end), name, shownAs);
    assert.equal(domain?.invisible, undefined, shownAs);
    assert.equal(text.slice(ip?.start, ip?.end), '45.77.12.3', shownAs);
    // The host named is the one with the joiner: its punycode is not the one of the name without it.
    assert.match(domainToASCII(name), /^xn--[a-z0-9-]+\.com$/, shownAs);
    assert.notEqual(domainToASCII(name), domainToASCII(withoutJoiners(name)), shownAs);
    assert.equal(stripInvisible(text).text, text, shownAs);
    assert.deepEqual(invisibleInWords(text), { count: 0, words: [] }, shownAs);
    assert.equal(shown(name), name, 'a kept joiner is no character to name');
    // In a URL and an e-mail address too, and through each reader, without a warning.
    assert.deepEqual(found(`Get https://${name}/a now`), [`url https://${name}/a`, `domain-name ${name}`], shownAs);
    assert.deepEqual(found(`Mail ops@${name} now`), [`email-addr ops@${name}`], shownAs);
    const txt = await readDocument(Buffer.from(`C2 ${name} seen.\n`), 'idn.txt');
    const html = await readDocument(Buffer.from(`<!doctype html><html><body><p>C2 ${name} seen.</p></body></html>`), 'idn.html');
    const entity = await readDocument(Buffer.from(`<!doctype html><html><body><p>C2 ${name.replace('\u200c', '&zwnj;').replace('\u200d', '&zwj;')} seen.</p></body></html>`), 'idn.html');
    for (const doc of [txt, html, entity]) {
      assert.deepEqual(doc.warnings, [], shownAs);
      assert.deepEqual(found(doc.text), [`domain-name ${name}`], shownAs);
    }
  }
  // A name of a file or a mailbox in those scripts is read whole, not from the joiner or the mark
  // before it (before: the fragment after the joiner, or after the virama).
  for (const label of [PERSIAN, HINDI_ZWJ, HINDI_ZWNJ]) {
    assert.deepEqual(found(`Dropped ${label}.exe and mailed ops.${label}@evil-c2.com`), [`file ${label}.exe`, `email-addr ops.${label}@evil-c2.com`], shown(label));
  }
  // And each becomes a draft item as written, flagged for nothing. Before: refused by the item check
  // (no marks, no joiners in a label), so the report named a host the draft did not.
  const names = [PERSIAN, PERSIAN_PLURAL, HINDI_ZWJ, HINDI_ZWNJ].map((label) => `${label}.com`);
  const text = `C2 ${names.join(' and ')} seen.`;
  const { items } = proposeDraftItems({ text, observables: extract(text) });
  assert.deepEqual(items.map((item) => [item.value, item.invisible]), names.map((name) => [name, undefined]));
  // Between two transparent marks (a fatha after the BEH, another after the joiner) too.
  const marked = '\u0628\u064e\u200c\u064e\u0628.com';
  assert.deepEqual(found(`C2 ${marked} seen`), [`domain-name ${marked}`]);
  // A Persian IDN TLD holds none, but a name under one keeps its joiner.
  assert.deepEqual(found(`C2 ${PERSIAN}.\u0627\u06cc\u0631\u0627\u0646 seen`), [`domain-name ${PERSIAN}.\u0627\u06cc\u0631\u0627\u0646`]);
});

test('a joiner anywhere else is removed and warned of as before: a Latin domain, an address, a hash cannot be split or smuggled by one', async () => {
  for (const j of ['\u200c', '\u200d']) {
    const code = hexOf(j).toUpperCase();
    const text = `C2 ev${j}il-c2.com and 1${j}85.220.101.4 and d41d8cd98f00b204${j}e9800998ecf8427e.`;
    const observables = extract(text);
    assert.deepEqual(observables.map((o) => `${o.value} ${o.invisible}`), ['evil-c2.com true', '185.220.101.4 true', 'd41d8cd98f00b204e9800998ecf8427e true'], code);
    assert.equal(text.slice(observables[0]?.start, observables[0]?.end), `ev${j}il-c2.com`, code);
    const doc = await readDocument(Buffer.from(`C2 ev${j}il-c2.com seen.\n`), 'latin.txt');
    assert.deepEqual(doc.warnings, [invisibleWarning('latin.txt', 1, [`ev<U+${code}>il-c2.com`])], code);
    const html = await readDocument(Buffer.from(`<!doctype html><html><body><p>C2 ev&#x${code};il-c2.com seen.</p></body></html>`), 'latin.html');
    assert.deepEqual(found(html.text), ['domain-name evil-c2.com'], code);
    assert.equal(html.warnings.length, 1, code);
  }
  // Contexts the rules do not allow, each a name proposed without its joiner and flagged.
  const refused: readonly (readonly [string, string])[] = [
    ['\u0915\u200d\u0937', 'ZWJ between Devanagari letters with no virama before it'],
    ['\u0628\u200d\u0628', 'ZWJ between Arabic letters (only a virama allows a ZWJ)'],
    ['\u0627\u200c\u0628', 'ZWNJ after ALEF, which joins nothing after it (right-joining)'],
    ['\u0628\u200c\u0621', 'ZWNJ before HAMZA, which joins nothing (non-joining)'],
    ['\u0628\u200cb', 'ZWNJ before a Latin letter'],
    ['\u05d0\u200c\u0628', 'ZWNJ after a Hebrew letter (non-joining)'],
    ['\u0628\u034f\u200c\u0628', 'ZWNJ after an invisible mark (transparent, but not seen)'],
  ];
  for (const [label, why] of refused) {
    const [o] = extract(`C2 ${label}.com seen`);
    assert.equal(o?.value, `${withoutJoiners(label).replace('\u034f', '')}.com`, why);
    assert.equal(o?.invisible, true, why);
    assert.equal(invisibleInWords(`C2 ${label}.com seen`).count, 1, why);
  }
  // Nor is a format character of joining type T skipped (interlinear annotation controls, drawn as
  // nothing): the BEHs around them and the ZWNJ are not what the reader sees side by side.
  assert.equal(stripInvisible('\u0628\ufff9\u200c\ufffb\u0628').text, '\u0628\ufff9\ufffb\u0628');
  assert.equal(stripInvisible('\u0628\u{13430}\u200c\u0628').text, '\u0628\u{13430}\u0628');
  // After a virama but at the end of the label: nothing of the label after it, removed.
  assert.equal(stripInvisible('\u0915\u094d\u200d.com').text, '\u0915\u094d.com');
  assert.equal(stripInvisible('\u0915\u094d\u200d').text, '\u0915\u094d');
  // The judgement is the joiner's own: in a text that holds kept joiners, the others still go.
  assert.deepEqual(found(`C2 ${PERSIAN}.com and ev\u200cil.com`), [`domain-name ${PERSIAN}.com`, 'domain-name evil.com']);
  assert.ok(!isKeptJoiner('ab', 1) && !isKeptJoiner(PERSIAN, 0), 'only a joiner is ever kept');
});

test('a joiner is kept only between characters of one script (after a virama, the virama\'s): on a Latin letter it changes nothing on screen, so a lookalike name carries none unflagged', async () => {
  // IDNA reads only the virama; these pass its rule, yet the joiner is drawn as nothing here, and the
  // name with it is another host than the one without it that looks the same. Before: kept, the
  // value proposed with it and neither flagged nor warned of.
  const refused: readonly (readonly [string, string])[] = [
    ['pay\u094d\u200dpal', 'a Devanagari virama on a Latin letter, ZWJ'],
    ['pay\u0e3a\u200cpal', 'a Thai phinthu on a Latin letter, ZWNJ'],
    ['pay\u17d2\u200dpal', 'a Khmer coeng (drawn as nothing itself) on a Latin letter'],
    ['\u0915\u094d\u200cpal', 'a Devanagari consonant and virama, then a Latin letter'],
    ['pa\u094d\u200d\u0915', 'a Latin letter under the virama, a Devanagari consonant after'],
    ['\u0e15\u094d\u200d\u0915', 'a Thai letter under a Devanagari virama'],
    ['x1\u094d\u200d\u0915', 'a digit under the virama'],
  ];
  for (const [label, why] of refused) {
    const text = `C2 ${label}.com seen`;
    const [o] = extract(text);
    assert.equal(o?.value, `${withoutJoiners(label)}.com`, why);
    assert.equal(o?.invisible, true, why);
    assert.deepEqual(invisibleInWords(text).words, [shown(`${label}.com`)], why);
    assert.match(shown(label), /<U\+200[CD]>/, why);
    const doc = await readDocument(Buffer.from(`<!doctype html><html><body><p>${text}</p></body></html>`), 'lookalike.html');
    assert.deepEqual(found(doc.text), [`domain-name ${withoutJoiners(label)}.com`], why);
    assert.equal(doc.warnings.length, 1, why);
  }
  // A ZWNJ likewise between joining letters of two scripts, which do not join: an Arabic BEH and a
  // Syriac BETH, an Arabic BEH and an N'Ko letter.
  for (const label of ['\u0628\u200c\u0712', '\u0628\u200c\u07ca']) {
    const [o] = extract(`C2 ${label}.com seen`);
    assert.deepEqual([o?.value, o?.invisible], [`${withoutJoiners(label)}.com`, true], shown(label));
  }
  // Between two Syriac letters, or two N'Ko letters, it is kept.
  for (const label of ['\u0712\u200c\u0712', '\u07ca\u200c\u07ca']) assert.deepEqual(found(`C2 ${label}.com seen`), [`domain-name ${label}.com`], shown(label));
  // In a URL's path too: the URL proposed is the one without the joiner, flagged.
  const [url] = extract('Get https://evil.example/pa\u094d\u200dth now');
  assert.deepEqual([url?.value, url?.invisible], ['https://evil.example/pa\u094dth', true]);
});

// The tables are judged over the code points this engine has assigned: engines allows a Node 20 of
// an older Unicode, which knows nothing of a newer script's virama, and a Node of a newer one that
// adds a virama fails here until joining-data.ts is rebuilt.
const assigned = (code: number): boolean => /^\P{Cn}$/u.test(String.fromCodePoint(code));
const codesOf = (ranges: readonly (readonly [number, number])[]): number[] => ranges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, k) => from + k));

test('the viramas the ZWNJ/ZWJ rule reads are the characters of canonical combining class 9 in Node\'s own Unicode data', () => {
  // Canonical reordering moves a class-9 mark after a class-8 mark (U+3099) that follows it, and
  // before a class-10 mark (U+05B0) that precedes it; no other class moves both times.
  const expected: number[] = [];
  const mark = /^\p{M}$/u;
  for (let code = 0; code <= 0x10ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const c = String.fromCodePoint(code);
    if (!mark.test(c) || c.normalize('NFD') !== c) continue;
    const after8 = `a${c}\u3099`;
    const before10 = `a\u05b0${c}`;
    if (after8.normalize('NFD') === `a\u3099${c}` && after8 !== `a\u3099${c}` && before10.normalize('NFD') === `a${c}\u05b0` && before10 !== `a${c}\u05b0`) expected.push(code);
  }
  const shipped = codesOf(VIRAMA_RANGES);
  assert.deepEqual(shipped.filter(assigned), expected);
  for (const code of [0x94d, 0x9cd, 0xbcd, 0xd4d, 0x17d2]) assert.ok(expected.includes(code), code.toString(16));
  // Each is in one script's group, and a joiner after it, between two letters of that script, is kept.
  assert.deepEqual(VIRAMA_SCRIPTS.flatMap((s) => codesOf(s.viramas)).sort((a, b) => a - b), shipped);
  for (const { script, viramas, letters } of VIRAMA_SCRIPTS) {
    const letter = codesOf(letters).find((code) => /^\p{L}$/u.test(String.fromCodePoint(code)));
    assert.ok(letter !== undefined, script);
    for (const code of codesOf(viramas)) {
      const [l, v] = [String.fromCodePoint(letter), String.fromCodePoint(code)];
      assert.ok(isKeptJoiner(`${l}${v}\u200d${l}`, l.length + v.length), `${script} U+${code.toString(16)}`);
      assert.ok(!isKeptJoiner(`a${v}\u200da`, 1 + v.length), `${script} U+${code.toString(16)} on a Latin letter`);
    }
  }
});

test('the joining letters are grouped by their script, as this engine reads it', () => {
  const left = codesOf(JOINING_LEFT_RANGES);
  const right = codesOf(JOINING_RIGHT_RANGES);
  assert.deepEqual(JOINING_SCRIPTS.flatMap((s) => codesOf(s.left)).sort((a, b) => a - b), left);
  assert.deepEqual(JOINING_SCRIPTS.flatMap((s) => codesOf(s.right)).sort((a, b) => a - b), right);
  for (const { script, left: l, right: r } of JOINING_SCRIPTS) {
    let own: RegExp;
    try {
      own = new RegExp(`^\\p{sc=${script}}$`, 'u');
    } catch {
      continue; // a script newer than this engine's Unicode
    }
    for (const code of [...codesOf(l), ...codesOf(r)].filter(assigned)) assert.ok(own.test(String.fromCodePoint(code)), `${script} U+${code.toString(16)}`);
  }
});

test('each virama\'s group holds its script\'s letters (Script) and marks (Script_Extensions), as this engine reads them', () => {
  // One scan for the characters of any of the scripts, then each group's own test on those.
  const known = VIRAMA_SCRIPTS.filter(({ script }) => {
    try {
      return new RegExp(`\\p{sc=${script}}`, 'u').test('');
    } catch {
      return false; // a script newer than this engine's Unicode
    }
  });
  const any = new RegExp(`^[${known.map(({ script }) => `\\p{scx=${script}}`).join('')}]$`, 'u');
  const candidates: number[] = [];
  for (let code = 0; code <= 0x10ffff; code++) if ((code < 0xd800 || code > 0xdfff) && any.test(String.fromCodePoint(code))) candidates.push(code);
  for (const { script, letters } of known) {
    const own = new RegExp(`^(?:[\\p{sc=${script}}&&\\p{L}]|[\\p{scx=${script}}&&\\p{M}])$`, 'v');
    const expected = candidates.filter((code) => own.test(String.fromCodePoint(code)));
    assert.deepEqual(codesOf(letters).filter(assigned), expected, script);
  }
  // No modifier letter that looks like punctuation (U+02BC, with Devanagari among its extensions).
  assert.ok(!VIRAMA_SCRIPTS.some(({ letters }) => codesOf(letters).includes(0x2bc)));
});
