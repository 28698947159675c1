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
  return new Date(Math.round(seconds * 1000)).toISOString();
}

const isoLike = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A time as logs write it — RFC 3339 / ISO 8601 with `Z`, an offset (`+0000`, `+01:00`) or none (read as
 * UTC), or epoch seconds as a number or numeric text — → STIX timestamp; undefined when it is neither.
 */
export function toStixTimestamp(value: unknown): string | undefined {
  if (typeof value === 'number') return timestampFromEpochSeconds(value);
  if (typeof value !== 'string') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return timestampFromEpochSeconds(Number(value));
  const m = isoLike.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone = 'Z'] = m;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const millis = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${fraction.slice(0, 4)}${offset}`);
  if (Number.isNaN(millis)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a real calendar date survives the round trip.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return undefined;
  return new Date(millis).toISOString();
}
