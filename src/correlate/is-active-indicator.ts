import type { JsonRecord } from './log-observation.ts';

/**
 * Why an indicator takes no part in matching at `now`, or undefined when it does: it must be a STIX
 * indicator with `pattern_type` stix and a pattern, not revoked, and `now` must lie in
 * [valid_from, valid_until) (STIX 2.1 §4.7: valid_until is the first instant it is no longer valid).
 */
export function inactiveReason(indicator: JsonRecord, now: Date): string | undefined {
  if (indicator['type'] !== 'indicator') return 'not an indicator';
  if (indicator['pattern_type'] !== 'stix') return `pattern_type is ${JSON.stringify(indicator['pattern_type'])}, not stix`;
  if (typeof indicator['pattern'] !== 'string') return 'no pattern';
  if (indicator['revoked'] === true) return 'revoked';
  const at = now.getTime();
  const from = indicator['valid_from'];
  if (typeof from === 'string' && Date.parse(from) > at) return `not valid before ${from}`;
  const until = indicator['valid_until'];
  if (typeof until === 'string' && Date.parse(until) <= at) return `expired at ${until}`;
  return undefined;
}
