// One comparison applied to one value selected from an SCO, with the typing rules of STIX 2.1 §9:
// values of different types do not compare (the test is false, never an error, whatever the operator or
// NOT); integers and floats compare as numbers; a timestamp literal compares with a string property that
// holds a timestamp, as instants; binary and hex literals compare with `_bin`/`_hex` properties (and with
// strings whose characters are all below 256) as bytes; strings compare after Unicode NFC normalisation.
// NOT negates the outcome of a comparison that could be made, so `NOT =` and `!=` agree.
import { compareTimestamps, timestampFractionDigits } from '../stix/validate/lexical.ts';
import type { Comparison, PrimitiveLiteral } from './pattern-ast.ts';
import { ipRangeContains, parseIpRange } from './parse-ip-range.ts';
import { matchLike } from './match-like.ts';
import { compileMatchesRegex } from './matches-regex-cache.ts';
import { activeStepBudget, type StepBudget } from './match-budget.ts';

/** The bytes of a binary property (`payload_bin`, `magic_number_hex`, …). */
export class BinaryValue {
  constructor(readonly bytes: Uint8Array) {}
}

export type PathValue = string | number | boolean | null | BinaryValue | readonly unknown[] | Readonly<Record<string, unknown>>;

/** -1, 0, 1, or undefined when the two cannot be compared. */
type Ordering = -1 | 0 | 1 | undefined;

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function normalise(s: string): string {
  // NFC leaves ASCII unchanged; skipping it there keeps the common case fast.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return s.normalize('NFC');
  return s;
}

function compareCodePoints(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return sign(d);
  }
  return sign(x.length - y.length);
}

function compareBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return sign(d);
  }
  return sign(a.length - b.length);
}

/** A string as bytes when every character is below 256 (STIX's rule for comparing strings with binaries). */
function latin1Bytes(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return undefined;
    out[i] = c;
  }
  return out;
}

export function literalBytes(literal: PrimitiveLiteral): Uint8Array | undefined {
  if (literal.kind === 'binary') return Buffer.from(literal.value, 'base64');
  if (literal.kind === 'hex') return Buffer.from(literal.value, 'hex');
  return undefined;
}

/** Orders `value` (from the data) against `literal` (from the pattern). */
function order(value: PathValue, literal: PrimitiveLiteral): Ordering {
  switch (literal.kind) {
    case 'integer':
    case 'float':
      return typeof value === 'number' ? sign(value - literal.value) : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? (value === literal.value ? 0 : value ? 1 : -1) : undefined;
    case 'string': {
      if (typeof value === 'string') return compareCodePoints(normalise(value), normalise(literal.value));
      if (value instanceof BinaryValue) {
        const bytes = latin1Bytes(literal.value);
        return bytes === undefined ? undefined : compareBytes(value.bytes, bytes);
      }
      return undefined;
    }
    case 'timestamp':
      return typeof value === 'string' && timestampFractionDigits(value) >= 0 ? sign(compareTimestamps(value, literal.value)) : undefined;
    case 'binary':
    case 'hex': {
      const bytes = literalBytes(literal) as Uint8Array;
      if (value instanceof BinaryValue) return compareBytes(value.bytes, bytes);
      if (typeof value === 'string') {
        const valueBytes = latin1Bytes(value);
        return valueBytes === undefined ? undefined : compareBytes(valueBytes, bytes);
      }
      return undefined;
    }
  }
}

/** Whether one selected value passes the comparison (before NOT), or undefined when it cannot be tested. */
function outcome(comparison: Comparison, value: PathValue): boolean | undefined {
  switch (comparison.operator) {
    case '=':
    case '!=': {
      const ordering = order(value, comparison.value);
      if (ordering === undefined) return undefined;
      return comparison.operator === '=' ? ordering === 0 : ordering !== 0;
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const ordering = order(value, comparison.value);
      if (ordering === undefined) return undefined;
      if (comparison.operator === '<') return ordering < 0;
      if (comparison.operator === '<=') return ordering <= 0;
      if (comparison.operator === '>') return ordering > 0;
      return ordering >= 0;
    }
    case 'IN': {
      let comparable = comparison.value.elements.length === 0 && value !== null && typeof value !== 'object';
      for (const element of comparison.value.elements) {
        const ordering = order(value, element);
        if (ordering === 0) return true;
        if (ordering !== undefined) comparable = true;
      }
      return comparable ? false : undefined;
    }
    case 'LIKE': {
      if (typeof value !== 'string') return undefined;
      const budget = activeStepBudget();
      if (budget === undefined) return matchLike(normalise(comparison.value.value), normalise(value));
      return charged(budget, budget.remaining > 0 ? matchLike(normalise(comparison.value.value), normalise(value), budget) : undefined);
    }
    case 'MATCHES': {
      const regex = compileMatchesRegex(comparison.value.value);
      if (!regex.ok) return undefined;
      // Binary data is matched byte for byte, each byte as the character of the same code.
      const text = typeof value === 'string' ? normalise(value) : value instanceof BinaryValue ? Buffer.from(value.bytes).toString('latin1') : undefined;
      if (text === undefined) return undefined;
      const budget = activeStepBudget();
      if (budget === undefined) return regex.value.search(text);
      return charged(budget, budget.remaining > 0 ? regex.value.searchWithin(text, budget) : undefined);
    }
    case 'ISSUBSET':
    case 'ISSUPERSET': {
      if (typeof value !== 'string') return undefined;
      const range = parseIpRange(value);
      const literal = parseIpRange(comparison.value.value);
      if (range === undefined || literal === undefined || range.family !== literal.family) return undefined;
      return comparison.operator === 'ISSUBSET' ? ipRangeContains(literal, range) : ipRangeContains(range, literal);
    }
  }
}

/**
 * A budgeted test's outcome: undefined when the budget ran out, which is counted and then reads as a
 * comparison that could not be made (false, with or without NOT): a value too costly to test never
 * matches by way of NOT.
 */
function charged(budget: StepBudget, result: boolean | undefined): boolean | undefined {
  if (result === undefined) budget.exhausted++;
  return result;
}

export function testComparison(comparison: Comparison, value: PathValue): boolean {
  const result = outcome(comparison, value);
  if (result === undefined) return false;
  return comparison.negated ? !result : result;
}
