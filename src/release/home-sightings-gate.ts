// The release gate for the home's own readers (not administrators) on the home sightings collection
// (bootstrap-node.ts ensureHomeSightingsCollection). Elsewhere a home reader's grant settles every
// entry unread (open-release-gate.ts homeGate); here each entry is read and decided by
// decideHomeSightingsRelease (policy/decide-release.ts): a sighting only when the indicator it names is
// released to the reader elsewhere, its evidence only with such a sighting. This file loads what that
// decision needs; it decides nothing itself. What it reads is bounded by the entries asked about, not
// by the collection (a matching node adds sightings all the time): the evidence is tied to its sighting
// by where the node wrote it, just before it (evidenceReleased), never by a scan of every sighting.
import type { ReferenceLookup } from '../policy/decide-circle-release.ts';
import { decideForEveryObject, decideHomeSightingsRelease, type ReleaseDecision } from '../policy/decide-release.ts';
import type { Recipient } from '../policy/recipient.ts';
import { isScoType } from '../stix/ids.ts';
import type { JsonValue, StixObject } from '../stix/types.ts';
import { versionKey, type ObjectStore, type StoredEntry } from '../store/object-store.ts';
import type { ReleaseGate } from './open-release-gate.ts';

export type HomeSightingsGateStore = Pick<ObjectStore, 'listEntries' | 'listCircles'>;

type Verdict = ReleaseDecision['kind'] | undefined;
const REFERENCE_KEY = /_refs?$/;
const NOT_REVEALING = new Set(['created_by_ref', 'object_marking_refs']);
const PAGE = 500;
/** How far evidence is from its sighting: observed-data, its observables, what they refer to (steps of evidenceReleased's chain, plus one). */
const MAX_EVIDENCE_DEPTH = 4;
/**
 * How many entries after an evidence entry its sighting is looked for. The node writes a sighting
 * with its evidence in one write, in the order sightingObjects gives (the observables new to the
 * collection, the observed-data, the sighting: correlate/sighting-objects.ts), and the store keeps
 * that order in dateAdded: a sighting follows its observed-data at once, and its observables by as
 * many entries as the alert's evidence added. Evidence whose sighting is not found so near is withheld.
 * Only after, never before: the node never writes a sighting before its evidence, and the later
 * versions of a sighting (final counts) name the evidence its first version does, which decides.
 */
export const EVIDENCE_WINDOW = 256;
/** Entries read at a time while following the evidence forward: most chains end within a few. */
const READ_AHEAD = 32;

/** Entries of the collection read contiguously from `rows[0]`: every entry after it up to the last, or all of them when `end`. */
interface Segment {
  readonly rows: StoredEntry[];
  end: boolean;
}

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
  const segments: Segment[] = [];
  // Reads of the collection that extend segments run one at a time (decide may be called concurrently).
  let reading: Promise<unknown> = Promise.resolve();

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

  /** The segment holding `entry` and its position there, reading from it when none does; undefined when it is not (or no longer) stored. */
  async function placeOf(entry: StoredEntry): Promise<{ segment: Segment; index: number } | undefined> {
    for (const segment of segments) {
      const first = segment.rows[0];
      const last = segment.rows.at(-1);
      if (first === undefined || last === undefined || entry.dateAdded < first.dateAdded || entry.dateAdded > last.dateAdded) continue;
      const index = indexOf(segment.rows, entry.dateAdded);
      return index === undefined ? undefined : { segment, index };
    }
    const page = await store.listEntries(collectionId, { versions: [{ kind: 'all' }] }, { limit: READ_AHEAD, after: entry.dateAdded - 1 });
    const segment: Segment = { rows: [...page.entries], end: !page.more };
    segments.push(segment);
    took(segment.rows);
    return segment.rows[0]?.dateAdded === entry.dateAdded ? { segment, index: 0 } : undefined;
  }

  /** The row at `index` of `segment`, reading on when it is not read yet; undefined past the collection's end. */
  async function rowAt(segment: Segment, index: number): Promise<StoredEntry | undefined> {
    while (index >= segment.rows.length && !segment.end) {
      const last = segment.rows.at(-1) as StoredEntry;
      const page = await store.listEntries(collectionId, { versions: [{ kind: 'all' }] }, { limit: READ_AHEAD, after: last.dateAdded });
      segment.rows.push(...page.entries);
      segment.end = !page.more || page.entries.length === 0;
      took(page.entries);
    }
    return segment.rows[index];
  }

  /**
   * Whether `entry`, which is not a sighting, is the evidence of a sighting released to the reader:
   * the first entry after it that refers to it (a sighting by observed_data_refs; anything else by a
   * revealing reference: the observed-data holding an observable, an observable referring to
   * another) is found, then the first one referring to that, until a sighting, at most
   * MAX_EVIDENCE_DEPTH steps and all within EVIDENCE_WINDOW entries after `entry`. Released only when
   * that sighting is: evidence is decided by the sighting it was written with, never by one that
   * merely names it further on (a later sighting of the same observable, stored once, unlocks
   * nothing), and whatever is not found so near is withheld. Bounded: it reads no further than the
   * window, whatever the collection holds.
   */
  async function evidenceReleased(entry: StoredEntry): Promise<boolean> {
    // No stored entry has a dateAdded below 1: a stand-in (search's) has no place to look from.
    if (readable.length === 0 || entry.dateAdded < 1) return false;
    const place = await placeOf(entry);
    if (place === undefined) return false;
    const { segment, index } = place;
    const here = segment.rows[index] as StoredEntry;
    if (here.id !== entry.id || here.version !== entry.version) return false;
    let target = entry.id;
    let steps = 0;
    for (let next = index + 1; next <= index + EVIDENCE_WINDOW; next++) {
      const row = await rowAt(segment, next);
      if (row === undefined) return false;
      const object = objectOf(row);
      if (object === undefined) continue;
      if (object.type === 'sighting') {
        if (referencesIn(object['observed_data_refs']).includes(target)) return await sightingReleased(row, object);
        continue;
      }
      if (!namedReferences(object).includes(target)) continue;
      steps += 1;
      if (steps >= MAX_EVIDENCE_DEPTH) return false;
      target = object.id;
    }
    return false;
  }

  function serially<T>(task: () => Promise<T>): Promise<T> {
    const run = reading.then(task);
    reading = run.catch(() => undefined);
    return run;
  }

  async function decideEntry(entry: StoredEntry): Promise<ReleaseDecision> {
    const object = objectOf(entry);
    if (object === undefined) return { kind: 'withhold', reasons: ['object: stored JSON is not an object'] };
    const isEvidence = object.type !== 'sighting' && (await serially(() => evidenceReleased(entry)));
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
      // What the page's sightings name, decided together.
      took(entries);
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

/** The position of the entry added at `dateAdded` in rows in dateAdded order; undefined when none is. */
function indexOf(rows: readonly StoredEntry[], dateAdded: number): number | undefined {
  let low = 0;
  let high = rows.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const at = (rows[middle] as StoredEntry).dateAdded;
    if (at === dateAdded) return middle;
    if (at < dateAdded) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
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

/** Every `*_ref(s)` anywhere in an object of the evidence (an observable's extensions refer too), but its creator and markings. */
function namedReferences(value: JsonValue, key = ''): string[] {
  if (REFERENCE_KEY.test(key) && !NOT_REVEALING.has(key)) return referencesIn(value);
  if (Array.isArray(value)) return value.flatMap((item) => namedReferences(item, key));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([inner, item]) => namedReferences(item, inner));
}
