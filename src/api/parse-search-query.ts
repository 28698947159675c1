import { err, ok, type Result } from '../errors/result.ts';

export type RawSearchQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface ParsedSearchQuery {
  readonly text: string;
  readonly types?: readonly string[];
  readonly limit: number;
}

export interface SearchQueryIssue {
  readonly parameter: string;
  readonly message: string;
}

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 200;
export const MAX_SEARCH_TEXT = 500;
const STIX_TYPE = /^[a-z0-9][a-z0-9-]{0,248}[a-z0-9]$/;
const DIGITS = /^\d{1,6}$/;
// At least one letter or digit: the store searches words, so "***" or "  " can match nothing.
const HAS_WORD = /[\p{L}\p{N}]/u;

function one(raw: RawSearchQuery, name: string): Result<string | undefined, SearchQueryIssue> {
  const value = raw[name];
  if (value === undefined || typeof value === 'string') return ok(value);
  if (value.length === 1) return ok(value[0]);
  return err({ parameter: name, message: `${name} was given ${value.length} times; give it once` });
}

/** Parses the search endpoint's query string. Pure; never throws. */
export function parseSearchQuery(raw: RawSearchQuery): Result<ParsedSearchQuery, SearchQueryIssue> {
  const q = one(raw, 'q');
  if (!q.ok) return q;
  const text = q.value?.trim() ?? '';
  if (text === '') return err({ parameter: 'q', message: 'q is required: the words to search for' });
  if (text.length > MAX_SEARCH_TEXT) return err({ parameter: 'q', message: `q is longer than ${MAX_SEARCH_TEXT} characters` });
  if (!HAS_WORD.test(text)) return err({ parameter: 'q', message: 'q must contain at least one letter or digit' });

  const limitText = one(raw, 'limit');
  if (!limitText.ok) return limitText;
  let limit = DEFAULT_SEARCH_LIMIT;
  if (limitText.value !== undefined) {
    if (!DIGITS.test(limitText.value) || Number(limitText.value) < 1) {
      return err({ parameter: 'limit', message: `limit must be a positive integer, got ${JSON.stringify(limitText.value.slice(0, 40))}` });
    }
    limit = Math.min(Number(limitText.value), MAX_SEARCH_LIMIT);
  }

  const typeValue = raw['type'];
  if (typeValue === undefined) return ok({ text, limit });
  const types = (typeof typeValue === 'string' ? typeValue : typeValue.join(',')).split(',');
  const bad = types.find((type) => !STIX_TYPE.test(type));
  if (bad !== undefined) return err({ parameter: 'type', message: `type ${JSON.stringify(bad.slice(0, 80))} is not a STIX type name` });
  return ok({ text, types: [...new Set(types)], limit });
}
