// Sightings shared back: each of the home organisation's sightings goes into the collection of every
// circle whose latest version of the indicator sighted is the version that matched, when that circle's
// agreement allows and in the form it allows (policy/decide-sighting-share.ts). Not every circle
// holding the id: a sighting names its indicator by id alone, and anyone who may write a circle's
// collection can put another content under an id it saw elsewhere; its circle would then receive the
// home's sightings of the other circle's indicator, with that indicator's value as evidence.
// Putting it in the collection is all this does: pushes, pulls and every other read then release it
// through the release gate, signed by this node, like anything else the home organisation originated.
// It is the only way the node's matcher puts anything into a circle's collection: the home sighting
// and its evidence stay beside the indicator, in collections carrying no circle, or in the home
// sightings collection when only circles hold it (home-sighting-placement.ts).
// Used by the running node's matcher and `entente match`.
//
// Two limits keep a circle's indicator from turning the home's telemetry into evidence for its members:
// an indicator matching nearly everything (pattern/catch-all.ts: `LIKE '%'`, `!= 'x'`, …) gets no
// sighting shared at all (its matches say nothing about a threat, only what the home saw), and one
// indicator gets at most a few sightings into one circle's collection per call, or per quota the
// caller keeps (a window's): the rest stay at home, counted as withheld.
import { readHomeOrganisation } from '../bootstrap-node.ts';
import { decideSightingShare } from '../policy/decide-sighting-share.ts';
import type { AgreementState } from '../policy/agreement.ts';
import type { Circle } from '../policy/circle.ts';
import { ingest } from '../store/ingest.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { shippedCatalogueIdsOrNone } from '../release/public-catalogue.ts';
import { latestEntriesIn } from '../store/latest-in-collection.ts';
import { circleSightingObjects, definitionsWanted, evidenceTypesOf, type SightingBundle } from './sighting-objects.ts';
import { parsePattern } from '../pattern/parse-pattern.ts';
import { catchAllReason } from '../pattern/catch-all.ts';

/** Sightings of one indicator shared into one circle's collection, per quota (by default per call). */
export const maxSharedSightingsPerIndicator = 100;

/**
 * What has been shared per (circle collection, indicator): kept by a caller across calls, it bounds the
 * copies of a window, or any span the caller chooses, not only of one batch.
 */
export class SightingShareQuota {
  private readonly taken = new Map<string, number>();

  constructor(readonly perIndicator: number = maxSharedSightingsPerIndicator) {}

  /** Takes one share of the indicator into the collection; false when its quota is spent. */
  take(collectionId: string, indicatorId: string): boolean {
    const key = `${collectionId}\u0000${indicatorId}`;
    const used = this.taken.get(key) ?? 0;
    if (used >= this.perIndicator) return false;
    this.taken.set(key, used + 1);
    return true;
  }
}

export interface SightingShareDeps {
  /** The whole store: ingest writes through it. */
  readonly store: ObjectStore;
  readonly homeOrganisationId: string;
  readonly randomUuid: () => string;
  /**
   * The circles' collections the sightings may go into: those the token that posted the observations
   * may write (a copy is published to partners as the home organisation's), or, for observed-data
   * stored in a collection, that collection (node-matcher.ts collectionWriter). Absent: every
   * circle's (`entente match`, run by the operator).
   */
  readonly mayWrite?: (collectionId: string) => boolean;
  /** Shares taken so far (kept by the caller across calls); absent: a fresh one, per call. */
  readonly quota?: SightingShareQuota;
}

/** A stored sighting to share, with the version of its indicator that matched. */
export interface SightingToShare {
  readonly bundle: SightingBundle;
  /**
   * The version key (`modified`) of the indicator version whose pattern matched: the sighting and its
   * evidence are about that content only.
   */
  readonly indicatorVersion: string;
}

/** One sighting put into one circle's collection. */
export interface SharedSighting {
  readonly circleId: string;
  readonly collectionId: string;
  readonly sighting: StixObject;
}

export interface SightingShareOutcome {
  /** Per sighting given, in order: the copies stored in circles' collections. */
  readonly shared: readonly (readonly SharedSighting[])[];
  /** Copies the store refused (ids with the store's message). */
  readonly rejected: readonly { readonly id: string; readonly message: string }[];
  /** Copies the agreement allowed but that were kept at home: the indicator matches nearly everything, or its quota was spent. */
  readonly withheld: number;
}

/**
 * Puts each stored sighting into the collections of the circles holding the version that matched as
 * their latest, whose agreements allow it, at `at`.
 */
export async function shareSightingsBack(deps: SightingShareDeps, sightings: readonly SightingToShare[], at: Date): Promise<SightingShareOutcome> {
  const shared: SharedSighting[][] = sightings.map(() => []);
  const quota = deps.quota ?? new SightingShareQuota();
  let withheld = 0;
  // Decided once per pattern text: a batch holds many sightings of few indicators.
  const catchAlls = new Map<unknown, boolean>();
  const catchAll = (indicator: Record<string, unknown>): boolean => {
    let answer = catchAlls.get(indicator['pattern']);
    if (answer === undefined) catchAlls.set(indicator['pattern'], (answer = matchesNearlyEverything(indicator)));
    return answer;
  };
  if (sightings.length === 0) return { shared, rejected: [], withheld };
  const circles = await deps.store.listCircles();
  if (circles.length === 0) return { shared, rejected: [], withheld };
  const states = new Map<string, AgreementState>();
  const stateOf = async (circle: Circle): Promise<AgreementState> => {
    let state = states.get(circle.id);
    if (state === undefined) states.set(circle.id, (state = await deps.store.getAgreementState(circle.id)));
    return state;
  };

  // A batch often holds many alerts of one indicator: each circle is asked about it once.
  const indicators = new Map<string, Promise<LatestIndicator | undefined>>();
  const indicatorIn = (collectionId: string, indicatorId: string): Promise<LatestIndicator | undefined> => {
    const key = `${collectionId}\u0000${indicatorId}`;
    let found = indicators.get(key);
    if (found === undefined) indicators.set(key, (found = latestIndicator(deps.store, collectionId, indicatorId)));
    return found;
  };

  const byCollection = new Map<string, { circle: Circle; objects: StixObject[]; copies: { index: number; sighting: StixObject }[]; namesHome: boolean }>();
  for (const [index, { bundle, indicatorVersion }] of sightings.entries()) {
    const indicatorId = bundle.sighting['sighting_of_ref'];
    if (typeof indicatorId !== 'string') continue;
    for (const circle of circles) {
      if (deps.mayWrite !== undefined && !deps.mayWrite(circle.collectionId)) continue;
      const latest = await indicatorIn(circle.collectionId, indicatorId);
      // The same version key, not an equal instant (compareVersions): the store keeps one content per
      // id and key (ENT_OBJECT_VERSION_CONFLICT) but '…00Z' and '…00.000Z' are two keys, two contents.
      // A circle whose latest is another version has its readers alerted on that one, not this one.
      if (latest === undefined || latest.version !== indicatorVersion) continue;
      const indicator = latest.object;
      const decision = decideSightingShare({
        circle,
        agreements: await stateOf(circle),
        homeOrganisationId: deps.homeOrganisationId,
        indicator,
        evidenceTypes: evidenceTypesOf(bundle),
        markingDefinitions: await definitionsIn(deps.store, circle.collectionId, indicator),
        at,
      });
      if (decision.kind === 'keep') continue;
      if (catchAll(indicator) || !quota.take(circle.collectionId, indicatorId)) {
        withheld++;
        continue;
      }
      const made = circleSightingObjects(bundle, decision, deps.randomUuid);
      const group = byCollection.get(circle.collectionId) ?? { circle, objects: [], copies: [], namesHome: false };
      group.objects.push(...made.objects);
      group.copies.push({ index, sighting: made.sighting });
      group.namesHome ||= decision.whereSighted;
      byCollection.set(circle.collectionId, group);
    }
  }
  if (byCollection.size === 0) return { shared, rejected: [], withheld };

  // A sighting naming the home organisation is released only with its identity (a reference the
  // release decision must resolve in the circle's collection), as the node records it.
  const home = [...byCollection.values()].some((group) => group.namesHome) ? await homeIdentity(deps) : undefined;
  const rejected: { id: string; message: string }[] = [];
  for (const [collectionId, group] of byCollection) {
    const objects = group.namesHome && home !== undefined ? [home, ...group.objects] : group.objects;
    const result = await ingest(deps.store, { collectionId, objects });
    const refused = new Set(result.rejected.map((rejection) => rejection.id));
    rejected.push(...result.rejected.map((rejection) => ({ id: rejection.id, message: rejection.message })));
    for (const copy of group.copies) {
      if (refused.has(copy.sighting.id)) continue;
      shared[copy.index]?.push({ circleId: group.circle.id, collectionId, sighting: copy.sighting });
    }
  }
  return { shared, rejected, withheld };
}

/**
 * Whether the indicator's pattern matches nearly every observation, counting tests that hold by
 * exclusion (`!=`, NOT), which the matcher still compiles. A pattern that does not parse is no
 * indicator the matcher compiled: it matched nothing, and is treated as singling nothing out.
 */
function matchesNearlyEverything(indicator: Record<string, unknown>): boolean {
  const pattern = indicator['pattern'];
  if (typeof pattern !== 'string') return true;
  const parsed = parsePattern(pattern);
  return !parsed.ok || catchAllReason(parsed.value) !== undefined;
}

interface LatestIndicator {
  /** Its version key (StoredEntry.version). */
  readonly version: string;
  readonly object: Record<string, unknown>;
}

/** The latest version a collection holds of the indicator, whatever content it is: the caller compares versions. */
async function latestIndicator(store: ObjectStore, collectionId: string, indicatorId: string): Promise<LatestIndicator | undefined> {
  const page = await store.listEntries(collectionId, { ids: [indicatorId], types: ['indicator'], versions: [{ kind: 'last' }] }, { limit: 1 });
  const entry = page.entries[0];
  if (entry === undefined) return undefined;
  const value = JSON.parse(entry.json) as JsonValue;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { version: entry.version, object: value } : undefined;
}

/**
 * The definitions of the indicator's markings, as the release gate reads them (open-release-gate.ts
 * loadMarkings): the node's version of each, when the circle's collection holds it or it is of the
 * shipped public catalogue. A definition held only elsewhere stays unknown: the copies would carry a
 * marking the release gate cannot read there.
 */
async function definitionsIn(store: ObjectStore, collectionId: string, indicator: Record<string, unknown>): Promise<Map<string, JsonObject>> {
  const wanted = definitionsWanted([indicator]);
  if (wanted.length === 0) return new Map();
  const found = await store.markingDefinitions(wanted);
  const catalogue = shippedCatalogueIdsOrNone();
  const held = await latestEntriesIn(store, collectionId, [...found.keys()].filter((id) => !catalogue.has(id)));
  return new Map([...found].filter(([id]) => held.has(id) || catalogue.has(id)));
}

/**
 * The node's own record of the home organisation's identity (node metadata), never what a collection
 * holds of its id: a version there may have come from anyone who could write into some collection.
 */
async function homeIdentity(deps: SightingShareDeps): Promise<StixObject | undefined> {
  const home = await readHomeOrganisation(deps.store);
  return home?.id === deps.homeOrganisationId ? home : undefined;
}
