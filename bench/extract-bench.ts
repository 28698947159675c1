// `extract` benchmark: plain-text extraction throughput with every extractor on, over the real
// report texts in ../shared/data (TRAM annotated reports and AnnoCTR texts), concatenated into one
// corpus that is scanned repeatedly. Prints text_mb_per_s. The ioc-extractor baseline
// (baseline_text_mb_per_s) is reported only when that package is installed.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { extractObservables } from '../src/extract/extract-observables.ts';
import { loadExtractData } from '../src/extract/load-extract-data.ts';
import { benchScale, reportFigure } from './report-figure.ts';

const SHARED = join(import.meta.dirname, '..', '..', 'shared', 'data');

/** The benchmark corpus and a note saying which sources were present. */
export function loadBenchCorpus(): { text: string; note: string } {
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
  return { text: parts.join('\n\n'), note: notes.join(', ') };
}

/**
 * MB/s of the median pass, and of the fastest. The machine this runs on is shared (other sessions'
 * tests run concurrently), so the best pass is the closer estimate of the code's own speed.
 */
function timeMbPerS(text: string, passes: number, run: (t: string) => unknown): { median: number; best: number } {
  run(text); // warm-up: JIT and the loaded data
  const mb = Buffer.byteLength(text, 'utf8') / 1e6;
  const secs: number[] = [];
  for (let i = 0; i < passes; i++) {
    const t0 = process.hrtime.bigint();
    run(text);
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  secs.sort((a, b) => a - b);
  return { median: mb / (secs[Math.floor(secs.length / 2)] ?? Number.NaN), best: mb / (secs[0] ?? Number.NaN) };
}

export async function runExtractBench(): Promise<void> {
  const { text, note } = loadBenchCorpus();
  if (text.length === 0) {
    process.stderr.write(`extract bench: no corpus (${note})\n`);
    return;
  }
  const data = loadExtractData();
  const passes = Math.max(3, Math.round(7 * benchScale()));
  const mb = Buffer.byteLength(text, 'utf8') / 1e6;
  const rate = timeMbPerS(text, passes, (t) => extractObservables(t, { tlds: data.tlds, warninglists: data.warninglists }));
  const observables = extractObservables(text, { tlds: data.tlds, warninglists: data.warninglists }).observables.length;
  reportFigure({
    bench: 'extract',
    metric: 'text_mb_per_s',
    value: rate.median,
    unit: 'MB/s',
    target: '>= 40',
    note: `median of ${passes} passes (best ${rate.best.toFixed(1)} MB/s); ${note}; ${mb.toFixed(1)} MB; ${observables} observables per pass; all extractors, refang and suppression on`,
  });

  const require = createRequire(import.meta.url);
  let baseline: unknown;
  try {
    baseline = require('ioc-extractor');
  } catch {
    process.stderr.write('extract bench: ioc-extractor is not installed; baseline_text_mb_per_s not measured\n');
    return;
  }
  const extract = (baseline as { extractIOC?: (t: string) => unknown }).extractIOC;
  if (typeof extract !== 'function') return;
  const baseRate = timeMbPerS(text, passes, (t) => extract(t));
  reportFigure({ bench: 'extract', metric: 'baseline_text_mb_per_s', value: baseRate.median, unit: 'MB/s', note: 'ioc-extractor extractIOC' });
}

if (import.meta.url === `file://${process.argv[1]}`) await runExtractBench();
