import { parsePattern } from '../pattern/parse-pattern.ts';
import type { ValidationReport } from '../stix/validate.ts';
import { validateStixObject } from '../stix/validate.ts';
import type { ValidationIssue } from '../stix/types.ts';

/**
 * What every object must pass before it is stored, by any path (TAXII POST, import): STIX 2.1
 * validation, and for indicators with `pattern_type: stix` a pattern that parses, so that an
 * indicator shared with a broken pattern is refused at the door with the parser's message instead of
 * failing later, silently, in every member's matcher.
 */
export function validateForIngest(value: unknown, path = '$'): ValidationReport {
  const report = validateStixObject(value, path);
  if (!report.valid) return report;
  const patternIssue = checkStixPattern(value, path);
  if (patternIssue === undefined) return report;
  return { valid: false, issues: [...report.issues, patternIssue] };
}

/** What validateForIngest adds to STIX validation, for a caller that validated the object already (the arrival checks). */
export function checkStixPattern(value: unknown, path: string): ValidationIssue | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const object = value as Record<string, unknown>;
  if (object['type'] !== 'indicator' || object['pattern_type'] !== 'stix' || typeof object['pattern'] !== 'string') return undefined;
  // Patterns written for STIX 2.0 (upgraded objects keep pattern_version 2.0) use the same grammar.
  const parsed = parsePattern(object['pattern']);
  if (parsed.ok) return undefined;
  const first = parsed.error[0];
  return {
    path: `${path}.pattern`,
    code: 'STIX_PATTERN_INVALID',
    message: `the STIX pattern is invalid: ${first?.message ?? 'syntax error'}`,
    severity: 'error',
  };
}
