// Public entry points of the STIX 2.1 validator. The rules live in table modules under ./validate/;
// this file only turns collected issues into a report and guarantees that nothing escapes as an exception.
import type { StixObject, ValidationIssue } from './types.ts';
import { IssueSink } from './validate/issue-sink.ts';
import { validateBundleInto } from './validate/validate-bundle.ts';
import { validateObjectInto } from './validate/validate-object.ts';

export interface ValidationReport {
  readonly valid: boolean;
  readonly issues: readonly ValidationIssue[];
}

function report(sink: IssueSink): ValidationReport {
  return { valid: sink.errorCount === 0, issues: sink.issues };
}

/**
 * Getters and proxies can make a JavaScript caller's value throw while it is read; JSON input never does.
 * Either way the caller gets a report, not an exception.
 */
function guarded(sink: IssueSink, path: string, run: () => void): ValidationReport {
  try {
    run();
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'unknown error';
    sink.error(path, 'STIX_UNREADABLE', `the value could not be read as JSON data (${reason.slice(0, 200)})`);
  }
  return report(sink);
}

/**
 * Validates one STIX 2.1 object (SDO, SRO, SCO, meta or custom object) against the specification.
 * `valid` is true when no issue has severity 'error'; warnings flag SHOULD-level advice.
 */
export function validateStixObject(value: unknown, path = '$'): ValidationReport {
  const sink = new IssueSink();
  return guarded(sink, path, () => validateObjectInto(value, path, sink));
}

/** Validates a STIX 2.1 bundle and every object in it (paths like `$.objects[3].created`). */
export function validateBundle(value: unknown, path = '$'): ValidationReport {
  const sink = new IssueSink();
  return guarded(sink, path, () => validateBundleInto(value, path, sink));
}

/** Bundle or single object, decided by `type`: for endpoints that accept either. */
export function validateStixContent(value: unknown): ValidationReport {
  const isBundle = typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { type?: unknown }).type === 'bundle';
  return isBundle ? validateBundle(value) : validateStixObject(value);
}

export function isValidatedStixObject(value: unknown, report: ValidationReport): value is StixObject {
  return report.valid && typeof value === 'object' && value !== null && !Array.isArray(value);
}
