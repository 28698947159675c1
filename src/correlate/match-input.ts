// One input through the pipeline: chunks → bounded lines → observations → bulk matcher → alerts.
// The caller decides where chunks come from (a file, standard input, a followed file) and what
// happens to alerts; the counts and the first malformed lines go into a summary.
import type { BulkMatcher, IndicatorMatch } from './bulk-matcher.ts';
import type { Alert, AlertAggregator } from './alert-aggregator.ts';
import { readLineBatches, defaultMaxLineChars, type Line } from './read-lines.ts';
import type { ObservationReader } from './read-observations.ts';

export interface MalformedLine {
  readonly source: string;
  readonly line: number;
  readonly reason: string;
}

export interface MatchSummary {
  lines: number;
  observations: number;
  /** Observations counted without being parsed: the matcher's screen showed no indicator can match them. */
  screened: number;
  ignored: number;
  malformed: number;
  /** Over-long lines (longer than the cap), also counted in `malformed`. */
  overlong: number;
  matches: number;
  alerts: number;
  /** The first malformed lines, with their reasons. */
  readonly malformedSamples: MalformedLine[];
}

export function emptySummary(): MatchSummary {
  return { lines: 0, observations: 0, screened: 0, ignored: 0, malformed: 0, overlong: 0, matches: 0, alerts: 0, malformedSamples: [] };
}

export interface MatchInputOptions {
  readonly source: string;
  readonly reader: ObservationReader;
  readonly matcher: BulkMatcher;
  readonly alerts: AlertAggregator;
  /** Who may read what the alerts are about (AlertAggregator.record's `scope`); '' by default. */
  readonly scope?: string;
  /** The version a match's variant was compiled from (AlertAggregator.record's `version`): needed when the aggregator outlives the matcher. */
  readonly versionOf?: (match: IndicatorMatch) => string | undefined;
  readonly summary: MatchSummary;
  /** Called when a match opens a new alert (its count grows afterwards until its window is closed). */
  readonly onAlert: (alert: Alert) => void;
  /** Called every few thousand lines with the latest observation time, so the caller can close windows. */
  readonly onProgress?: (latestObserved: string) => void | Promise<void>;
  readonly maxLineChars?: number;
  readonly maxSamples?: number;
}

export async function matchInput(chunks: AsyncIterable<string | Buffer>, options: MatchInputOptions): Promise<void> {
  const { summary, reader, matcher, alerts } = options;
  const maxSamples = options.maxSamples ?? 20;
  const malformed = (line: number, reason: string): void => {
    summary.malformed++;
    if (summary.malformedSamples.length < maxSamples) summary.malformedSamples.push({ source: options.source, line, reason });
  };
  let latest = '';
  let sinceProgress = 0;
  const readLine = (line: Line): void => {
    summary.lines++;
    if (line.overlong === true) {
      summary.overlong++;
      malformed(line.number, `longer than ${options.maxLineChars ?? defaultMaxLineChars} characters (${line.length}); skipped`);
      return;
    }
    const outcome = reader.readLine(line.text, line.number, matcher.screen);
    if (outcome.kind === 'screened') {
      summary.observations++;
      summary.screened++;
      if (outcome.lastObserved > latest) latest = outcome.lastObserved;
    } else if (outcome.kind === 'ignored') summary.ignored++;
    else if (outcome.kind === 'malformed') malformed(line.number, outcome.reason);
    else {
      for (const observation of outcome.observations) {
        summary.observations++;
        if (observation.lastObserved > latest) latest = observation.lastObserved;
        for (const match of matcher.match(observation)) {
          summary.matches++;
          const opened = alerts.record(match, options.scope, options.versionOf?.(match));
          if (opened !== undefined) {
            summary.alerts++;
            options.onAlert(opened);
          }
        }
      }
    }
  };
  for await (const lines of readLineBatches(chunks, options.maxLineChars ?? defaultMaxLineChars)) {
    for (const line of lines) {
      readLine(line);
      if (options.onProgress !== undefined && ++sinceProgress >= 4096) {
        sinceProgress = 0;
        if (latest !== '') await options.onProgress(latest);
      }
    }
  }
  if (options.onProgress !== undefined && latest !== '') await options.onProgress(latest);
}
