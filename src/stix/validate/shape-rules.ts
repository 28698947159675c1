// Co-constraint builders for the type tables: each returns a ShapeRule closed over property names.
import { memberPath } from './issue-sink.ts';
import { compareTimestamps, timestampFractionDigits } from './lexical.ts';
import type { JsonRecord, ShapeRule } from './property-spec.ts';

function has(value: JsonRecord, key: string): boolean {
  return Object.hasOwn(value, key) && value[key] !== null;
}

function names(keys: readonly string[]): string {
  return keys.map((k) => `'${k}'`).join(', ');
}

/** At least one of `keys` must be present. */
export function atLeastOne(keys: readonly string[], what = `at least one of ${names(keys)}`): ShapeRule {
  return (value, path, sink) => {
    for (const key of keys) if (has(value, key)) return;
    sink.error(path, 'STIX_AT_LEAST_ONE_REQUIRED', `needs ${what}`);
  };
}

/** Exactly one of `keys` must be present. */
export function exactlyOne(keys: readonly string[]): ShapeRule {
  return (value, path, sink) => {
    let n = 0;
    for (const key of keys) if (has(value, key)) n++;
    if (n === 0) sink.error(path, 'STIX_AT_LEAST_ONE_REQUIRED', `needs one of ${names(keys)}`);
    else if (n > 1) sink.error(path, 'STIX_PROPERTY_CONFLICT', `must have only one of ${names(keys)}`);
  };
}

/** When `key` is present, `needed` must be too. */
export function requires(key: string, needed: string, why = ''): ShapeRule {
  return (value, path, sink) => {
    if (has(value, key) && !has(value, needed)) {
      sink.error(memberPath(path, needed), 'STIX_PROPERTY_DEPENDENCY', `'${needed}' is required when '${key}' is present${why}`);
    }
  };
}

/** `key` must be absent when `when` holds. */
export function forbiddenWhen(key: string, when: (value: JsonRecord) => boolean, why: string): ShapeRule {
  return (value, path, sink) => {
    if (has(value, key) && when(value)) sink.error(memberPath(path, key), 'STIX_PROPERTY_CONFLICT', `'${key}' must not be present ${why}`);
  };
}

/** `later` must not be before `earlier` (or must be strictly after it when `strict`). Beyond the JSON schema. */
export function timeOrder(earlier: string, later: string, strict = false): ShapeRule {
  return (value, path, sink) => {
    const a = value[earlier];
    const b = value[later];
    if (typeof a !== 'string' || typeof b !== 'string') return;
    if (timestampFractionDigits(a) < 0 || timestampFractionDigits(b) < 0) return;
    const order = compareTimestamps(b, a);
    if (order < 0 || (strict && order === 0)) {
      sink.error(
        memberPath(path, later),
        'STIX_TIME_ORDER',
        `'${later}' (${b}) must be ${strict ? 'later than' : 'the same as or later than'} '${earlier}' (${a})`,
      );
    }
  };
}
