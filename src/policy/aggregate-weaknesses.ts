import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { classifyMarking } from './classify-marking.ts';

/** One row of the totals: how many organisations disclosed a weakness for this CVE or technique. */
export interface WeaknessTotal {
  /** `CVE-2026-1234` or an ATT&CK technique id (`T1190`, `T1078.004`). */
  readonly key: string;
  readonly organisations: number;
  readonly disclosures: number;
}

export interface WeaknessTotals {
  readonly circleId: string;
  readonly cves: readonly WeaknessTotal[];
  readonly techniques: readonly WeaknessTotal[];
  /** Rows left out because fewer than `minOrganisations` organisations stand behind them. */
  readonly suppressedRows: number;
  readonly minOrganisations: number;
}

const CVE = /\bCVE-\d{4}-\d{4,7}\b/g;
const TECHNIQUE = /^T\d{4}(?:\.\d{3})?$/;

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** CVE and ATT&CK technique ids an object is about: its name and its external references. */
function keysOf(object: StixObject): { cves: Set<string>; techniques: Set<string> } {
  const cves = new Set<string>();
  const techniques = new Set<string>();
  if (typeof object['name'] === 'string') for (const match of object['name'].matchAll(CVE)) cves.add(match[0]);
  const references = object['external_references'];
  if (Array.isArray(references)) {
    for (const reference of references) {
      if (!isRecord(reference) || typeof reference['external_id'] !== 'string') continue;
      const externalId = reference['external_id'];
      if (reference['source_name'] === 'cve' && /^CVE-\d{4}-\d{4,7}$/.test(externalId)) cves.add(externalId);
      if (reference['source_name'] === 'mitre-attack' && TECHNIQUE.test(externalId)) techniques.add(externalId);
    }
  }
  return { cves, techniques };
}

/**
 * Weakness disclosures counted for a wider circle, owner removed. An object counts only when it
 * carries at least one weakness marking and every weakness marking on it lists the circle in
 * `aggregate_circle_refs` (the owner opted in). A row is shown only when at least
 * `minOrganisations` distinct organisations (by `created_by_ref`) stand behind it, so a total of
 * one cannot point at the one organisation that has the gap. Pure.
 */
export function aggregateWeaknesses(
  objects: readonly StixObject[],
  markingDefinitions: ReadonlyMap<string, JsonObject>,
  circleId: string,
  minOrganisations = 2,
): WeaknessTotals {
  const cveOwners = new Map<string, { owners: Set<string>; disclosures: number }>();
  const techniqueOwners = new Map<string, { owners: Set<string>; disclosures: number }>();
  const seen = new Set<string>();
  for (const object of objects) {
    if (seen.has(object.id)) continue;
    seen.add(object.id);
    const refs = object['object_marking_refs'];
    if (!Array.isArray(refs)) continue;
    const markings = refs.filter((ref): ref is string => typeof ref === 'string').map((ref) => classifyMarking(ref, markingDefinitions));
    const weaknesses = markings.filter((marking) => marking.kind === 'weakness');
    if (weaknesses.length === 0 || !weaknesses.every((marking) => marking.aggregateCircleIds.includes(circleId))) continue;
    // Unattributed disclosures count together as one organisation: guessing more would inflate a
    // total past the threshold that protects a lone owner.
    const owner = typeof object['created_by_ref'] === 'string' ? object['created_by_ref'] : 'unattributed';
    const { cves, techniques } = keysOf(object);
    for (const [keys, table] of [[cves, cveOwners], [techniques, techniqueOwners]] as const) {
      for (const key of keys) {
        const row = table.get(key) ?? { owners: new Set<string>(), disclosures: 0 };
        row.owners.add(owner);
        row.disclosures += 1;
        table.set(key, row);
      }
    }
  }
  let suppressedRows = 0;
  const rows = (table: Map<string, { owners: Set<string>; disclosures: number }>): WeaknessTotal[] =>
    [...table]
      .filter(([, row]) => {
        const shown = row.owners.size >= minOrganisations;
        if (!shown) suppressedRows += 1;
        return shown;
      })
      .map(([key, row]) => ({ key, organisations: row.owners.size, disclosures: row.disclosures }))
      .sort((a, b) => b.organisations - a.organisations || a.key.localeCompare(b.key));
  const cves = rows(cveOwners);
  const techniques = rows(techniqueOwners);
  return { circleId, cves, techniques, suppressedRows, minOrganisations };
}
