// `extract` benchmark over the real report texts in ../shared/data (TRAM annotated reports and
// AnnoCTR texts):
//   - text_mb_per_s: extraction with every extractor, refang and suppression on, one report at a
//     time, as `entente extract` and POST /api/drafts run it (each document on its own), and as the
//     baseline below is measured;
//   - text_concatenated_mb_per_s: the same over the texts concatenated into one 7.5 MB text, the
//     measure of sessions before the per-report one: each pass makes a refanged copy of the whole
//     corpus, and on the bench machine the pages of such a fresh 15 MB string cost more to fault in
//     than the extraction (the note gives the page faults per pass);
//   - baseline_text_mb_per_s: the ioc-extractor package over the same texts, one report at a time
//     in a worker thread, because some real reports make its regexes backtrack for minutes: a
//     report that takes longer than BASELINE_DOC_LIMIT_MS is abandoned and named in the note;
//   - pdf_pages_per_s, pdf_cold_pages_per_s, pdf_large_pages_per_s: readPdf() on generated PDFs of
//     the same texts (decompression, text layer and layout included), see runPdfBench().
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { extractObservables } from '../src/extract/extract-observables.ts';
import { loadExtractData } from '../src/extract/load-extract-data.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../src/documents/document-limits.ts';
import { PdfWorkerPool } from '../src/documents/pdf-worker-pool.ts';
import { readPdf } from '../src/documents/read-pdf.ts';
import { makePdf, proseLines } from '../test/fixtures/documents/make-pdf.ts';
import type { PdfPage } from '../test/fixtures/documents/make-pdf.ts';
import { benchScale, reportFigure } from './report-figure.ts';

const SHARED = join(import.meta.dirname, '..', '..', 'shared', 'data');

/** The benchmark corpus and a note saying which sources were present. */
export function loadBenchCorpus(): { text: string; note: string; parts: string[] } {
  const parts: string[] = [];
  const notes: string[] = [];
  const tram = join(SHARED, 'tram', 'tram2-annotated-reports.jsonl');
  if (existsSync(tram)) {
    const lines = readFileSync(tram, 'utf8').split('\n').filter((l) => l.trim() !== '');
    for (const l of lines) {
      const doc = JSON.parse(l) as { text?: unknown };
      if (typeof doc.text === 'string') parts.push(doc.text);
    }
    notes.push(`TRAM ${lines.length} reports`);
  } else notes.push('TRAM absent');
  const anno = join(SHARED, 'annoctr', 'text');
  if (existsSync(anno)) {
    const files = readdirSync(anno).filter((f) => f.endsWith('.txt')).sort();
    for (const f of files) parts.push(readFileSync(join(anno, f), 'utf8'));
    notes.push(`AnnoCTR ${files.length} texts`);
  } else notes.push('AnnoCTR absent');
  return { text: parts.join('\n\n'), note: notes.join(', '), parts };
}

/**
 * MB/s of the median pass, and of the fastest. The machine this runs on is shared (other sessions'
 * tests run concurrently), so the best pass is the closer estimate of the code's own speed.
 */
function timeMbPerS(
  texts: readonly string[],
  passes: number,
  run: (t: string) => unknown,
): { median: number; best: number; cpu: number; faultsPerPass: number } {
  for (const text of texts) run(text); // warm-up: JIT and the loaded data
  let mb = 0;
  for (const text of texts) mb += Buffer.byteLength(text, 'utf8') / 1e6;
  const secs: number[] = [];
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  for (let i = 0; i < passes; i++) {
    const t0 = process.hrtime.bigint();
    for (const text of texts) run(text);
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const cpu = process.cpuUsage(cpu0);
  const faults = process.resourceUsage().minorPageFault - faults0;
  secs.sort((a, b) => a - b);
  return {
    median: mb / (secs[Math.floor(secs.length / 2)] ?? Number.NaN),
    best: mb / (secs[0] ?? Number.NaN),
    cpu: (mb * passes) / ((cpu.user + cpu.system) / 1e6),
    faultsPerPass: faults / passes,
  };
}

const BASELINE_DOC_LIMIT_MS = 10_000;

// CommonJS run by the worker: ioc-extractor ships a CJS build, and eval workers cannot load TypeScript.
const BASELINE_WORKER = `
const { parentPort } = require('node:worker_threads');
const { extractIOC } = require('ioc-extractor');
parentPort.on('message', (doc) => {
  const t0 = performance.now();
  extractIOC(doc, { refang: true });
  parentPort.postMessage(performance.now() - t0);
});
`;

/** ioc-extractor over each report in turn; a report over the limit is abandoned (its thread killed). */
async function baselineOverReports(parts: readonly string[]): Promise<{ mbPerS: number; abandoned: number[]; docs: number }> {
  let worker: Worker | null = null;
  let bytes = 0;
  let ms = 0;
  const abandoned: number[] = [];
  const start = (): Worker => new Worker(BASELINE_WORKER, { eval: true });
  const run = (w: Worker, doc: string): Promise<number | null> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), BASELINE_DOC_LIMIT_MS);
      w.once('message', (elapsed: number) => {
        clearTimeout(timer);
        resolve(elapsed);
      });
      w.postMessage(doc);
    });
  // Warm-up on the first reports, not counted.
  worker = start();
  for (const doc of parts.slice(0, 20)) await run(worker, doc);
  for (let i = 0; i < parts.length; i++) {
    const doc = parts[i] ?? '';
    worker ??= start();
    const elapsed = await run(worker, doc);
    if (elapsed === null) {
      abandoned.push(i);
      await worker.terminate();
      worker = null;
      continue;
    }
    bytes += Buffer.byteLength(doc, 'utf8');
    ms += elapsed;
  }
  await worker?.terminate();
  return { mbPerS: bytes / 1e6 / (ms / 1000), abandoned, docs: parts.length };
}

/** A PDF of `pages` pages of report text, 60 lines of at most 100 characters each. */
function benchPdf(text: string, pages: number): Buffer {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    for (let i = 0; i < paragraph.length && lines.length < pages * 60; i += 100) lines.push(paragraph.slice(i, i + 100));
    if (lines.length >= pages * 60) break;
  }
  const out: PdfPage[] = [];
  for (let p = 0; p < pages; p++) out.push({ texts: proseLines(lines.slice(p * 60, p * 60 + 60), 40, 760, 12).map((t) => ({ ...t, size: 8 })) });
  return makePdf(out, { compress: true });
}

const REPORT_PAGES = 50;

interface PdfReads {
  /** Pages per second of the median read. */
  readonly pagesPerS: number;
  /** Pages per CPU-second of the whole process (main thread and reader thread), over every read. */
  readonly pagesPerCpuS: number;
  readonly runsMs: readonly number[];
}

/**
 * Reads `pdf` `reads` times. Cold: each read gets a new reader thread (thread start and pdfjs load
 * included: the first PDF a process reads). Warm: one thread for every read, after one read that is
 * not counted (a running node, or the 2nd and later files of one `entente extract` run).
 */
async function timePdfReads(pdf: Buffer, pages: number, reads: number, mode: 'cold' | 'warm'): Promise<PdfReads> {
  const warmPool = new PdfWorkerPool(1);
  const readOnce = async (pool: PdfWorkerPool): Promise<void> => {
    const doc = await readPdf(pdf, 'bench.pdf', DEFAULT_DOCUMENT_LIMITS, pool);
    if (doc.pages !== pages) throw new Error(`read ${doc.pages} pages of ${pages}`);
  };
  if (mode === 'warm') await readOnce(warmPool);
  const runsMs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < reads; i++) {
    const pool = mode === 'warm' ? warmPool : new PdfWorkerPool(1);
    const t0 = performance.now();
    await readOnce(pool);
    runsMs.push(performance.now() - t0);
    if (mode === 'cold') await pool.close();
  }
  const cpu = process.cpuUsage(cpu0);
  await warmPool.close();
  const sorted = [...runsMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  return { pagesPerS: pages / (median / 1000), pagesPerCpuS: (pages * reads) / ((cpu.user + cpu.system) / 1e6), runsMs };
}

/**
 * PDF reading speed, warm and cold, on a report-sized PDF (50 dense pages: 60 lines of 100
 * characters, about twice a typical report page) and on a larger one. pdf_pages_per_s is the warm
 * figure, the speed of a node that has read a PDF before; the first PDF of a process pays about
 * 0.2 to 0.5 s more to start the thread and load pdfjs, which pdf_cold_pages_per_s includes.
 * The generated pages are easy for pdfjs: one text run a line, in a standard font. Producers that
 * write word by word with kerning (TJ arrays) in two columns cost about twice as much a page, and
 * three embedded TrueType fonts add about 0.1 s a document (measured once, 23 November, outside
 * this bench).
 */
export async function runPdfBench(text: string): Promise<void> {
  const load = (): string => `load average ${loadavg()[0]?.toFixed(1) ?? '?'} on this machine`;
  const describe = (pdf: Buffer, pages: number, r: PdfReads): string =>
    `${pages}-page, ${(pdf.length / 1e6).toFixed(2)} MB PDF of report text (60 lines a page, one text run a line, standard font); runs ${r.runsMs.map((ms) => ms.toFixed(0)).join(', ')} ms; ` +
    `${r.pagesPerCpuS.toFixed(0)} pages per CPU-second (main and reader threads, less sensitive to other processes); ${load()}`;

  const report = benchPdf(text, REPORT_PAGES);
  const warm = await timePdfReads(report, REPORT_PAGES, 5, 'warm');
  reportFigure({
    bench: 'extract',
    metric: 'pdf_pages_per_s',
    value: warm.pagesPerS,
    unit: 'pages/s',
    target: '>= 50',
    note: `steady state: warm reader thread (pdfjs loaded, as in a running node or after the first file of an extract run; the first PDF is pdf_cold_pages_per_s); median of 5 reads of a ${describe(report, REPORT_PAGES, warm)}`,
  });
  const cold = await timePdfReads(report, REPORT_PAGES, 3, 'cold');
  reportFigure({
    bench: 'extract',
    metric: 'pdf_cold_pages_per_s',
    value: cold.pagesPerS,
    unit: 'pages/s',
    note: `a new reader thread for each read (thread start and pdfjs load included: the first PDF a process reads); median of 3 reads of a ${describe(report, REPORT_PAGES, cold)}`,
  });
  const largePages = Math.max(100, Math.round(300 * benchScale()));
  const large = benchPdf(text, largePages);
  const warmLarge = await timePdfReads(large, largePages, 3, 'warm');
  reportFigure({
    bench: 'extract',
    metric: 'pdf_large_pages_per_s',
    value: warmLarge.pagesPerS,
    unit: 'pages/s',
    note: `warm reader thread; median of 3 reads of a ${describe(large, largePages, warmLarge)}`,
  });
}

export async function runExtractBench(): Promise<void> {
  const { text, note, parts } = loadBenchCorpus();
  if (text.length === 0) {
    process.stderr.write(`extract bench: no corpus (${note}); ../shared/data is absent\n`);
    return;
  }
  const data = loadExtractData();
  const passes = Math.max(3, Math.round(7 * benchScale()));
  const mb = Buffer.byteLength(text, 'utf8') / 1e6;
  const extract = (t: string): ReturnType<typeof extractObservables> => extractObservables(t, { tlds: data.tlds, warninglists: data.warninglists });
  const rate = timeMbPerS(parts, passes, extract);
  let observables = 0;
  for (const part of parts) observables += extract(part).observables.length;
  reportFigure({
    bench: 'extract',
    metric: 'text_mb_per_s',
    value: rate.median,
    unit: 'MB/s',
    target: '>= 40',
    note:
      `each of the ${parts.length} reports extracted on its own, as entente extract does; median of ${passes} passes over all of them ` +
      `(best ${rate.best.toFixed(1)} MB/s; ${rate.cpu.toFixed(1)} MB per CPU-second, less sensitive to other processes; ${rate.faultsPerPass.toFixed(0)} page faults a pass); ` +
      `${note}; ${mb.toFixed(1)} MB; ${observables} observables per pass; all extractors, refang and suppression on`,
  });
  const whole = timeMbPerS([text], passes, extract);
  reportFigure({
    bench: 'extract',
    metric: 'text_concatenated_mb_per_s',
    value: whole.median,
    unit: 'MB/s',
    note:
      `the reports concatenated into one text of ${mb.toFixed(1)} MB, median of ${passes} passes (best ${whole.best.toFixed(1)} MB/s; ` +
      `${whole.cpu.toFixed(1)} MB per CPU-second; ${whole.faultsPerPass.toFixed(0)} page faults a pass: the refanged copy of the whole text is a fresh 15 MB string each pass)`,
  });

  const baseline = await baselineOverReports(parts);
  const names = baseline.abandoned.map((i) => `#${i} (${Buffer.byteLength(parts[i] ?? '', 'utf8')} bytes)`).join(', ');
  reportFigure({
    bench: 'extract',
    metric: 'baseline_text_mb_per_s',
    value: baseline.mbPerS,
    unit: 'MB/s',
    note:
      `ioc-extractor extractIOC (refang on), one report at a time, over the ${baseline.docs - baseline.abandoned.length} reports it finished` +
      (baseline.abandoned.length === 0 ? '' : `; abandoned after ${BASELINE_DOC_LIMIT_MS / 1000} s each (regex backtracking): ${names}`),
  });
  reportFigure({ bench: 'extract', metric: 'text_speed_ratio', value: rate.median / baseline.mbPerS, unit: 'x', baseline: 'ioc-extractor' });

  await runPdfBench(text);
}

if (import.meta.url === `file://${process.argv[1]}`) await runExtractBench();
