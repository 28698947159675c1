import { parsePattern } from '../pattern/parse-pattern.ts';
import type { ValidationReport } from '../stix/validate.ts';
import { validateStixObject } from '../stix/validate.ts';
import type { ValidationIssue } from '../stix/types.ts';
import { memberPath } from '../stix/validate/issue-sink.ts';
import { checkIdentifier, hasUppercaseHex, IdVerdict } from '../stix/validate/lexical.ts';

/**
 * What every object must pass before it is stored, by any path (TAXII POST, import, arrivals): STIX
 * 2.1 validation, and what the node refuses beyond it (checkBeyondStix).
 */
export function validateForIngest(value: unknown, path = '$'): ValidationReport {
  const report = validateStixObject(value, path);
  if (!report.valid) return report;
  const beyond = checkBeyondStix(value, path);
  if (beyond.length === 0) return report;
  return { valid: false, issues: [...report.issues, ...beyond] };
}

/**
 * What validateForIngest adds to STIX validation, for a caller that validated the object already (the
 * arrival checks): ids and references with upper-case hex in their UUID, then for indicators with
 * `pattern_type: stix` a pattern that parses.
 *
 * Upper-case hex is valid STIX (RFC 4122 UUIDs are case-insensitive on input), and the validator only
 * warns. But the store keys objects by id as written, so `indicator--<A's UUID upper-cased>` would be a
 * new object with no history here (no origin, no earlier versions for the arrival rules to hold it
 * to, `created_by_ref` to a pinned organisation spelled otherwise escaping the creator check) while
 * readers that follow RFC 4122 take it for A's. The bytes cannot be lower-cased on the way in (a
 * signature covers them), so such an object is refused; none of the reference data (ATT&CK, ATLAS,
 * MISP, TAXII fixtures) writes one, and of the OASIS examples one relationship id, by a slip.
 *
 * The pattern: an indicator shared with a broken one is refused at the door with the parser's
 * message instead of failing later, silently, in every member's matcher.
 */
export function checkBeyondStix(value: unknown, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return issues;
  const id = (value as Record<string, unknown>)['id'];
  if (isUpperCaseId(id)) issues.push(upperCaseIssue(memberPath(path, 'id')));
  collectUpperCaseRefs(value, path, issues);
  const patternIssue = checkStixPattern(value, path);
  if (patternIssue !== undefined) issues.push(patternIssue);
  return issues;
}

function isUpperCaseId(value: unknown): value is string {
  return typeof value === 'string' && checkIdentifier(value) === IdVerdict.Ok && hasUppercaseHex(value);
}

function upperCaseIssue(path: string): ValidationIssue {
  return { path, code: 'STIX_ID_UPPERCASE', message: 'the node does not store identifiers whose UUID has upper-case hex: write it in lower case', severity: 'error' };
}

/**
 * References at any depth (`…_ref`, `…_refs`, granular markings, MIME parts) and extension keys, which
 * name extension definitions. Every object of an import or a sync is walked, so the walk keeps the
 * keys it went through and spells a path only for an issue it reports.
 */
function collectUpperCaseRefs(value: unknown, path: string, issues: ValidationIssue[]): void {
  const trail: (string | number)[] = [];
  const pathOf = (...last: (string | number)[]): string =>
    [...trail, ...last].reduce<string>((at, step) => (typeof step === 'number' ? `${at}[${step}]` : memberPath(at, step)), path);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index += 1) {
        const element: unknown = node[index];
        if (typeof element !== 'object' || element === null) continue;
        trail.push(index);
        walk(element);
        trail.pop();
      }
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const key in node) {
      if (!Object.hasOwn(node, key)) continue;
      const member: unknown = (node as Record<string, unknown>)[key];
      if (key.endsWith('_ref')) {
        if (isUpperCaseId(member)) issues.push(upperCaseIssue(pathOf(key)));
      } else if (key.endsWith('_refs') && Array.isArray(member)) {
        member.forEach((ref, index) => {
          if (isUpperCaseId(ref)) issues.push(upperCaseIssue(pathOf(key, index)));
        });
      } else if (key === 'extensions' && typeof member === 'object' && member !== null) {
        for (const name of Object.keys(member)) if (isUpperCaseId(name)) issues.push(upperCaseIssue(pathOf(key, name)));
      }
      if (typeof member === 'object' && member !== null) {
        trail.push(key);
        walk(member);
        trail.pop();
      }
    }
  };
  walk(value);
}

function checkStixPattern(value: unknown, path: string): ValidationIssue | undefined {
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
