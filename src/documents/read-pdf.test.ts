import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_DOCUMENT_LIMITS } from './document-limits.ts';
import type { DocumentLimits } from './document-limits.ts';
import { locateOffset } from './document-text.ts';
import { layoutPdfPage } from './pdf-layout.ts';
import type { PdfItem } from './pdf-layout.ts';
import { readPdf } from './read-pdf.ts';
import { makePdf, proseLines, SAMPLE_REPORT_PAGES, tablePage } from '../../test/fixtures/documents/make-pdf.ts';

const FIXTURES = new URL('../../test/fixtures/documents/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

async function refusal(bytes: Uint8Array, name: string, limits: Partial<DocumentLimits> = {}): Promise<{ code: string; message: string }> {
  try {
    await readPdf(bytes, name, { ...DEFAULT_DOCUMENT_LIMITS, ...limits });
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  assert.fail(`${name} was read`);
}

describe('PDF layout: reading order of a page', () => {
  const item = (text: string, x: number, y: number, size = 10): PdfItem => [text, x, y, text.length * size * 0.5, size, 0];

  it('reads lines top to bottom whatever order the producer wrote them in', () => {
    const lines = layoutPdfPage({ page: 1, width: 612, height: 792, items: [item('second line', 72, 686), item('first line', 72, 700)] });
    assert.deepEqual(lines, ['first line', 'second line']);
  });

  it('reads a two-column page column by column, after a full-width heading', () => {
    const left = ['left one is long enough to be prose', 'left two is long enough to be prose', 'left three is long enough prose', 'left four is long enough prose'];
    const right = ['right one is long enough to be prose', 'right two is long enough to be prose', 'right three long enough prose', 'right four long enough prose'];
    const items: PdfItem[] = [item('A heading that spans both of the two columns of this page', 72, 740, 12)];
    left.forEach((t, i) => items.push(item(t, 60, 700 - i * 12, 9)));
    right.forEach((t, i) => items.push(item(t, 320, 700 - i * 12, 9)));
    const lines = layoutPdfPage({ page: 1, width: 612, height: 792, items });
    assert.deepEqual(lines, ['A heading that spans both of the two columns of this page', ...left, ...right]);
  });

  it('keeps a table row on one line with tab-separated cells, and never mistakes a table for columns', () => {
    const rows = [['Type', 'Value', 'Note'], ['ipv4', '45.77.12.3', 'loader'], ['domain', 'cdn-lantern.org', 'C2'], ['md5', '0cc175b9c0f1b6a831c399e269772661', 'x']];
    const items: PdfItem[] = [];
    rows.forEach((row, r) => row.forEach((cell, c) => items.push(item(cell, [72, 200, 400][c] ?? 0, 700 - r * 14))));
    const lines = layoutPdfPage({ page: 1, width: 612, height: 792, items });
    assert.deepEqual(lines, rows.map((row) => row.join('\t')));
  });

  it('joins the words of a line that the producer wrote one by one', () => {
    const words = ['The', 'beacon', 'calls', '45.77.12.3'];
    let x = 72;
    const items: PdfItem[] = words.map((w) => {
      const it: PdfItem = [w, x, 700, w.length * 5, 10, 0];
      x += w.length * 5 + 2.5;
      return it;
    });
    assert.deepEqual(layoutPdfPage({ page: 1, width: 612, height: 792, items }), ['The beacon calls 45.77.12.3']);
  });
});

describe('reading a PDF', () => {
  it('reads the text layer of every page, two columns in reading order and tables as rows, with page numbers', async () => {
    const doc = await readPdf(fixture('report-two-columns.pdf'), 'report-two-columns.pdf', DEFAULT_DOCUMENT_LIMITS);
    assert.equal(doc.format, 'pdf');
    assert.equal(doc.pages, 2);
    const lines = doc.text.split('\n');
    // The left column ends before the right one starts.
    assert.ok(lines.indexOf('HTTPS every ten minutes.') < lines.indexOf('A second server, 198.51.100.23,'));
    assert.ok(lines.includes('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.'));
    assert.ok(lines.includes('ipv4\t45.77.12.3\tloader'));
    assert.equal(locateOffset(doc, doc.text.indexOf('185.220.101.47'))?.page, 1);
    assert.equal(locateOffset(doc, doc.text.indexOf('cdn-lantern.org'))?.page, 2);
  });

  it('reads many pages quickly, in page order', async () => {
    const pages = Array.from({ length: 60 }, (_, i) => ({ texts: proseLines([`page ${i + 1} mentions 45.77.12.${i}`]) }));
    const t0 = performance.now();
    const doc = await readPdf(makePdf(pages, { compress: true }), 'sixty.pdf', DEFAULT_DOCUMENT_LIMITS);
    const ms = performance.now() - t0;
    assert.equal(doc.pages, 60);
    assert.ok(doc.text.indexOf('page 9 ') < doc.text.indexOf('page 10 '));
    assert.ok(ms < 15_000, `${ms} ms`);
  });

  it('says so when pages have no text layer (a scan)', async () => {
    const doc = await readPdf(makePdf([{ texts: [] }, tablePage('t', [['a', 'b']])]), 'scan.pdf', DEFAULT_DOCUMENT_LIMITS);
    assert.deepEqual(doc.warnings, ['scan.pdf: page 1 without a text layer']);
  });

  it('refuses an encrypted PDF that needs a password, naming the file', async () => {
    const r = await refusal(fixture('encrypted.pdf'), 'encrypted.pdf');
    assert.equal(r.code, 'ENT_EXTRACT_ENCRYPTED');
    assert.match(r.message, /^encrypted\.pdf: .*password/);
  });

  it('refuses a truncated PDF and garbage with a PDF header, naming the file', async () => {
    const truncated = await refusal(fixture('truncated.pdf'), 'truncated.pdf');
    assert.equal(truncated.code, 'ENT_EXTRACT_MALFORMED');
    assert.match(truncated.message, /^truncated\.pdf: .*truncated or corrupt/);
    const garbage = await refusal(Buffer.from('%PDF-1.7\n\u0000\u0001garbage garbage garbage'), 'garbage.pdf');
    assert.equal(garbage.code, 'ENT_EXTRACT_MALFORMED');
  });

  it('refuses a page-count bomb (one page listed 100,000 times) before reading any page', async () => {
    const bomb = makePdf(SAMPLE_REPORT_PAGES, { repeatedKids: 100_000 });
    const t0 = performance.now();
    const r = await refusal(bomb, 'pages-bomb.pdf');
    assert.equal(r.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.match(r.message, /^pages-bomb\.pdf: 100000 pages is more than the 2000/);
    assert.ok(performance.now() - t0 < 10_000);
  });

  describe('a decompression bomb (a 96 MiB content stream in a 100 KB file)', () => {
    const bomb = makePdf([{ texts: proseLines(['hi']), rawContent: `\n${' '.repeat(96 * 1024 * 1024)}` }], { compress: true });

    it('is small on disk', () => assert.ok(bomb.length < 200_000));

    it('is abandoned when reading it needs more memory than allowed', async () => {
      const r = await refusal(bomb, 'zip-bomb.pdf', { maxMemoryMb: 48 });
      assert.equal(r.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
      assert.match(r.message, /^zip-bomb\.pdf: reading needed more than 48 MiB/);
    });

    it('is abandoned when reading it takes longer than allowed', async () => {
      const t0 = performance.now();
      const r = await refusal(bomb, 'slow.pdf', { timeoutMs: 200 });
      assert.equal(r.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
      assert.match(r.message, /^slow\.pdf: reading took longer than 200 ms/);
      assert.ok(performance.now() - t0 < 2_000);
    });
  });

  it('refuses more text than allowed', async () => {
    const r = await refusal(fixture('report-two-columns.pdf'), 'wordy.pdf', { maxChars: 50 });
    assert.equal(r.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
  });
});
