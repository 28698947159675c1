// Worker thread that reads PDFs' text layers with pdfjs-dist (legacy build, for Node 20). It runs
// apart from the main thread so that read-pdf.ts can bound it: a heap limit, a watchdog on memory
// outside the heap (decompressed streams are ArrayBuffers) and a wall-clock limit, after which the
// whole thread is terminated, whatever pdfjs was doing. Plain JavaScript because the thread is
// started without the TypeScript loader (see pdf-worker-pool.ts); the layout of the items is done
// in TypeScript (pdf-layout.ts).
//
// The thread is kept warm between files (pdf-worker-pool.ts): pdfjs is loaded once, when the thread
// starts, and each message { job, data, maxPages, maxChars } reads one PDF. Every reply carries the
// job number; the last one of a job is 'done' or 'error', after which the thread holds nothing of
// that file and is ready for the next. Jobs run one after the other, never interleaved.
//
// Safety settings: no eval (fonts are not compiled to functions), no font faces, no system fonts,
// no fetch of anything (no standard font or CMap URLs are given, the data is passed in memory),
// scripting is never enabled (this build has no sandbox loaded and we never ask for it).
import console from 'node:console';
import process from 'node:process';
import { parentPort } from 'node:worker_threads';

// pdfjs warns through console.log about broken fonts and the like (and, while loading, about the
// canvas it has no use for here); the reader reports outcomes itself, and the process's stdout may
// be JSON for a script (`entente extract --json`).
for (const method of ['log', 'info', 'warn', 'error', 'debug']) console[method] = () => undefined;

// pdfjs's core-js polyfills read `new Error().stack` while loading; with source maps on (tsx's
// loader or --enable-source-maps) that parses the 7 MB of pdfjs source maps: about a second.
process.setSourceMapsEnabled(false);

// The legacy build's core-js replaces Array.prototype.push on V8 < 12.2 (Node 20) with a JavaScript
// version, to throw on arrays with a non-writable length; pdfjs never makes such arrays, and the
// replacement costs about a third of the time spent on each page. Put the native one back once
// both halves of pdfjs are loaded (only in this thread: polyfills do not cross threads).
const nativePush = Array.prototype.push;
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
// Loading pdfjs's own worker half now (it sets globalThis.pdfjsWorker, which pdfjs then uses in
// this thread) keeps its cost out of the first file's time limit.
await import('pdfjs-dist/legacy/build/pdf.worker.mjs');
Array.prototype.push = nativePush;

function post(job, message) {
  parentPort.postMessage({ job, ...message });
}

/** Reads one PDF, posting 'meta', then 'page' for each page, then 'done' or 'error'. */
async function readOne({ job, data, maxPages, maxChars }) {
  let task = null;
  let outcome = { kind: 'done' };
  try {
    task = pdfjs.getDocument({
      data: new Uint8Array(data),
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      useWorkerFetch: false,
      isOffscreenCanvasSupported: false,
      stopAtErrors: false,
      verbosity: 0,
    });
    const doc = await task.promise;
    post(job, { kind: 'meta', pages: doc.numPages });
    if (doc.numPages > maxPages) {
      outcome = { kind: 'done', tooManyPages: true };
    } else {
      let chars = 0;
      for (let n = 1; n <= doc.numPages && outcome.tooMuchText !== true; n++) {
        const page = await doc.getPage(n);
        const [, , width, height] = page.view;
        const content = await page.getTextContent({ includeMarkedContent: false, disableNormalization: false });
        const items = [];
        for (const item of content.items) {
          if (typeof item.str !== 'string') continue;
          const [a, b, , , x, y] = item.transform;
          const size = Math.hypot(a, b) || item.height || 1;
          items.push([item.str, x, y, item.width, size, item.hasEOL ? 1 : 0]);
          chars += item.str.length;
        }
        post(job, { kind: 'page', page: n, width, height, items });
        page.cleanup();
        if (chars > maxChars) outcome = { kind: 'done', tooMuchText: true };
      }
    }
  } catch (error) {
    outcome = { kind: 'error', name: error?.name ?? 'Error', message: String(error?.message ?? error) };
  }
  // Free the document (and pdfjs's per-document worker state) before saying the job is over, so
  // that a thread handed back to the pool holds nothing of this file.
  await task?.destroy().catch(() => undefined);
  post(job, outcome);
}

let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(() => readOne(message));
});
