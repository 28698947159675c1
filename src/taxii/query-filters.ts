import { err, ok, type Result } from '../errors/result.ts';
import type { EntryFilter, VersionSelector } from '../store/object-store.ts';
import { isStixTimestamp, parseMicroTimestamp } from '../stix/micro-timestamp.ts';

/**
 * TAXII 2.1 URL filtering (spec §3.4 and each endpoint's parameter table) parsed into the store's
 * EntryFilter. Pure: untrusted query strings in, a filter or a list of issues out; never throws.
 * Each issue names the offending parameter so the 400 body can say which one is wrong.
 */

export type TaxiiParameter =
  | 'added_after'
  | 'limit'
  | 'next'
  | 'match[id]'
  | 'match[type]'
  | 'match[version]'
  | 'match[spec_version]';

/** Which parameters each endpoint takes (TAXII 2.1 §5.3–§5.9). */
export const endpointParameters = {
  objects: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  manifest: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  object: ['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]'],
  deleteObject: ['match[version]', 'match[spec_version]'],
  versions: ['added_after', 'limit', 'next', 'match[spec_version]'],
} as const satisfies Record<string, readonly TaxiiParameter[]>;

export type TaxiiEndpoint = keyof typeof endpointParameters;

export type RawQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface QueryIssue {
  readonly parameter: string;
  readonly message: string;
}

export interface TaxiiQuery {
  readonly filter: EntryFilter;
  /** Absent when the caller did not ask; the route applies its default. */
  readonly limit: number | undefined;
  /** The raw `next` cursor; decoded by the route, which knows the query fingerprint. */
  readonly next: string | undefined;
  /** Everything that defines the result set except position and page size, in a stable form. */
  readonly fingerprintParts: readonly string[];
}

/** More values than this in one match[...] list is refused rather than sent to the store. */
export const MAX_MATCH_VALUES = 500;
export const MAX_LIMIT_DIGITS = 9;

const STIX_ID = /^[a-z0-9][a-z0-9-]{0,248}[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const STIX_TYPE = /^[a-z0-9][a-z0-9-]{0,248}[a-z0-9]$/;
const SPEC_VERSION = /^\d{1,2}\.\d{1,2}$/;
const DIGITS = /^\d+$/;

const ALL_PARAMETERS: ReadonlySet<string> = new Set<TaxiiParameter>(endpointParameters.objects);

/** Whether `text` is a syntactically valid STIX identifier (`type--uuid`). */
export function isStixId(text: string): boolean {
  return STIX_ID.test(text);
}

function single(name: string, value: string | readonly string[], issues: QueryIssue[]): string | undefined {
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  issues.push({ parameter: name, message: `${name} was given ${value.length} times; give it once` });
  return undefined;
}

// Repeated match[...] parameters are read as one comma-separated list: TAXII only defines the
// comma form, but some clients repeat the parameter and the meaning is unambiguous.
function list(name: string, value: string | readonly string[], issues: QueryIssue[]): string[] | undefined {
  const items = (typeof value === 'string' ? value : value.join(',')).split(',');
  if (items.length > MAX_MATCH_VALUES) {
    issues.push({ parameter: name, message: `${name} lists ${items.length} values; at most ${MAX_MATCH_VALUES} are allowed` });
    return undefined;
  }
  if (items.some((item) => item === '')) {
    issues.push({ parameter: name, message: `${name} contains an empty value` });
    return undefined;
  }
  return items;
}

function describe(value: string): string {
  return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
}

function parseIds(name: string, values: readonly string[], issues: QueryIssue[]): string[] | undefined {
  const bad = values.find((value) => !STIX_ID.test(value));
  if (bad !== undefined) {
    issues.push({ parameter: name, message: `${name} value ${describe(bad)} is not a STIX identifier (type--uuid)` });
    return undefined;
  }
  return [...new Set(values)].sort();
}

function parseTypes(name: string, values: readonly string[], issues: QueryIssue[]): string[] | undefined {
  const bad = values.find((value) => !STIX_TYPE.test(value));
  if (bad !== undefined) {
    issues.push({ parameter: name, message: `${name} value ${describe(bad)} is not a STIX type name` });
    return undefined;
  }
  return [...new Set(values)].sort();
}

function parseVersions(name: string, values: readonly string[], issues: QueryIssue[]): VersionSelector[] | undefined {
  const selectors = new Map<string, VersionSelector>();
  for (const value of values) {
    if (value === 'first' || value === 'last' || value === 'all') {
      selectors.set(value, { kind: value });
    } else if (isStixTimestamp(value)) {
      selectors.set('at:' + value, { kind: 'at', version: value });
    } else {
      issues.push({
        parameter: name,
        message: `${name} value ${describe(value)} is not "first", "last", "all" or a STIX timestamp`,
      });
      return undefined;
    }
  }
  // `all` already includes every other selector; keeping only it spares the store redundant work.
  if (selectors.has('all')) return [{ kind: 'all' }];
  return [...selectors.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, selector]) => selector);
}

function parseSpecVersions(name: string, values: readonly string[], issues: QueryIssue[]): string[] | undefined {
  const bad = values.find((value) => !SPEC_VERSION.test(value));
  if (bad !== undefined) {
    issues.push({ parameter: name, message: `${name} value ${describe(bad)} is not a STIX specification version such as 2.1` });
    return undefined;
  }
  return [...new Set(values)].sort();
}

function parseLimit(name: string, value: string, issues: QueryIssue[]): number | undefined {
  if (!DIGITS.test(value) || value.length > MAX_LIMIT_DIGITS || Number(value) < 1) {
    issues.push({ parameter: name, message: `${name} must be a positive integer, got ${describe(value)}` });
    return undefined;
  }
  return Number(value);
}

/**
 * Parses the query of one TAXII endpoint. Parameters TAXII defines but this endpoint does not take,
 * and unknown `match[...]` fields, are refused: ignoring a filter would silently return more than the
 * caller asked for. Other unknown parameters (cache busters and the like) are ignored.
 */
export function parseTaxiiQuery(raw: RawQuery, endpoint: TaxiiEndpoint): Result<TaxiiQuery, QueryIssue[]> {
  const allowed: readonly string[] = endpointParameters[endpoint];
  const issues: QueryIssue[] = [];
  let ids: string[] | undefined;
  let types: string[] | undefined;
  let versions: VersionSelector[] | undefined;
  let specVersions: string[] | undefined;
  let addedAfter: number | undefined;
  let limit: number | undefined;
  let next: string | undefined;

  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined) continue;
    const known = ALL_PARAMETERS.has(name);
    if (!known) {
      if (name.startsWith('match[')) {
        issues.push({ parameter: name, message: `${name} is not a filter this server supports; supported: ${allowed.join(', ')}` });
      }
      continue;
    }
    if (!allowed.includes(name)) {
      issues.push({ parameter: name, message: `${name} is not accepted on this endpoint; accepted: ${allowed.join(', ') || 'none'}` });
      continue;
    }
    switch (name as TaxiiParameter) {
      case 'match[id]': {
        const items = list(name, value, issues);
        if (items !== undefined) ids = parseIds(name, items, issues);
        break;
      }
      case 'match[type]': {
        const items = list(name, value, issues);
        if (items !== undefined) types = parseTypes(name, items, issues);
        break;
      }
      case 'match[version]': {
        const items = list(name, value, issues);
        if (items !== undefined) versions = parseVersions(name, items, issues);
        break;
      }
      case 'match[spec_version]': {
        const items = list(name, value, issues);
        if (items !== undefined) specVersions = parseSpecVersions(name, items, issues);
        break;
      }
      case 'added_after': {
        const text = single(name, value, issues);
        if (text === undefined) break;
        addedAfter = parseMicroTimestamp(text);
        if (addedAfter === undefined) {
          issues.push({ parameter: name, message: `added_after must be a timestamp such as 2026-01-31T12:00:00.000000Z, got ${describe(text)}` });
        }
        break;
      }
      case 'limit': {
        const text = single(name, value, issues);
        if (text !== undefined) limit = parseLimit(name, text, issues);
        break;
      }
      case 'next': {
        next = single(name, value, issues);
        break;
      }
    }
  }
  if (issues.length > 0) return err(issues);

  const filter: EntryFilter = {
    ...(ids === undefined ? {} : { ids }),
    ...(types === undefined ? {} : { types }),
    ...(versions === undefined ? {} : { versions }),
    ...(specVersions === undefined ? {} : { specVersions }),
    ...(addedAfter === undefined ? {} : { addedAfter }),
  };
  const fingerprintParts = [
    endpoint,
    ids?.join(',') ?? '',
    types?.join(',') ?? '',
    versions?.map((v) => (v.kind === 'at' ? v.version : v.kind)).join(',') ?? '',
    specVersions?.join(',') ?? '',
    addedAfter === undefined ? '' : String(addedAfter),
  ];
  return ok({ filter, limit, next, fingerprintParts });
}
