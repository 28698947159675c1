/**
 * `npm run bench -- ingest`: the real `entente import` (full validation) in a child process.
 *
 * - attack_objects_per_s: the ATT&CK Enterprise 18.1 bundle into a fresh data directory.
 * - bulk_objects_per_s: 1,000,000 generated indicators (× BENCH_SCALE) from a .jsonl file.
 * - peak_rss_mb: the import child's peak RSS during the bulk import.
 * - disk_bytes_per_object: SQLite files after the bulk import (store closed, WAL checkpointed) / stored objects.
 *
 * Each child runs through bench/measure-child.mjs, which runs the CLI in-process (from the bundle of
 * the sources, as bin/entente.js does) and reports maxRSS
 * and the in-process command time. Throughput is given three ways: `value` is start-up-subtracted
 * (child wall time minus the wall time of a child that only runs `collection list` on a fresh
 * directory); the note adds the raw child figure and the in-process one.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchScale, reportFigure } from './report-figure.ts';
import { repoRoot, runMeasuredCli, type MeasuredRun } from './child-runner.ts';
import { benchRepeat, log, summarizeRuns } from './run-stats.ts';
import { writeIndicatorsJsonl } from './generate-indicators.ts';

const bench = 'ingest';
const attackFile = resolve(repoRoot, '..', 'shared', 'data', 'mitre-attack', 'enterprise-attack-18.1.json');
const bulkCount = 1_000_000;
const bulkSeed = 20_260_101;

interface ImportTotals {
  readonly accepted: number;
  readonly duplicate: number;
  readonly rejected: number;
}

interface ImportRun {
  readonly run: MeasuredRun;
  readonly totals: ImportTotals;
  readonly processed: number;
  readonly maxRssMb: number;
  readonly commandMs: number;
  /** CPU of the command, whole process (all threads) and the main (store-writing) thread alone, ms. */
  readonly cpuMs: number | undefined;
  readonly mainThreadCpuMs: number | undefined;
}

/**
 * What the CPU says when the wall time cannot (other processes on the cores): the writing thread's
 * CPU, the rest (the import's worker, GC and SQLite helpers), and the wall time two free cores would
 * allow at best, max(writer, rest, total / 2).
 */
function cpuNote(run: ImportRun): string {
  if (run.cpuMs === undefined || run.mainThreadCpuMs === undefined) return '';
  const rest = run.cpuMs - run.mainThreadCpuMs;
  const bound = Math.max(run.mainThreadCpuMs, rest, run.cpuMs / 2);
  return (
    ` CPU: writer thread ${run.mainThreadCpuMs.toFixed(0)} ms, other threads ${rest.toFixed(0)} ms; ` +
    `on two free cores at best ${bound.toFixed(0)} ms = ${rate(run.processed, bound).toFixed(0)}/s in-process.`
  );
}

function parseTotals(stdout: string): ImportTotals | undefined {
  const match = /(\d+) accepted, (\d+) duplicate, (\d+) rejected/.exec(stdout);
  if (match === null) return undefined;
  return { accepted: Number(match[1]), duplicate: Number(match[2]), rejected: Number(match[3]) };
}

function failure(what: string, run: MeasuredRun): Error {
  return new Error(`${what} failed (exit ${String(run.exitCode)}):\nstdout: ${run.stdout.slice(0, 2000)}\nstderr tail:\n${run.stderrTail.join('\n')}`);
}

async function runImport(label: string, file: string, dataDir: string, timeoutMs: number): Promise<ImportRun> {
  // --quiet: each rejection would be a stderr line; the totals still count them.
  const run = await runMeasuredCli(['import', file, '--data', dataDir, '--quiet'], { label, timeoutMs });
  const totals = parseTotals(run.stdout);
  // Exit 1 with totals means "some objects rejected": a result, not a failure of the benchmark.
  if (totals === undefined || run.measure === undefined || (run.exitCode !== 0 && run.exitCode !== 1)) throw failure(`import ${label}`, run);
  return {
    run,
    totals,
    processed: totals.accepted + totals.duplicate + totals.rejected,
    maxRssMb: run.measure.maxRssKb / 1024,
    commandMs: run.measure.commandMs,
    ...cpuOf(run.measure),
  };
}

function cpuOf(measure: object): { cpuMs: number | undefined; mainThreadCpuMs: number | undefined } {
  const record = measure as { cpuMs?: unknown; mainThreadCpuMs?: unknown };
  return {
    cpuMs: typeof record.cpuMs === 'number' ? record.cpuMs : undefined,
    mainThreadCpuMs: typeof record.mainThreadCpuMs === 'number' ? record.mainThreadCpuMs : undefined,
  };
}

/** Wall time of a child that starts, opens (creates) a node and lists collections: the fixed cost of every CLI run. */
async function measureStartup(workDir: string, repeat: number): Promise<number[]> {
  const walls: number[] = [];
  for (let index = 0; index < repeat + 1; index += 1) {
    const dataDir = join(workDir, `startup-${index}`);
    const run = await runMeasuredCli(['collection', 'list', '--data', dataDir], { label: 'startup', timeoutMs: 60_000 });
    if (run.exitCode !== 0) throw failure('collection list', run);
    rmSync(dataDir, { recursive: true, force: true });
    // The first run warms the OS file cache for node_modules and the sources; keep the others.
    if (index > 0) walls.push(run.wallMs);
  }
  return walls;
}

function sqliteBytes(dataDir: string): { total: number; files: string } {
  let total = 0;
  const parts: string[] = [];
  for (const name of readdirSync(dataDir)) {
    if (!name.startsWith('entente.sqlite')) continue;
    const size = statSync(join(dataDir, name)).size;
    total += size;
    parts.push(`${name}=${size}`);
  }
  return { total, files: parts.join(' ') };
}

function rate(objects: number, ms: number): number {
  return ms > 0 ? objects / (ms / 1000) : Number.NaN;
}

export async function runIngestBench(): Promise<void> {
  const scale = benchScale();
  const repeat = benchRepeat();
  const workDir = mkdtempSync(join(tmpdir(), 'entente-bench-ingest-'));
  log(`scale ${scale}, ${repeat} runs per figure, work dir ${workDir}`);
  try {
    const startupWalls = await measureStartup(workDir, repeat);
    const startupMs = Math.min(...startupWalls);
    log(`start-up child (collection list on a fresh dir): ${summarizeRuns(startupWalls, 'lower').text} ms`);

    // ---- ATT&CK Enterprise ----
    if (!existsSync(attackFile)) {
      log(`SKIP attack_objects_per_s: ${attackFile} is absent (../shared/data is not mounted)`);
    } else {
      const runs: ImportRun[] = [];
      for (let index = 0; index < repeat; index += 1) {
        const dataDir = join(workDir, `attack-${index}`);
        const result = await runImport('import-attack', attackFile, dataDir, 600_000);
        rmSync(dataDir, { recursive: true, force: true });
        log(
          `ATT&CK run ${index + 1}: ${result.processed} objects (${result.totals.accepted} accepted, ${result.totals.rejected} rejected), ` +
            `child ${result.run.wallMs.toFixed(0)} ms, in-process ${result.commandMs.toFixed(0)} ms, peak RSS ${result.maxRssMb.toFixed(0)} MB.${cpuNote(result)}`,
        );
        runs.push(result);
      }
      const first = runs[0];
      if (first === undefined) throw new Error('no ATT&CK run');
      const net = summarizeRuns(runs.map((r) => rate(r.processed, r.run.wallMs - startupMs)), 'higher');
      const raw = summarizeRuns(runs.map((r) => rate(r.processed, r.run.wallMs)), 'higher');
      const inProcess = summarizeRuns(runs.map((r) => rate(r.processed, r.commandMs)), 'higher');
      reportFigure({
        bench,
        metric: 'attack_objects_per_s',
        value: net.best,
        unit: 'objects/s',
        target: '>= 20000',
        note:
          `value = start-up-subtracted (child wall - ${startupMs.toFixed(0)} ms collection-list child); ${net.text}. ` +
          `raw child wall: best ${raw.best.toFixed(0)}/s (${raw.text}). in-process command time: best ${inProcess.best.toFixed(0)}/s. ` +
          `${first.processed} objects (${first.totals.accepted} accepted, ${first.totals.rejected} rejected), peak RSS ${first.maxRssMb.toFixed(0)} MB.${cpuNote(first)}`,
      });
    }

    // ---- Bulk indicators ----
    const count = Math.max(1000, Math.round(bulkCount * scale));
    const file = join(workDir, 'indicators.jsonl');
    const generateStart = performance.now();
    const bytes = writeIndicatorsJsonl(file, count, bulkSeed);
    log(`generated ${count} indicators, ${(bytes / count).toFixed(0)} bytes each on average, ${(bytes / 1048576).toFixed(0)} MiB, in ${((performance.now() - generateStart) / 1000).toFixed(1)} s`);

    const runs: (ImportRun & { diskBytes: number; diskFiles: string })[] = [];
    for (let index = 0; index < repeat; index += 1) {
      const dataDir = join(workDir, `bulk-${index}`);
      const result = await runImport('import-bulk', file, dataDir, 3_600_000);
      if (result.totals.accepted !== count) {
        throw new Error(`bulk import stored ${result.totals.accepted} of ${count} indicators (${result.totals.rejected} rejected); the generator must produce valid STIX`);
      }
      const disk = sqliteBytes(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
      log(
        `bulk run ${index + 1}: ${count} indicators, child ${result.run.wallMs.toFixed(0)} ms, in-process ${result.commandMs.toFixed(0)} ms, ` +
          `peak RSS ${result.maxRssMb.toFixed(0)} MB, SQLite ${disk.files}.${cpuNote(result)}`,
      );
      runs.push({ ...result, diskBytes: disk.total, diskFiles: disk.files });
    }
    const net = summarizeRuns(runs.map((r) => rate(count, r.run.wallMs - startupMs)), 'higher');
    const raw = summarizeRuns(runs.map((r) => rate(count, r.run.wallMs)), 'higher');
    const inProcess = summarizeRuns(runs.map((r) => rate(count, r.commandMs)), 'higher');
    reportFigure({
      bench,
      metric: 'bulk_objects_per_s',
      value: net.best,
      unit: 'objects/s',
      target: '>= 25000',
      note:
        `${count} indicators from .jsonl (${(bytes / count).toFixed(0)} B each); value = start-up-subtracted; ${net.text}. ` +
        `raw child wall: best ${raw.best.toFixed(0)}/s. in-process command time: best ${inProcess.best.toFixed(0)}/s (${inProcess.text}).${runs[0] === undefined ? '' : cpuNote(runs[0])}`,
    });
    const rss = summarizeRuns(runs.map((r) => r.maxRssMb), 'lower');
    reportFigure({
      bench,
      metric: 'peak_rss_mb',
      value: rss.best,
      unit: 'MB',
      target: '<= 1024',
      note: `maxRSS of the bulk import child (${count} indicators), MiB; ${rss.text}`,
    });
    const disk = summarizeRuns(runs.map((r) => r.diskBytes / count), 'lower');
    reportFigure({
      bench,
      metric: 'disk_bytes_per_object',
      value: disk.best,
      unit: 'bytes/object',
      target: '<= 1300',
      note: `db+wal+shm after the import child closed the store, / ${count} indicators (${(bytes / count).toFixed(0)} B of JSON each); ${disk.text}; files: ${runs[0]?.diskFiles ?? ''}`,
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
