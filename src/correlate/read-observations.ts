// Telemetry lines → observations, whatever the format: JSON lines of observables, Zeek (TSV with its
// header, or JSON), Suricata EVE JSON, CSV with a column mapping. `auto` decides from the first line
// that is not blank (and the file name for Zeek JSON logs). Each line is one of: observations, ignored
// (headers, comments, sensor events), or malformed with a reason; a reader never throws on its input.
import { basename } from 'node:path';
import { CsvTable, type CsvColumnMapping } from './csv-observations.ts';
import { eveEventObservation } from './eve-observations.ts';
import { jsonlObservations } from './jsonl-observations.ts';
import { isRecord, type LogObservation } from './log-observation.ts';
import { screenJsonLine, type ValueScreen } from './screen-json-line.ts';
import { screenZeekRecord } from './screen-zeek-record.ts';
import { guessZeekKind, isZeekLogKind, jsonZeekFields, ZeekTsvHeader, zeekRecordObservation, type ZeekFields, type ZeekLogKind } from './zeek-observations.ts';

export const logFormats = ['auto', 'jsonl', 'zeek', 'eve', 'csv'] as const;
export type LogFormat = (typeof logFormats)[number];

export type LineOutcome =
  | { readonly kind: 'observations'; readonly observations: readonly LogObservation[] }
  /** One observation that the screen showed no indicator can match: counted, never built. */
  | { readonly kind: 'screened'; readonly lastObserved: string }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'malformed'; readonly reason: string };

export interface ObservationReaderOptions {
  readonly format: LogFormat;
  /** The input's name (file path or `-`), for the observations and the kind of a Zeek log. */
  readonly source: string;
  readonly csvMapping?: readonly CsvColumnMapping[] | undefined;
  /** The time given to observations whose line states none (bare SCOs, CSV without @timestamp). */
  readonly now: () => string;
}

export interface ObservationReader {
  /**
   * With a screen (the matcher's), a JSON line that no indexed value can match is passed over without
   * being parsed (screen-json-line.ts), and a Zeek record (conn, dns, http; TSV or JSON) that none can
   * match is counted without building its SCOs (screen-zeek-record.ts); every other line is read.
   */
  readLine(text: string, line: number, screen?: ValueScreen): LineOutcome;
  /** The format in use (`auto` until the first line decided). */
  readonly format: LogFormat;
}

const ignored: LineOutcome = { kind: 'ignored' };

function parseJsonLine(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return new SyntaxError(error instanceof Error ? error.message : 'not JSON');
  }
}

/** `conn` from `conn.log`, `conn.2026-01-01-00-00-00.log`, `/var/log/zeek/dns.json`. */
export function zeekKindFromFileName(source: string): ZeekLogKind | undefined {
  const first = basename(source).split('.')[0] ?? '';
  return isZeekLogKind(first) ? first : undefined;
}

export function createObservationReader(options: ObservationReaderOptions): ObservationReader {
  let format: LogFormat = options.format;
  const zeekHeader = new ZeekTsvHeader();
  let zeekJson: boolean | undefined;
  const csv = options.csvMapping === undefined ? undefined : new CsvTable(options.csvMapping);
  const observation = (line: number, firstObserved: string, lastObserved: string, count: number, objects: LogObservation['objects']): LogObservation => ({
    firstObserved,
    lastObserved,
    count,
    objects,
    source: options.source,
    line,
  });

  // The record of a TSV line is made from its columns only when the screen cannot pass over the line.
  const zeekFromRecord = (fields: ZeekFields, line: number, screen?: ValueScreen): LineOutcome => {
    const fieldPath = fields.field('_path');
    const path = typeof fieldPath === 'string' ? fieldPath : zeekHeader.path;
    const kind = (path !== undefined && isZeekLogKind(path) ? path : undefined) ?? zeekKindFromFileName(options.source) ?? guessZeekKind(fields.record());
    if (kind === undefined) return path !== undefined ? ignored : { kind: 'malformed', reason: 'cannot tell which Zeek log this record is from' };
    if (screen !== undefined) {
      const clearAt = screenZeekRecord(kind, fields, screen);
      if (clearAt !== undefined) return { kind: 'screened', lastObserved: clearAt };
    }
    const result = zeekRecordObservation(kind, fields.record());
    if (typeof result === 'string') return { kind: 'malformed', reason: result };
    return { kind: 'observations', observations: [observation(line, result.timestamp, result.timestamp, 1, result.objects)] };
  };

  const readers: Record<Exclude<LogFormat, 'auto'>, (text: string, line: number, screen: ValueScreen | undefined) => LineOutcome> = {
    jsonl(text, line, screen) {
      if (screen !== undefined) {
        const verdict = screenJsonLine(text, screen);
        if (verdict.kind === 'clear') return { kind: 'screened', lastObserved: verdict.lastObserved ?? options.now() };
      }
      const value = parseJsonLine(text);
      if (value instanceof SyntaxError) return { kind: 'malformed', reason: `not JSON (${value.message})` };
      const results = jsonlObservations(value, options.now);
      if (typeof results === 'string') return { kind: 'malformed', reason: results };
      return { kind: 'observations', observations: results.map((r) => observation(line, r.firstObserved, r.lastObserved, r.count, r.objects)) };
    },
    zeek(text, line, screen) {
      if (zeekJson === undefined) zeekJson = text.startsWith('{');
      if (zeekJson) {
        const value = parseJsonLine(text);
        if (value instanceof SyntaxError) return { kind: 'malformed', reason: `not JSON (${value.message})` };
        if (!isRecord(value)) return { kind: 'malformed', reason: 'not a JSON object' };
        return zeekFromRecord(jsonZeekFields(value), line, screen);
      }
      if (zeekHeader.readHeader(text)) return ignored;
      const split = zeekHeader.line(text);
      if (typeof split === 'string') return { kind: 'malformed', reason: split };
      return zeekFromRecord(split, line, screen);
    },
    eve(text, line) {
      const value = parseJsonLine(text);
      if (value instanceof SyntaxError) return { kind: 'malformed', reason: `not JSON (${value.message})` };
      if (!isRecord(value)) return { kind: 'malformed', reason: 'not a JSON object' };
      const result = eveEventObservation(value);
      if (result === undefined) return ignored;
      if (typeof result === 'string') return { kind: 'malformed', reason: result };
      return { kind: 'observations', observations: [observation(line, result.timestamp, result.timestamp, 1, result.objects)] };
    },
    csv(text, line) {
      if (csv === undefined) return { kind: 'malformed', reason: 'CSV needs a column mapping (--map column=type:path,…)' };
      if (!csv.hasHeader) {
        const problem = csv.readHeader(text);
        return problem === undefined ? ignored : { kind: 'malformed', reason: problem };
      }
      const result = csv.row(text, options.now);
      if (typeof result === 'string') return { kind: 'malformed', reason: result };
      return { kind: 'observations', observations: [observation(line, result.timestamp, result.timestamp, 1, result.objects)] };
    },
  };

  const decide = (text: string): Exclude<LogFormat, 'auto'> => {
    if (text.startsWith('#separator') || text.startsWith('#fields')) return 'zeek';
    if (text.startsWith('{')) {
      const value = parseJsonLine(text);
      if (isRecord(value)) {
        if ('event_type' in value) return 'eve';
        if ('_path' in value || 'id.orig_h' in value || ('ts' in value && ('uid' in value || 'fuid' in value || 'certificate.serial' in value))) return 'zeek';
        if ('ts' in value && zeekKindFromFileName(options.source) !== undefined) return 'zeek';
      }
      return 'jsonl';
    }
    if (text.startsWith('[')) return 'jsonl';
    return csv !== undefined ? 'csv' : 'jsonl';
  };

  return {
    get format() {
      return format;
    },
    readLine(text, line, screen) {
      if (text.trim() === '') return ignored;
      if (format === 'auto') format = decide(text);
      return readers[format](text, line, screen);
    },
  };
}
