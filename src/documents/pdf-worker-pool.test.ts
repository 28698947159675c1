import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DOCUMENT_LIMITS } from './document-limits.ts';
import type { DocumentLimits } from './document-limits.ts';
import { PdfWorkerPool } from './pdf-worker-pool.ts';
import { readPdf } from './read-pdf.ts';
import { makePdf, proseLines } from '../../test/fixtures/documents/make-pdf.ts';

const FIXTURES = new URL('../../test/fixtures/documents/', import.meta.url);
const report = readFileSync(new URL('report-two-columns.pdf', FIXTURES));
const encrypted = readFileSync(new URL('encrypted.pdf', FIXTURES));
const truncated = readFileSync(new URL('truncated.pdf', FIXTURES));
// A 96 MiB content stream in a 100 KB file: slow to read and big once inflated.
const bomb = makePdf([{ texts: proseLines(['hi']), rawContent: `\n${' '.repeat(96 * 1024 * 1024)}` }], { compress: true });

const pools: PdfWorkerPool[] = [];
function newPool(maxIdle?: number): PdfWorkerPool {
  const pool = new PdfWorkerPool(maxIdle);
  pools.push(pool);
  return pool;
}
after(() => Promise.all(pools.map((p) => p.close())));

async function readReport(pool: PdfWorkerPool, limits: Partial<DocumentLimits> = {}): Promise<string> {
  const doc = await readPdf(report, 'report-two-columns.pdf', { ...DEFAULT_DOCUMENT_LIMITS, ...limits }, pool);
  return doc.text;
}

async function refusalCode(pool: PdfWorkerPool, bytes: Uint8Array, name: string, limits: Partial<DocumentLimits>): Promise<string> {
  try {
    await readPdf(bytes, name, { ...DEFAULT_DOCUMENT_LIMITS, ...limits }, pool);
  } catch (error) {
    assert.match((error as Error).message, new RegExp(`^${name.replace('.', '\\.')}: `));
    return (error as { code: string }).code;
  }
  assert.fail(`${name} was read`);
}

describe('PDF reader threads', () => {
  it('reads files one after another in one warm thread, giving the same text each time', async () => {
    const pool = newPool();
    const first = await readReport(pool);
    const second = await readReport(pool);
    assert.ok(first.includes('ipv4\t45.77.12.3\tloader'));
    assert.equal(second, first);
    assert.deepEqual(pool.stats, { started: 1, idle: 1 });
  });

  it('does not reuse a thread killed for taking too long: the next file gets a new thread and reads whole', async () => {
    const pool = newPool();
    const expected = await readReport(pool);
    assert.equal(await refusalCode(pool, bomb, 'slow.pdf', { timeoutMs: 200 }), 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.equal(pool.stats.idle, 0);
    assert.equal(await readReport(pool), expected);
    assert.deepEqual(pool.stats, { started: 2, idle: 1 });
  });

  it('does not reuse a thread killed for needing too much memory', async () => {
    const pool = newPool();
    const expected = await readReport(pool);
    assert.equal(await refusalCode(pool, bomb, 'zip-bomb.pdf', { maxMemoryMb: 48 }), 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.equal(pool.stats.idle, 0);
    assert.equal(await readReport(pool), expected);
    assert.deepEqual(pool.stats, { started: 2, idle: 1 });
  });

  it('does not keep a thread that ran out of heap', async () => {
    const pool = newPool();
    // 8 MiB is less than pdfjs itself needs: the thread dies with ERR_WORKER_OUT_OF_MEMORY.
    assert.equal(await refusalCode(pool, report, 'heavy.pdf', { maxHeapMb: 8 }), 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.equal(pool.stats.idle, 0);
    assert.ok((await readReport(pool)).includes('cdn-lantern.org'));
    assert.deepEqual(pool.stats, { started: 2, idle: 1 });
  });

  it('keeps a thread that refused a file itself (encrypted, truncated, too much text) and reads the next file with it', async () => {
    const pool = newPool();
    const expected = await readReport(pool);
    assert.equal(await refusalCode(pool, encrypted, 'encrypted.pdf', {}), 'ENT_EXTRACT_ENCRYPTED');
    assert.equal(await refusalCode(pool, truncated, 'truncated.pdf', {}), 'ENT_EXTRACT_MALFORMED');
    assert.equal(await refusalCode(pool, report, 'wordy.pdf', { maxChars: 50 }), 'ENT_EXTRACT_LIMIT_EXCEEDED');
    assert.equal(await readReport(pool), expected);
    assert.deepEqual(pool.stats, { started: 1, idle: 1 });
  });

  it('gives overlapping reads a thread each and keeps no more idle threads than asked', async () => {
    const pool = newPool(1);
    const texts = await Promise.all([readReport(pool), readReport(pool), readReport(pool)]);
    assert.equal(new Set(texts).size, 1);
    assert.deepEqual(pool.stats, { started: 3, idle: 1 });
  });

  it('starts a new thread for a different heap limit (the limit is fixed when a thread starts)', async () => {
    const pool = newPool();
    await readReport(pool);
    await readReport(pool, { maxHeapMb: 256 });
    assert.deepEqual(pool.stats, { started: 2, idle: 2 });
  });

  it('forgets a thread that ended while idle', async () => {
    const pool = newPool();
    const worker = pool.take(DEFAULT_DOCUMENT_LIMITS.maxHeapMb);
    pool.giveBack(worker);
    assert.equal(pool.stats.idle, 1);
    await worker.terminate();
    assert.equal(pool.stats.idle, 0);
    assert.ok((await readReport(pool)).includes('cdn-lantern.org'));
  });

  it('does not keep the process alive once reading is over, and leaves its stdout to the program', async () => {
    // A child process reads a PDF with the process's pool and prints the page count; a warm thread
    // that held the process open would make it hang until the timeout kills it.
    const script = [
      "import { readFileSync } from 'node:fs';",
      "import { DEFAULT_DOCUMENT_LIMITS } from './src/documents/document-limits.ts';",
      "import { readPdf } from './src/documents/read-pdf.ts';",
      "const doc = await readPdf(readFileSync('test/fixtures/documents/report-two-columns.pdf'), 'r.pdf', DEFAULT_DOCUMENT_LIMITS);",
      'process.stdout.write(String(doc.pages));',
    ].join('\n');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], { cwd: root, timeout: 30_000 }, (error, out) => {
        if (error === null) resolve(out);
        else reject(error);
      });
    });
    assert.equal(stdout, '2');
  });
});
