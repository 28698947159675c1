import type { ReadObject } from '../stix/read-documents.ts';
import type { JsonObject, StixObject } from '../stix/types.ts';
import { incompleteObservations, upgradeStix20Objects } from '../stix/upgrade-stix20.ts';
import { versionOf } from '../stix/versions.ts';
import { validateForIngest } from './validate-for-ingest.ts';

/** Why one object read from a document will not be stored, located for the person who sent it. */
export interface ImportRejection {
  /** `line 12`, `objects[3]`, or both. */
  readonly where: string;
  readonly id: string;
  readonly version: string;
  readonly reason: string;
}

export interface PreparedImport {
  /** Valid STIX 2.1 objects, in document order, ready for the store. */
  readonly objects: StixObject[];
  readonly rejected: ImportRejection[];
  /** Warnings of the validator (open vocabularies and the like), counted, not blocking. */
  readonly warnings: number;
}

/**
 * Turns what a document reader found into storable objects: STIX 2.0 objects are upgraded to 2.1
 * (together, so that an observable shared by several observed-data becomes one SCO), then every
 * object is validated as every ingest path validates it. Pure: the UUID generator is passed in.
 */
export function prepareImport(read: readonly ReadObject[], randomUuid: () => string): PreparedImport {
  const objects: StixObject[] = [];
  const rejected: ImportRejection[] = [];
  let warnings = 0;

  const accept = (object: JsonObject, where: string): void => {
    const verdict = checkImportObject(object, where);
    warnings += verdict.warnings;
    if (verdict.rejection === undefined) objects.push(object as StixObject);
    else rejected.push(verdict.rejection);
  };

  const stix20: ReadObject[] = [];
  for (const item of read) {
    if (item.version === '2.0') stix20.push(item);
    else accept(item.object, locate(item));
  }
  if (stix20.length > 0) {
    const upgraded = upgradeStix20Objects(
      stix20.map((item) => item.object),
      { randomUuid },
    );
    const whereById = new Map(stix20.map((item) => [identify(item.object), locate(item)]));
    for (const problem of upgraded.problems) {
      const id = problem.objectId ?? '';
      rejected.push({ where: whereById.get(id) ?? 'STIX 2.0 input', id, version: '', reason: `${problem.path}: ${problem.message} (STIX 2.0 upgrade)` });
    }
    // An observed-data is stored with all the SCOs taken out of it or not at all, so that none refers
    // to an SCO that was not stored: verdicts first, then what they take with them.
    const checked = upgraded.objects.map((object) => {
      const where = whereById.get(identify(object)) ?? 'STIX 2.0 input (upgraded)';
      return { object, where, verdict: checkImportObject(object, where) };
    });
    const refused = new Set(upgraded.problems.map((problem) => problem.objectId ?? ''));
    for (const { object, verdict } of checked) if (verdict.rejection !== undefined) refused.add(identify(object));
    const alsoRefused = incompleteObservations(upgraded.observations, refused);
    for (const { object, where, verdict } of checked) {
      warnings += verdict.warnings;
      const why = alsoRefused.get(identify(object));
      if (verdict.rejection !== undefined) rejected.push(verdict.rejection);
      else if (why === undefined) objects.push(object as StixObject);
      else rejected.push({ where, id: identify(object), version: versionOf(object as StixObject), reason: `${why} (STIX 2.0 upgrade)` });
    }
  }
  return { objects, rejected, warnings };
}

/** What validation says of one object read for import: its warnings, and why it is refused (undefined: it may be stored). */
export interface ImportVerdict {
  readonly warnings: number;
  readonly rejection: ImportRejection | undefined;
}

/**
 * Validates one STIX 2.1 object (read as such, or upgraded) as every ingest path does. prepareImport
 * runs it on each object; a reader may run it as it reads, so that an object that passes is serialised
 * at once and its parsed form can be collected young (JSON lines: see import-pipeline.ts).
 */
export function checkImportObject(object: JsonObject, where: string): ImportVerdict {
  const report = validateForIngest(object);
  let warnings = 0;
  for (const issue of report.issues) if (issue.severity === 'warning') warnings += 1;
  if (report.valid) return { warnings, rejection: undefined };
  const errors = report.issues.filter((issue) => issue.severity === 'error');
  return {
    warnings,
    rejection: {
      where,
      id: identify(object),
      version: typeof object['modified'] === 'string' || typeof object['created'] === 'string' ? versionOf(object as StixObject) : '',
      reason: errors.map((issue) => `${issue.path}: ${issue.message} [${issue.code}]`).join('; '),
    },
  };
}

function identify(object: JsonObject): string {
  const id = object['id'];
  return typeof id === 'string' ? id : '(no id)';
}

/** Where a read object came from, as rejections name it: `line 12`, `objects[3]`, both, or `the document`. */
export function locate(item: ReadObject): string {
  const parts: string[] = [];
  if (item.source.line !== undefined) parts.push(`line ${item.source.line}`);
  if (item.source.index !== undefined) parts.push(`objects[${item.source.index}]`);
  return parts.length > 0 ? parts.join(', ') : 'the document';
}
