import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher } from '../correlate/bulk-matcher.ts';
import { IndicatorLoader } from '../correlate/load-indicators.ts';
import type { LogObservation } from '../correlate/log-observation.ts';
import { buildWarninglistIndex } from '../extract/warninglists.ts';
import type { EntryArrivals, PeerRecord, PinnedKeyRecord, Verification, VersionArrival } from '../store/federation-store.ts';
import { releasesIn, type AuditLogEntry } from '../audit/audit-chain.ts';
import type { Circle } from '../policy/circle.ts';
import type { AuditRecord, CollectionRecord, EntryFilter, FirstRelease, Page, PageRequest, StoredEntry } from '../store/object-store.ts';
import { loadSourceReputation, ReputationSources, type ReputationStore } from './load-source-reputation.ts';
import { neutralReputation } from './source-reputation.ts';

const home = 'identity--00000000-0000-4000-8000-000000000000';
const member = 'identity--00000000-0000-4000-8000-00000000000a';
const other = 'identity--00000000-0000-4000-8000-00000000000b';
const plainPeerOrg = 'identity--00000000-0000-4000-8000-00000000000c';
const now = new Date('2026-06-01T12:00:00.000Z');
const stamp = now.toISOString();
const collection = 'collection--circle';
const warninglists = buildWarninglistIndex({ lists: [{ name: 'public-dns-v4', kind: 'cidr', appliesTo: ['ipv4-addr'], entries: ['8.8.8.0/24'] }] });

type Arrival = { readonly signer: string; readonly verification?: Verification; readonly peer?: string } | { readonly contributor: string };

/** The few store methods the reputation reads, over objects in memory: one collection, arrivals or contributors per entry. */
class FakeStore implements ReputationStore {
  readonly #entries: (StoredEntry & { readonly collectionId: string })[] = [];
  readonly #arrivals = new Map<number, EntryArrivals>();
  readonly #audit: AuditRecord[] = [];
  /** Microseconds, as a store's dateAdded: what is added one after another arrives together unless `later` moves the clock. */
  #dateAdded = 0;
  #serial = 0;

  constructor(
    private readonly peers: readonly Pick<PeerRecord, 'name' | 'organisationId'>[] = [],
    private readonly federated = true,
  ) {}

  add(object: Record<string, unknown>, arrival?: Arrival, collectionId = collection): string {
    const id = typeof object['id'] === 'string' ? object['id'] : `${String(object['type'])}--00000000-0000-4000-8000-${String(++this.#serial).padStart(12, '0')}`;
    const full = { spec_version: '2.1', created: stamp, modified: stamp, ...object, id };
    const dateAdded = ++this.#dateAdded;
    this.#entries.push({ id, type: String(object['type']), version: stamp, specVersion: '2.1', dateAdded, revoked: false, json: JSON.stringify(full), collectionId } as StoredEntry & { collectionId: string });
    if (arrival !== undefined && 'contributor' in arrival) this.#arrivals.set(dateAdded, { arrivals: [], contributors: [arrival.contributor] });
    else if (arrival !== undefined) {
      const row: VersionArrival = { peer: arrival.peer ?? 'peer', signer: arrival.signer, verification: arrival.verification ?? 'verified', deliveredBy: undefined, receivedAt: stamp };
      this.#arrivals.set(dateAdded, { arrivals: [row], contributors: [] });
    }
    return id;
  }

  /** This node releases an object to a member now, through the circle on `collectionId`, as the release gate records it (a page entry). */
  release(objectId: string, recipient: string, collectionId = collection, decision: 'share' | 'redact' | 'withhold' = 'share'): void {
    const at = new Date(Math.floor(this.#dateAdded / 1000)).toISOString();
    const entry: AuditLogEntry = { kind: 'page', recipientOrganisationId: recipient, circleId: circleOf(collectionId), at, releases: [{ objectId, objectModified: stamp, decision }] };
    this.#audit.push({ seq: this.#audit.length + 1, chained: { previousHash: '', entry, hash: '' } });
  }

  /** This node sends a member a flash naming an indicator (or, `named` false, the copy without it), now. */
  flash(indicatorId: string, recipient: string, named = true): void {
    const at = new Date(Math.floor(this.#dateAdded / 1000)).toISOString();
    const entry: AuditLogEntry = { kind: 'flash', flashId: 'flash-1', sentFlashId: named ? 'flash-1' : 'flash-2', indicatorId, indicatorNamed: named, recipientOrganisationId: recipient, circleId: circleOf(collection), at };
    this.#audit.push({ seq: this.#audit.length + 1, chained: { previousHash: '', entry, hash: '' } });
  }

  /** What is added next arrives this much later (microseconds). */
  later(micros: number): void {
    this.#dateAdded += micros;
  }

  indicator(value: string, arrival?: Arrival, extra: Record<string, unknown> = {}, collectionId = collection): string {
    return this.add({ type: 'indicator', pattern: `[ipv4-addr:value = '${value}']`, pattern_type: 'stix', valid_from: stamp, confidence: 60, ...extra }, arrival, collectionId);
  }

  listCollections(): Promise<CollectionRecord[]> {
    const ids = [...new Set([collection, ...this.#entries.map((e) => e.collectionId)])];
    return Promise.resolve(ids.map((id) => ({ id, title: id, description: undefined, alias: undefined, mediaTypes: [], createdAt: stamp })));
  }

  /** The first or last version of each object (the last when not said), as the store lists them. */
  listEntries(collectionId: string, filter: EntryFilter, page: PageRequest): Promise<Page> {
    const first = filter.versions?.some((v) => v.kind === 'first') === true;
    const chosen = new Map<string, StoredEntry>();
    for (const e of this.#entries) {
      if (e.collectionId !== collectionId || (filter.types !== undefined && !filter.types.includes(e.type)) || (filter.ids !== undefined && !filter.ids.includes(e.id))) continue;
      const held = chosen.get(e.id);
      if (held === undefined || (first ? e.dateAdded < held.dateAdded : e.dateAdded > held.dateAdded)) chosen.set(e.id, e);
    }
    const matching = [...chosen.values()].filter((e) => e.dateAdded > (page.after ?? 0)).sort((a, b) => a.dateAdded - b.dateAdded);
    return Promise.resolve({ entries: matching.slice(0, page.limit), more: matching.length > page.limit });
  }

  arrivalsOfEntries(collectionId: string, dateAdded: readonly number[]): Promise<Map<number, EntryArrivals>> {
    const found = new Map<number, EntryArrivals>();
    const here = new Set(this.#entries.filter((e) => e.collectionId === collectionId).map((e) => e.dateAdded));
    for (const at of dateAdded.filter((d) => here.has(d))) {
      const arrivals = this.#arrivals.get(at);
      if (arrivals !== undefined) found.set(at, arrivals);
    }
    return Promise.resolve(found);
  }

  /** What the SQLite store keeps beside its log (migration 21): shares, redactions and flashes that named an indicator, the earliest of each. */
  firstReleases(objectIds: readonly string[]): Promise<FirstRelease[]> {
    const first = new Map<string, FirstRelease>();
    for (const { chained: { entry } } of this.#audit) {
      const given = entry.kind === 'flash' ? (entry.indicatorNamed && entry.indicatorId !== undefined ? [entry.indicatorId] : []) : releasesIn(entry).filter((r) => r.decision !== 'withhold').map((r) => r.objectId);
      for (const objectId of given) {
        if (!objectIds.includes(objectId)) continue;
        const key = `${objectId} ${entry.recipientOrganisationId} ${entry.circleId}`;
        const known = first.get(key);
        if (known === undefined || entry.at < known.at) first.set(key, { objectId, recipientOrganisationId: entry.recipientOrganisationId, circleId: entry.circleId, at: entry.at });
      }
    }
    return Promise.resolve([...first.values()]);
  }

  /** One circle on each collection. */
  async listCircles(): Promise<Circle[]> {
    return (await this.listCollections()).map((c) => ({ id: circleOf(c.id), collectionId: c.id }) as Circle);
  }

  getMeta(key: string): Promise<string | undefined> {
    return Promise.resolve(key === 'home_organisation' ? JSON.stringify({ type: 'identity', id: home }) : undefined);
  }

  listPeers(): Promise<PeerRecord[]> {
    return Promise.resolve(this.peers as PeerRecord[]);
  }

  /** A node in a federation has pinned its members' keys. */
  listPinnedKeys(): Promise<PinnedKeyRecord[]> {
    if (!this.federated) return Promise.resolve([]);
    return Promise.resolve([{ organisationId: member, keyId: 'k'.repeat(22), publicKey: 'p', validFrom: stamp, validUntil: undefined, source: 'peer-add', pinnedAt: stamp }]);
  }
}

const circleOf = (collectionId: string): string => `circle--of-${collectionId}`;

const falsePositive = (indicatorId: string, createdBy: string): Record<string, unknown> => ({
  type: 'sighting',
  sighting_of_ref: indicatorId,
  created_by_ref: createdBy,
  x_entente_false_positive: true,
});

/** The confidence an alert on `value` carries once the store's indicators are loaded. */
async function alertConfidence(store: FakeStore, value: string): Promise<number | undefined> {
  const matcher = new BulkMatcher();
  const loader = new IndicatorLoader(store, [collection], matcher, new ReputationSources(store, { warninglists }));
  await loader.load({ now });
  const observation: LogObservation = { firstObserved: stamp, lastObserved: stamp, count: 1, objects: { '0': { type: 'ipv4-addr', value } }, source: 'test', line: 1 };
  const [match] = matcher.match(observation);
  return match?.confidence;
}

describe('source reputations from the store', () => {
  it('counts per signing organisation: indicators, warninglist hits, others’ false positives, corroboration', async () => {
    const store = new FakeStore();
    store.indicator('8.8.8.8', { signer: member });
    const shared = store.indicator('45.9.1.1', { signer: member });
    const disputed = store.indicator('45.9.1.2', { signer: member });
    store.indicator('45.9.1.1', { signer: other });
    store.add(falsePositive(disputed, 'identity--whoever-b-says'), { signer: other });
    store.add(falsePositive(shared, 'identity--a-member-identity'), { signer: member });
    store.indicator('45.9.1.3');
    const report = await loadSourceReputation(store, { now, warninglists });
    const row = (source: string): unknown => {
      const s = report.sources.find((x) => x.source === source);
      return s === undefined ? undefined : [s.indicators, s.warninglistHits, s.falsePositives, s.corroborated];
    };
    assert.deepEqual(row(member), [3, 1, 1, 1], 'its own report against itself is not a false positive');
    assert.deepEqual(row(other), [1, 0, 0, 1]);
    assert.deepEqual(row(home), [1, 0, 0, 0], 'what was stored here counts as the home organisation');
    assert.ok((report.sources.find((s) => s.source === member)?.reputation ?? 1) < neutralReputation);
    assert.deepEqual(report.corroboration.get(shared), [other]);
    assert.equal(report.home, home);
  });

  it('an unverified arrival counts as the peer that delivered it; an unsigned partner POST as that partner', async () => {
    const store = new FakeStore([{ name: 'plain', organisationId: plainPeerOrg }]);
    store.indicator('45.9.1.1', { signer: member, verification: 'unverified', peer: 'plain' }, { created_by_ref: member });
    store.indicator('45.9.1.2', { contributor: other }, { created_by_ref: member });
    const report = await loadSourceReputation(store, { now, warninglists });
    assert.deepEqual(
      report.sources.map((s) => [s.source, s.indicators]),
      [
        [other, 1],
        [plainPeerOrg, 1],
      ],
    );
  });

  it('identities a member sent map to that member', async () => {
    const store = new FakeStore();
    const minted = store.add({ type: 'identity', name: 'Sock puppet', identity_class: 'organization' }, { signer: member });
    const report = await loadSourceReputation(store, { now, warninglists });
    assert.equal(report.identities.get(minted), member);
  });

  it('per collection, too: each collection’s figures from its data alone, for readers of some collections only', async () => {
    const store = new FakeStore();
    const elsewhere = 'collection--elsewhere';
    const indicator = store.indicator('45.9.1.1', { signer: member });
    store.indicator('45.9.1.1', { signer: other }, {}, elsewhere);
    store.add(falsePositive(indicator, other), { signer: other }, elsewhere);
    const minted = store.add({ type: 'identity', name: 'Sock puppet', identity_class: 'organization' }, { signer: member }, elsewhere);
    const report = await loadSourceReputation(store, { now, warninglists, perCollection: true });
    assert.deepEqual(report.corroboration.get(indicator), [other], 'node-wide: the copy elsewhere corroborates');
    assert.equal(report.sources.find((s) => s.source === member)?.falsePositives, 1, 'node-wide: the report elsewhere counts');
    const here = report.byCollection?.get(collection);
    assert.deepEqual(here?.records.get(member), { indicators: 1, bad: 0, corroborated: 0 });
    assert.equal(here?.corroboration.get(indicator), undefined);
    assert.equal(here?.identities.get(minted), undefined);
    const there = report.byCollection?.get(elsewhere);
    assert.deepEqual(there?.records.get(other), { indicators: 1, bad: 0, corroborated: 0 });
    assert.equal(there?.records.get(member), undefined, 'a report about an indicator held elsewhere counts where the indicator is held only');
    assert.equal(there?.identities.get(minted), member);
    assert.equal((await loadSourceReputation(store, { now, warninglists })).byCollection, undefined, 'only when asked');
  });

  it('per collection with one collection: the node’s figures', async () => {
    const store = new FakeStore();
    const indicator = store.indicator('45.9.1.1', { signer: member });
    store.indicator('45.9.1.1', { signer: other });
    const report = await loadSourceReputation(store, { now, warninglists, perCollection: true });
    const only = report.byCollection?.get(collection);
    assert.deepEqual(only?.corroboration.get(indicator), [other]);
    assert.deepEqual(only?.records.get(member), { indicators: 1, bad: 0, corroborated: 1 });
  });

  it('a later copy of a member’s indicators corroborates neither the copier nor the copy, even once the original is updated', async () => {
    const store = new FakeStore();
    const hour = 3_600_000_000;
    const original = store.indicator('45.9.1.1', { signer: member }, { id: 'indicator--00000000-0000-4000-8000-0000000000a1' });
    store.later(hour);
    const copy = store.indicator('45.9.1.1', { signer: other });
    store.later(hour);
    // A new version of the original arrives after the copy: it arrived first all the same.
    store.indicator('45.9.1.1', { signer: member }, { id: original, modified: '2026-06-01T13:00:00.000Z' });
    const report = await loadSourceReputation(store, { now, warninglists, perCollection: true });
    const row = (source: string): unknown => report.sources.find((s) => s.source === source)?.corroborated;
    assert.equal(row(other), 0, 'the copier');
    assert.equal(report.corroboration.get(copy), undefined, 'the copy');
    assert.equal(report.sources.find((s) => s.source === other)?.reputation, neutralReputation);
    assert.equal(row(member), 1, 'the original');
    assert.deepEqual(report.corroboration.get(original), [other]);
  });

  it('a later publication by a member this node had released the original to does not corroborate it: it may be a copy', async () => {
    const hour = 3_600_000_000;
    const copied = new FakeStore();
    const original = copied.indicator('45.9.8.1', { signer: member });
    copied.later(hour);
    copied.release(original, other);
    copied.later(hour);
    copied.indicator('45.9.8.1', { signer: other });
    const report = await loadSourceReputation(copied, { now, warninglists, perCollection: true });
    assert.equal(report.corroboration.get(original), undefined);
    assert.equal(report.sources.find((s) => s.source === member)?.corroborated, 0);
    assert.deepEqual(report.byCollection?.get(collection)?.records.get(member), { indicators: 1, bad: 0, corroborated: 0 });

    // Controls: never released to it, released to it only after its publication arrived, or released withheld.
    const independent = new FakeStore();
    const first = independent.indicator('45.9.8.1', { signer: member });
    independent.later(2 * hour);
    independent.indicator('45.9.8.1', { signer: other });
    assert.deepEqual((await loadSourceReputation(independent, { now, warninglists })).corroboration.get(first), [other]);
    const before = new FakeStore();
    const published = before.indicator('45.9.8.1', { signer: member });
    before.later(hour);
    before.indicator('45.9.8.1', { signer: other });
    before.later(hour);
    before.release(published, other);
    assert.deepEqual((await loadSourceReputation(before, { now, warninglists })).corroboration.get(published), [other], 'it published before this node gave it the value');
    const withheld = new FakeStore();
    const kept = withheld.indicator('45.9.8.1', { signer: member });
    withheld.later(hour);
    withheld.release(kept, other, collection, 'withhold');
    withheld.later(hour);
    withheld.indicator('45.9.8.1', { signer: other });
    assert.deepEqual((await loadSourceReputation(withheld, { now, warninglists })).corroboration.get(kept), [other], 'a withheld release gave it nothing');
  });

  it('a flash that named the indicator to the member counts as a release; one whose copy left it out does not', async () => {
    const hour = 3_600_000_000;
    const corroborators = async (named: boolean): Promise<readonly string[] | undefined> => {
      const store = new FakeStore();
      const original = store.indicator('45.9.8.4', { signer: member });
      store.later(hour);
      store.flash(original, other, named);
      store.later(hour);
      store.indicator('45.9.8.4', { signer: other });
      return (await loadSourceReputation(store, { now, warninglists })).corroboration.get(original);
    };
    assert.equal(await corroborators(true), undefined);
    assert.deepEqual(await corroborators(false), [other]);
  });

  it('the home organisation’s own indicator, released to a member and re-published by it, is not corroborated by it either', async () => {
    const hour = 3_600_000_000;
    const store = new FakeStore();
    const own = store.indicator('45.9.8.5');
    store.later(hour);
    store.release(own, other);
    store.later(hour);
    store.indicator('45.9.8.5', { signer: other });
    assert.equal((await loadSourceReputation(store, { now, warninglists })).corroboration.get(own), undefined);
  });

  it('a copy of what this node released raises no alert’s confidence', async () => {
    const hour = 3_600_000_000;
    const build = (released: boolean): FakeStore => {
      const store = new FakeStore();
      const original = store.indicator('45.9.8.2', { signer: member }, { created_by_ref: member });
      store.later(hour);
      if (released) store.release(original, other);
      store.later(hour);
      store.indicator('45.9.8.2', { signer: other }, { created_by_ref: other });
      return store;
    };
    const alone = new FakeStore();
    alone.indicator('45.9.8.2', { signer: member }, { created_by_ref: member });
    const base = await alertConfidence(alone, '45.9.8.2');
    assert.equal(await alertConfidence(build(true), '45.9.8.2'), base, 'the re-publication after the release adds nothing');
    assert.ok(((await alertConfidence(build(false), '45.9.8.2')) ?? 0) > (base ?? 100), 'an independent one still does');
  });

  it('per collection, a release counts where it was made: through the circle on that collection', async () => {
    const hour = 3_600_000_000;
    const store = new FakeStore();
    const original = store.indicator('45.9.8.3', { signer: member }, { id: 'indicator--00000000-0000-4000-8000-0000000000b1' });
    store.indicator('45.9.8.3', { signer: member }, { id: original }, 'collection--other');
    store.later(hour);
    store.release(original, other, 'collection--other');
    store.later(hour);
    store.indicator('45.9.8.3', { signer: other });
    const report = await loadSourceReputation(store, { now, warninglists, perCollection: true });
    assert.equal(report.corroboration.get(original), undefined, 'node-wide: every release counts');
    // A reader of the circle's collection alone is not told what the node released through another circle.
    assert.deepEqual(report.byCollection?.get(collection)?.corroboration.get(original), [other]);
  });

  it('a member that reports every indicator of another as a false positive costs it one bad indicator', async () => {
    const store = new FakeStore();
    const ids = Array.from({ length: 30 }, (_, i) => store.indicator(`45.9.7.${i}`, { signer: member }));
    const clean = (await loadSourceReputation(store, { now, warninglists })).sources.find((s) => s.source === member)?.reputation ?? 0;
    for (const id of ids) store.add(falsePositive(id, other), { signer: other });
    const disputed = (await loadSourceReputation(store, { now, warninglists })).sources.find((s) => s.source === member);
    assert.equal(disputed?.falsePositives, 30);
    assert.ok((disputed?.reputation ?? 0) >= 0.8 && (disputed?.reputation ?? 1) < clean, `${clean} → ${disputed?.reputation}`);
  });

  it('is deterministic: the same store gives the same report', async () => {
    const store = new FakeStore();
    store.indicator('8.8.8.8', { signer: member });
    store.indicator('45.9.1.1', { signer: member });
    store.indicator('45.9.1.1', { signer: other });
    const first = await loadSourceReputation(store, { now, warninglists });
    const second = await loadSourceReputation(store, { now, warninglists });
    assert.deepEqual(second, first);
  });
});

describe('alert confidence with source reputation', () => {
  it('corroboration raises an indicator’s confidence only when the corroborating signer is another organisation', async () => {
    // The member publishes two indicators in each case, so that only corroboration differs.
    const alone = new FakeStore();
    alone.indicator('45.9.1.1', { signer: member }, { created_by_ref: member });
    alone.indicator('45.9.1.9', { signer: member }, { created_by_ref: member });
    const byItself = new FakeStore();
    byItself.indicator('45.9.1.1', { signer: member }, { created_by_ref: member });
    byItself.indicator('45.9.1.1', { signer: member }, { created_by_ref: 'identity--another-name-it-minted' });
    const byOther = new FakeStore();
    byOther.indicator('45.9.1.1', { signer: member }, { created_by_ref: member });
    byOther.indicator('45.9.1.9', { signer: member }, { created_by_ref: member });
    byOther.indicator('45.9.1.1', { signer: other }, { created_by_ref: other });

    const base = await alertConfidence(alone, '45.9.1.1');
    assert.equal(await alertConfidence(byItself, '45.9.1.1'), base, 'the same member under another name corroborates nothing');
    const corroborated = await alertConfidence(byOther, '45.9.1.1');
    assert.ok((corroborated ?? 0) >= (base ?? 100) + 5, `corroborated by another member: ${corroborated} against ${base}`);
  });

  it('a new source starts at the neutral reputation', async () => {
    const store = new FakeStore();
    store.indicator('45.9.1.1', { signer: member });
    const report = await loadSourceReputation(store, { now, warninglists });
    assert.ok(Math.abs((report.sources[0]?.reputation ?? 0) - neutralReputation) < 0.01);
    assert.equal(await alertConfidence(store, '45.9.1.1'), Math.round(60 * (report.sources[0]?.reputation ?? 0)));
  });

  it('a member that mints 20 identities and sights its own indicator from each adds nothing', async () => {
    const quiet = new FakeStore();
    const loud = new FakeStore();
    for (const store of [quiet, loud]) store.indicator('45.9.1.1', { signer: member }, { id: 'indicator--00000000-0000-4000-8000-0000000000f1', created_by_ref: member });
    for (let i = 0; i < 20; i++) {
      const identity = loud.add({ type: 'identity', name: `Org ${i}`, identity_class: 'organization' }, { signer: member });
      loud.add({ type: 'sighting', sighting_of_ref: 'indicator--00000000-0000-4000-8000-0000000000f1', created_by_ref: identity, where_sighted_refs: [identity] }, { signer: member });
    }
    assert.equal(await alertConfidence(loud, '45.9.1.1'), await alertConfidence(quiet, '45.9.1.1'));
  });

  it('sightings by another member raise it once per member, however many identities it names', async () => {
    const store = new FakeStore();
    store.indicator('45.9.1.1', { signer: member }, { id: 'indicator--00000000-0000-4000-8000-0000000000f2', created_by_ref: member });
    const before = await alertConfidence(store, '45.9.1.1');
    store.add({ type: 'sighting', sighting_of_ref: 'indicator--00000000-0000-4000-8000-0000000000f2', created_by_ref: 'identity--b1' }, { signer: other });
    const once = await alertConfidence(store, '45.9.1.1');
    for (let i = 2; i < 10; i++) store.add({ type: 'sighting', sighting_of_ref: 'indicator--00000000-0000-4000-8000-0000000000f2', created_by_ref: `identity--b${i}` }, { signer: other });
    assert.ok((once ?? 0) > (before ?? 100));
    assert.equal(await alertConfidence(store, '45.9.1.1'), once);
  });

  it('a node in no federation (no peer, no pinned key) reads no provenance: confidence as before', async () => {
    const store = new FakeStore([], false);
    store.indicator('45.9.1.1', { signer: member });
    for (let i = 1; i <= 10; i++) store.indicator(`8.8.8.${i}`, { signer: member });
    assert.equal(await alertConfidence(store, '45.9.1.1'), 60);
  });

  it('warninglist hits and false positives of a source lower the confidence of its other indicators; the home organisation’s own are not discounted', async () => {
    const careless = new FakeStore();
    careless.indicator('45.9.1.1', { signer: member });
    for (let i = 1; i <= 10; i++) careless.indicator(`8.8.8.${i}`, { signer: member });
    const careful = new FakeStore();
    careful.indicator('45.9.1.1', { signer: member });
    assert.ok(((await alertConfidence(careless, '45.9.1.1')) ?? 100) < ((await alertConfidence(careful, '45.9.1.1')) ?? 0));

    const local = new FakeStore();
    local.indicator('45.9.1.1');
    for (let i = 1; i <= 10; i++) local.indicator(`8.8.8.${i}`);
    assert.equal(await alertConfidence(local, '45.9.1.1'), 60);
  });
});
