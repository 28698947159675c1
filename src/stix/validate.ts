// PLACEHOLDER being replaced by the validator work in progress: keep the exported signatures.
import type { StixObject, ValidationIssue } from './types.ts';

export interface ValidationReport {
  readonly valid: boolean;
  readonly issues: readonly ValidationIssue[];
}

export function validateStixObject(value: unknown, path = '$'): ValidationReport {
  const issues: ValidationIssue[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path, code: 'STIX_NOT_OBJECT', message: 'a STIX object must be a JSON object', severity: 'error' });
  }
  return { valid: issues.length === 0, issues };
}

export function isValidatedStixObject(value: unknown, report: ValidationReport): value is StixObject {
  return report.valid;
}
