import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { locateOffset } from './document-text.ts';
import { readDocument, readFailure, sniffFormat } from './read-document.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { DocumentLimits } from './document-limits.ts';
import { manyParts, message, multipart, nestedMessage, textPart, attachment } from '../../test/fixtures/documents/make-eml.ts';

const FIXTURES = new URL('../../test/fixtures/documents/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

async function refusal(bytes: Uint8Array, name: string, limits: Partial<DocumentLimits> = {}): Promise<{ code: string; message: string }> {
  try {
    await readDocument(bytes, name, limits);
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  assert.fail(`${name} was read`);
}

describe('recognising the format', () => {
  const b = (s: string | number[]): Uint8Array => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Uint8Array.from(s));

  it('trusts the content over the extension', () => {
    assert.equal(sniffFormat(fixture('report-two-columns.pdf'), 'report.txt'), 'pdf');
    assert.equal(sniffFormat(b('junk before\n%PDF-1.4\n'), 'x'), 'pdf');
    assert.equal(sniffFormat(b('<!DOCTYPE html><p>x'), 'report.txt'), 'html');
    assert.equal(sniffFormat(b('Received: from a\r\nFrom: a@b.net\r\nTo: c@d.net\r\nSubject: x\r\n\r\nbody'), 'message'), 'email');
    assert.equal(sniffFormat(b('# Title\n\n45.77.12.3'), 'notes.md'), 'markdown');
    assert.equal(sniffFormat(b('plain words: not headers\n'), 'notes'), 'text');
  });

  it('uses the extension when the content is not telling', () => {
    assert.equal(sniffFormat(b('<p>fragment</p>'), 'page.html'), 'html');
    assert.equal(sniffFormat(b('Subject: only one header\n\nbody'), 'short.eml'), 'email');
  });

  it('names what it will not read: archives, Office files, images, executables, binary, a PDF without a PDF header', () => {
    const what = (bytes: Uint8Array, name: string): string => {
      const f = sniffFormat(bytes, name);
      return typeof f === 'string' ? f : f.unsupported;
    };
    assert.match(what(b([0x50, 0x4b, 0x03, 0x04, 1, 2]), 'report.pdf'), /ZIP archive/);
    assert.match(what(b([0x1f, 0x8b, 8, 0]), 'iocs.txt'), /gzip/);
    assert.match(what(b([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), 'mail.msg'), /OLE/);
    assert.match(what(b([0x4d, 0x5a, 0x90, 0]), 'x.txt'), /executable/);
    assert.match(what(b('A\u0000B'), 'blob.txt'), /NUL bytes/);
    assert.match(what(b('hello'), 'report.pdf'), /no %PDF- header/);
  });
});

describe('reading any document', () => {
  it('reads plain text as it is, offsets mapping one to one', async () => {
    const doc = await readDocument(Buffer.from('C2 at 45.77.12.3\n'), 'iocs.txt');
    assert.equal(doc.text, 'C2 at 45.77.12.3\n');
    assert.equal(locateOffset(doc, 6)?.sourceStart, 6);
  });

  it('decodes UTF-16 with a byte-order mark and HTML in a declared legacy charset', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('C2 at 45.77.12.3', 'utf16le')]);
    assert.equal((await readDocument(utf16, 'u16.txt')).text, 'C2 at 45.77.12.3');
    const latin1 = Buffer.from('<html><head><meta charset="iso-8859-1"></head><body><p>caf\u00e9 45.77.12.3</p></body></html>', 'latin1');
    assert.match((await readDocument(latin1, 'l1.html')).text, /café 45\.77\.12\.3/);
  });

  it("turns a reader's uncoded failure into ENT_EXTRACT_MALFORMED naming the file, so that the other files are still read", () => {
    const failure = readFailure(new RangeError('Maximum call stack size exceeded'), 'page.html');
    assert.equal(failure.code, 'ENT_EXTRACT_MALFORMED');
    assert.match(failure.message, /^page\.html: .*RangeError: Maximum call stack size exceeded/);
    const coded = new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', 'page.html: too big', { file: 'page.html' });
    assert.equal(readFailure(coded, 'page.html'), coded);
  });

  it('refuses an HTML page past an HTML limit, naming the file', async () => {
    const r = await refusal(Buffer.from(`<html><body>${'<br>'.repeat(50)}</body></html>`), 'flat.html', { maxHtmlNodes: 20 });
    assert.equal(r.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.match(r.message, /^flat\.html: .*more than 20 elements/);
  });

  it('refuses what it does not read with the file name, and files over the size limit', async () => {
    const zip = await refusal(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0]), 'bundle.zip');
    assert.equal(zip.code, 'ENT_EXTRACT_UNSUPPORTED_FORMAT');
    assert.match(zip.message, /^bundle\.zip: a ZIP archive/);
    const big = await refusal(Buffer.alloc(2048, 0x41), 'big.txt', { maxBytes: 1024 });
    assert.equal(big.code, 'ENT_INPUT_TOO_LARGE');
  });
});

describe('invisible characters inside words that look like indicators', () => {
  it('are named in one warning, for every input kind, so that the analyst checks those values', async () => {
    const text = await readDocument(Buffer.from('C2 evil\u200b-c2.com and 1\u202e85.220.101.4; a soft\u00adhyphen in prose is not named.\n'), 'zw.txt');
    assert.equal(text.warnings.length, 1, text.warnings.join('; '));
    assert.match(text.warnings[0] ?? '', /^zw\.txt: 2 words that look like indicators hold invisible characters/);
    assert.ok((text.warnings[0] ?? '').includes('evil<U+200B>-c2.com'));
    assert.ok((text.warnings[0] ?? '').includes('1<U+202E>85.220.101.4'));
    const html = await readDocument(Buffer.from('<!doctype html><html><body><p>C2 evil&#8203;-c2.com</p></body></html>'), 'zw.html');
    assert.equal(html.warnings.length, 1, html.warnings.join('; '));
    assert.ok((html.warnings[0] ?? '').includes('evil<U+200B>-c2.com'));
    const eml = message(['From: a@mailer.net', 'To: b@mailer.net', 'Subject: x'], textPart('Pay at evil\u200b-c2.com today.'));
    const email = await readDocument(Buffer.from(eml), 'zw.eml');
    assert.equal(email.warnings.length, 1, email.warnings.join('; '));
    assert.ok((email.warnings[0] ?? '').includes('evil<U+200B>-c2.com'));
  });

  it('are not warned about around words, nor in a text without them', async () => {
    const doc = await readDocument(Buffer.from('\ufeffC2 \u2066evil-c2.com\u2069 seen.\n'), 'clean.txt');
    assert.deepEqual(doc.warnings, []);
  });
});

describe('reading an e-mail', () => {
  it('reads the indicator-bearing headers, the body, a forwarded message and an attached PDF, each mapped to its part', async () => {
    const doc = await readDocument(fixture('phishing-report.eml'), 'phishing-report.eml');
    assert.equal(doc.format, 'email');
    const where = (s: string): string | undefined => {
      const i = doc.text.indexOf(s);
      assert.ok(i >= 0, `${s} is in the text`);
      const at = locateOffset(doc, i);
      return at?.page === undefined ? at?.part : `${at.part ?? ''} page ${at.page}`;
    };
    assert.equal(where('Subject: Fwd: phishing wave'), 'headers');
    assert.equal(where('194.26.29.113'), 'body');
    assert.equal(where('Reply-To: payroll@mailbox-verify.xyz'), 'attachment 1 (forwarded.eml) › headers');
    assert.equal(where('Received: from mail.lure-host.top (unknown [91.215.85.17])'), 'attachment 1 (forwarded.eml) › headers');
    assert.equal(where('hxxps://secure-login-portal[.]top/owa/login.php'), 'attachment 1 (forwarded.eml) › body');
    assert.equal(where('cdn-lantern.org'), 'attachment 2 (indicators.pdf) page 2');
  });

  it('reads no script from an HTML body, and does not open an attached archive (it says so)', async () => {
    const doc = await readDocument(fixture('phishing-report.eml'), 'phishing-report.eml');
    assert.ok(!doc.text.includes('tracker.invalid'));
    assert.ok(!doc.text.includes('not really a zip'));
    assert.equal(doc.warnings.length, 1);
    assert.match(doc.warnings[0] ?? '', /kit\.zip.*archives are not opened/);
  });

  it('reads the HTML part when there is no plain-text part', async () => {
    const eml = message(['From: a@mailer.net', 'To: b@mailer.net', 'Subject: html only'], textPart('<html><body><p>Visit 45.77.12.3</p><script>x("bad.net")</script></body></html>', 'text/html'));
    const doc = await readDocument(Buffer.from(eml), 'html-only.eml');
    assert.match(doc.text, /Visit 45\.77\.12\.3/);
    assert.ok(!doc.text.includes('bad.net'));
  });

  it('reads no hidden text from an HTML body, and passes on the HTML reader\'s warning that it skipped some', async () => {
    const eml = message(['From: a@mailer.net', 'To: b@mailer.net', 'Subject: html only'], textPart('<html><body><p>Visit 45.77.12.3</p><div style="display:none">planted-c2.net</div></body></html>', 'text/html'));
    const doc = await readDocument(Buffer.from(eml), 'hidden.eml');
    assert.ok(!doc.text.includes('planted-c2.net'));
    assert.equal(doc.warnings.length, 1, doc.warnings.join('; '));
    assert.match(doc.warnings[0] ?? '', /hidden\.eml \(HTML body\): 1 hidden element/);
  });

  it('reads a message nested a few deep, and refuses a nesting bomb naming the file', async () => {
    const ok = await readDocument(Buffer.from(nestedMessage(3)), 'nested.eml');
    assert.match(ok.text, /innermost payload at 45\.77\.12\.3/);
    const r = await refusal(Buffer.from(nestedMessage(50)), 'bomb.eml');
    assert.equal(r.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.match(r.message, /^bomb\.eml.*nested more than 4 deep/);
  });

  it('refuses a flood of parts and attachments that decode to too many bytes', async () => {
    const flood = await refusal(Buffer.from(manyParts(500)), 'flood.eml');
    assert.equal(flood.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.match(flood.message, /^flood\.eml: more than 64 attachments/);
    const big = message(['From: a@mailer.net', 'Subject: big'], multipart('mixed', [textPart('x'), attachment('a.txt', 'text/plain', Buffer.alloc(4096, 0x41))]));
    const bytes = await refusal(Buffer.from(big), 'big.eml', { maxTotalBytes: 1024 });
    assert.equal(bytes.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
  });

  it('refuses a flood of MIME parts before parsing it, whatever the parts are (inline text, images, parts without headers)', async () => {
    // None of these is an attachment, so the attachment count never sees them; postal-mime spent
    // about 150 µs on each (300,000 parts in a 5 MB message held the thread for 47 s).
    const headerless = (n: number): string => message(['From: a@mailer.net', 'Subject: flood'], { headers: ['Content-Type: multipart/mixed; boundary="B"'], body: `${'--B\r\n\r\n45.77.12.3\r\n'.repeat(n)}--B--\r\n` });
    const flood = await refusal(Buffer.from(headerless(100_000)), 'parts.eml');
    assert.equal(flood.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.match(flood.message, /^parts\.eml: more than 5000 MIME part delimiters/);
    const images = multipart('mixed', Array.from({ length: 30 }, () => attachment('pixel.png', 'image/png', Buffer.from('iVBORw0KGgo=', 'base64'))));
    const small = await refusal(Buffer.from(message(['From: a@mailer.net', 'Subject: pixels'], images)), 'pixels.eml', { maxMimeParts: 20 });
    assert.match(small.message, /^pixels\.eml: more than 20 MIME part delimiters/);
    // Exactly at the limit is read: one opening and one closing delimiter per part, plus the last close.
    const ok = await readDocument(Buffer.from(headerless(9)), 'nine.eml', { maxMimeParts: 10 });
    assert.match(ok.text, /45\.77\.12\.3/);
  });

  it('counts the MIME parts of nested messages against the same budget as the outer one', async () => {
    // Base64 hides the inner message's delimiters from the outer count; each message read adds its own.
    const inner = message(['From: a@mailer.net', 'Subject: inner'], multipart('mixed', Array.from({ length: 8 }, (_, i) => textPart(`part ${i}`))));
    const outer = message(['From: b@mailer.net', 'Subject: outer'], multipart('mixed', [textPart('see attached'), attachment('fwd.eml', 'message/rfc822', Buffer.from(inner))]));
    assert.match((await readDocument(Buffer.from(outer), 'outer.eml', { maxMimeParts: 20 })).text, /part 7/);
    const r = await refusal(Buffer.from(outer), 'outer.eml', { maxMimeParts: 11 });
    assert.equal(r.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.match(r.message, /^outer\.eml › fwd\.eml: more than 11 MIME part delimiters/);
  });

  it('reports an unreadable attachment and still reads the rest of the message', async () => {
    const encrypted = fixture('encrypted.pdf');
    const eml = message(['From: a@mailer.net', 'Subject: locked'], multipart('mixed', [textPart('C2 45.77.12.3'), attachment('locked.pdf', 'application/pdf', encrypted)]));
    const doc = await readDocument(Buffer.from(eml), 'locked.eml');
    assert.match(doc.text, /C2 45\.77\.12\.3/);
    assert.match(doc.warnings.join('\n'), /locked\.pdf.*encrypted/);
  });
});
