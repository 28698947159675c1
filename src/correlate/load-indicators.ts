// Fills a bulk matcher with the indicators of some collections, with their effective confidence
// computed from the sightings and opinions the same collections hold, and from where each came from
// when the store keeps provenance (federation/load-source-reputation.ts). Which versions are compiled
// depends on who reads the alerts (CompiledVersions): the newest of each creator any of the collections
// holds, for one reader of all of them (`entente match`); or the latest each collection holds, side by
// side, for a node whose tokens read different collections (node-matcher.ts picks, for each reader, the
// newest it may read, by the same creator). The matcher's confidence counts the evidence of every collection; basisOf() keeps which
// collection holds which, so that an alert shows each reader the confidence of what it may read
// (confidenceIn).
import { openIndicatorSources, type IndicatorSources } from '../federation/load-source-reputation.ts';
import { compareVersions } from '../store/compare-versions.ts';
import type { ObjectStore, StoredEntry } from '../store/object-store.ts';
import { lineageCreatorOf, readOrigins, type OriginOf, type OriginStore } from './version-origin.ts';
import { patternOverLimitRefusal, type BulkMatcher } from './bulk-matcher.ts';
import { patternOverLimitCode, type PatternLimitExceeded } from '../pattern/pattern-limits.ts';
import { confidenceBasis, dependsOnReader, effectiveConfidence, sightingEvidence, type ConfidenceBasis, type ConfidenceInputs, type SightingEvidence } from './effective-confidence.ts';
import type { JsonRecord } from './log-observation.ts';

export interface LoadedIndicators {
  readonly added: number;
  readonly byMode: Readonly<Record<'exact' | 'evaluated' | 'always', number>>;
  /**
   * Why indicators were left out (`revoked`, `expired`, `invalid pattern`, `pattern over limit
   * (comparisons)`, …) with how many.
   */
  readonly refused: ReadonlyMap<string, number>;
  /**
   * Each indicator version left out because its pattern is past a planning limit
   * (pattern/pattern-limits.ts): valid STIX, kept and shared, but never matched, which its reader
   * would not guess. `message` is the warning to log, with its code.
   */
  readonly overLimit: readonly PatternOverLimit[];
}

/** The limit exceeded as the matcher tells it (limit, found, allowed), with the indicator version it left out. */
export interface PatternOverLimit extends Omit<PatternLimitExceeded, 'message'> {
  readonly indicatorId: string;
  /** Its `modified`. */
  readonly version: string;
  /** The warning to log: `ENT_PATTERN_OVER_LIMIT: indicator--… is not matched: ` and the limit's own message. */
  readonly message: string;
}

const pageSize = 5000;

/**
 * Which versions of an indicator a loader compiles.
 * - `newest`: the newest any of its collections holds, of each creator (created_by_ref ignoring letter
 *   case, or none) and origin (version-origin.ts: who the store records it came from), side by side:
 *   one reader reads all of them. Only its creator versions an object (STIX 2.1), and created_by_ref
 *   is authenticated only for organisations with pinned keys: a "newer version" of another origin, or
 *   of an origin the store does not know, which any writer of one of the collections can plant under
 *   another organisation's indicator id whatever created_by_ref it claims, is compiled beside the
 *   genuine one rather than in its place (node-matcher.ts applies the same rule to newerIn).
 * - `latest-of-each`: the latest version each collection holds, every distinct one compiled once,
 *   side by side: readers read different collections, and a version newer than the one a reader may
 *   read, held where it may not read, must neither take that one's place nor show.
 */
export type CompiledVersions = 'newest' | 'latest-of-each';

/** The versions of one indicator compiled side by side (`latest-of-each`), by matcher variant. */
interface SideBySide {
  readonly byVariant: Map<number, string>;
  /** The next variant to give: never one given before, so that no alert of one version is counted into another's. */
  next: number;
}

interface FoundIndicator {
  readonly object: JsonRecord;
  readonly revoked: boolean;
  readonly source: string | undefined;
  /**
   * The partner whose matching budget it counts against (BulkMatcher.add's `source`): its source,
   * unless the version is the home organisation's own original (a partner's copy sent back, which
   * provenance attributes to that partner, is still the home's: a partner past its budget must not
   * take the home's indicators out of matching with it).
   */
  readonly charged: string | undefined;
}

/** inputs and bases are kept per compiled version: variant 0 under the id alone (most indicators have no other). */
function versionKeyOf(indicatorId: string, variant: number): string {
  return variant === 0 ? indicatorId : `${indicatorId}\u0001${variant}`;
}

/**
 * A version's key (`modified` as written), compared exactly, never as an instant: '…:00Z' and
 * '…:00.000Z' are two keys, which the store keeps as two rows that may hold two contents (one in a
 * collection some token may not read): taken for one version, only the first compiled would match,
 * and its alerts would go to the readers of the other.
 */
function modifiedOf(object: JsonRecord): string {
  return String(object['modified'] ?? '');
}

/** A sighting or opinion about an indicator, with the collection holding it. */
interface HeldEvidence {
  readonly collectionId: string;
  readonly evidence: SightingEvidence;
}

async function* latestObjects(
  store: Pick<ObjectStore, 'listEntries'> & Partial<Pick<ObjectStore, 'homeOriginalsIn'>>,
  collectionId: string,
  types: string[],
  addedAfter?: number,
  sources?: IndicatorSources,
  ids?: readonly string[],
  /** Given for indicators: which of them are the home's own is then read (FoundIndicator.charged). */
  homeOrganisationId?: string,
): AsyncGenerator<FoundIndicator & { dateAdded: number }> {
  let after = addedAfter;
  for (;;) {
    const filter = { types, versions: [{ kind: 'last' as const }], ...(ids === undefined ? {} : { ids }) };
    const page = await store.listEntries(collectionId, filter, { limit: pageSize, ...(after !== undefined ? { after } : {}) });
    const found: ReadonlyMap<string, string> = sources === undefined ? new Map() : await sources.sourcesOf(collectionId, page.entries);
    const homeOriginals = await homeOriginalsOf(store, page.entries, found, homeOrganisationId);
    for (const entry of page.entries) {
      const source = found.get(entry.id);
      const charged = source === undefined || homeOriginals.has(entry.id) ? undefined : source;
      yield { object: JSON.parse(entry.json) as JsonRecord, revoked: entry.revoked, dateAdded: entry.dateAdded, source, charged };
    }
    const last = page.entries[page.entries.length - 1];
    if (!page.more || last === undefined) return;
    after = last.dateAdded;
  }
}

/**
 * Of the entries attributed to a source, the ids of those that are the home organisation's own: its
 * originals as the store proves them (one statement for the page, only on a node that federates), or
 * signed by it. Entries attributed to no one are the home's anyway.
 */
async function homeOriginalsOf(
  store: Partial<Pick<ObjectStore, 'homeOriginalsIn'>>,
  entries: readonly StoredEntry[],
  found: ReadonlyMap<string, string>,
  homeOrganisationId: string | undefined,
): Promise<ReadonlySet<string>> {
  const own = new Set<string>();
  if (found.size === 0 || homeOrganisationId === undefined) return own;
  const attributed: { id: string; version: string }[] = [];
  for (const entry of entries) {
    const source = found.get(entry.id);
    if (source === undefined) continue;
    if (source === homeOrganisationId) own.add(entry.id);
    else attributed.push({ id: entry.id, version: entry.version });
  }
  if (store.homeOriginalsIn === undefined || attributed.length === 0) return own;
  const originals = await store.homeOriginalsIn(attributed);
  attributed.forEach(({ id }, index) => {
    if (originals[index] === true) own.add(id);
  });
  return own;
}

/** The reason without its details, so the summary groups them: `invalid pattern: at 3: …` → `invalid pattern`. */
function reasonKind(reason: string): string {
  if (reason.startsWith('invalid pattern')) return 'invalid pattern';
  if (reason.startsWith('expired')) return 'expired';
  if (reason.startsWith('not valid before')) return 'not yet valid';
  if (reason.startsWith('pattern_type')) return 'not a STIX pattern';
  return reason;
}

export interface LoadOptions {
  readonly now: Date;
  readonly halfLifeDays?: number;
}

/**
 * Loads the indicators of some collections into a matcher, then keeps it up to date: `refresh()` reads
 * only the indicator versions added since the last call (the store's keyset cursor), so a new indicator
 * starts matching and a revoked or superseded one stops, without a rebuild. Sightings and opinions
 * added since are read the same way, and the indicators they are about compiled again with their new
 * effective confidence (a member's sighting that arrives while the node runs counts at once).
 * A removal (a DELETE, a recall) adds nothing to follow: `deletedSinceLoad()` tells it, from the
 * store's deletion counters, and the caller then loads everything into a new matcher.
 */
export class IndicatorLoader {
  /**
   * indicator id → (collection, sighting or opinion id) → what it says there (a new version of a
   * sighting replaces the old in its collection).
   */
  private readonly evidence = new Map<string, Map<string, HeldEvidence>>();
  /**
   * compiled version (versionKeyOf) → the inputs of its confidence other than the evidence: only
   * indicators some evidence is about, or whose confidence counts federation (dependsOnReader).
   */
  private readonly inputs = new Map<string, Omit<ConfidenceInputs, 'sightings'>>();
  /** compiled version (versionKeyOf) → its basisOf(), until its evidence or version changes. */
  private readonly bases = new Map<string, ConfidenceBasis>();
  private readonly cursors = new Map<string, number>();
  private readonly evidenceCursors = new Map<string, number>();
  /**
   * indicator id → the version compiled (its `modified`, variant 0), or the versions compiled side by
   * side (`latest-of-each`, or several creators' under `newest`). Versions refused by the matcher (revoked, expired) are kept too: they are still the latest.
   */
  private readonly versions = new Map<string, string | SideBySide>();
  /** collection → its deletion counter when load() began (ObjectStore.deletionCount). */
  private readonly deletionCounts = new Map<string, number>();

  constructor(
    /** `deletionCount` where the store keeps one; without it removals go unnoticed. */
    private readonly store: Pick<ObjectStore, 'listEntries'> & Partial<Pick<ObjectStore, 'deletionCount'> & OriginStore>,
    private readonly collectionIds: readonly string[],
    private readonly matcher: BulkMatcher,
    /** Where indicators and sightings came from; by default from the store's provenance when it keeps some. */
    private readonly sources: IndicatorSources | undefined = openIndicatorSources(store),
    private readonly compiled: CompiledVersions = 'newest',
    /** The home organisation, whose own originals are of its origin (`newest`); without it they are of an origin of their own. */
    private readonly homeOrganisationId = '\u0000home',
  ) {}

  /**
   * The version (`modified`) of an indicator compiled into the matcher under `variant` (the
   * IndicatorMatch's), whichever collection it came from. An alert is about this version.
   */
  versionOf(indicatorId: string, variant = 0): string | undefined {
    const held = this.versions.get(indicatorId);
    if (held === undefined || typeof held === 'string') return variant === 0 ? held : undefined;
    return held.byVariant.get(variant);
  }

  /**
   * What the confidence of the version compiled under `variant` is made of, by the collection holding
   * each piece of evidence, and what federation adds per collection; undefined when no collection
   * holds evidence about it and nothing federated counts (every reader is then shown the matcher's
   * confidence).
   */
  basisOf(indicatorId: string, variant = 0): ConfidenceBasis | undefined {
    const key = versionKeyOf(indicatorId, variant);
    const known = this.bases.get(key);
    if (known !== undefined) return known;
    const inputs = this.inputs.get(key);
    const held = this.evidence.get(indicatorId);
    if (inputs === undefined) return undefined;
    const basis = confidenceBasis(inputs, held?.values() ?? [], this.sources?.federationOf?.bind(this.sources, indicatorId));
    this.bases.set(key, basis);
    return basis;
  }

  /** The variants of an indicator compiled (0 alone unless several versions are side by side). */
  private variantsOf(indicatorId: string): number[] {
    const held = this.versions.get(indicatorId);
    return held === undefined || typeof held === 'string' ? [0] : [...held.byVariant.keys()];
  }

  /** The variant a version of an indicator is compiled under; undefined when that version is not. */
  private variantOf(indicatorId: string, version: string): number | undefined {
    const held = this.versions.get(indicatorId);
    if (held === undefined) return undefined;
    if (typeof held === 'string') return held === version ? 0 : undefined;
    for (const [variant, compiled] of held.byVariant) if (compiled === version) return variant;
    return undefined;
  }

  async load(options: LoadOptions): Promise<LoadedIndicators> {
    // Read before the entries: a removal while they are read shows in deletedSinceLoad() afterwards.
    for (const collectionId of this.collectionIds) this.deletionCounts.set(collectionId, await this.deletionCountOf(collectionId));
    await this.sources?.refresh(options.now);
    await this.takeInEvidence();
    return this.refresh(options);
  }

  /**
   * Whether versions were removed from one of the collections since load() began. refresh() cannot
   * take a removal back: the matcher may still hold an indicator no collection holds any more, or a
   * version newer than any collection still holds (where an older one should match instead), and
   * count sightings or opinions that are gone. One read of the store per collection.
   */
  async deletedSinceLoad(): Promise<boolean> {
    for (const collectionId of this.collectionIds) {
      if ((await this.deletionCountOf(collectionId)) !== (this.deletionCounts.get(collectionId) ?? 0)) return true;
    }
    return false;
  }

  private async deletionCountOf(collectionId: string): Promise<number> {
    return this.store.deletionCount === undefined ? 0 : this.store.deletionCount(collectionId);
  }

  /** Sightings and opinions added since the last call; returns the indicators they are about. */
  private async takeInEvidence(): Promise<Set<string>> {
    const about = new Set<string>();
    for (const collectionId of this.collectionIds) {
      const after = this.evidenceCursors.get(collectionId);
      for await (const { object, source, dateAdded } of latestObjects(this.store, collectionId, ['sighting', 'opinion'], after, this.sources)) {
        this.evidenceCursors.set(collectionId, Math.max(dateAdded, this.evidenceCursors.get(collectionId) ?? 0));
        for (const target of this.addEvidence(collectionId, object, source)) about.add(target);
      }
    }
    return about;
  }

  /** Indicator versions added since the last load or refresh. */
  async refresh(options: LoadOptions): Promise<LoadedIndicators> {
    const byMode = { exact: 0, evaluated: 0, always: 0 };
    const refused = new Map<string, number>();
    const overLimit: PatternOverLimit[] = [];
    const now = options.now.getTime();
    await this.sources?.refresh(options.now);
    const reconsider = await this.takeInEvidence();
    /** Compiles one version under `variant`, which the caller has recorded in `versions`. */
    const compileOne = ({ object, revoked, source, charged }: FoundIndicator, variant: number): void => {
      const id = String(object['id']);
      const key = versionKeyOf(id, variant);
      // Compiled with the evidence as it is now; versions side by side are compiled again below, all of them.
      if (typeof this.versions.get(id) === 'string') reconsider.delete(id);
      const since = Date.parse(String(object['valid_from'] ?? object['modified'] ?? ''));
      const inputs: Omit<ConfidenceInputs, 'sightings'> = {
        statedConfidence: typeof object['confidence'] === 'number' ? object['confidence'] : undefined,
        // What arrived from another member counts as the member that signed it (or delivered it unsigned).
        producer: source ?? (typeof object['created_by_ref'] === 'string' ? object['created_by_ref'] : undefined),
        since: Number.isNaN(since) ? now : since,
        now,
        ...(options.halfLifeDays !== undefined ? { halfLifeDays: options.halfLifeDays } : {}),
        ...this.sources?.confidenceOf(id, source),
      };
      const held = this.evidence.get(id);
      this.bases.delete(key);
      if (held === undefined && !dependsOnReader(inputs)) this.inputs.delete(key);
      else this.inputs.set(key, inputs);
      const confidence = effectiveConfidence({ ...inputs, sightings: held === undefined ? [] : [...held.values()].map((h) => h.evidence) });
      // Counted against the budget of the partner it came from (BulkMatcher: `source-budget`).
      const outcome = this.matcher.add(revoked ? { ...object, revoked: true } : object, { now: options.now, confidence, variant, source: charged });
      if (outcome.added) byMode[outcome.mode]++;
      else {
        const limit = outcome.limit;
        // Past a planning limit: counted by limit, `pattern over limit (comparisons)`.
        const kind = limit === undefined ? reasonKind(outcome.reason) : `${patternOverLimitRefusal} (${limit.limit})`;
        refused.set(kind, (refused.get(kind) ?? 0) + 1);
        if (limit !== undefined) overLimit.push({ ...limit, indicatorId: id, version: modifiedOf(object), message: `${patternOverLimitCode}: ${id} is not matched: ${limit.message}` });
      }
    };
    /** Indicators whose latest versions differ between collections: settled once every collection is read. */
    const unsettled = new Set<string>();
    for (const collectionId of this.collectionIds) {
      const after = this.cursors.get(collectionId);
      for await (const found of latestObjects(this.store, collectionId, ['indicator'], after, this.sources, undefined, this.homeOrganisationId)) {
        this.cursors.set(collectionId, Math.max(found.dateAdded, this.cursors.get(collectionId) ?? 0));
        const id = String(found.object['id']);
        const modified = modifiedOf(found.object);
        const seen = this.versions.get(id);
        // The same version held by another collection is compiled already, from the first that held it.
        if (seen === modified) continue;
        if (seen === undefined) {
          this.versions.set(id, modified);
          compileOne(found, 0);
        } else unsettled.add(id);
        // `newest` too: whether a version replaces another depends on their creators, read for these ids once every collection is read.
      }
    }
    await this.settle([...unsettled], compileOne);
    // Indicators already compiled that new sightings or opinions are about: their confidence changed.
    const held = [...reconsider].filter((id) => this.matcher.has(id));
    const recompiled = new Set<string>();
    for (let start = 0; start < held.length; start += pageSize) {
      const ids = held.slice(start, start + pageSize);
      for (const collectionId of this.collectionIds) {
        for await (const found of latestObjects(this.store, collectionId, ['indicator'], undefined, this.sources, ids, this.homeOrganisationId)) {
          const id = String(found.object['id']);
          const variant = this.variantOf(id, modifiedOf(found.object));
          // Once each version, however many collections hold it.
          if (variant === undefined || recompiled.has(versionKeyOf(id, variant))) continue;
          recompiled.add(versionKeyOf(id, variant));
          compileOne(found, variant);
        }
      }
    }
    return { added: byMode.exact + byMode.evaluated + byMode.always, byMode, refused, overLimit };
  }

  /**
   * Compiles, for each of `ids`, exactly the distinct versions that are the latest of some collection
   * (`latest-of-each`), or of these the newest of each creator (`newest`): a version no longer chosen
   * is withdrawn, one that became so is compiled beside the others. Read from the store for these ids
   * only: few indicators have different latest versions in different collections.
   */
  private async settle(ids: readonly string[], compileOne: (found: FoundIndicator, variant: number) => void): Promise<void> {
    for (let start = 0; start < ids.length; start += pageSize) {
      const slice = ids.slice(start, start + pageSize);
      const latest = new Map<string, HeldIndicator[]>();
      for (const collectionId of this.collectionIds) {
        for await (const found of latestObjects(this.store, collectionId, ['indicator'], undefined, this.sources, slice, this.homeOrganisationId)) {
          const id = String(found.object['id']);
          const known = latest.get(id) ?? [];
          const same = known.find((k) => modifiedOf(k.found.object) === modifiedOf(found.object));
          if (same === undefined) known.push({ found, collections: [collectionId] });
          else same.collections.push(collectionId);
          latest.set(id, known);
        }
      }
      const originOf = this.compiled === 'newest' ? await this.originsOf([...latest.values()].flat()) : undefined;
      for (const id of slice) {
        const held = latest.get(id) ?? [];
        this.settleOne(id, originOf === undefined ? held.map((h) => h.found) : newestOfEachOrigin(held, originOf), compileOne);
      }
    }
  }

  /** The origins of these versions (three store reads; version-origin.ts); all unknown for a store that records none. */
  private async originsOf(held: readonly HeldIndicator[]): Promise<OriginOf> {
    const { provenanceOf, homeOriginalsIn, contributionsOf } = this.store;
    if (provenanceOf === undefined || homeOriginalsIn === undefined || contributionsOf === undefined) return () => undefined;
    const versions = held.map(({ found }) => ({ id: String(found.object['id']), version: modifiedOf(found.object), createdBy: found.object['created_by_ref'] }));
    return readOrigins(
      { provenanceOf: provenanceOf.bind(this.store), homeOriginalsIn: homeOriginalsIn.bind(this.store), contributionsOf: contributionsOf.bind(this.store) },
      this.homeOrganisationId,
      versions,
    );
  }

  private settleOne(id: string, found: readonly FoundIndicator[], compileOne: (found: FoundIndicator, variant: number) => void): void {
    const held = this.versions.get(id);
    const current = held === undefined ? new Map<number, string>() : typeof held === 'string' ? new Map([[0, held]]) : held.byVariant;
    const side: SideBySide = { byVariant: new Map(), next: typeof held === 'object' ? held.next : 1 };
    const toCompile: FoundIndicator[] = [];
    for (const [variant, version] of current) {
      if (found.some((f) => modifiedOf(f.object) === version)) side.byVariant.set(variant, version);
      else {
        this.matcher.remove(id, variant);
        this.inputs.delete(versionKeyOf(id, variant));
        this.bases.delete(versionKeyOf(id, variant));
      }
    }
    const kept = [...side.byVariant.values()];
    for (const f of found) if (!kept.includes(modifiedOf(f.object))) toCompile.push(f);
    if (side.byVariant.size === 0 && toCompile.length <= 1 && typeof held !== 'object') {
      // One version, as most indicators: variant 0, kept as a plain string.
      const only = toCompile[0];
      if (only === undefined) this.versions.delete(id);
      else {
        this.versions.set(id, modifiedOf(only.object));
        compileOne(only, 0);
      }
      return;
    }
    this.versions.set(id, side);
    for (const f of toCompile) {
      const variant = side.next++;
      side.byVariant.set(variant, modifiedOf(f.object));
      compileOne(f, variant);
    }
  }

  /** `source`: the member whose node sent the sighting, counted instead of the identities it names. Returns the indicators it is about. */
  private addEvidence(collectionId: string, object: JsonRecord, source: string | undefined): string[] {
    const targets = object['type'] === 'sighting' ? [object['sighting_of_ref']] : Array.isArray(object['object_refs']) ? object['object_refs'] : [];
    const about: string[] = [];
    for (const target of targets) {
      if (typeof target !== 'string' || !target.startsWith('indicator--')) continue;
      const evidence = sightingEvidence(object, target);
      if (evidence === undefined) continue;
      const found = source === undefined ? evidence : { ...evidence, organisation: source };
      const byObject = this.evidence.get(target) ?? new Map<string, HeldEvidence>();
      byObject.set(`${collectionId}\u0000${String(object['id'])}`, { collectionId, evidence: found });
      this.evidence.set(target, byObject);
      for (const variant of this.variantsOf(target)) this.bases.delete(versionKeyOf(target, variant));
      about.push(target);
    }
    return about;
  }
}

/** A version of an indicator that is the latest of some collections (`settle`). */
interface HeldIndicator {
  readonly found: FoundIndicator;
  readonly collections: string[];
}

/**
 * Of the versions of one indicator, the newest of each creator and origin; a version of unknown origin
 * (or whose collections record different origins) is kept whatever else is held, and replaces none.
 * Versions at the same instant under two keys: the first found is kept, as one reader is shown one of them.
 */
function newestOfEachOrigin(held: readonly HeldIndicator[], originOf: OriginOf): FoundIndicator[] {
  const newest = new Map<string, FoundIndicator>();
  const apart: FoundIndicator[] = [];
  for (const { found, collections } of held) {
    const id = String(found.object['id']);
    const origins = new Set(collections.map((collectionId) => originOf(collectionId, id, modifiedOf(found.object))));
    const [origin] = origins;
    if (origins.size !== 1 || origin === undefined) {
      apart.push(found);
      continue;
    }
    const lineage = JSON.stringify([lineageCreatorOf(found.object) ?? null, origin]);
    const kept = newest.get(lineage);
    if (kept === undefined || compareVersions(modifiedOf(kept.object), modifiedOf(found.object)) < 0) newest.set(lineage, found);
  }
  return [...newest.values(), ...apart];
}

