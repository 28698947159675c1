// Fills a bulk matcher with the indicators of a node's collections: the latest version of each, with
// its effective confidence computed from the sightings and opinions the same collections hold.
import type { ObjectStore } from '../store/object-store.ts';
import type { BulkMatcher } from './bulk-matcher.ts';
import { effectiveConfidence, sightingEvidence, type SightingEvidence } from './effective-confidence.ts';
import type { JsonRecord } from './log-observation.ts';

export interface LoadedIndicators {
  readonly added: number;
  readonly byMode: Readonly<Record<'exact' | 'evaluated' | 'always', number>>;
  /** Why indicators were left out (`revoked`, `expired`, `invalid pattern`, …) with how many. */
  readonly refused: ReadonlyMap<string, number>;
}

const pageSize = 5000;

async function* latestObjects(store: Pick<ObjectStore, 'listEntries'>, collectionId: string, types: string[]): AsyncGenerator<{ object: JsonRecord; revoked: boolean }> {
  let after: number | undefined;
  for (;;) {
    const page = await store.listEntries(collectionId, { types, versions: [{ kind: 'last' }] }, { limit: pageSize, ...(after !== undefined ? { after } : {}) });
    for (const entry of page.entries) yield { object: JSON.parse(entry.json) as JsonRecord, revoked: entry.revoked };
    const last = page.entries[page.entries.length - 1];
    if (!page.more || last === undefined) return;
    after = last.dateAdded;
  }
}

/** The reason without its details, so the summary groups them: `invalid pattern: at 3: …` → `invalid pattern`. */
function reasonKind(reason: string): string {
  if (reason.startsWith('invalid pattern')) return 'invalid pattern';
  if (reason.startsWith('expired')) return 'expired';
  if (reason.startsWith('not valid before')) return 'not yet valid';
  if (reason.startsWith('pattern_type')) return 'not a STIX pattern';
  return reason;
}

export async function loadIndicators(
  store: Pick<ObjectStore, 'listEntries'>,
  collectionIds: readonly string[],
  matcher: BulkMatcher,
  options: { now: Date; halfLifeDays?: number },
): Promise<LoadedIndicators> {
  const evidence = new Map<string, SightingEvidence[]>();
  for (const collectionId of collectionIds) {
    for await (const { object } of latestObjects(store, collectionId, ['sighting', 'opinion'])) {
      const targets = object['type'] === 'sighting' ? [object['sighting_of_ref']] : Array.isArray(object['object_refs']) ? object['object_refs'] : [];
      for (const target of targets) {
        if (typeof target !== 'string' || !target.startsWith('indicator--')) continue;
        const found = sightingEvidence(object, target);
        if (found === undefined) continue;
        const list = evidence.get(target);
        if (list === undefined) evidence.set(target, [found]);
        else list.push(found);
      }
    }
  }
  const byMode = { exact: 0, evaluated: 0, always: 0 };
  const refused = new Map<string, number>();
  // The same indicator in several collections: keep its newest version.
  const versions = collectionIds.length > 1 ? new Map<string, string>() : undefined;
  const now = options.now.getTime();
  for (const collectionId of collectionIds) {
    for await (const { object, revoked } of latestObjects(store, collectionId, ['indicator'])) {
      const id = String(object['id']);
      const modified = String(object['modified'] ?? '');
      if (versions !== undefined) {
        const seen = versions.get(id);
        if (seen !== undefined && seen >= modified) continue;
        versions.set(id, modified);
      }
      const since = Date.parse(String(object['valid_from'] ?? object['modified'] ?? ''));
      const confidence = effectiveConfidence({
        statedConfidence: typeof object['confidence'] === 'number' ? object['confidence'] : undefined,
        producer: typeof object['created_by_ref'] === 'string' ? object['created_by_ref'] : undefined,
        since: Number.isNaN(since) ? now : since,
        sightings: evidence.get(id) ?? [],
        now,
        ...(options.halfLifeDays !== undefined ? { halfLifeDays: options.halfLifeDays } : {}),
      });
      const outcome = matcher.add(revoked ? { ...object, revoked: true } : object, { now: options.now, confidence });
      if (outcome.added) byMode[outcome.mode]++;
      else {
        const kind = reasonKind(outcome.reason);
        refused.set(kind, (refused.get(kind) ?? 0) + 1);
      }
    }
  }
  return { added: byMode.exact + byMode.evaluated + byMode.always, byMode, refused };
}
