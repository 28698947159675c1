import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { versionKey, type Contribution, type StoredEntry } from '../store/object-store.ts';
import { homeWrittenIn, type HomeWrittenStore } from './home-written.ts';

const BANK = 'identity--b0000000-0000-4000-8000-0000000000b0';
const HERE = 'collection-here';

function entry(n: number): StoredEntry {
  const id = `observed-data--d0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  return { id, type: 'observed-data', version: '2026-06-01T00:00:00.000Z', specVersion: '2.1', dateAdded: n, revoked: false, json: '{}' };
}

/** A store answering from facts per entry, counting its calls and the versions homeOriginalsIn was asked about. */
function storeOf(facts: ReadonlyMap<StoredEntry, { contributions?: Contribution[]; homeOriginal?: boolean }>): HomeWrittenStore & { calls: string[]; askedOriginals: number } {
  const byKey = new Map([...facts].map(([e, f]) => [versionKey(e.id, e.version), f]));
  const store = {
    calls: [] as string[],
    askedOriginals: 0,
    async contributionsOfEntries(_collectionId: string, entries: readonly StoredEntry[]) {
      store.calls.push('contributionsOfEntries');
      const found = new Map<string, Contribution[]>();
      for (const e of entries) {
        const contributions = byKey.get(versionKey(e.id, e.version))?.contributions;
        if (contributions !== undefined) found.set(versionKey(e.id, e.version), contributions);
      }
      return found;
    },
    async homeOriginalsIn(versions: readonly { readonly id: string; readonly version: string }[]) {
      store.calls.push('homeOriginalsIn');
      store.askedOriginals += versions.length;
      return versions.map((v) => byKey.get(versionKey(v.id, v.version))?.homeOriginal === true);
    },
  };
  return store;
}

describe('observed-data the home organisation wrote into a collection', () => {
  const homeWrote = entry(1);
  const partnerPostedHere = entry(2);
  const partnerSentFirstElsewhere = entry(3);
  const homeWroteFirstPartnerResentElsewhere = entry(4);
  const partnerSentHereAfterHome = entry(5);
  const facts = new Map([
    [homeWrote, { homeOriginal: true }],
    [partnerPostedHere, { contributions: [{ collectionId: HERE, organisationId: BANK, arrivalOnwardSharing: 'none' as const }] }],
    [partnerSentFirstElsewhere, { contributions: [{ collectionId: 'elsewhere', organisationId: BANK, arrivalOnwardSharing: 'none' as const }], homeOriginal: false }],
    [homeWroteFirstPartnerResentElsewhere, { contributions: [{ collectionId: 'elsewhere', organisationId: BANK, arrivalOnwardSharing: 'none' as const }], homeOriginal: true }],
    [partnerSentHereAfterHome, { contributions: [{ collectionId: HERE, organisationId: BANK, arrivalOnwardSharing: 'none' as const }], homeOriginal: true }],
  ]);

  it('is what no partner contributed here and the home stored before any partner sent it', async () => {
    const entries = [...facts.keys()];
    assert.deepEqual(await homeWrittenIn(storeOf(facts), HERE, entries), [true, false, false, true, false]);
  });

  it('is read for a whole page in two store calls, asking about originals only for what no partner sent here', async () => {
    const store = storeOf(facts);
    await homeWrittenIn(store, HERE, [...facts.keys()]);
    assert.deepEqual(store.calls, ['contributionsOfEntries', 'homeOriginalsIn']);
    assert.equal(store.askedOriginals, 3);
  });

  it('asks nothing for an empty page, and no originals when partners sent every entry here', async () => {
    const store = storeOf(facts);
    assert.deepEqual(await homeWrittenIn(store, HERE, []), []);
    assert.deepEqual(await homeWrittenIn(store, HERE, [partnerPostedHere, partnerSentHereAfterHome]), [false, false]);
    assert.deepEqual(store.calls, ['contributionsOfEntries']);
  });
});
