// MATCHES expressions are compiled once per distinct text: the parser validates them and the evaluator
// runs them, often for the same few expressions over many observations. The cache is bounded so that a
// stream of distinct hostile patterns cannot grow it without limit.
import type { Result } from '../errors/result.ts';
import { compileLinearRegex, type LinearRegex } from './compile-linear-regex.ts';

const capacity = 4096;
const cache = new Map<string, Result<LinearRegex, string>>();

/** The MATCHES operand compiled by the linear-time engine, after Unicode NFC normalisation (as values are). */
export function compileMatchesRegex(source: string): Result<LinearRegex, string> {
  const cached = cache.get(source);
  if (cached !== undefined) return cached;
  const compiled = compileLinearRegex(source.normalize('NFC'));
  if (cache.size >= capacity) cache.clear();
  cache.set(source, compiled);
  return compiled;
}
