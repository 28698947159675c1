/** One figure of a benchmark, printed as one JSON line so runs can be compared mechanically. */
export interface Figure {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** value / baseline, when a baseline was measured in the same run. */
  readonly ratio?: number;
  readonly baseline?: string;
  readonly target?: string;
  readonly note?: string;
}

export function reportFigure(figure: Figure): void {
  process.stdout.write(JSON.stringify({ ...figure, value: Number(figure.value.toPrecision(6)) }) + '\n');
}

/** 1 unless BENCH_SCALE says otherwise (0.1 runs a tenth of the work for a quick look). */
export function benchScale(): number {
  const raw = process.env['BENCH_SCALE'];
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 10) {
    throw new Error(`BENCH_SCALE must be a number in (0, 10], got ${JSON.stringify(raw)}`);
  }
  return scale;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
