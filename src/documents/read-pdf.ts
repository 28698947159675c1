// PDF → text: the text layer of every page in reading order (pdf-layout.ts), read by pdfjs-dist in
// a worker thread (pdf-worker.mjs, lent by pdf-worker-pool.ts) that is killed when it passes the
// time or memory limit. Errors name the file: encrypted (needs a password), malformed (truncated,
// not a PDF), or over a limit.
import type { Worker } from 'node:worker_threads';
import { EntenteError } from '../errors/entente-error.ts';
import type { DocumentLimits } from './document-limits.ts';
import { TextBuilder } from './document-text.ts';
import type { DocumentText } from './document-text.ts';
import { layoutPdfPage } from './pdf-layout.ts';
import type { PdfPageItems } from './pdf-layout.ts';
import { pdfWorkers } from './pdf-worker-pool.ts';
import type { PdfWorkerPool } from './pdf-worker-pool.ts';

/** What the thread says about job `job`; 'done' and 'error' are its last word on it. */
type WorkerMessage = { job: number } & (
  | { kind: 'meta'; pages: number }
  | ({ kind: 'page' } & PdfPageItems)
  | { kind: 'done'; tooManyPages?: boolean; tooMuchText?: boolean }
  | { kind: 'error'; name: string; message: string }
);

const WATCH_MS = 20;
let lastJob = 0;

function limitError(name: string, what: string): EntenteError {
  return new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: ${what}`, { file: name });
}

/** The error for a job the thread ended itself (so the thread is fit for the next one), or null. */
function outcomeError(m: WorkerMessage & { kind: 'done' | 'error' }, name: string, limits: DocumentLimits, pageCount: number): EntenteError | null {
  if (m.kind === 'done') {
    if (m.tooMuchText === true) return limitError(name, `more than ${limits.maxChars} characters of text`);
    if (m.tooManyPages === true) return limitError(name, `${pageCount} pages is more than the ${limits.maxPages} a report may have`);
    return null;
  }
  if (m.name === 'PasswordException') {
    return new EntenteError('ENT_EXTRACT_ENCRYPTED', `${name}: the PDF is encrypted and needs a password; decrypt it first (e.g. qpdf --decrypt)`, { file: name });
  }
  return new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: not a readable PDF (${m.message}); the file may be truncated or corrupt`, { file: name });
}

/** Reads the raw items of every page; rejects with an EntenteError naming `name`. */
function readPdfPages(bytes: Uint8Array, name: string, limits: DocumentLimits, pool: PdfWorkerPool): Promise<{ pages: number; items: PdfPageItems[] }> {
  return new Promise((resolve, reject) => {
    const data = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(data).set(bytes);
    const job = ++lastJob;
    const worker: Worker = pool.take(limits.maxHeapMb);
    const baseline = process.memoryUsage.rss();
    const pages: PdfPageItems[] = [];
    let pageCount = 0;
    let settled = false;
    /** `reusable`: the thread ended the job itself and may read the next file. */
    const finish = (error: EntenteError | null, reusable: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (reusable) pool.giveBack(worker);
      else void pool.discard(worker);
      if (error === null) resolve({ pages: pageCount, items: pages });
      else reject(error);
    };
    const timer = setTimeout(() => finish(limitError(name, `reading took longer than ${limits.timeoutMs} ms; the PDF was abandoned`), false), limits.timeoutMs);
    const watch = setInterval(() => {
      const grown = (process.memoryUsage.rss() - baseline) / (1024 * 1024);
      if (grown > limits.maxMemoryMb) {
        finish(limitError(name, `reading needed more than ${limits.maxMemoryMb} MiB (a decompression bomb?); the PDF was abandoned`), false);
      }
    }, WATCH_MS);
    const onMessage = (m: WorkerMessage): void => {
      if (m.job !== job) return; // cannot happen while threads are lent to one read at a time
      if (m.kind === 'meta') pageCount = m.pages;
      else if (m.kind === 'page') pages.push(m);
      else finish(outcomeError(m, name, limits, pageCount), true);
    };
    const onError = (error: Error & { code?: string }): void => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') finish(limitError(name, `reading needed more than ${limits.maxHeapMb} MiB of heap; the PDF was abandoned`), false);
      else finish(new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: the PDF reader failed (${error.message})`, { file: name }), false);
    };
    const onExit = (): void => finish(new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: the PDF reader stopped before the end of the file`, { file: name }), false);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ job, data, maxPages: limits.maxPages, maxChars: limits.maxChars }, [data]);
  });
}

/**
 * Reads a PDF's text layer. Page N's text is mapped to `{ page: N }`. The reading thread comes from
 * `pool` (the process's warm threads unless another pool is given).
 */
export async function readPdf(bytes: Uint8Array, name: string, limits: DocumentLimits, pool: PdfWorkerPool = pdfWorkers): Promise<DocumentText> {
  const { pages, items } = await readPdfPages(bytes, name, limits, pool);
  const out = new TextBuilder();
  const warnings: string[] = [];
  const empty: number[] = [];
  for (const page of items.sort((a, b) => a.page - b.page)) {
    const lines = layoutPdfPage(page);
    if (lines.length === 0) empty.push(page.page);
    out.breakLines(2);
    for (const line of lines) {
      out.add(line, { page: page.page });
      out.separator('\n');
    }
  }
  if (empty.length === items.length && items.length > 0) warnings.push(`${name}: no page has a text layer (a scanned document? OCR it first)`);
  else if (empty.length > 0) warnings.push(`${name}: page${empty.length > 1 ? 's' : ''} ${empty.join(', ')} without a text layer`);
  return { format: 'pdf', text: out.toString(), segments: out.segments, warnings, pages };
}
