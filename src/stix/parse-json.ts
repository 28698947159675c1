import { Buffer } from 'node:buffer';
import { err, ok } from '../errors/result.ts';
import type { Result } from '../errors/result.ts';
import type { JsonValue } from './types.ts';

export type JsonParseProblemCode = 'ENT_INPUT_TOO_DEEP' | 'ENT_INPUT_MALFORMED_JSON' | 'ENT_INPUT_TOO_LARGE';

/**
 * Why a text is refused. `reason` says what is wrong without the place; `message` is `reason` plus the
 * place, ready for an analyst. `position` is a UTF-16 offset into the text as given; `line` and
 * `column` are 1-based, the column counted in UTF-16 code units.
 */
export interface JsonParseProblem {
  readonly code: JsonParseProblemCode;
  readonly message: string;
  readonly reason: string;
  readonly position?: number;
  readonly line?: number;
  readonly column?: number;
}

export interface ParseJsonOptions {
  /** Deepest nesting of arrays and objects accepted. STIX needs about 10; the default is 64. */
  readonly maxDepth?: number;
  /** Largest UTF-8 size accepted; no limit when absent (the HTTP layer usually limits first). */
  readonly maxBytes?: number;
  /**
   * Integers beyond ±(2^53 − 1) and numbers that overflow to Infinity cannot survive JSON.parse:
   * they come back silently changed, which would break signatures over the canonical JSON and make a
   * stored object differ from what the partner sent. 'reject' (the default) refuses such texts.
   */
  readonly unsafeNumbers?: 'reject' | 'allow';
}

export const DEFAULT_MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Parses untrusted JSON. Never throws. Rejects nesting deeper than `maxDepth` (the code that walks a
 * parsed value recurses) and numbers that JSON.parse would change.
 *
 * JSON.parse runs first: V8's parser is iterative since v7.6, so deep nesting costs it no stack. A walk
 * of the parsed value then asks whether anything might be refused; only then (and when JSON.parse
 * fails) does the character scan run, so that the verdict, its place and its precedence over a syntax
 * error are the scan's as before. The walk is several times cheaper than the scan (ATT&CK
 * Enterprise, 50 MB: about 20 ms against 140-160 ms), and it misses nothing the scan refuses in the
 * value returned: a container at depth d in the text is one at depth d in the value, and a number
 * token the scan refuses parses to a value that is not finite or an integer beyond 2^53 - 1. The
 * one difference: a member that a later one of the same name replaces (JSON.parse keeps the last)
 * is not in the value, so a text whose only deep or unsafe part is such a dropped member is accepted,
 * and what it yields is within the limits, which exist to protect the code that walks the value and
 * the numbers a signature covers. The walk may ask about more (1e20 written with an exponent, which
 * the scan accepts), which costs only the scan.
 *
 * A leading byte-order mark is ignored: RFC 8259 §8.1 allows parsers to, and Windows tools write one.
 *
 * `__proto__` keys are kept, and that is safe: JSON.parse defines every key as an own data property
 * (CreateDataProperty), so `{"__proto__": {...}}` never changes the prototype of what it returns. The
 * danger is only in later code that copies keys by assignment (`target[key] = value`, Object.assign);
 * Entente copies with spread, Object.fromEntries or structuredClone, which define data properties too.
 * Stripping the key instead would silently alter a partner's object and break its signature.
 */
export function parseJson(text: string, options: ParseJsonOptions = {}): Result<JsonValue, JsonParseProblem> {
  const parsed = parseJsonNoting(text, options);
  return parsed.ok ? ok(parsed.value.value) : parsed;
}

/**
 * parseJson, saying also whether the value holds a number whose text it had to read (not finite, or
 * an integer past 2^53 - 1, within the limits all the same): a reader that parses a document in parts
 * (read-container-chunks.ts) then knows, without walking the value again, that the whole text must
 * decide, since a number in a member a later one replaced is checked only there.
 */
export function parseJsonNoting(text: string, options: ParseJsonOptions = {}): Result<{ readonly value: JsonValue; readonly textRead: boolean }, JsonParseProblem> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (options.maxBytes !== undefined) {
    if (exceedsByteLimit(text, options.maxBytes)) {
      return err(problem(text, 'ENT_INPUT_TOO_LARGE', `input is larger than the limit of ${options.maxBytes} bytes`, undefined));
    }
  }
  const offset = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const body = offset === 0 ? text : text.slice(1);

  const checkNumbers = options.unsafeNumbers !== 'allow';
  let value: JsonValue;
  try {
    value = JSON.parse(body) as JsonValue;
  } catch (error: unknown) {
    const scanned = scanJson(body, maxDepth, checkNumbers);
    if (scanned !== undefined) return err(problem(text, scanned.code, scanned.reason, scanned.position + offset));
    const raw = error instanceof Error ? error.message : String(error);
    // The place is reported as line and column below; V8's offset would ignore a stripped byte-order mark.
    const detail = raw.replace(/ in JSON at position \d+(?: \(line \d+ column \d+\))?/, '');
    const position = errorPosition(body, raw);
    return err(problem(text, 'ENT_INPUT_MALFORMED_JSON', `not valid JSON: ${detail}${encodingHint(text)}`, position === undefined ? undefined : position + offset));
  }
  // The walk finds either a container too deep, which the scan then refuses, or a suspect number.
  if (mayBeRefused(value, maxDepth, checkNumbers)) {
    const scanned = scanJson(body, maxDepth, checkNumbers);
    if (scanned !== undefined) return err(problem(text, scanned.code, scanned.reason, scanned.position + offset));
    return ok({ value, textRead: true });
  }
  return ok({ value, textRead: false });
}

/**
 * Whether scanJson might refuse the text this value was parsed from: a container deeper than
 * `maxDepth`, or (with `checkNumbers`) a number that is not finite or an integer beyond 2^53 - 1.
 */
function mayBeRefused(value: JsonValue, maxDepth: number, checkNumbers: boolean): boolean {
  if (typeof value === 'object' && value !== null) return containerMayBeRefused(value, 1, maxDepth, checkNumbers);
  return typeof value === 'number' && checkNumbers && isChangedByParse(value);
}

/**
 * `depth`: 1 for the outermost container, as scanJson counts. Recursion stops below `maxDepth`.
 * Members are read with for-in, not Object.values: no array per object (a 50 MB bundle has about a
 * million), and a value from JSON.parse has no inherited enumerable keys.
 */
function containerMayBeRefused(container: JsonValue[] | { [key: string]: JsonValue }, depth: number, maxDepth: number, checkNumbers: boolean): boolean {
  if (depth > maxDepth) return true;
  if (Array.isArray(container)) {
    for (let index = 0; index < container.length; index++) {
      if (itemMayBeRefused(container[index], depth, maxDepth, checkNumbers)) return true;
    }
    return false;
  }
  for (const key in container) {
    if (itemMayBeRefused(container[key], depth, maxDepth, checkNumbers)) return true;
  }
  return false;
}

/** One member or element of a container at `depth`. */
function itemMayBeRefused(item: JsonValue | undefined, depth: number, maxDepth: number, checkNumbers: boolean): boolean {
  if (typeof item === 'object') return item !== null && containerMayBeRefused(item, depth + 1, maxDepth, checkNumbers);
  return typeof item === 'number' && checkNumbers && isChangedByParse(item);
}

/** A parsed number whose token JSON.parse may have changed: it overflowed, or it is an integer past 2^53 - 1. */
function isChangedByParse(value: number): boolean {
  return !Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value));
}

/** Whether the UTF-8 form of the text is longer than `maxBytes`. */
export function exceedsByteLimit(text: string, maxBytes: number): boolean {
  // Each UTF-16 unit is 1–3 UTF-8 bytes, so the exact count is needed only between those bounds.
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text, 'utf8') > maxBytes;
}

export interface ScanFinding {
  readonly code: JsonParseProblemCode;
  readonly reason: string;
  readonly position: number;
}

/**
 * The scan that gives parseJson's verdict on depth and numbers (exported for its benchmark). It tracks nesting outside
 * strings and skips strings with indexOf, which V8 runs natively, several times faster than a loop
 * over characters; a quote ends a string when an even number of backslashes precede it. Malformed
 * text is left for JSON.parse to describe: the scan only has to stay linear and never misjudge depth
 * in well-formed text.
 */
export function scanJson(text: string, maxDepth: number, checkNumbers: boolean): ScanFinding | undefined {
  const length = text.length;
  let depth = 0;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    // Whitespace first: in pretty-printed JSON it is most of what lies outside strings.
    if (c <= 0x20) {
      i++;
      continue;
    }
    if (c === QUOTE) {
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1) return undefined;
        if (text.charCodeAt(quote - 1) !== BACKSLASH) {
          i = quote + 1;
          break;
        }
        let backslashes = 1;
        for (let k = quote - 2; k > i && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
        if ((backslashes & 1) === 0) {
          i = quote + 1;
          break;
        }
        from = quote + 1;
      }
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > maxDepth) {
        return { code: 'ENT_INPUT_TOO_DEEP', reason: `JSON nested deeper than the limit of ${maxDepth} levels`, position: i };
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (checkNumbers && (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9))) {
      const end = numberEnd(text, i + 1);
      const finding = checkNumber(text.slice(i, end), i);
      if (finding !== undefined) return finding;
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}

function numberEnd(text: string, from: number): number {
  let j = from;
  for (; j < text.length; j++) {
    const d = text.charCodeAt(j);
    // digits . e E + -
    if (!((d >= DIGIT_0 && d <= DIGIT_9) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === MINUS)) break;
  }
  return j;
}

function checkNumber(token: string, position: number): ScanFinding | undefined {
  const hasExponent = token.includes('e') || token.includes('E');
  // Short plain tokens are always exact: 15 digits fit in a double.
  if (!hasExponent && token.length <= 15) return undefined;
  const value = Number(token);
  if (Number.isNaN(value)) return undefined; // malformed: JSON.parse will say where
  const isInteger = !hasExponent && !token.includes('.');
  if (!Number.isFinite(value)) {
    return { code: 'ENT_INPUT_MALFORMED_JSON', reason: `number ${abbreviate(token)} is too large to represent; send it as a string`, position };
  }
  if (isInteger && !Number.isSafeInteger(value)) {
    return {
      code: 'ENT_INPUT_MALFORMED_JSON',
      reason: `integer ${abbreviate(token)} is beyond 2^53 and would lose precision; send it as a string`,
      position,
    };
  }
  return undefined;
}

function abbreviate(token: string): string {
  return token.length <= 40 ? token : `${token.slice(0, 20)}…${token.slice(-10)} (${token.length} characters)`;
}

/**
 * V8 reports most errors "at position N"; "Unexpected token" errors instead quote up to 10 characters
 * either side of the position, marking cut ends with "...". The position is recovered from that
 * context: directly when the context touches an end of the text, otherwise by finding the context in
 * the text (the first few occurrences only, to stay linear on hostile input).
 */
export function errorPosition(text: string, detail: string): number | undefined {
  const at = /at position (\d+)/.exec(detail);
  if (at?.[1] !== undefined) return Number(at[1]);
  if (detail.startsWith('Unexpected end of JSON input')) return text.length;
  const token = /^Unexpected token '([\s\S])', ([\s\S]*) is not valid JSON$/.exec(detail);
  if (token?.[2] === undefined) return undefined;
  let context = token[2];
  const leading = context.startsWith('..."');
  if (leading) context = context.slice(3);
  const trailing = context.endsWith('"...');
  if (trailing) context = context.slice(0, -3);
  if (context.length < 2) return undefined;
  const quoted = context.slice(1, -1);
  if (!leading && trailing) return quoted.length - 10;
  if (leading && !trailing) return text.length - quoted.length + 10;
  if (leading && trailing) {
    let from = 0;
    for (let tries = 0; tries < 8; tries++) {
      const found = text.indexOf(quoted, from);
      if (found === -1) return undefined;
      if (isViablePrefix(text.slice(0, found + 10))) return found + 10;
      from = found + 1;
    }
    return undefined;
  }
  // The whole (short) text was quoted: try each occurrence of the unexpected character.
  const bad = token[1] ?? '';
  for (let p = text.indexOf(bad); p !== -1; p = text.indexOf(bad, p + 1)) {
    if (isViablePrefix(text.slice(0, p)) && !isViablePrefix(text.slice(0, p + 1))) return p;
  }
  return undefined;
}

/** True when the text could still become valid JSON by appending characters. */
function isViablePrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : '';
    if (detail.startsWith('Unexpected end of JSON input') || detail.startsWith('Unterminated string')) return true;
    const at = /at position (\d+)/.exec(detail);
    return at?.[1] !== undefined && Number(at[1]) >= prefix.length;
  }
}

/** Text decoded with the wrong encoding shows typical marks; name them, because the V8 message will not. */
function encodingHint(text: string): string {
  const head = text.slice(0, 64);
  if (head.startsWith('\uFFFD\uFFFD') || head.startsWith('\u00FF\u00FE') || head.startsWith('\u00FE\u00FF')) {
    return ' (the text starts with a UTF-16 byte-order mark read as UTF-8: Entente reads UTF-8 JSON only)';
  }
  if (head.includes('\u0000')) {
    return ' (the text contains NUL characters: it looks like UTF-16 read as UTF-8; Entente reads UTF-8 JSON only)';
  }
  return '';
}

function problem(text: string, code: JsonParseProblemCode, reason: string, position: number | undefined): JsonParseProblem {
  if (position === undefined) return { code, reason, message: reason };
  const clamped = Math.max(0, Math.min(position, text.length));
  const { line, column } = lineAndColumn(text, clamped);
  return { code, reason, message: `${reason} (line ${line}, column ${column})`, position: clamped, line, column };
}

export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < position; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return { line, column: position - lineStart + 1 };
}
