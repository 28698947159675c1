/** How many times each measurement is repeated (BENCH_REPEAT, default 2: timings on a shared machine are noisy). */
export function benchRepeat(): number {
  const raw = process.env['BENCH_REPEAT'];
  if (raw === undefined || raw === '') return 2;
  const repeat = Number(raw);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) {
    throw new Error(`BENCH_REPEAT must be an integer in [1, 20], got ${JSON.stringify(raw)}`);
  }
  return repeat;
}

export interface RunSummary {
  /** The better of the runs (the highest when higher is better, else the lowest). */
  readonly best: number;
  /** (max - min) / best, in percent. */
  readonly spreadPct: number;
  /** `runs 123, 130 (spread 5.7 %)`, for a figure's note. */
  readonly text: string;
}

export function summarizeRuns(values: readonly number[], better: 'higher' | 'lower', digits = 3): RunSummary {
  if (values.length === 0) throw new RangeError('no runs to summarise');
  const min = Math.min(...values);
  const max = Math.max(...values);
  const best = better === 'higher' ? max : min;
  const spreadPct = best === 0 ? 0 : ((max - min) / Math.abs(best)) * 100;
  const shown = values.map((value) => Number(value.toPrecision(digits + 2)).toString()).join(', ');
  return { best, spreadPct, text: `runs ${shown} (best of ${values.length}, spread ${spreadPct.toFixed(1)} %)` };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}

export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
