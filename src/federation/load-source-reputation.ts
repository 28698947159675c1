// Reads what source-reputation.ts needs from a node's store (arrivals and contributors, indicators,
// false-positive sightings and opinions, identities, and from the audit log what it released of the
// indicators several sources published to those sources) and keeps the result for the alert matcher: the
// reputation of each source, who corroborates which indicator, and which member stands behind each
// identity it sent: over every collection (the home's own assessment, for its administrators), and
// from each collection's data alone (what a token that reads some collections only is shown: a copy or
// a false-positive report held where it may not read must not move its number). Also the per-page
// lookup of where versions came from, for the indicator loader: one store statement per page of
// entries (FederationStore.arrivalsOfEntries), since both read it for every indicator a node holds.
import { metaKeys } from '../bootstrap-node.ts';
import { sightingEvidence, type CollectionFederation, type ConfidenceInputs, type FederationAbout } from '../correlate/effective-confidence.ts';
import { loadExtractData } from '../extract/load-extract-data.ts';
import type { WarninglistIndex } from '../extract/warninglists.ts';
import type { FederationStore } from '../store/federation-store.ts';
import type { AuditStore, CircleStore, ObjectStore, StoredEntry } from '../store/object-store.ts';
import { decideSource, neutralReputation, patternFacts, ReputationTally, type IndicatorFacts, type PatternFacts, type SourceAttribution, type SourceRecord, type SourceReputation } from './source-reputation.ts';

/**
 * What the reputation reads: the object store; from the federation store, arrivals and peers; from
 * beside the audit log, when this node first gave which object to whom (a member's publication of what
 * it was given is no corroboration), and the circles (which collection a release was made from).
 */
export type ReputationStore = Pick<ObjectStore, 'listCollections' | 'listEntries' | 'getMeta'> &
  Pick<FederationStore, 'arrivalsOfEntries' | 'listPeers' | 'listPinnedKeys'> &
  Pick<AuditStore, 'firstReleases'> &
  Pick<CircleStore, 'listCircles'>;

/** Whether a store keeps provenance (implements the federation store's part the reputation reads). */
export function isReputationStore(store: object): store is ReputationStore {
  const methods = ['listCollections', 'listEntries', 'getMeta', 'arrivalsOfEntries', 'listPeers', 'listPinnedKeys', 'firstReleases', 'listCircles'] as const;
  return methods.every((name) => typeof (store as Record<string, unknown>)[name] === 'function');
}

export interface SourceReputationReport {
  /** The home organisation: what was stored here without arriving from anyone counts as it. */
  readonly home: string;
  readonly computedAt: string;
  /** Sorted by organisation id. */
  readonly sources: readonly SourceReputation[];
  /** Indicator id → the other sources that published one of its values (only indicators that have some). */
  readonly corroboration: ReadonlyMap<string, readonly string[]>;
  /** Identity id → the organisation whose node sent that identity object (only identities that arrived from one). */
  readonly identities: ReadonlyMap<string, string>;
  /** With `perCollection`: the same, from each collection's data alone. */
  readonly byCollection?: ReadonlyMap<string, CollectionReputation>;
}

/**
 * What one collection's data alone says about sources: what a reader of that collection may be shown
 * (the node-wide figures also count collections it may not read: a false-positive report there lowers
 * a source's reputation, a copy there corroborates).
 */
export interface CollectionReputation {
  /** Each source's record from the indicators and reports this collection holds. */
  readonly records: ReadonlyMap<string, SourceRecord>;
  /** Indicator id → the other sources that published one of its values in this collection. */
  readonly corroboration: ReadonlyMap<string, readonly string[]>;
  /** Identity id → the organisation whose node sent that identity object into this collection. */
  readonly identities: ReadonlyMap<string, string>;
}

export interface ReputationOptions {
  readonly now: Date;
  /** Default: the warninglists shipped in data/warninglists. */
  readonly warninglists?: WarninglistIndex;
  /** Default: every collection. */
  readonly collectionIds?: readonly string[];
  /**
   * Also each collection's figures from its data alone (`byCollection`): the same pages feed one tally
   * per collection besides the node's, which holds as many values again while counting.
   */
  readonly perCollection?: boolean;
}

const pageSize = 5000;
const homeFallback = 'identity--unknown-home-organisation';

/** Latest versions of some types in a collection, a page at a time, with a turn of the event loop between pages. */
async function* pagesOf(store: Pick<ObjectStore, 'listEntries'>, collectionId: string, types: string[]): AsyncGenerator<readonly StoredEntry[]> {
  let after: number | undefined;
  for (;;) {
    const page = await store.listEntries(collectionId, { types, versions: [{ kind: 'last' }] }, { limit: pageSize, ...(after !== undefined ? { after } : {}) });
    if (page.entries.length > 0) yield page.entries;
    const last = page.entries[page.entries.length - 1];
    if (!page.more || last === undefined) return;
    after = last.dateAdded;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * When each of some indicators first arrived in a collection: the dateAdded of its first stored version
 * (a newer version of an original is no later arrival than a copy of it). One store statement.
 */
async function firstArrivals(store: Pick<ObjectStore, 'listEntries'>, collectionId: string, ids: readonly string[]): Promise<Map<string, number>> {
  const page = await store.listEntries(collectionId, { ids, types: ['indicator'], versions: [{ kind: 'first' }] }, { limit: ids.length });
  return new Map(page.entries.map((entry) => [entry.id, entry.dateAdded]));
}

/** Where the versions of a collection's entries came from, by their arrivals, else by contributor (decideSource). */
export class EntrySources {
  constructor(
    private readonly store: Pick<ReputationStore, 'arrivalsOfEntries'>,
    private readonly peerOrganisations: ReadonlyMap<string, string>,
  ) {}

  static async open(store: Pick<ReputationStore, 'arrivalsOfEntries' | 'listPeers'>): Promise<EntrySources> {
    const peers = await store.listPeers();
    return new EntrySources(store, new Map(peers.map((peer) => [peer.name, peer.organisationId])));
  }

  /** Keyed by object id; versions that did not arrive from anyone are absent. */
  async sourcesOf(collectionId: string, entries: readonly Pick<StoredEntry, 'id' | 'dateAdded'>[]): Promise<Map<string, SourceAttribution>> {
    const found = new Map<string, SourceAttribution>();
    if (entries.length === 0) return found;
    const arrivals = await this.store.arrivalsOfEntries(collectionId, entries.map((entry) => entry.dateAdded));
    for (const entry of entries) {
      const evidence = arrivals.get(entry.dateAdded);
      if (evidence === undefined) continue;
      const source = decideSource(evidence.arrivals, evidence.contributors, this.peerOrganisations);
      if (source !== undefined) found.set(entry.id, source);
    }
    return found;
  }
}

async function homeOf(store: Pick<ObjectStore, 'getMeta'>): Promise<string> {
  const text = await store.getMeta(metaKeys.homeOrganisation);
  if (text === undefined) return homeFallback;
  const id = (JSON.parse(text) as { id?: unknown }).id;
  return typeof id === 'string' ? id : homeFallback;
}

function stixPatternOf(object: Record<string, unknown>): string | undefined {
  const type = object['pattern_type'];
  return typeof object['pattern'] === 'string' && (type === undefined || type === 'stix') ? object['pattern'] : undefined;
}

/** One collection's tally, fed the same pages as the node's. */
interface CollectionTally {
  readonly tally: ReputationTally;
  readonly corroboration: Map<string, readonly string[]>;
  readonly identities: Map<string, string>;
}

/**
 * Computes every source's reputation from the store: identities, then false-positive reports, then the
 * (non-revoked) indicators twice (who published what; when those whose values several sources published
 * first arrived), then what this node released of those to their other publishers (addReleases), then
 * who else published each of those no earlier and not after it was given them. Memory: the reports, the values of
 * the indicators while counting, then only the values several sources published and the indicators
 * that carry them (twice over with `perCollection`).
 */
export async function loadSourceReputation(store: ReputationStore, options: ReputationOptions): Promise<SourceReputationReport> {
  const home = await homeOf(store);
  const sources = await EntrySources.open(store);
  const warninglists = options.warninglists ?? loadExtractData().warninglists;
  const collections = options.collectionIds ?? (await store.listCollections()).map((c) => c.id);
  // One collection's figures are the node's: no second tally.
  const perCollection = new Map<string, CollectionTally>(
    options.perCollection === true && collections.length > 1
      ? collections.map((collectionId) => [collectionId, { tally: new ReputationTally(), corroboration: new Map(), identities: new Map() }])
      : [],
  );
  const objectsWithSources = async function* (
    types: string[],
  ): AsyncGenerator<{ object: Record<string, unknown>; entry: StoredEntry; source: SourceAttribution | undefined; own: CollectionTally | undefined }> {
    for (const collectionId of collections) {
      const own = perCollection.get(collectionId);
      for await (const page of pagesOf(store, collectionId, types)) {
        const found = await sources.sourcesOf(collectionId, page);
        for (const entry of page) yield { object: JSON.parse(entry.json) as Record<string, unknown>, entry, source: found.get(entry.id), own };
      }
    }
  };

  const identities = new Map<string, string>();
  for await (const { entry, source, own } of objectsWithSources(['identity'])) {
    if (source === undefined) continue;
    identities.set(entry.id, source.organisation);
    own?.identities.set(entry.id, source.organisation);
  }

  const tally = new ReputationTally();
  for await (const { object, source, own } of objectsWithSources(['sighting', 'opinion'])) {
    const targets = object['type'] === 'sighting' ? [object['sighting_of_ref']] : Array.isArray(object['object_refs']) ? object['object_refs'] : [];
    for (const target of targets) {
      if (typeof target !== 'string' || !target.startsWith('indicator--')) continue;
      if (sightingEvidence(object, target)?.falsePositive !== true) continue;
      tally.addFalsePositive(target, source?.organisation ?? home);
      own?.tally.addFalsePositive(target, source?.organisation ?? home);
    }
  }

  const factsOf = (object: Record<string, unknown>, withWarninglists = true): PatternFacts => {
    const pattern = stixPatternOf(object);
    if (pattern !== undefined) return patternFacts(pattern, withWarninglists ? warninglists : undefined);
    return { keys: typeof object['pattern'] === 'string' ? [`${String(object['pattern_type'])} ${object['pattern'].trim()}`] : [], warninglist: null };
  };
  const live = (entry: StoredEntry, object: Record<string, unknown>): boolean => !entry.revoked && object['revoked'] !== true;
  for await (const { object, entry, source, own } of objectsWithSources(['indicator'])) {
    if (!live(entry, object)) continue;
    const facts = { id: entry.id, source: source?.organisation ?? home, ...factsOf(object) };
    tally.addIndicator(facts);
    own?.tally.addIndicator(facts);
  }
  // Again, looking up the sources and first arrivals of only the indicators whose values several
  // sources published; who corroborates which once every one of them is known (a copy is told from its
  // original by which arrived first, wherever each is held).
  const held: { readonly indicator: IndicatorFacts; readonly own: CollectionTally | undefined; readonly arrivedAt: number }[] = [];
  for (const collectionId of collections) {
    const own = perCollection.get(collectionId);
    for await (const page of pagesOf(store, collectionId, ['indicator'])) {
      const candidates: { entry: StoredEntry; facts: PatternFacts }[] = [];
      for (const entry of page) {
        const object = JSON.parse(entry.json) as Record<string, unknown>;
        if (!live(entry, object)) continue;
        // The keys first; the warninglists only for the few that may be corroborated.
        const keys = factsOf(object, false).keys;
        const nodeWide = tally.mayBeCorroborated(keys);
        if ((own?.tally.mayBeCorroborated(keys) ?? false) || nodeWide) candidates.push({ entry, facts: factsOf(object) });
      }
      if (candidates.length === 0) continue;
      const found = await sources.sourcesOf(collectionId, candidates.map((c) => c.entry));
      const firsts = await firstArrivals(store, collectionId, candidates.map((c) => c.entry.id));
      for (const { entry, facts } of candidates) {
        const indicator = { id: entry.id, source: found.get(entry.id)?.organisation ?? home, ...facts };
        const arrived = { ...indicator, arrivedAt: Math.min(entry.dateAdded, firsts.get(entry.id) ?? entry.dateAdded) };
        tally.addArrival(arrived);
        own?.tally.addArrival(arrived);
        held.push({ indicator, own, arrivedAt: arrived.arrivedAt });
      }
    }
  }
  await addReleases(store, home, held, tally, perCollection);
  const corroboration = new Map<string, readonly string[]>();
  for (const { indicator, own } of held) {
    const others = tally.corroboratorsOf(indicator);
    if (others.length > 0) corroboration.set(indicator.id, others);
    const othersHere = own?.tally.corroboratorsOf(indicator) ?? [];
    if (othersHere.length > 0) own?.corroboration.set(indicator.id, othersHere);
  }
  const report = { home, computedAt: options.now.toISOString(), sources: tally.decide(), corroboration, identities };
  if (options.perCollection !== true) return report;
  const only = collections.length === 1 ? collections[0] : undefined;
  const byCollection = new Map<string, CollectionReputation>(
    only !== undefined
      ? [[only, { records: tally.records(), corroboration, identities }]]
      : [...perCollection].map(([collectionId, own]) => [collectionId, { records: own.tally.records(), corroboration: own.corroboration, identities: own.identities }]),
  );
  return { ...report, byCollection };
}

/**
 * Tells the tallies what this node gave (shared or redacted, whatever a redaction removed, or named in
 * a flash) of the indicators that may be corroborated to the sources that may corroborate them: the
 * first time it gave each to each recipient through each circle, as the store keeps it beside the
 * audit log (firstReleases), a seek per indicator, not a walk of all it ever released. The node's tally
 * counts every release; a collection's own tally only those made through the circle on it: what the
 * node released through another circle is not that collection's data (as a copy held elsewhere is not).
 */
async function addReleases(
  store: Pick<ReputationStore, 'firstReleases' | 'listCircles'>,
  home: string,
  held: readonly { readonly indicator: IndicatorFacts; readonly own: CollectionTally | undefined; readonly arrivedAt: number }[],
  tally: ReputationTally,
  perCollection: ReadonlyMap<string, CollectionTally>,
): Promise<void> {
  const originals = new Map<string, IndicatorFacts>();
  /** The sources that may corroborate (this node does not release to its own organisation). */
  const publishers = new Set<string>();
  for (const { indicator } of held) {
    if (!originals.has(indicator.id)) originals.set(indicator.id, indicator);
    if (indicator.source !== home) publishers.add(indicator.source);
  }
  if (publishers.size === 0) return;
  const collectionOf = new Map((await store.listCircles()).map((circle) => [circle.id, circle.collectionId]));
  const ids = [...originals.keys()];
  for (let from = 0; from < ids.length; from += pageSize) {
    for (const { objectId, recipientOrganisationId: recipient, circleId, at } of await store.firstReleases(ids.slice(from, from + pageSize))) {
      const original = originals.get(objectId);
      if (original === undefined || !publishers.has(recipient)) continue;
      const releasedAt = Date.parse(at) * 1000;
      if (Number.isNaN(releasedAt)) continue;
      tally.addRelease(original, recipient, releasedAt);
      const collectionId = collectionOf.get(circleId);
      if (collectionId !== undefined) perCollection.get(collectionId)?.tally.addRelease(original, recipient, releasedAt);
    }
  }
}

/** What the indicator loader (correlate/load-indicators.ts) asks about where indicators and sightings came from. */
export interface IndicatorSources {
  /** Takes in a newer reputation when the current one is older than its refresh interval. */
  refresh(now: Date): Promise<void>;
  /** The organisation each entry's version came from (keyed by object id); versions stored here without arriving from anyone are absent. */
  sourcesOf(collectionId: string, entries: readonly Pick<StoredEntry, 'id' | 'dateAdded'>[]): Promise<ReadonlyMap<string, string>>;
  /** The confidence inputs federation adds for an indicator that came from `source` (undefined: stored here), from every collection: the home's own assessment. */
  confidenceOf(indicatorId: string, source: string | undefined): Pick<ConfidenceInputs, 'sourceReputation' | 'corroboratingSources' | 'organisationOf'>;
  /** The same from each collection's data alone, for readers of some collections only (ConfidenceBasis.federation). */
  federationOf?(indicatorId: string, about: FederationAbout): Readonly<Record<string, CollectionFederation>>;
}

export interface ReputationSourcesOptions {
  /** Recompute reputations when the last computation is older than this (seconds); 600. */
  readonly refreshSeconds?: number;
  readonly warninglists?: WarninglistIndex;
  readonly onError?: (what: string, error: unknown) => void;
}

/**
 * The reputations of a node's sources for its indicator loader: computed at the first refresh (which
 * waits for them), then again in the background whenever they are older than the interval, the
 * previous ones serving meanwhile. A node that takes part in no federation (no peer, no pinned key)
 * reads no provenance at all: its alerts' confidence is computed as before federation.
 */
export class ReputationSources implements IndicatorSources {
  #report: SourceReputationReport | undefined;
  /** The report's, made once: the loader keeps the inputs of many indicators. */
  #organisationOf: ((id: string) => string) | undefined;
  #reputations = new Map<string, number>();
  #entries: EntrySources | undefined;
  #computing: Promise<void> | undefined;
  #computedAt: number | undefined;
  #federated = false;
  readonly #refreshMs: number;

  constructor(
    private readonly store: ReputationStore,
    private readonly options: ReputationSourcesOptions = {},
  ) {
    this.#refreshMs = (options.refreshSeconds ?? 600) * 1000;
  }

  get report(): SourceReputationReport | undefined {
    return this.#report;
  }

  async refresh(now: Date): Promise<void> {
    const computedAt = this.#computedAt;
    if (computedAt !== undefined && now.getTime() - computedAt < this.#refreshMs) return;
    this.#computing ??= this.#compute(now).finally(() => (this.#computing = undefined));
    if (computedAt === undefined) await this.#computing;
    else this.#computing.catch((error: unknown) => this.options.onError?.('compute source reputations', error));
  }

  async #compute(now: Date): Promise<void> {
    const federated = (await this.store.listPeers()).length > 0 || (await this.store.listPinnedKeys()).length > 0;
    if (!federated) {
      this.#federated = false;
      this.#computedAt = now.getTime();
      return;
    }
    const report = await loadSourceReputation(this.store, {
      now,
      perCollection: true,
      ...(this.options.warninglists !== undefined ? { warninglists: this.options.warninglists } : {}),
    });
    this.#entries = await EntrySources.open(this.store);
    this.#reputations = new Map(report.sources.map((s) => [s.source, s.reputation]));
    this.#report = report;
    const identities = report.identities;
    this.#organisationOf = (id: string): string => identities.get(id) ?? id;
    this.#federated = true;
    this.#computedAt = now.getTime();
  }

  async sourcesOf(collectionId: string, entries: readonly Pick<StoredEntry, 'id' | 'dateAdded'>[]): Promise<ReadonlyMap<string, string>> {
    if (!this.#federated) return new Map();
    this.#entries ??= await EntrySources.open(this.store);
    const found = await this.#entries.sourcesOf(collectionId, entries);
    return new Map([...found].map(([id, source]) => [id, source.organisation]));
  }

  confidenceOf(indicatorId: string, source: string | undefined): Pick<ConfidenceInputs, 'sourceReputation' | 'corroboratingSources' | 'organisationOf'> {
    const report = this.#report;
    const organisationOf = this.#organisationOf;
    if (!this.#federated || report === undefined || organisationOf === undefined) return {};
    const corroborating = report.corroboration.get(indicatorId);
    // The home organisation's own data is not discounted: reputation is about other members.
    const reputation = source === undefined || source === report.home ? undefined : (this.#reputations.get(source) ?? neutralReputation);
    return {
      organisationOf,
      ...(corroborating !== undefined ? { corroboratingSources: corroborating } : {}),
      ...(reputation !== undefined ? { sourceReputation: reputation } : {}),
    };
  }

  federationOf(indicatorId: string, about: FederationAbout): Readonly<Record<string, CollectionFederation>> {
    const byCollection = this.#federated ? this.#report?.byCollection : undefined;
    if (byCollection === undefined) return {};
    const found: Record<string, CollectionFederation> = {};
    for (const [collectionId, here] of byCollection) {
      const record = about.reputed && about.producer !== undefined ? here.records.get(about.producer) : undefined;
      const corroborating = here.corroboration.get(indicatorId);
      const identities: Record<string, string> = {};
      let named = false;
      for (const organisation of about.organisations) {
        const member = here.identities.get(organisation);
        if (member !== undefined) {
          identities[organisation] = member;
          named = true;
        }
      }
      if (record === undefined && corroborating === undefined && !named) continue;
      found[collectionId] = {
        ...(record === undefined ? {} : { producerRecord: record }),
        ...(corroborating === undefined ? {} : { corroboratingSources: corroborating }),
        ...(named ? { identities } : {}),
      };
    }
    return found;
  }
}

/** Reputation sources for a store that keeps provenance; undefined for one that does not. */
export function openIndicatorSources(store: object, options: ReputationSourcesOptions = {}): IndicatorSources | undefined {
  return isReputationStore(store) ? new ReputationSources(store, options) : undefined;
}
