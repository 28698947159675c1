import type { IssueSeverity, ValidationIssue } from '../types.ts';

/** Hostile input could otherwise make a report grow with the input (one issue per list item). */
export const MAX_ISSUES = 200;

/** Collects issues for one validation run; paths are built by callers only when an issue is raised. */
export class IssueSink {
  readonly issues: ValidationIssue[] = [];
  errorCount = 0;
  #truncated = false;

  add(path: string, code: string, message: string, severity: IssueSeverity): void {
    if (this.issues.length >= MAX_ISSUES) {
      if (severity === 'error') this.errorCount++;
      if (!this.#truncated) {
        this.#truncated = true;
        this.issues.push({
          path: '$',
          code: 'STIX_TOO_MANY_ISSUES',
          message: `more than ${MAX_ISSUES} issues; the rest are not listed`,
          severity: 'warning',
        });
      }
      return;
    }
    if (severity === 'error') this.errorCount++;
    this.issues.push({ path, code, message, severity });
  }

  error(path: string, code: string, message: string): void {
    this.add(path, code, message, 'error');
  }

  warn(path: string, code: string, message: string): void {
    this.add(path, code, message, 'warning');
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The bracket forms of the keys met (an extension-definition id is the key of the same extension on
// every object of a feed): quoted once per key rather than once per object. Bounded, so that hostile
// input cannot grow it; it memoizes a pure function, so paths never depend on it.
const BRACKET_CACHE_LIMIT = 1024;
const bracketForms = new Map<string, string>();

/** JSONPath member access: dot form for property-name-like keys, bracket form otherwise. */
export function memberPath(path: string, key: string): string {
  if (PLAIN_KEY.test(key)) return `${path}.${key}`;
  let bracket = bracketForms.get(key);
  if (bracket === undefined) {
    bracket = `[${JSON.stringify(key.length > 100 ? key.slice(0, 100) + '…' : key)}]`;
    if (key.length <= 300) {
      if (bracketForms.size >= BRACKET_CACHE_LIMIT) bracketForms.clear();
      bracketForms.set(key, bracket);
    }
  }
  return path + bracket;
}

export function itemPath(path: string, index: number): string {
  return `${path}[${index}]`;
}
