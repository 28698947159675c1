// One observation read from telemetry: the SCOs seen together (one Zeek record, one EVE event, one CSV
// row, one JSON line) and when. SCOs are keyed by a local reference (`0`, `1`, … or their STIX ids) and
// their `_ref` properties name those keys, as in STIX 2.0's embedded `objects`, so the pattern evaluator
// reads them without any conversion.
import type { ObservedDataWithObjects } from '../pattern/evaluate-pattern.ts';

export type JsonRecord = Readonly<Record<string, unknown>>;

export interface LogObservation {
  /** STIX timestamp (UTC, `Z`) of the first sighting in this record. */
  readonly firstObserved: string;
  readonly lastObserved: string;
  /** Times the record says it was seen (1 for a log line). */
  readonly count: number;
  readonly objects: Readonly<Record<string, JsonRecord>>;
  /** Input name and 1-based line, for the summary and for the analyst. */
  readonly source: string;
  readonly line: number;
}

export function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const observedDataCache = new WeakMap<LogObservation, ObservedDataWithObjects>();

/** The observation as the evaluator's observed-data (embedded objects, so `_ref` keys resolve locally). */
export function toObservedData(observation: LogObservation): ObservedDataWithObjects {
  let cached = observedDataCache.get(observation);
  if (cached === undefined) {
    cached = {
      observedData: {
        type: 'observed-data',
        first_observed: observation.firstObserved,
        last_observed: observation.lastObserved,
        number_observed: observation.count,
        objects: observation.objects,
      },
    };
    observedDataCache.set(observation, cached);
  }
  return cached;
}

/** Epoch seconds (fractions kept to the millisecond) → STIX timestamp; undefined when out of range. */
export function timestampFromEpochSeconds(seconds: number): string | undefined {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 253402300799) return undefined;
  const millis = Math.round(seconds * 1000);
  const whole = Math.floor(millis / 1000);
  // Log records come in runs within the same second: format the second once.
  if (whole !== lastSecond) {
    lastSecond = whole;
    lastSecondPrefix = new Date(whole * 1000).toISOString().slice(0, 20);
  }
  const fraction = millis - whole * 1000;
  return `${lastSecondPrefix}${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}Z`;
}

let lastSecond = Number.NaN;
let lastSecondPrefix = '';

const isoLike = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;
/** Calendar days already checked, keyed YYYYMMDD as a number: no string is cut per timestamp. */
const validDays = new Map<number, boolean>();
/** `YYYY-MM-DD` of the last timestamp found canonical: log lines come in runs of the same day. */
let lastValidDay = '';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function twoDigits(s: string, at: number): number {
  return (s.charCodeAt(at) - 48) * 10 + s.charCodeAt(at + 1) - 48;
}

const timeDigitPositions = [11, 12, 14, 15, 17, 18, 20, 21, 22];
const dayDigitPositions = [0, 1, 2, 3, 5, 6, 8, 9];

/** `YYYY-MM-DDTHH:MM:SS.sssZ` exactly as toISOString writes it, on a real calendar day. */
function isCanonicalTimestamp(s: string): boolean {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 || s.charCodeAt(10) !== 84 || s.charCodeAt(19) !== 46) return false;
  for (let k = 0; k < timeDigitPositions.length; k++) if (!isDigit(s.charCodeAt(timeDigitPositions[k] as number))) return false;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  if (twoDigits(s, 11) > 23 || twoDigits(s, 14) > 59 || twoDigits(s, 17) > 59) return false;
  if (lastValidDay !== '' && s.startsWith(lastValidDay)) return true;
  for (let k = 0; k < dayDigitPositions.length; k++) if (!isDigit(s.charCodeAt(dayDigitPositions[k] as number))) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const y = twoDigits(s, 0) * 100 + twoDigits(s, 2);
  const m = twoDigits(s, 5);
  const d = twoDigits(s, 8);
  const day = y * 10000 + m * 100 + d;
  let valid = validDays.get(day);
  if (valid === undefined) {
    const check = new Date(Date.UTC(y, m - 1, d));
    valid = m >= 1 && m <= 12 && check.getUTCDate() === d && check.getUTCMonth() === m - 1;
    if (validDays.size > 10_000) validDays.clear();
    validDays.set(day, valid);
  }
  if (valid) lastValidDay = s.slice(0, 10);
  return valid;
}

/**
 * A time as logs write it — RFC 3339 / ISO 8601 with `Z`, an offset (`+0000`, `+01:00`) or none (read as
 * UTC), or epoch seconds as a number or numeric text — → STIX timestamp (UTC, milliseconds); undefined
 * when it is neither.
 */
export function toStixTimestamp(value: unknown): string | undefined {
  if (typeof value === 'number') return timestampFromEpochSeconds(value);
  if (typeof value !== 'string') return undefined;
  if (isCanonicalTimestamp(value)) return value;
  if (/^\d+(\.\d+)?$/.test(value)) return timestampFromEpochSeconds(Number(value));
  const m = isoLike.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone = 'Z'] = m;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const millis = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${fraction.slice(0, 4)}${offset}`);
  if (Number.isNaN(millis)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a real calendar date survives the round trip.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return undefined;
  return new Date(millis).toISOString();
}
