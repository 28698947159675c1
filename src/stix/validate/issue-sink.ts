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

/** JSONPath member access: dot form for property-name-like keys, bracket form otherwise. */
export function memberPath(path: string, key: string): string {
  return PLAIN_KEY.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key.length > 100 ? key.slice(0, 100) + '…' : key)}]`;
}

export function itemPath(path: string, index: number): string {
  return `${path}[${index}]`;
}
