// The release gate for the home's own readers (not administrators) on the home sightings collection
// (bootstrap-node.ts ensureHomeSightingsCollection). Elsewhere a home reader's grant settles every
// entry unread (open-release-gate.ts homeGate); here each entry is read and decided by
// decideHomeSightingsRelease (policy/decide-release.ts): a sighting only when the indicator it names is
// released to the reader elsewhere, its evidence only with such a sighting. This file loads what that
// decision needs; it decides nothing itself.
import { readHomeOrganisation } from '../bootstrap-node.ts';
import type { ReferenceLookup } from '../policy/decide-circle-release.ts';
import { decideForEveryObject, decideHomeSightingsRelease, type ReleaseDecision } from '../policy/decide-release.ts';
import type { Recipient } from '../policy/recipient.ts';
import { isScoType } from '../stix/ids.ts';
import type { JsonValue, StixObject } from '../stix/types.ts';
import type { ObjectStore, StoredEntry } from '../store/object-store.ts';
import type { ReleaseGate } from './open-release-gate.ts';

export type HomeSightingsGateStore = Pick<ObjectStore, 'listEntries' | 'listCircles' | 'getMeta'>;

type Verdict = ReleaseDecision['kind'] | undefined;
const REFERENCE_KEY = /_refs?$/;
const NOT_REVEALING = new Set(['created_by_ref', 'object_marking_refs']);
const PAGE = 500;
/** How far the evidence is followed from a sighting: observed-data, its observables, what they refer to. */
const MAX_EVIDENCE_DEPTH = 4;

/** The gate for `recipient`, a home reader with a read grant on the home sightings collection `collectionId`. */
export async function openHomeSightingsGate(store: HomeSightingsGateStore, recipient: Recipient, collectionId: string): Promise<ReleaseGate> {
  const home = (await readHomeOrganisation(store))?.id;
  // The collections where the release decision gives the reader the indicator: those it reads under
  // its grants (decideForEveryObject, as every other read of theirs), never this one — a token that
  // may write here must not unlock a sighting by storing an indicator of the same id beside it.
  const readable = [...new Set(recipient.grants.map((grant) => grant.collectionId))].filter(
    (id) => id !== collectionId && decideForEveryObject(recipient, id)?.kind === 'share',
  );
  let circleCollections: Promise<string[]> | undefined;
  const verdicts = new Map<string, Promise<Verdict>>();
  let evidence: Promise<ReadonlySet<string>> | undefined;

  async function versionKeys(collection: string, id: string): Promise<Set<string>> {
    const keys = new Set<string>();
    for (let after: number | undefined, more = true; more; ) {
      const page = await store.listEntries(collection, { ids: [id], versions: [{ kind: 'all' }] }, { limit: PAGE, ...(after === undefined ? {} : { after }) });
      for (const entry of page.entries) keys.add(entry.version);
      more = page.more && page.entries.length > 0;
      after = page.entries.at(-1)?.dateAdded;
    }
    return keys;
  }

  /**
   * The decision about an object a sighting names, for this reader. The home organisation, where every
   * home sighting was made, is known to its readers; the sighting's own evidence (observed-data,
   * observables) is decided by the evidence rule instead. Anything else — the indicator — is released
   * to the reader when a collection it reads holds a version of it that a circle's collection holds
   * too: a home sighting lands here only for a version circles alone held, and the store keeps one
   * content per id and version, so that is the very content sighted (or one of its versions). A
   * version of the same id that some token wrote into a collection it reads is another content and
   * unlocks nothing.
   */
  function lookupOf(id: string): Promise<Verdict> {
    let pending = verdicts.get(id);
    if (pending === undefined) {
      pending = (async (): Promise<Verdict> => {
        if (id === home) return 'share';
        const type = id.slice(0, id.indexOf('--'));
        if (type === 'observed-data' || isScoType(type)) return 'share';
        const held = new Set<string>();
        for (const collection of readable) for (const key of await versionKeys(collection, id)) held.add(key);
        if (held.size === 0) return undefined;
        circleCollections ??= store.listCircles().then((circles) => circles.map((circle) => circle.collectionId));
        for (const collection of await circleCollections) {
          for (const key of await versionKeys(collection, id)) if (held.has(key)) return 'share';
        }
        return undefined;
      })();
      verdicts.set(id, pending);
    }
    return pending;
  }

  async function lookupFor(object: StixObject): Promise<ReferenceLookup> {
    const answers = new Map<string, Verdict>();
    for (const [key, value] of Object.entries(object)) {
      if (!REFERENCE_KEY.test(key) || NOT_REVEALING.has(key)) continue;
      for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'string') answers.set(id, await lookupOf(id));
    }
    return (id) => answers.get(id);
  }

  function decideObject(object: StixObject, entry: Pick<StoredEntry, 'id' | 'type' | 'version'>, lookup: ReferenceLookup, evidenceIds: ReadonlySet<string>): ReleaseDecision {
    return decideHomeSightingsRelease({ id: entry.id, type: entry.type, version: entry.version, object }, recipient, collectionId, lookup, (id) => evidenceIds.has(id));
  }

  /** The ids of the evidence of every sighting here released to the reader: read once per gate, only when an entry other than a sighting is asked about. */
  function evidenceOfReleased(): Promise<ReadonlySet<string>> {
    evidence ??= (async () => {
      const found = new Set<string>();
      let next = new Set<string>();
      for (let after: number | undefined, more = true; more; ) {
        const page = await store.listEntries(collectionId, { types: ['sighting'], versions: [{ kind: 'all' }] }, { limit: PAGE, ...(after === undefined ? {} : { after }) });
        for (const entry of page.entries) {
          const sighting = parseObject(entry.json);
          if (sighting === undefined) continue;
          const decision = decideObject(sighting, entry, await lookupFor(sighting), found);
          if (decision.kind === 'withhold') continue;
          for (const id of referencesIn(sighting['observed_data_refs'])) next.add(id);
        }
        more = page.more && page.entries.length > 0;
        after = page.entries.at(-1)?.dateAdded;
      }
      for (let depth = 0; depth < MAX_EVIDENCE_DEPTH && next.size > 0; depth++) {
        const ids = [...next].filter((id) => !found.has(id));
        for (const id of ids) found.add(id);
        next = new Set<string>();
        for (let start = 0; start < ids.length; start += PAGE) {
          const page = await store.listEntries(collectionId, { ids: ids.slice(start, start + PAGE), versions: [{ kind: 'all' }] }, { limit: 100_000 });
          for (const entry of page.entries) {
            const object = parseObject(entry.json);
            if (object !== undefined) for (const id of namedReferences(object)) if (!found.has(id)) next.add(id);
          }
        }
      }
      return found;
    })();
    return evidence;
  }

  async function decideEntry(entry: StoredEntry): Promise<ReleaseDecision> {
    const object = parseObject(entry.json);
    if (object === undefined) return { kind: 'withhold', reasons: ['object: stored JSON is not an object'] };
    const evidenceIds = object.type === 'sighting' ? new Set<string>() : await evidenceOfReleased();
    return decideObject(object, entry, await lookupFor(object), evidenceIds);
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

/** Every `*_ref(s)` anywhere in an object of the evidence (an observable's extensions refer too), but its creator and markings. */
function namedReferences(value: JsonValue, key = ''): string[] {
  if (REFERENCE_KEY.test(key) && !NOT_REVEALING.has(key)) return referencesIn(value);
  if (Array.isArray(value)) return value.flatMap((item) => namedReferences(item, key));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([inner, item]) => namedReferences(item, inner));
}
