// Interprets the property tables: one switch over PropSpec kinds, used for top-level properties, nested
// structures and extension bodies alike.
import { IssueSink, itemPath, memberPath } from './issue-sink.ts';
import {
  checkIdentifier,
  IdVerdict,
  idHasType,
  idTypeOf,
  isBase64,
  isDictionaryKey,
  isHexOfLength,
  isHexString,
  isLangTag,
  isLowerHyphenated,
  isPropertyName,
  isSsdeep,
  isTlsh,
  isUri,
  timestampFractionDigits,
} from './lexical.ts';
import { RESERVED_PROPERTIES } from './object-categories.ts';
import type { JsonRecord, PropSpec, RefTarget, Shape } from './property-spec.ts';
import { HASH_ALGORITHM_OV } from './vocabularies.ts';
import { checkExtensions } from './extensions.ts';
import { checkExternalReference, checkGranularMarking, checkKillChainPhase } from './common-structures.ts';

export interface CheckContext {
  readonly sink: IssueSink;
  /** The top-level object being validated: granular-marking selectors resolve against it. */
  readonly root: JsonRecord;
  readonly objectType: string;
  /** Keys of a deprecated observed-data `objects` dictionary, which embedded objects use as references. */
  readonly localRefs: ReadonlySet<string> | null;
  /** Custom object, or a toplevel-property-extension is declared: unprefixed extra properties are expected. */
  readonly customPropertiesExpected: boolean;
}

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

function wrongType(ctx: CheckContext, path: string, expected: string, value: unknown): void {
  ctx.sink.error(path, 'STIX_PROPERTY_WRONG_TYPE', `must be ${expected}, got ${jsonTypeOf(value)}`);
}

function pathOf(parent: string, key: string | number): string {
  return typeof key === 'number' ? itemPath(parent, key) : memberPath(parent, key);
}

/** Table keys are plain property names, so their path needs no quoting check. */
function propertyPath(parent: string, key: string | number): string {
  return typeof key === 'number' ? itemPath(parent, key) : `${parent}.${key}`;
}

const HASH_LENGTHS: ReadonlyMap<string, number> = new Map([
  ['MD5', 32],
  ['SHA-1', 40],
  ['SHA-256', 64],
  ['SHA-512', 128],
  ['SHA3-256', 64],
  ['SHA3-512', 128],
]);
/** Common spellings of vocabulary hash names, so the warning can say which name to use. */
const HASH_NAME_BY_NORMALIZED: ReadonlyMap<string, string> = new Map(
  [...HASH_ALGORITHM_OV.values].map((name) => [name.replace(/-/g, '').toLowerCase(), name]),
);
const NON_ALNUM = /[^a-z0-9]/g;

function checkHashes(value: unknown, path: string, ctx: CheckContext): void {
  if (!isRecord(value)) return wrongType(ctx, path, 'a dictionary of hashes', value);
  let count = 0;
  for (const key of Object.keys(value)) {
    count++;
    const v = value[key];
    const p = memberPath(path, key);
    if (!isDictionaryKey(key, 3)) {
      ctx.sink.error(p, 'STIX_HASH_KEY_INVALID', 'hash algorithm names must be 3..250 ASCII letters, digits, hyphens or underscores');
      continue;
    }
    if (typeof v !== 'string') {
      wrongType(ctx, p, 'a string', v);
      continue;
    }
    const length = HASH_LENGTHS.get(key);
    if (length !== undefined) {
      if (!isHexOfLength(v, length)) {
        ctx.sink.error(p, 'STIX_HASH_VALUE_INVALID', `a ${key} hash must be ${length} hexadecimal characters`);
      }
    } else if (key === 'SSDEEP') {
      if (!isSsdeep(v)) ctx.sink.error(p, 'STIX_HASH_VALUE_INVALID', 'an SSDEEP hash must be 1..128 characters of [A-Za-z0-9/+:.]');
    } else if (key === 'TLSH') {
      if (!isTlsh(v)) ctx.sink.error(p, 'STIX_HASH_VALUE_INVALID', 'a TLSH hash must be 70 letters or digits');
    } else if (!key.startsWith('x_')) {
      const suggestion = HASH_NAME_BY_NORMALIZED.get(key.toLowerCase().replace(NON_ALNUM, ''));
      ctx.sink.warn(
        p,
        'STIX_HASH_ALGORITHM_UNKNOWN',
        suggestion === undefined
          ? `'${key}' is not in hash-algorithm-ov; custom hash names should start with 'x_'`
          : `'${key}' is not in hash-algorithm-ov; write '${suggestion}'`,
      );
    }
  }
  if (count === 0) ctx.sink.error(path, 'STIX_DICTIONARY_EMPTY', 'hashes must contain at least one hash');
}

function checkRef(value: string, path: string, spec: { readonly target: RefTarget }, ctx: CheckContext): void {
  const verdict = checkIdentifier(value);
  if (verdict !== IdVerdict.Ok) {
    if (ctx.localRefs !== null && ctx.localRefs.has(value)) return;
    ctx.sink.error(path, 'STIX_REF_INVALID', identifierProblem(verdict, value));
    return;
  }
  const fixed = spec.target.types;
  if (fixed !== undefined) {
    for (const t of fixed) if (idHasType(value, t)) return;
  }
  const type = idTypeOf(value);
  if (!spec.target.accepts(type)) {
    ctx.sink.error(path, 'STIX_REF_TARGET_TYPE', `must reference ${spec.target.describe}, not a '${type}'`);
  }
}

export function identifierProblem(verdict: IdVerdict, value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  switch (verdict) {
    case IdVerdict.BadTypePrefix:
      return `'${shown}' has an invalid object type before '--'`;
    case IdVerdict.NotRfc4122:
      return `'${shown}' does not end in an RFC 4122 UUID (version 1-5, variant 10xx)`;
    default:
      return `'${shown}' is not an identifier of the form 'object-type--UUID'`;
  }
}

/** Checks one value against its spec. `parent`/`key` locate it; the path string is built only when needed. */
export function checkValue(spec: PropSpec, value: unknown, parent: string, key: string | number, ctx: CheckContext): void {
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') wrongType(ctx, pathOf(parent, key), 'a string', value);
      return;
    case 'string-or-integer':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
        wrongType(ctx, pathOf(parent, key), 'a string or an integer', value);
      }
      return;
    case 'string-or-string-list':
      // A list is for a repeated header, so it has at least two values (as the OASIS schema requires).
      if (typeof value === 'string') return;
      if (!Array.isArray(value) || value.length < 2 || !value.every((v) => typeof v === 'string')) {
        wrongType(ctx, pathOf(parent, key), 'a string, or a list of two or more strings', value);
      }
      return;
    case 'any-object':
      if (!isRecord(value)) wrongType(ctx, pathOf(parent, key), 'an object', value);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') wrongType(ctx, pathOf(parent, key), 'true or false', value);
      return;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (spec.kind === 'integer' && !Number.isInteger(value))) {
        wrongType(ctx, pathOf(parent, key), spec.kind === 'integer' ? 'an integer' : 'a number', value);
        return;
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        ctx.sink.error(pathOf(parent, key), 'STIX_VALUE_OUT_OF_RANGE', `must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'}, got ${value}`);
      }
      return;
    }
    case 'timestamp':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'a timestamp string', value);
      if (timestampFractionDigits(value) < 0) {
        ctx.sink.error(pathOf(parent, key), 'STIX_TIMESTAMP_INVALID', `'${clip(value)}' is not an RFC 3339 UTC timestamp like 2024-01-31T12:00:00.000Z`);
      }
      return;
    case 'hex':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'a hex string', value);
      if (!isHexString(value)) ctx.sink.error(pathOf(parent, key), 'STIX_HEX_INVALID', 'must be an even number of hexadecimal characters');
      return;
    case 'binary':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'a base64 string', value);
      if (!isBase64(value)) ctx.sink.error(pathOf(parent, key), 'STIX_BINARY_INVALID', 'must be padded base64 (RFC 4648)');
      return;
    case 'url':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'a URL string', value);
      if (!isUri(value)) ctx.sink.error(pathOf(parent, key), 'STIX_URL_INVALID', `'${clip(value)}' is not an absolute RFC 3986 URI (percent-encode spaces and non-ASCII characters)`);
      return;
    case 'lang':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'a language tag', value);
      if (!isLangTag(value)) ctx.sink.error(pathOf(parent, key), 'STIX_LANG_INVALID', `'${clip(value)}' is not an RFC 5646 language tag like 'en' or 'pt-BR'`);
      return;
    case 'syntax':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'a string', value);
      if (!spec.test(value)) {
        ctx.sink.add(pathOf(parent, key), 'STIX_VALUE_INVALID', `'${clip(value)}' is not ${spec.expected}`, spec.severity ?? 'error');
      }
      return;
    case 'vocab':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'a string', value);
      if (!spec.vocab.values.has(value)) {
        if (spec.vocab.open) {
          ctx.sink.warn(pathOf(parent, key), 'STIX_VOCAB_VALUE_UNKNOWN', `'${clip(value)}' is not in the suggested vocabulary ${spec.vocab.name}`);
        } else {
          ctx.sink.error(pathOf(parent, key), 'STIX_ENUM_VALUE_INVALID', `'${clip(value)}' is not allowed; ${spec.vocab.name} is one of ${[...spec.vocab.values].join(', ')}`);
        }
      }
      return;
    case 'ref':
      if (typeof value !== 'string') return wrongType(ctx, pathOf(parent, key), 'an identifier string', value);
      checkRef(value, pathOf(parent, key), spec, ctx);
      return;
    case 'list': {
      if (!Array.isArray(value)) return wrongType(ctx, pathOf(parent, key), 'a list', value);
      if (value.length < (spec.minItems ?? 1)) {
        ctx.sink.error(pathOf(parent, key), 'STIX_EMPTY_LIST', 'lists must not be empty; omit the property instead');
        return;
      }
      const item = spec.item;
      // Leaf items are checked without building the list's path unless an item is wrong.
      if (item.kind === 'string') {
        for (let i = 0; i < value.length; i++) {
          if (typeof value[i] !== 'string') wrongType(ctx, itemPath(pathOf(parent, key), i), 'a string', value[i]);
        }
        return;
      }
      const path = propertyPath(parent, key);
      for (let i = 0; i < value.length; i++) checkValue(item, value[i], path, i, ctx);
      return;
    }
    case 'dictionary':
      checkDictionary(spec.value, spec.keyPattern, value, pathOf(parent, key), ctx);
      return;
    case 'object':
      if (!isRecord(value)) return wrongType(ctx, pathOf(parent, key), 'an object', value);
      checkShape(spec.shape, value, propertyPath(parent, key), ctx);
      return;
    case 'hashes':
      checkHashes(value, pathOf(parent, key), ctx);
      return;
    case 'kill-chain-phases':
      checkListOf(value, propertyPath(parent, key), ctx, checkKillChainPhase);
      return;
    case 'external-references':
      checkListOf(value, propertyPath(parent, key), ctx, checkExternalReference);
      return;
    case 'granular-markings':
      checkListOf(value, propertyPath(parent, key), ctx, checkGranularMarking);
      return;
    case 'extensions':
      checkExtensions(value, pathOf(parent, key), ctx);
      return;
  }
}

function checkListOf(
  value: unknown,
  path: string,
  ctx: CheckContext,
  check: (item: JsonRecord, path: string, ctx: CheckContext) => void,
): void {
  if (!Array.isArray(value)) return wrongType(ctx, path, 'a list', value);
  if (value.length === 0) {
    ctx.sink.error(path, 'STIX_EMPTY_LIST', 'lists must not be empty; omit the property instead');
    return;
  }
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (!isRecord(item)) wrongType(ctx, itemPath(path, i), 'an object', item);
    else check(item, itemPath(path, i), ctx);
  }
}

function checkDictionary(
  valueSpec: PropSpec | null,
  keyPattern: ((key: string) => boolean) | undefined,
  value: unknown,
  path: string,
  ctx: CheckContext,
): void {
  if (!isRecord(value)) return wrongType(ctx, path, 'a dictionary (JSON object)', value);
  let count = 0;
  for (const key of Object.keys(value)) {
    count++;
    const v = value[key];
    if (!(keyPattern ?? isDictionaryKey)(key)) {
      ctx.sink.error(memberPath(path, key), 'STIX_DICTIONARY_KEY_INVALID', 'dictionary keys must be at most 250 ASCII letters, digits, hyphens or underscores');
      continue;
    }
    if (valueSpec !== null) checkValue(valueSpec, v, path, key, ctx);
    else checkPresentValue(v, path, key, ctx);
  }
  if (count === 0) ctx.sink.error(path, 'STIX_DICTIONARY_EMPTY', 'dictionaries must not be empty; omit the property instead');
}

/** Any JSON value a property may hold: not null, not an empty list. */
export function checkPresentValue(value: unknown, parent: string, key: string, ctx: CheckContext): boolean {
  if (value === null || value === undefined) {
    ctx.sink.error(memberPath(parent, key), 'STIX_NULL_VALUE', 'null is not a STIX value; omit the property instead');
    return false;
  }
  if (Array.isArray(value) && value.length === 0) {
    ctx.sink.error(memberPath(parent, key), 'STIX_EMPTY_LIST', 'lists must not be empty; omit the property instead');
    return false;
  }
  return true;
}

/**
 * A property the tables do not define: its name must be a valid property name, not reserved, and
 * `_bin`/`_hex` suffixes promise binary/hex values.
 */
export function checkUndefinedProperty(key: string, value: unknown, parent: string, ctx: CheckContext, custom: 'custom' | 'extension' | 'nested'): void {
  if (!isPropertyName(key)) {
    ctx.sink.error(
      memberPath(parent, key),
      'STIX_PROPERTY_NAME_INVALID',
      'property names must be 3..250 characters of lowercase ASCII letters, digits and underscores, starting with a letter',
    );
    return;
  }
  if (RESERVED_PROPERTIES.has(key)) {
    ctx.sink.error(memberPath(parent, key), 'STIX_PROPERTY_RESERVED', `'${key}' is reserved by STIX 2.1 and must not be used`);
    return;
  }
  if (!checkPresentValue(value, parent, key, ctx)) return;
  if (key.endsWith('_bin')) checkValue({ kind: 'binary' }, value, parent, key, ctx);
  else if (key.endsWith('_hex')) checkValue({ kind: 'hex' }, value, parent, key, ctx);
  if (custom === 'custom' && !ctx.customPropertiesExpected && !key.startsWith('x_')) {
    ctx.sink.warn(
      memberPath(parent, key),
      'STIX_CUSTOM_PROPERTY_PREFIX',
      `'${key}' is not a STIX 2.1 property of '${ctx.objectType}'; custom property names should start with 'x_' (or be declared by a toplevel-property-extension)`,
    );
  } else if (custom === 'nested') {
    ctx.sink.warn(memberPath(parent, key), 'STIX_PROPERTY_UNDEFINED', `'${key}' is not defined here by STIX 2.1`);
  }
}

/** Checks every property of `value` against a shape, then the shape's required list and co-constraints. */
export function checkShape(s: Shape, value: JsonRecord, path: string, ctx: CheckContext): void {
  const props = s.props;
  // for-in rather than Object.keys: no array per object on the hot path; JSON objects have no inherited
  // enumerable keys.
  for (const key in value) {
    const spec = props.get(key);
    const v = value[key];
    if (spec === undefined) {
      checkUndefinedProperty(key, v, path, ctx, s.open ? 'custom' : 'nested');
    } else if (v === null) {
      ctx.sink.error(memberPath(path, key), 'STIX_NULL_VALUE', 'null is not a STIX value; omit the property instead');
    } else {
      checkValue(spec, v, path, key, ctx);
    }
  }
  for (const key of s.required) {
    if (value[key] === undefined) {
      ctx.sink.error(memberPath(path, key), 'STIX_REQUIRED_PROPERTY_MISSING', `'${key}' is required`);
    }
  }
  for (const rule of s.rules) rule(value, path, ctx.sink);
}

export function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export function checkLowerHyphenated(value: unknown, parent: string, key: string, ctx: CheckContext, what: string): void {
  if (typeof value === 'string' && !isLowerHyphenated(value)) {
    ctx.sink.warn(memberPath(parent, key), 'STIX_NAME_FORMAT', `${what} should be lowercase words joined by hyphens`);
  }
}
