// PDF → text: the text layer of every page in reading order (pdf-layout.ts), read by pdfjs-dist in
// a worker thread (pdf-worker.mjs) that is killed when it passes the time or memory limit. Errors
// name the file: encrypted (needs a password), malformed (truncated, not a PDF), or over a limit.
import { Worker } from 'node:worker_threads';
import { EntenteError } from '../errors/entente-error.ts';
import type { DocumentLimits } from './document-limits.ts';
import { TextBuilder } from './document-text.ts';
import type { DocumentText } from './document-text.ts';
import { layoutPdfPage } from './pdf-layout.ts';
import type { PdfPageItems } from './pdf-layout.ts';

type WorkerMessage =
  | { kind: 'meta'; pages: number }
  | ({ kind: 'page' } & PdfPageItems)
  | { kind: 'done'; tooManyPages?: boolean; tooMuchText?: boolean }
  | { kind: 'error'; name: string; message: string };

const WORKER_URL = new URL('./pdf-worker.mjs', import.meta.url);
const WATCH_MS = 20;

function limitError(name: string, what: string): EntenteError {
  return new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: ${what}`, { file: name });
}

/** Reads the raw items of every page; rejects with an EntenteError naming `name`. */
function readPdfPages(bytes: Uint8Array, name: string, limits: DocumentLimits): Promise<{ pages: number; items: PdfPageItems[] }> {
  return new Promise((resolve, reject) => {
    const data = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(data).set(bytes);
    const worker = new Worker(WORKER_URL, {
      workerData: { data, maxPages: limits.maxPages, maxChars: limits.maxChars },
      transferList: [data],
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    // pdfjs warns on stdout about broken fonts and the like; the reader reports outcomes itself.
    worker.stdout.resume();
    worker.stderr.resume();
    const baseline = process.memoryUsage.rss();
    const pages: PdfPageItems[] = [];
    let pageCount = 0;
    let settled = false;
    const finish = (error: EntenteError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      void worker.terminate();
      if (error === null) resolve({ pages: pageCount, items: pages });
      else reject(error);
    };
    const timer = setTimeout(() => finish(limitError(name, `reading took longer than ${limits.timeoutMs} ms; the PDF was abandoned`)), limits.timeoutMs);
    const watch = setInterval(() => {
      const grown = (process.memoryUsage.rss() - baseline) / (1024 * 1024);
      if (grown > limits.maxMemoryMb) {
        finish(limitError(name, `reading needed more than ${limits.maxMemoryMb} MiB (a decompression bomb?); the PDF was abandoned`));
      }
    }, WATCH_MS);
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'meta') {
        pageCount = m.pages;
        if (m.pages > limits.maxPages) finish(limitError(name, `${m.pages} pages is more than the ${limits.maxPages} a report may have`));
      } else if (m.kind === 'page') pages.push(m);
      else if (m.kind === 'done') {
        if (m.tooMuchText === true) finish(limitError(name, `more than ${limits.maxChars} characters of text`));
        else if (m.tooManyPages === true) finish(limitError(name, `${pageCount} pages is more than the ${limits.maxPages} a report may have`));
        else finish(null);
      } else if (m.name === 'PasswordException') {
        finish(new EntenteError('ENT_EXTRACT_ENCRYPTED', `${name}: the PDF is encrypted and needs a password; decrypt it first (e.g. qpdf --decrypt)`, { file: name }));
      } else {
        finish(new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: not a readable PDF (${m.message}); the file may be truncated or corrupt`, { file: name }));
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') finish(limitError(name, `reading needed more than ${limits.maxHeapMb} MiB of heap; the PDF was abandoned`));
      else finish(new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: the PDF reader failed (${error.message})`, { file: name }));
    });
    worker.on('exit', () => finish(new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: the PDF reader stopped before the end of the file`, { file: name })));
  });
}

/** Reads a PDF's text layer. Page N's text is mapped to `{ page: N }`. */
export async function readPdf(bytes: Uint8Array, name: string, limits: DocumentLimits): Promise<DocumentText> {
  const { pages, items } = await readPdfPages(bytes, name, limits);
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
