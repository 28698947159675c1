// The table vocabulary: each STIX property is described by one PropSpec, each object (or nested structure)
// by one Shape. Validation walks these tables; the tables themselves hold no logic beyond small rule functions.
import type { IssueSink } from './issue-sink.ts';
import type { Vocabulary } from './vocabularies.ts';
import { categoryOf, SCO_TYPES } from './object-categories.ts';

export type JsonRecord = Record<string, unknown>;

/** Which object types a reference property may point to. */
export interface RefTarget {
  /** Words for messages: "an identity", "an SCO". */
  readonly describe: string;
  readonly accepts: (type: string) => boolean;
  /** For fixed type lists: lets the checker match the id prefix without slicing it out. */
  readonly types?: readonly string[];
}

export type ValueKind =
  | 'string'
  | 'boolean'
  | 'timestamp'
  | 'hex'
  | 'binary'
  | 'url'
  | 'lang'
  | 'hashes'
  | 'kill-chain-phases'
  | 'external-references'
  | 'granular-markings'
  | 'extensions'
  | 'string-or-integer'
  | 'string-or-string-list'
  | 'any-object';

export type PropSpec =
  | { readonly kind: ValueKind }
  | { readonly kind: 'integer' | 'number'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'vocab'; readonly vocab: Vocabulary }
  | { readonly kind: 'ref'; readonly target: RefTarget }
  | { readonly kind: 'list'; readonly item: PropSpec; readonly minItems?: number }
  | { readonly kind: 'dictionary'; readonly value: PropSpec | null; readonly keyPattern?: (key: string) => boolean }
  | { readonly kind: 'object'; readonly shape: Shape }
  /** A string whose syntax a predicate decides (IPv4, MAC, e-mail …). */
  | { readonly kind: 'syntax'; readonly test: (s: string) => boolean; readonly expected: string; readonly severity?: 'warning' };

/** Checks that involve several properties of one object (co-constraints). */
export type ShapeRule = (value: JsonRecord, path: string, sink: IssueSink) => void;

export interface Shape {
  readonly props: ReadonlyMap<string, PropSpec>;
  readonly required: readonly string[];
  readonly rules: readonly ShapeRule[];
  /** Nested structures of the spec are closed; objects and extensions accept custom properties. */
  readonly open: boolean;
}

export function shape(
  props: Readonly<Record<string, PropSpec>>,
  required: readonly string[] = [],
  rules: readonly ShapeRule[] = [],
  open = false,
): Shape {
  return { props: new Map(Object.entries(props)), required, rules, open };
}

export const STRING: PropSpec = { kind: 'string' };
export const BOOLEAN: PropSpec = { kind: 'boolean' };
export const TIMESTAMP: PropSpec = { kind: 'timestamp' };
export const HEX: PropSpec = { kind: 'hex' };
export const BINARY: PropSpec = { kind: 'binary' };
export const URL: PropSpec = { kind: 'url' };
export const LANG: PropSpec = { kind: 'lang' };
export const HASHES: PropSpec = { kind: 'hashes' };
export const INTEGER: PropSpec = { kind: 'integer' };
export const NUMBER: PropSpec = { kind: 'number' };
export const NON_NEGATIVE: PropSpec = { kind: 'integer', min: 0 };
export const STRING_OR_INTEGER: PropSpec = { kind: 'string-or-integer' };
export const STRING_OR_STRING_LIST: PropSpec = { kind: 'string-or-string-list' };
export const STRING_LIST: PropSpec = { kind: 'list', item: STRING };
export const KILL_CHAIN_PHASES: PropSpec = { kind: 'kill-chain-phases' };

export function integer(min: number, max: number): PropSpec {
  return { kind: 'integer', min, max };
}
export function vocab(v: Vocabulary): PropSpec {
  return { kind: 'vocab', vocab: v };
}
export function vocabList(v: Vocabulary): PropSpec {
  return { kind: 'list', item: vocab(v) };
}
export function listOf(item: PropSpec): PropSpec {
  return { kind: 'list', item };
}
export function object(s: Shape): PropSpec {
  return { kind: 'object', shape: s };
}
export function dictionary(value: PropSpec | null = null, keyPattern?: (key: string) => boolean): PropSpec {
  return keyPattern === undefined ? { kind: 'dictionary', value } : { kind: 'dictionary', value, keyPattern };
}
export function syntax(test: (s: string) => boolean, expected: string): PropSpec {
  return { kind: 'syntax', test, expected };
}
export function ref(target: RefTarget): PropSpec {
  return { kind: 'ref', target };
}
export function refs(target: RefTarget): PropSpec {
  return { kind: 'list', item: ref(target) };
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

export function toTypes(...types: string[]): RefTarget {
  const allowed = new Set(types);
  const names = types.map((t) => `'${t}'`);
  const describe = names.length === 1 ? article(types[0] ?? '') : `one of ${names.join(', ')}`;
  return { describe, accepts: (type) => allowed.has(type), types };
}

export const ANY_OBJECT: RefTarget = { describe: 'any STIX object', accepts: () => true };
export const ANY_SCO: RefTarget = { describe: 'an SCO', accepts: (type) => SCO_TYPES.has(type) };
/** Custom objects count: the specification cannot know their category, so it does not forbid them. */
export const SDO_OR_CUSTOM: RefTarget = {
  describe: 'an SDO or custom object',
  accepts: (type) => {
    const c = categoryOf(type);
    return c === 'sdo' || c === 'custom';
  },
};
export const SDO_SCO_OR_CUSTOM: RefTarget = {
  describe: 'an SDO, SCO or custom object (not an SRO, bundle or meta object)',
  accepts: (type) => {
    const c = categoryOf(type);
    return c === 'sdo' || c === 'sco' || c === 'custom';
  },
};
export const SCO_SRO_OR_CUSTOM: RefTarget = {
  describe: 'an SCO or SRO',
  accepts: (type) => {
    const c = categoryOf(type);
    return c === 'sco' || c === 'sro' || c === 'custom';
  },
};
export const NOT_BUNDLE_OR_LANGUAGE_CONTENT: RefTarget = {
  describe: 'an object other than a bundle or language-content',
  accepts: (type) => type !== 'bundle' && type !== 'language-content',
};
