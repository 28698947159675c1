// Worker thread that reads a PDF's text layer with pdfjs-dist (legacy build, for Node 20). It runs
// apart from the main thread so that read-pdf.ts can bound it: a heap limit, a watchdog on memory
// outside the heap (decompressed streams are ArrayBuffers) and a wall-clock limit, after which the
// whole thread is terminated, whatever pdfjs was doing. Plain JavaScript because worker threads do
// not inherit the TypeScript loader; the layout of the items is done in TypeScript (pdf-layout.ts).
//
// Safety settings: no eval (fonts are not compiled to functions), no font faces, no system fonts,
// no fetch of anything (no standard font or CMap URLs are given, the data is passed in memory),
// scripting is never enabled (this build has no sandbox loaded and we never ask for it).
import { parentPort, workerData } from 'node:worker_threads';

const { data, maxPages, maxChars } = workerData;

function post(message) {
  parentPort.postMessage(message);
}

try {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const task = pdfjs.getDocument({
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
  post({ kind: 'meta', pages: doc.numPages });
  if (doc.numPages > maxPages) {
    post({ kind: 'done', tooManyPages: true });
  } else {
    let chars = 0;
    for (let n = 1; n <= doc.numPages; n++) {
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
      post({ kind: 'page', page: n, width, height, items });
      page.cleanup();
      if (chars > maxChars) {
        post({ kind: 'done', tooMuchText: true });
        break;
      }
    }
    if (chars <= maxChars) post({ kind: 'done' });
  }
  await doc.destroy();
} catch (error) {
  post({ kind: 'error', name: error?.name ?? 'Error', message: String(error?.message ?? error) });
}
