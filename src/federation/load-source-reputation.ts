// Reads what source-reputation.ts needs from a node's store (arrivals and contributors, indicators,
// false-positive sightings and opinions, identities) and keeps the result for the alert matcher: the
// reputation of each source, who corroborates which indicator, and which member stands behind each
// identity it sent. Also the per-page lookup of where versions came from, for the indicator loader:
// one store statement per page of entries (FederationStore.arrivalsOfEntries), since both read it
// for every indicator a node holds.
import { metaKeys } from '../bootstrap-node.ts';
import { sightingEvidence, type ConfidenceInputs } from '../correlate/effective-confidence.ts';
import { loadExtractData } from '../extract/load-extract-data.ts';
import type { WarninglistIndex } from '../extract/warninglists.ts';
import type { FederationStore } from '../store/federation-store.ts';
import type { ObjectStore, StoredEntry } from '../store/object-store.ts';
import { decideSource, neutralReputation, patternFacts, ReputationTally, type PatternFacts, type SourceAttribution, type SourceReputation } from './source-reputation.ts';

/** What the reputation reads: the object store and, from the federation store, arrivals and peers. */
export type ReputationStore = Pick<ObjectStore, 'listCollections' | 'listEntries' | 'getMeta'> & Pick<FederationStore, 'arrivalsOfEntries' | 'listPeers' | 'listPinnedKeys'>;

/** Whether a store keeps provenance (implements the federation store's part the reputation reads). */
export function isReputationStore(store: object): store is ReputationStore {
  const methods = ['listCollections', 'listEntries', 'getMeta', 'arrivalsOfEntries', 'listPeers', 'listPinnedKeys'] as const;
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
}

export interface ReputationOptions {
  readonly now: Date;
  /** Default: the warninglists shipped in data/warninglists. */
  readonly warninglists?: WarninglistIndex;
  /** Default: every collection. */
  readonly collectionIds?: readonly string[];
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

/**
 * Computes every source's reputation from the store: identities, then false-positive reports, then the
 * (non-revoked) indicators twice (who published what; who else published it). Memory: the reports, the
 * values of the indicators while counting, then only the values several sources published.
 */
export async function loadSourceReputation(store: ReputationStore, options: ReputationOptions): Promise<SourceReputationReport> {
  const home = await homeOf(store);
  const sources = await EntrySources.open(store);
  const warninglists = options.warninglists ?? loadExtractData().warninglists;
  const collections = options.collectionIds ?? (await store.listCollections()).map((c) => c.id);
  const objectsWithSources = async function* (types: string[]): AsyncGenerator<{ object: Record<string, unknown>; entry: StoredEntry; source: SourceAttribution | undefined }> {
    for (const collectionId of collections) {
      for await (const page of pagesOf(store, collectionId, types)) {
        const found = await sources.sourcesOf(collectionId, page);
        for (const entry of page) yield { object: JSON.parse(entry.json) as Record<string, unknown>, entry, source: found.get(entry.id) };
      }
    }
  };

  const identities = new Map<string, string>();
  for await (const { entry, source } of objectsWithSources(['identity'])) if (source !== undefined) identities.set(entry.id, source.organisation);

  const tally = new ReputationTally();
  for await (const { object, source } of objectsWithSources(['sighting', 'opinion'])) {
    const targets = object['type'] === 'sighting' ? [object['sighting_of_ref']] : Array.isArray(object['object_refs']) ? object['object_refs'] : [];
    for (const target of targets) {
      if (typeof target !== 'string' || !target.startsWith('indicator--')) continue;
      if (sightingEvidence(object, target)?.falsePositive === true) tally.addFalsePositive(target, source?.organisation ?? home);
    }
  }

  const factsOf = (object: Record<string, unknown>, withWarninglists = true): PatternFacts => {
    const pattern = stixPatternOf(object);
    if (pattern !== undefined) return patternFacts(pattern, withWarninglists ? warninglists : undefined);
    return { keys: typeof object['pattern'] === 'string' ? [`${String(object['pattern_type'])} ${object['pattern'].trim()}`] : [], warninglist: null };
  };
  const live = (entry: StoredEntry, object: Record<string, unknown>): boolean => !entry.revoked && object['revoked'] !== true;
  for await (const { object, entry, source } of objectsWithSources(['indicator'])) {
    if (live(entry, object)) tally.addIndicator({ id: entry.id, source: source?.organisation ?? home, ...factsOf(object) });
  }
  // Again, looking up the sources of only the indicators whose values several sources published.
  const corroboration = new Map<string, readonly string[]>();
  for (const collectionId of collections) {
    for await (const page of pagesOf(store, collectionId, ['indicator'])) {
      const candidates: { entry: StoredEntry; facts: PatternFacts }[] = [];
      for (const entry of page) {
        const object = JSON.parse(entry.json) as Record<string, unknown>;
        if (!live(entry, object)) continue;
        // The keys first; the warninglists only for the few that may be corroborated.
        if (tally.mayBeCorroborated(factsOf(object, false).keys)) candidates.push({ entry, facts: factsOf(object) });
      }
      const found = await sources.sourcesOf(collectionId, candidates.map((c) => c.entry));
      for (const { entry, facts } of candidates) {
        const others = tally.corroboratorsOf({ id: entry.id, source: found.get(entry.id)?.organisation ?? home, ...facts });
        if (others.length > 0) corroboration.set(entry.id, others);
      }
    }
  }
  return { home, computedAt: options.now.toISOString(), sources: tally.decide(), corroboration, identities };
}

/** What the indicator loader (correlate/load-indicators.ts) asks about where indicators and sightings came from. */
export interface IndicatorSources {
  /** Takes in a newer reputation when the current one is older than its refresh interval. */
  refresh(now: Date): Promise<void>;
  /** The organisation each entry's version came from (keyed by object id); versions stored here without arriving from anyone are absent. */
  sourcesOf(collectionId: string, entries: readonly Pick<StoredEntry, 'id' | 'dateAdded'>[]): Promise<ReadonlyMap<string, string>>;
  /** The confidence inputs federation adds for an indicator that came from `source` (undefined: stored here). */
  confidenceOf(indicatorId: string, source: string | undefined): Pick<ConfidenceInputs, 'sourceReputation' | 'corroboratingSources' | 'organisationOf'>;
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
    const report = await loadSourceReputation(this.store, { now, ...(this.options.warninglists !== undefined ? { warninglists: this.options.warninglists } : {}) });
    this.#entries = await EntrySources.open(this.store);
    this.#reputations = new Map(report.sources.map((s) => [s.source, s.reputation]));
    this.#report = report;
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
    if (!this.#federated || report === undefined) return {};
    const identities = report.identities;
    const organisationOf = (id: string): string => identities.get(id) ?? id;
    const corroborating = report.corroboration.get(indicatorId);
    // The home organisation's own data is not discounted: reputation is about other members.
    const reputation = source === undefined || source === report.home ? undefined : (this.#reputations.get(source) ?? neutralReputation);
    return {
      organisationOf,
      ...(corroborating !== undefined ? { corroboratingSources: corroborating } : {}),
      ...(reputation !== undefined ? { sourceReputation: reputation } : {}),
    };
  }
}

/** Reputation sources for a store that keeps provenance; undefined for one that does not. */
export function openIndicatorSources(store: object, options: ReputationSourcesOptions = {}): IndicatorSources | undefined {
  return isReputationStore(store) ? new ReputationSources(store, options) : undefined;
}
