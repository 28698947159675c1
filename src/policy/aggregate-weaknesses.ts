import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { versionOf } from '../stix/versions.ts';
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
  /**
   * Rows left out because fewer than `minOrganisations` organisations other than the reader stand
   * behind them. For the home organisation only: to a partner, a count of them would say that some
   * lone organisation has a gap.
   */
  readonly suppressedRows?: number;
  readonly minOrganisations: number;
}

/** A version of a disclosure and the one organisation it counts for. */
export interface WeaknessDisclosure {
  readonly object: StixObject;
  /**
   * The organisation that contributed this very version first (the home organisation for its own
   * writes) — never its created_by_ref, which whoever writes an object sets as it likes, nor the
   * contributor of another version or copy under the same id.
   */
  readonly contributor: string;
}

export interface WeaknessTotalsOptions {
  /** The organisation reading the totals: its own disclosures count in a row, never towards showing it. */
  readonly reader?: string;
  readonly minOrganisations?: number;
  /**
   * Whether a contributor's disclosures may count in what the reader is shown (absent: everyone's).
   * The caller's to answer with the release decision (rule 3a: a member's disclosures reach a
   * member added after it last agreed to terms only once it agrees again), so that the totals tell
   * the reader nothing of what it would not receive. The others count for nobody: neither in a row
   * nor towards showing it, so a row left with fewer than `minOrganisations` others is not shown.
   */
  readonly counts?: (contributor: string) => boolean;
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
 * `aggregate_circle_refs` (the owner opted in). Each disclosure counts for its contributor alone,
 * with its own content: two organisations under one object id (another version, written by someone
 * else) each count for what they wrote. One version given for several organisations counts for
 * none (who sent it first is the caller's to know, and a guess credits one with another's
 * disclosure); an organisation counts for one object once, in the first version given for it (the
 * caller gives its latest). A revoked version withdraws the object for the organisations it is
 * given for, whatever other versions are given: revoking is how an organisation takes back what it
 * disclosed. (Expiry does not arise: vulnerability, course-of-action and note have no valid_until.)
 * A row is shown only when at least `minOrganisations` organisations
 * other than the reader stand behind it: a total of one cannot point at the one organisation that
 * has the gap, nor can the reader's own disclosure lift such a row over the threshold for itself.
 * Only the contributors `options.counts` lets through count at all, the threshold applying to them.
 * Pure.
 */
export function aggregateWeaknesses(
  disclosures: readonly WeaknessDisclosure[],
  markingDefinitions: ReadonlyMap<string, JsonObject>,
  circleId: string,
  options: WeaknessTotalsOptions = {},
): WeaknessTotals {
  const minOrganisations = options.minOrganisations ?? 2;
  const contributorsOfVersion = new Map<string, Set<string>>();
  for (const { object, contributor } of disclosures) {
    const key = `${object.id}\u0000${versionOf(object)}`;
    contributorsOfVersion.set(key, (contributorsOfVersion.get(key) ?? new Set<string>()).add(contributor));
  }
  // Whoever was given a revoked version withdrew that object: it counts for them in no version.
  const withdrawn = new Set(disclosures.filter(({ object }) => object['revoked'] === true).map(({ object, contributor }) => `${contributor}\u0000${object.id}`));
  const owners = new Map<string, { object: StixObject; owner: string }>();
  for (const { object, contributor } of disclosures) {
    if ((contributorsOfVersion.get(`${object.id}\u0000${versionOf(object)}`)?.size ?? 0) !== 1) continue;
    // After the check above: a version given for several organisations counts for none, even when the reader may not be told of some of them.
    if (options.counts !== undefined && !options.counts(contributor)) continue;
    const key = `${contributor}\u0000${object.id}`;
    if (!owners.has(key) && !withdrawn.has(key)) owners.set(key, { object, owner: contributor });
  }
  const cveOwners = new Map<string, { owners: Set<string>; disclosures: number }>();
  const techniqueOwners = new Map<string, { owners: Set<string>; disclosures: number }>();
  for (const { object, owner } of owners.values()) {
    const refs = object['object_marking_refs'];
    if (!Array.isArray(refs)) continue;
    const markings = refs.filter((ref): ref is string => typeof ref === 'string').map((ref) => classifyMarking(ref, markingDefinitions));
    const weaknesses = markings.filter((marking) => marking.kind === 'weakness');
    if (weaknesses.length === 0 || !weaknesses.every((marking) => marking.aggregateCircleIds.includes(circleId))) continue;
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
  const others = (row: { owners: Set<string> }): number => row.owners.size - (options.reader !== undefined && row.owners.has(options.reader) ? 1 : 0);
  const rows = (table: Map<string, { owners: Set<string>; disclosures: number }>): WeaknessTotal[] =>
    [...table]
      .filter(([, row]) => {
        const shown = others(row) >= minOrganisations;
        if (!shown) suppressedRows += 1;
        return shown;
      })
      .map(([key, row]) => ({ key, organisations: row.owners.size, disclosures: row.disclosures }))
      .sort((a, b) => b.organisations - a.organisations || a.key.localeCompare(b.key));
  const cves = rows(cveOwners);
  const techniques = rows(techniqueOwners);
  return { circleId, cves, techniques, suppressedRows, minOrganisations };
}
