// The release gate for the home's own readers (not administrators) on the home sightings collection
// (bootstrap-node.ts ensureHomeSightingsCollection). Elsewhere a home reader's grant settles every
// entry unread (open-release-gate.ts homeGate); here each entry is read and decided by
// decideHomeSightingsRelease (policy/decide-release.ts): a sighting only when the indicator it names is
// released to the reader elsewhere, its evidence only with such a sighting. This file loads what that
// decision needs; it decides nothing itself. What it reads is bounded by the entries asked about, not
// by the collection (a matching node adds sightings all the time): the evidence is tied to its sighting
// by the store's index of evidence references (ObjectStore.evidenceReferrersOf, one seek a step,
// whatever lies between them), never by a scan of every sighting nor of the entries around it.
import type { ReferenceLookup } from '../policy/decide-circle-release.ts';
import { decideForEveryObject, decideHomeSightingsRelease, type ReleaseDecision } from '../policy/decide-release.ts';
import type { Recipient } from '../policy/recipient.ts';
import { isScoType } from '../stix/ids.ts';
import type { JsonValue, StixObject } from '../stix/types.ts';
import { versionKey, type ObjectStore, type StoredEntry } from '../store/object-store.ts';
import type { ReleaseGate } from './open-release-gate.ts';

export type HomeSightingsGateStore = Pick<ObjectStore, 'listEntries' | 'listCircles' | 'evidenceReferrersOf'>;

type Verdict = ReleaseDecision['kind'] | undefined;
const REFERENCE_KEY = /_refs?$/;
const NOT_REVEALING = new Set(['created_by_ref', 'object_marking_refs']);
const PAGE = 500;
/**
 * How many references are followed from an evidence entry to its sighting: an observable to the
 * observed-data holding it, that to its sighting (the node's observed-data lists every observable of
 * the evidence, those referred to by others included), and one more for an observed-data another names.
 */
const MAX_EVIDENCE_DEPTH = 4;

/** The gate for `recipient`, a home reader with a read grant on the home sightings collection `collectionId`. */
export async function openHomeSightingsGate(store: HomeSightingsGateStore, recipient: Recipient, collectionId: string): Promise<ReleaseGate> {
  // A home reader's organisation is the home organisation (server/authenticate.ts, toRecipient).
  const home = recipient.organisationId;
  // The collections where the release decision gives the reader the indicator: those it reads under
  // its grants (decideForEveryObject, as every other read of theirs), never this one — a token that
  // may write here must not unlock a sighting by storing an indicator of the same id beside it.
  const readable = [...new Set(recipient.grants.map((grant) => grant.collectionId))].filter(
    (id) => id !== collectionId && decideForEveryObject(recipient, id)?.kind === 'share',
  );
  let circleCollections: Promise<string[]> | undefined;
  const verdicts = new Map<string, Promise<Verdict>>();
  const parsed = new Map<string, StixObject | undefined>();
  const sightingVerdicts = new Map<string, Promise<boolean>>();
  /** The first entry naming each entry as evidence (evidenceReferrersOf), by its place in the collection, id and version. */
  const referrers = new Map<string, Promise<StoredEntry | undefined>>();

  /** Every version key each of `ids` has in `collection`, read in batches. */
  async function versionKeys(collection: string, ids: readonly string[]): Promise<Map<string, Set<string>>> {
    const keys = new Map<string, Set<string>>();
    for (let start = 0; start < ids.length; start += PAGE) {
      const batch = ids.slice(start, start + PAGE);
      for (let after: number | undefined, more = true; more; ) {
        const page = await store.listEntries(collection, { ids: batch, versions: [{ kind: 'all' }] }, { limit: PAGE, ...(after === undefined ? {} : { after }) });
        for (const entry of page.entries) {
          const held = keys.get(entry.id) ?? new Set<string>();
          held.add(entry.version);
          keys.set(entry.id, held);
        }
        more = page.more && page.entries.length > 0;
        after = page.entries.at(-1)?.dateAdded;
      }
    }
    return keys;
  }

  /**
   * The decisions about objects sightings name, for this reader, read together for many ids. The home
   * organisation, where every home sighting was made, is known to its readers; the sighting's own
   * evidence (observed-data, observables) is decided by the evidence rule instead. Anything else —
   * the indicator — is released to the reader when a collection it reads holds a version of it that
   * a circle's collection holds too: a home sighting lands here only for a version circles alone
   * held, and the store keeps one content per id and version, so that is the very content sighted (or
   * one of its versions). A version of the same id that some token wrote into a collection it reads
   * is another content and unlocks nothing.
   */
  function resolveVerdicts(ids: Iterable<string>): void {
    const wanted: string[] = [];
    for (const id of new Set(ids)) {
      if (verdicts.has(id)) continue;
      const type = id.slice(0, id.indexOf('--'));
      if (id === home || type === 'observed-data' || isScoType(type)) verdicts.set(id, Promise.resolve('share'));
      else if (readable.length === 0) verdicts.set(id, Promise.resolve(undefined));
      else wanted.push(id);
    }
    if (wanted.length === 0) return;
    const batch = (async (): Promise<ReadonlySet<string>> => {
      const held = new Map<string, Set<string>>();
      for (const collection of readable) {
        for (const [id, keys] of await versionKeys(collection, wanted)) {
          const all = held.get(id) ?? new Set<string>();
          for (const key of keys) all.add(key);
          held.set(id, all);
        }
      }
      const shared = new Set<string>();
      if (held.size === 0) return shared;
      circleCollections ??= store.listCircles().then((circles) => circles.map((circle) => circle.collectionId));
      for (const collection of await circleCollections) {
        for (const [id, keys] of await versionKeys(collection, [...held.keys()])) {
          if ([...keys].some((key) => held.get(id)?.has(key) === true)) shared.add(id);
        }
      }
      return shared;
    })();
    for (const id of wanted) {
      const verdict = batch.then((shared): Verdict => (shared.has(id) ? 'share' : undefined));
      // Read ahead for sightings that may never be decided (the page's room ran out): a failed read
      // is thrown to the decisions that ask for it, not left unhandled.
      verdict.catch(() => undefined);
      verdicts.set(id, verdict);
    }
  }

  function lookupOf(id: string): Promise<Verdict> {
    resolveVerdicts([id]);
    return verdicts.get(id) as Promise<Verdict>;
  }

  async function lookupFor(object: StixObject): Promise<ReferenceLookup> {
    const answers = new Map<string, Verdict>();
    for (const [key, value] of Object.entries(object)) {
      if (!REFERENCE_KEY.test(key) || NOT_REVEALING.has(key)) continue;
      for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'string') answers.set(id, await lookupOf(id));
    }
    return (id) => answers.get(id);
  }

  function decideObject(object: StixObject, entry: Pick<StoredEntry, 'id' | 'type' | 'version'>, lookup: ReferenceLookup, isEvidence: boolean): ReleaseDecision {
    return decideHomeSightingsRelease({ id: entry.id, type: entry.type, version: entry.version, object }, recipient, collectionId, lookup, (id) => isEvidence && id === entry.id);
  }

  // Keyed by version, not dateAdded: search hands the gate stand-in entries that all carry dateAdded 0,
  // and the store keeps one content per id and version.
  function objectOf(entry: StoredEntry): StixObject | undefined {
    const key = versionKey(entry.id, entry.version);
    if (!parsed.has(key)) parsed.set(key, parseObject(entry.json));
    return parsed.get(key);
  }

  /** Whether the sighting read at `entry` is released to the reader (decided once per entry). */
  function sightingReleased(entry: StoredEntry, sighting: StixObject): Promise<boolean> {
    const key = versionKey(entry.id, entry.version);
    let pending = sightingVerdicts.get(key);
    if (pending === undefined) {
      pending = lookupFor(sighting).then((lookup) => decideObject(sighting, entry, lookup, false).kind !== 'withhold');
      sightingVerdicts.set(key, pending);
    }
    return pending;
  }

  /** Rows read: the sightings among them have what they name decided together, not one by one. */
  function took(rows: readonly StoredEntry[]): void {
    const named: string[] = [];
    for (const row of rows) {
      if (row.type !== 'sighting') continue;
      const sighting = objectOf(row);
      if (sighting === undefined) continue;
      for (const [key, value] of Object.entries(sighting)) {
        if (REFERENCE_KEY.test(key) && !NOT_REVEALING.has(key)) named.push(...referencesIn(value));
      }
    }
    resolveVerdicts(named);
  }

  const placeKey = (entry: Pick<StoredEntry, 'id' | 'version' | 'dateAdded'>): string => `${entry.dateAdded}\u0000${versionKey(entry.id, entry.version)}`;

  /**
   * The first entry after each of `entries` naming it as evidence, asked of the store together for
   * those not asked yet (one store call however many), and kept for the decisions. The sightings found
   * have what they name decided together (took).
   */
  async function readReferrers(entries: readonly StoredEntry[]): Promise<StoredEntry[]> {
    const asked = new Map<string, StoredEntry>();
    for (const entry of entries) if (!referrers.has(placeKey(entry))) asked.set(placeKey(entry), entry);
    if (asked.size > 0) {
      const batch = store.evidenceReferrersOf(collectionId, [...asked.values()]);
      [...asked.keys()].forEach((key, index) => {
        const found = batch.then((answers) => answers[index]);
        // Kept for decisions that may never come (the page's room ran out): a failed read is thrown
        // to the decisions that ask for it, and to this call, not left unhandled.
        found.catch(() => undefined);
        referrers.set(key, found);
      });
      await batch;
    }
    const found = (await Promise.all(entries.map((entry) => referrers.get(placeKey(entry))))).filter((entry): entry is StoredEntry => entry !== undefined);
    took(found);
    return found;
  }

  function referrerOf(entry: StoredEntry): Promise<StoredEntry | undefined> {
    const key = placeKey(entry);
    if (!referrers.has(key)) void readReferrers([entry]).catch(() => undefined);
    return referrers.get(key) as Promise<StoredEntry | undefined>;
  }

  /**
   * Whether `entry`, which is not a sighting, is the evidence of a sighting released to the reader:
   * the first entry after it that names it as evidence (an observed-data holding an observable, the
   * sighting naming an observed-data: ObjectStore.evidenceReferrersOf) is found, then the first naming
   * that, until a sighting, at most MAX_EVIDENCE_DEPTH steps, however far apart they were stored.
   * Released only when that sighting is: evidence is decided by the sighting it was written with
   * (the node writes the observables new to the collection, the observed-data and the sighting in one
   * write, in that order: correlate/sighting-objects.ts), never by one that merely names it further on
   * (a later sighting of the same observable, stored once, unlocks nothing); evidence no sighting names
   * is withheld. Bounded: one indexed seek a step, whatever the collection holds.
   */
  async function evidenceReleased(entry: StoredEntry): Promise<boolean> {
    // No stored entry has a dateAdded below 1: a stand-in (search's) has no place to look from.
    if (readable.length === 0 || entry.dateAdded < 1) return false;
    let current = entry;
    for (let step = 0; step < MAX_EVIDENCE_DEPTH; step++) {
      const referrer = await referrerOf(current);
      if (referrer === undefined) return false;
      const object = objectOf(referrer);
      if (object === undefined) return false;
      if (object.type === 'sighting') return await sightingReleased(referrer, object);
      current = referrer;
    }
    return false;
  }

  /** The referrers of a page's evidence, read a step at a time for the whole page (at most MAX_EVIDENCE_DEPTH store calls). */
  async function readChains(entries: readonly StoredEntry[]): Promise<void> {
    if (readable.length === 0) return;
    let level = entries.filter((entry) => entry.type !== 'sighting' && entry.dateAdded >= 1);
    for (let step = 0; step < MAX_EVIDENCE_DEPTH && level.length > 0; step++) {
      level = (await readReferrers(level)).filter((referrer) => referrer.type !== 'sighting');
    }
  }

  async function decideEntry(entry: StoredEntry): Promise<ReleaseDecision> {
    const object = objectOf(entry);
    if (object === undefined) return { kind: 'withhold', reasons: ['object: stored JSON is not an object'] };
    const isEvidence = object.type !== 'sighting' && (await evidenceReleased(entry));
    return decideObject(object, entry, await lookupFor(object), isEvidence);
  }

  return {
    readsObjects: true,
    sharesEveryEntry: false,
    async decide(entry) {
      return await decideEntry(entry);
    },
    async release(entries, room = Number.POSITIVE_INFINITY) {
      const released: StoredEntry[] = [];
      let consumed = 0;
      // What the page's sightings name, decided together, and its evidence's sightings found together.
      took(entries);
      await readChains(entries);
      for (const entry of entries) {
        if (released.length >= room) break;
        consumed += 1;
        if ((await decideEntry(entry)).kind !== 'withhold') released.push(entry);
      }
      // Nothing is audited or signed: nothing leaves for another party.
      return { released, consumed };
    },
  };
}

function parseObject(json: string): StixObject | undefined {
  const value = JSON.parse(json) as JsonValue;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value['id'] === 'string' && typeof value['type'] === 'string'
    ? (value as StixObject)
    : undefined;
}

function referencesIn(value: JsonValue | undefined): string[] {
  return (Array.isArray(value) ? value : [value]).filter((id): id is string => typeof id === 'string');
}

