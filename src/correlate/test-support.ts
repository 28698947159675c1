// Builders shared by the correlate tests: indicators and observations with only what a test cares about.
import type { BulkMatcher } from './bulk-matcher.ts';
import type { JsonRecord, LogObservation } from './log-observation.ts';

let counter = 0;

/** An active STIX indicator with the given pattern; `overrides` replace any property. */
export function indicator(pattern: string, overrides: Record<string, unknown> = {}): JsonRecord {
  counter++;
  const uuid = `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuid}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    pattern,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

/** One observation of the given SCOs (keyed 0, 1, …) at `at`. */
export function observation(objects: readonly JsonRecord[], at = '2026-06-01T12:00:00.000Z', line = 1): LogObservation {
  const keyed: Record<string, JsonRecord> = {};
  objects.forEach((object, index) => (keyed[String(index)] = object));
  return { firstObserved: at, lastObserved: at, count: 1, objects: keyed, source: 'test', line };
}

export const now = new Date('2026-06-01T00:00:00Z');

/** An ipv4-addr SCO. */
export const ip = (value: string): JsonRecord => ({ type: 'ipv4-addr', value });

/** The ids of the indicators that match one observation of these SCOs, sorted. */
export function matchedIds(matcher: BulkMatcher, objects: JsonRecord[]): string[] {
  return matcher
    .match(observation(objects))
    .map((m) => m.indicatorId)
    .sort();
}
