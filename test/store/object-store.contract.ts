import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { metaKeys } from '../../src/bootstrap-node.ts';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import { ENTENTE_SIGNATURE_EXTENSION_ID } from '../../src/stix/entente-signature.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type {
  ArrivedObject,
  FlashRecord,
  NewQuarantineItem,
  NewReceivedRecall,
  NodeKeyRecord,
  PeerRecord,
  PinnedKeyRecord,
  ProvenanceRecord,
  ReceivedRecallVersion,
  SyncBatch,
} from '../../src/store/federation-store.ts';
import { versionKey } from '../../src/store/object-store.ts';
import type { AddOutcome, EntryFilter, ObjectStore, RecallNotice, SearchOrder, StoredEntry } from '../../src/store/object-store.ts';

export interface ContractStoreOptions {
  /** The store must take every dateAdded from this clock (and its own monotonic rule). */
  readonly clock: () => Date;
}

/**
 * The specification every ObjectStore implementation meets. `open` returns a fresh, empty store
 * each time it is called; the suite closes it.
 */
export function runObjectStoreContract(name: string, open: (options: ContractStoreOptions) => Promise<ObjectStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let now: Date;
    const clock = (): Date => now;

    beforeEach(async () => {
      now = new Date('2025-03-01T12:00:00.000Z');
      store = await open({ clock });
      await store.createCollection({ id: 'alpha', title: 'Alpha' }, now);
      await store.createCollection({ id: 'beta', title: 'Beta', description: 'second', alias: 'b' }, now);
    });

    afterEach(async () => {
      await store.close();
    });

    const all = async (collectionId: string, filter: EntryFilter = {}): Promise<StoredEntry[]> =>
      (await store.listEntries(collectionId, filter, { limit: 10_000 })).entries.slice();
    const keysOf = (entries: readonly StoredEntry[]): string[] => entries.map((entry) => `${entry.id}@${entry.version}`);

    describe('collections', () => {
      it('creates, reads and lists collections in creation order', async () => {
        const beta = await store.getCollection('beta');
        assert.equal(beta?.title, 'Beta');
        assert.equal(beta?.description, 'second');
        assert.equal(beta?.alias, 'b');
        assert.deepEqual(beta?.mediaTypes, ['application/stix+json;version=2.1']);
        assert.equal(beta?.createdAt, '2025-03-01T12:00:00.000Z');
        assert.deepEqual((await store.listCollections()).map((collection) => collection.id), ['alpha', 'beta']);
        assert.equal(await store.getCollection('nope'), undefined);
      });

      it('refuses a second collection with the same id', async () => {
        await assertRejectsWith(store.createCollection({ id: 'alpha', title: 'Again' }, now), 'ENT_COLLECTION_EXISTS');
      });

      // Lookups by name (findCollection, token grants, --collection) try ids before aliases: a new
      // collection whose id is another's alias would take that name over, and one whose alias is
      // another's id would never be found by it. Ids and aliases share one namespace.
      it("refuses a collection whose id is another collection's alias, or whose alias is another's id or alias", async () => {
        await assertRejectsWith(store.createCollection({ id: 'b', title: 'Takes the alias of beta' }, now), 'ENT_COLLECTION_EXISTS');
        await assertRejectsWith(store.createCollection({ id: 'gamma', title: 'Aliased as alpha', alias: 'alpha' }, now), 'ENT_COLLECTION_EXISTS');
        await assertRejectsWith(store.createCollection({ id: 'gamma', title: 'Aliased as beta', alias: 'b' }, now), 'ENT_COLLECTION_EXISTS');
        assert.deepEqual((await store.listCollections()).map((collection) => collection.id), ['alpha', 'beta'], 'nothing was created');
        const gamma = await store.createCollection({ id: 'gamma', title: 'Gamma', alias: 'g' }, now);
        assert.equal(gamma.alias, 'g');
      });

      it('keeps all that work run exclusively wrote when it resolves, and none of it when it throws', async () => {
        const kept = await store.exclusively(async () => {
          await store.setMeta('contract.together', 'one');
          return store.createCollection({ id: 'together', title: 'Together' }, now);
        });
        assert.equal(kept.id, 'together');
        assert.equal(await store.getMeta('contract.together'), 'one');
        await assertRejectsWith(
          store.exclusively(async () => {
            await store.setMeta('contract.together', 'two');
            await store.createCollection({ id: 'apart', title: 'Apart' }, now);
            // The first start stops half-way (a collection by that id exists): nothing it did stays.
            await store.createCollection({ id: 'alpha', title: 'Again' }, now);
          }),
          'ENT_COLLECTION_EXISTS',
        );
        assert.equal(await store.getMeta('contract.together'), 'one');
        assert.equal(await store.getCollection('apart'), undefined);
      });

      it('makes a recorded collection once, under its meta key, and hands back the recorded one afterwards', async () => {
        const made = await store.recordedCollection('contract.kept', { id: 'kept', alias: 'k', title: 'Kept' }, now);
        assert.equal(made.alias, 'k');
        assert.equal(await store.getMeta('contract.kept'), 'kept');
        const again = await store.recordedCollection('contract.kept', { id: 'other', alias: 'o', title: 'Other' }, now);
        assert.deepEqual(again, made, 'the recorded collection, and no new one');
        assert.deepEqual((await store.listCollections()).map((collection) => collection.id), ['alpha', 'beta', 'kept']);
        // A name another collection answers to is left out rather than refused: the key must name one.
        const unnamed = await store.recordedCollection('contract.unnamed', { id: 'unnamed', alias: 'b', title: 'Unnamed' }, now);
        assert.equal(unnamed.alias, undefined);
        assert.equal(await store.getMeta('contract.unnamed'), 'unnamed');
        // A key naming a collection that is gone is recorded afresh.
        await store.setMeta('contract.gone', 'never-made');
        assert.equal((await store.recordedCollection('contract.gone', { id: 'fresh', title: 'Fresh' }, now)).id, 'fresh');
        assert.equal(await store.getMeta('contract.gone'), 'fresh');
      });

      it('refuses objects for a collection that does not exist', async () => {
        await assertRejectsWith(store.addObjects('nope', [indicator(1)]), 'ENT_COLLECTION_NOT_FOUND');
      });

      it('stores an object under a meta key once: the key answers with the object it recorded', async () => {
        const first = indicator(1);
        const made = await store.recordedObject('contract.object', 'alpha', first);
        assert.deepEqual([made.id, made.outcome?.kind], [first.id, 'added']);
        assert.equal(await store.getMeta('contract.object'), first.id);
        const again = await store.recordedObject('contract.object', 'alpha', indicator(2));
        assert.deepEqual(again, { id: first.id, outcome: undefined }, 'the recorded object, and no new one');
        assert.deepEqual((await store.listEntries('alpha', {}, { limit: 10 })).entries.map((entry) => entry.id), [first.id]);
        // A refused object is not recorded: the key stays free for one that is stored.
        const conflicting = { ...first, name: 'other content, same id and modified' };
        const refused = await store.recordedObject('contract.refused', 'alpha', conflicting);
        assert.equal(refused.outcome?.kind, 'rejected');
        assert.equal(await store.getMeta('contract.refused'), undefined);
      });
    });

    describe('adding objects', () => {
      it('returns one outcome per object in input order', async () => {
        const objects = [indicator(1), indicator(2), indicator(3)];
        const outcomes = await store.addObjects('alpha', objects);
        assert.deepEqual(
          outcomes.map((outcome) => [outcome.kind, outcome.id, outcome.version]),
          objects.map((object) => ['added', object.id, object['modified']]),
        );
      });

      it('stores the JSON text so that it parses back to the same object', async () => {
        const object = malware(1, { name: 'Émotet "quoted" \u2028 line' });
        await store.addObjects('alpha', [object]);
        const [entry] = await all('alpha');
        assert.deepEqual(JSON.parse(entry?.json ?? 'null'), object);
        assert.equal(entry?.type, 'malware');
        assert.equal(entry?.specVersion, '2.1');
        assert.equal(entry?.revoked, false);
      });

      it('treats the same id and version with the same content as an idempotent duplicate, whatever the key order', async () => {
        const object = indicator(1);
        const reordered = Object.fromEntries(Object.entries(object).reverse()) as StixObject;
        await store.addObjects('alpha', [object]);
        const outcomes = await store.addObjects('alpha', [object, reordered]);
        assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['duplicate', 'duplicate']);
        assert.equal((await all('alpha')).length, 1);
      });

      it('treats a repeat inside one batch as a duplicate', async () => {
        const outcomes = await store.addObjects('alpha', [indicator(1), indicator(1)]);
        assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['added', 'duplicate']);
      });

      it('rejects the same id and version with different content, naming id and version', async () => {
        const original = indicator(1);
        await store.addObjects('alpha', [original]);
        const [outcome] = await store.addObjects('beta', [{ ...original, confidence: 10 }]);
        assert.equal(outcome?.kind, 'rejected');
        if (outcome?.kind !== 'rejected') return;
        assert.equal(outcome.code, 'ENT_OBJECT_VERSION_CONFLICT');
        assert.match(outcome.message, new RegExp(escapeRegExp(original.id)));
        assert.match(outcome.message, new RegExp(escapeRegExp(String(original['modified']))));
        assert.equal((await all('beta')).length, 0);
      });

      it('treats a copy that differs only by its Entente signature as the same version (a version sent unsigned, relayed back signed)', async () => {
        const original = indicator(1);
        await store.addObjects('alpha', [original]);
        const signedCopy = {
          ...original,
          extensions: { [ENTENTE_SIGNATURE_EXTENSION_ID]: { extension_type: 'property-extension', algorithm: 'Ed25519', signer: 'identity--0b000000-0000-4000-8000-000000000002', key_id: 'AAAAAAAAAAAAAAAAAAAAAA', signature: 'c2ln' } },
        };
        const [again] = await store.addObjects('alpha', [signedCopy]);
        assert.equal(again?.kind, 'duplicate');
        const [elsewhere] = await store.addObjects('beta', [signedCopy]);
        assert.equal(elsewhere?.kind, 'added');
        const [otherExtension] = await store.addObjects('beta', [{ ...original, extensions: { 'extension-definition--00000000-0000-4000-8000-000000000001': { extension_type: 'property-extension', x: 1 } } }]);
        assert.equal(otherExtension?.kind === 'rejected' ? otherExtension.code : otherExtension?.kind, 'ENT_OBJECT_VERSION_CONFLICT', 'any other extension is content');
      });

      it('adds a version already held by another collection to this one with its own dateAdded', async () => {
        const object = indicator(1);
        const [inAlpha] = await store.addObjects('alpha', [object]);
        now = new Date(now.getTime() + 5000);
        const [inBeta] = await store.addObjects('beta', [object]);
        assert.equal(inBeta?.kind, 'added');
        assert.ok(inAlpha?.kind === 'added' && inBeta?.kind === 'added' && inBeta.dateAdded > inAlpha.dateAdded);
        assert.deepEqual(keysOf(await all('beta')), keysOf(await all('alpha')));
      });

      it('gives unversioned objects (SCOs) a fixed version so that re-adding them is a duplicate', async () => {
        const sco: StixObject = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' };
        await store.addObjects('alpha', [sco]);
        const [again] = await store.addObjects('alpha', [sco]);
        assert.equal(again?.kind, 'duplicate');
      });
    });

    describe('dateAdded', () => {
      it('is the clock in microseconds when the clock moves forward', async () => {
        const [outcome] = await store.addObjects('alpha', [indicator(1)]);
        assert.ok(outcome?.kind === 'added');
        assert.equal(outcome.dateAdded, now.getTime() * 1000);
      });

      it('strictly increases within a collection even with a frozen clock', async () => {
        const outcomes = [
          ...(await store.addObjects('alpha', [indicator(1), indicator(2), indicator(3)])),
          ...(await store.addObjects('alpha', [indicator(4)])),
        ];
        assertStrictlyIncreasing(outcomes.map(dateAddedOf));
      });

      it('strictly increases within a collection when the clock runs backwards', async () => {
        const first = await store.addObjects('alpha', [indicator(1), indicator(2)]);
        now = new Date(now.getTime() - 3_600_000);
        const second = await store.addObjects('alpha', [indicator(3)]);
        assertStrictlyIncreasing([...first, ...second].map(dateAddedOf));
      });

      it('stays strictly increasing when the clock returns an invalid date', async () => {
        const first = await store.addObjects('alpha', [indicator(1)]);
        now = new Date(Number.NaN);
        const second = await store.addObjects('alpha', [indicator(2)]);
        assertStrictlyIncreasing([...first, ...second].map(dateAddedOf));
      });

      it('is never reused after the newest entry is deleted', async () => {
        const [first] = await store.addObjects('alpha', [indicator(1)]);
        await store.deleteObject('alpha', indicator(1).id, {});
        const [second] = await store.addObjects('alpha', [indicator(2)]);
        assert.ok(dateAddedOf(second) > dateAddedOf(first));
      });

      it('lists entries oldest dateAdded first, never by STIX timestamps', async () => {
        const late = indicator(1, { modified: '2030-01-01T00:00:00.000Z' });
        const early = indicator(2, { modified: '2001-01-01T00:00:00.000Z' });
        await store.addObjects('alpha', [late, early]);
        assert.deepEqual((await all('alpha')).map((entry) => entry.id), [late.id, early.id]);
      });
    });

    describe('keyset pagination', () => {
      it('walks all entries in pages with no gap or repeat and reports more correctly', async () => {
        await store.addObjects('alpha', range(25).map((n) => indicator(n)));
        const pages: StoredEntry[][] = [];
        const mores: boolean[] = [];
        let after: number | undefined;
        for (;;) {
          const page = await store.listEntries('alpha', {}, after === undefined ? { limit: 10 } : { limit: 10, after });
          pages.push(page.entries.slice());
          mores.push(page.more);
          if (!page.more) break;
          after = page.entries.at(-1)?.dateAdded;
        }
        assert.deepEqual(pages.map((page) => page.length), [10, 10, 5]);
        assert.deepEqual(mores, [true, true, false]);
        assert.deepEqual(keysOf(pages.flat()), keysOf(await all('alpha')));
      });

      it('reports no more when the last page is exactly full', async () => {
        await store.addObjects('alpha', range(10).map((n) => indicator(n)));
        const page = await store.listEntries('alpha', {}, { limit: 10 });
        assert.equal(page.entries.length, 10);
        assert.equal(page.more, false);
      });

      it('sees every entry exactly once while new objects keep arriving between pages', async () => {
        await store.addObjects('alpha', range(30).map((n) => indicator(n)));
        const seen: StoredEntry[] = [];
        let after: number | undefined;
        let arrivals = 100;
        for (let guard = 0; guard < 100; guard += 1) {
          const page = await store.listEntries('alpha', {}, after === undefined ? { limit: 7 } : { limit: 7, after });
          seen.push(...page.entries);
          after = page.entries.at(-1)?.dateAdded ?? after;
          if (arrivals < 112) {
            now = new Date(now.getTime() + 1);
            await store.addObjects('alpha', [indicator(arrivals), indicator(arrivals + 1), indicator(arrivals + 2)]);
            arrivals += 3;
          } else if (!page.more) break;
        }
        assert.equal(seen.length, 42);
        assert.equal(new Set(keysOf(seen)).size, 42);
        assertStrictlyIncreasing(seen.map((entry) => entry.dateAdded));
      });

      it('returns nothing past the last entry', async () => {
        const [outcome] = await store.addObjects('alpha', [indicator(1)]);
        const page = await store.listEntries('alpha', {}, { limit: 5, after: dateAddedOf(outcome) });
        assert.deepEqual(page, { entries: [], more: false });
      });
    });

    describe('version selectors', () => {
      const v1 = indicator(7, { modified: '2024-01-01T00:00:00.000Z' });
      const v2 = indicator(7, { modified: '2024-02-01T00:00:00.000Z' });
      const v3 = indicator(7, { modified: '2024-03-01T00:00:00.000Z' });
      const other = indicator(8);

      beforeEach(async () => {
        // Arrival order differs from version order on purpose.
        await store.addObjects('alpha', [v2, other]);
        await store.addObjects('alpha', [v3]);
        await store.addObjects('alpha', [v1]);
      });

      const versionsOf = async (filter: EntryFilter): Promise<string[]> =>
        (await all('alpha', { ...filter, ids: [v1.id] })).map((entry) => entry.version);

      it('defaults to the last version of each object', async () => {
        assert.deepEqual(keysOf(await all('alpha')), [`${other.id}@${String(other['modified'])}`, `${v1.id}@2024-03-01T00:00:00.000Z`]);
      });

      it('reads the latest version every collection holds of many ids in one call (latestEntriesByCollection)', async () => {
        await store.addObjects('beta', [v1]);
        const held = await store.latestEntriesByCollection([v1.id, other.id, indicator(9).id]);
        const latestIn = (collectionId: string): string[] => keysOf([...(held.get(collectionId)?.values() ?? [])]).sort();
        assert.deepEqual([...held.keys()].sort(), ['alpha', 'beta']);
        assert.deepEqual(latestIn('alpha'), [`${other.id}@${String(other['modified'])}`, `${v1.id}@2024-03-01T00:00:00.000Z`].sort());
        assert.deepEqual(latestIn('beta'), [`${v1.id}@2024-01-01T00:00:00.000Z`]);
        assert.deepEqual(held.get('alpha')?.get(v1.id), (await all('alpha', { ids: [v1.id] }))[0]);
        await store.deleteObject('alpha', v1.id, { versions: [{ kind: 'last' }] });
        assert.equal((await store.latestEntriesByCollection([v1.id])).get('alpha')?.get(v1.id)?.version, '2024-02-01T00:00:00.000Z');
        assert.equal((await store.latestEntriesByCollection([])).size, 0);
      });

      it('selects the first, all, or an exact version', async () => {
        assert.deepEqual(await versionsOf({ versions: [{ kind: 'first' }] }), ['2024-01-01T00:00:00.000Z']);
        assert.deepEqual(await versionsOf({ versions: [{ kind: 'all' }] }), [
          '2024-02-01T00:00:00.000Z',
          '2024-03-01T00:00:00.000Z',
          '2024-01-01T00:00:00.000Z',
        ]);
        assert.deepEqual(await versionsOf({ versions: [{ kind: 'at', version: '2024-02-01T00:00:00.000Z' }] }), ['2024-02-01T00:00:00.000Z']);
        assert.deepEqual(await versionsOf({ versions: [{ kind: 'at', version: '1999-01-01T00:00:00.000Z' }] }), []);
        // A timestamp names an instant: any spelling of it finds the version, however it was written.
        assert.deepEqual(await versionsOf({ versions: [{ kind: 'at', version: '2024-02-01T00:00:00Z' }] }), ['2024-02-01T00:00:00.000Z']);
        assert.deepEqual(await versionsOf({ versions: [{ kind: 'at', version: '2024-02-01T00:00:00.000000Z' }] }), ['2024-02-01T00:00:00.000Z']);
      });

      it('ORs several selectors', async () => {
        assert.deepEqual(await versionsOf({ versions: [{ kind: 'first' }, { kind: 'last' }] }), [
          '2024-03-01T00:00:00.000Z',
          '2024-01-01T00:00:00.000Z',
        ]);
        assert.deepEqual(
          await versionsOf({ versions: [{ kind: 'last' }, { kind: 'at', version: '2024-02-01T00:00:00.000Z' }] }),
          ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
        );
      });

      it('orders versions in time even when fractional seconds differ in length', async () => {
        const coarse = malware(3, { modified: '2024-05-01T00:00:00Z' });
        const fine = malware(3, { modified: '2024-05-01T00:00:00.5Z' });
        await store.addObjects('beta', [fine, coarse]);
        const [last] = (await store.listEntries('beta', {}, { limit: 5 })).entries;
        assert.equal(last?.version, '2024-05-01T00:00:00.5Z');
      });

      it('keeps first and last right per collection', async () => {
        await store.addObjects('beta', [v2]);
        const [onlyInBeta] = await all('beta', { versions: [{ kind: 'first' }] });
        assert.equal(onlyInBeta?.version, '2024-02-01T00:00:00.000Z');
        assert.equal((await all('beta', { versions: [{ kind: 'last' }] }))[0]?.version, '2024-02-01T00:00:00.000Z');
      });

      it('lists all versions of one object with listVersions, paged, with addedAfter', async () => {
        const first = await store.listVersions('alpha', v1.id, {}, { limit: 2 });
        assert.deepEqual(first.entries.map((entry) => entry.version), ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
        assert.equal(first.more, true);
        const second = await store.listVersions('alpha', v1.id, {}, { limit: 2, after: first.entries.at(-1)?.dateAdded ?? 0 });
        assert.deepEqual(second.entries.map((entry) => entry.version), ['2024-01-01T00:00:00.000Z']);
        assert.equal(second.more, false);
        const afterFirst = await store.listVersions('alpha', v1.id, { addedAfter: first.entries[0]?.dateAdded ?? 0 }, { limit: 10 });
        assert.equal(afterFirst.entries.length, 2);
        assert.deepEqual((await store.listVersions('alpha', 'indicator--00000000-0000-4000-8000-000000000000', {}, { limit: 10 })).entries, []);
      });
    });

    describe('pages as texts (listEntryTexts)', () => {
      it('are listEntries pages joined: same texts in the same order, same range and same more, for any filter, limit and cursor', async () => {
        const versionStrings = ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'];
        const objects: StixObject[] = [];
        for (let n = 0; n < 12; n += 1) {
          const make = n % 3 === 0 ? malware : indicator;
          // Versions arrive out of order, so that first and last are not simply the order of arrival.
          for (const version of n % 2 === 0 ? [2, 0, 1] : [1]) objects.push(make(n, { modified: versionStrings[version] ?? '' }));
        }
        for (const object of objects) {
          now = new Date(now.getTime() + 1);
          await store.addObjects('alpha', [object]);
        }
        const dates = (await all('alpha', { versions: [{ kind: 'all' }] })).map((entry) => entry.dateAdded);
        const ids = [...new Set(objects.map((object) => object.id))];
        const filter = fc.record(
          {
            types: fc.subarray(['indicator', 'malware', 'tool'], { minLength: 1 }),
            versions: fc.subarray<EntryFilter['versions'] & object>(
              [[{ kind: 'first' }], [{ kind: 'last' }], [{ kind: 'all' }], [{ kind: 'at', version: '2024-02-01T00:00:00Z' }]],
              { minLength: 1, maxLength: 1 },
            ).map((picked) => picked[0] ?? []),
            ids: fc.subarray(ids, { minLength: 1 }),
            addedAfter: fc.constantFrom(...dates),
          },
          { requiredKeys: [] },
        );
        await fc.assert(
          fc.asyncProperty(filter, fc.integer({ min: 1, max: 30 }), fc.option(fc.constantFrom(...dates), { nil: undefined }), async (picked, limit, after) => {
            const page = after === undefined ? { limit } : { limit, after };
            const expected = await store.listEntries('alpha', picked, page);
            const texts = await store.listEntryTexts('alpha', picked, page);
            assert.equal(texts.objectsJson, expected.entries.map((entry) => entry.json).join(','));
            assert.equal(texts.count, expected.entries.length);
            assert.equal(texts.firstDateAdded, expected.entries[0]?.dateAdded);
            assert.equal(texts.lastDateAdded, expected.entries.at(-1)?.dateAdded);
            assert.equal(texts.more, expected.more);
          }),
          { numRuns: 150 },
        );
      });

      it('walk a collection page by page like listEntries and say where it ends', async () => {
        await store.addObjects('alpha', range(25).map((n) => indicator(n)));
        const walked: string[] = [];
        let after: number | undefined;
        for (let guard = 0; guard < 10; guard += 1) {
          const page = await store.listEntryTexts('alpha', {}, after === undefined ? { limit: 10 } : { limit: 10, after });
          walked.push(page.objectsJson);
          if (!page.more) break;
          after = page.lastDateAdded;
        }
        assert.equal(walked.length, 3);
        assert.deepEqual(JSON.parse(`[${walked.join(',')}]`), (await all('alpha')).map((entry) => JSON.parse(entry.json) as unknown));
        const empty = await store.listEntryTexts('alpha', { types: ['tool'] }, { limit: 10 });
        assert.deepEqual(empty, { objectsJson: '', count: 0, firstDateAdded: undefined, lastDateAdded: undefined, more: false });
        await assertRejectsWith(store.listEntryTexts('nope', {}, { limit: 10 }), 'ENT_COLLECTION_NOT_FOUND');
      });
    });

    describe('scans for background passes (scanEntries)', () => {
      it('examine the next entries after the cursor and return those that pass, as listEntries would filter them', async () => {
        const versionStrings = ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'];
        for (let n = 0; n < 14; n += 1) {
          for (const version of n % 3 === 0 ? [1, 0] : [0]) {
            now = new Date(now.getTime() + 1);
            const overrides: Partial<StixObject> = { modified: versionStrings[version] ?? '' };
            if (n % 4 === 1) overrides['revoked'] = true;
            if (n % 5 === 2) overrides['description'] = 'carries the MARKER text';
            await store.addObjects('alpha', [indicator(n, overrides)]);
          }
        }
        const every = await all('alpha', { versions: [{ kind: 'all' }] });
        const dates = every.map((entry) => entry.dateAdded);
        await fc.assert(
          fc.asyncProperty(
            fc.option(fc.constantFrom(...dates), { nil: undefined }),
            fc.integer({ min: 1, max: 25 }),
            fc.boolean(),
            fc.option(fc.constantFrom('MARKER', '"revoked"', 'absent anywhere'), { nil: undefined }),
            async (after, examine, revokedOnly, textWithout) => {
              const window = every.filter((entry) => after === undefined || entry.dateAdded > after).slice(0, examine);
              const scan = await store.scanEntries('alpha', {
                ...(after === undefined ? {} : { after }),
                examine,
                ...(revokedOnly ? { revokedOnly } : {}),
                ...(textWithout === undefined ? {} : { textWithout }),
              });
              const passing = window.filter((entry) => (!revokedOnly || entry.revoked) && (textWithout === undefined || !entry.json.includes(textWithout)));
              assert.deepEqual(scan.entries, passing);
              assert.equal(scan.examined, window.length);
              assert.equal(scan.scannedTo, window.at(-1)?.dateAdded);
              assert.equal(scan.more, window.length === examine);
            },
          ),
          { numRuns: 150 },
        );
      });

      it('followed from scannedTo, see every entry once, also those added between scans', async () => {
        await store.addObjects('alpha', range(7).map((n) => indicator(n, n % 2 === 0 ? { revoked: true } : {})));
        const seen: string[] = [];
        let after: number | undefined;
        let examined = 0;
        for (let round = 0; round < 20; round += 1) {
          const scan = await store.scanEntries('alpha', { ...(after === undefined ? {} : { after }), examine: 3, revokedOnly: true });
          if (round === 1) await store.addObjects('alpha', range(4).map((n) => indicator(100 + n, { revoked: true })));
          examined += scan.examined;
          seen.push(...scan.entries.map((entry) => entry.id));
          if (scan.scannedTo === undefined) break;
          after = scan.scannedTo;
        }
        assert.equal(examined, 11);
        assert.deepEqual(seen, [0, 2, 4, 6, 100, 101, 102, 103].map((n) => indicator(n).id));
        const done = await store.scanEntries('alpha', { ...(after === undefined ? {} : { after }), examine: 3 });
        assert.deepEqual(done, { entries: [], examined: 0, scannedTo: undefined, more: false });
        await assertRejectsWith(store.scanEntries('nope', { examine: 3 }), 'ENT_COLLECTION_NOT_FOUND');
      });
    });

    describe('first and last under any sequence of adds and deletes', () => {
      it('agree with a model that keeps the versions of each object', async () => {
        const versionStrings = ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00.1Z', '2024-01-01T00:00:00.25Z', '2024-01-01T00:00:01.000Z', '2024-01-02T00:00:00.000Z'];
        const operation = fc.record({ remove: fc.boolean(), object: fc.integer({ min: 0, max: 2 }), version: fc.integer({ min: 0, max: 4 }) });
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(operation, { maxLength: 25 }), async (operations) => {
            run += 1;
            const collectionId = `model-${run}`;
            await store.createCollection({ id: collectionId, title: collectionId }, now);
            const model = new Map<string, Set<number>>();
            for (const step of operations) {
              const object = malware(1000 + step.object, { modified: versionStrings[step.version] ?? '' });
              const held = model.get(object.id) ?? new Set<number>();
              if (step.remove) {
                await store.deleteObject(collectionId, object.id, { versions: [{ kind: 'at', version: String(object['modified']) }] });
                held.delete(step.version);
              } else {
                await store.addObjects(collectionId, [object]);
                held.add(step.version);
              }
              model.set(object.id, held);
            }
            const expected = (pick: (versions: number[]) => number): string[] =>
              [...model.entries()]
                .filter(([, held]) => held.size > 0)
                .map(([id, held]) => `${id}@${versionStrings[pick([...held])] ?? ''}`)
                .sort();
            const actual = async (kind: 'first' | 'last'): Promise<string[]> => keysOf(await all(collectionId, { versions: [{ kind }] })).sort();
            assert.deepEqual(await actual('last'), expected((versions) => Math.max(...versions)));
            assert.deepEqual(await actual('first'), expected((versions) => Math.min(...versions)));
            const versionCount = [...model.values()].reduce((sum, held) => sum + held.size, 0);
            assert.deepEqual(await store.countEntries(collectionId), { objects: expected((versions) => Math.max(...versions)).length, versions: versionCount });
          }),
          { numRuns: 40 },
        );
      });
    });

    describe('filters', () => {
      it('combines ids, types, specVersions and addedAfter with AND', async () => {
        const a = indicator(1);
        const b = malware(2);
        const c = malware(3, { spec_version: '2.0' });
        const [added] = await store.addObjects('alpha', [a]);
        await store.addObjects('alpha', [b, c]);
        assert.deepEqual((await all('alpha', { types: ['malware'] })).map((entry) => entry.id), [b.id, c.id]);
        assert.deepEqual((await all('alpha', { types: ['malware'], specVersions: ['2.1'] })).map((entry) => entry.id), [b.id]);
        assert.deepEqual((await all('alpha', { ids: [a.id, c.id] })).map((entry) => entry.id), [a.id, c.id]);
        assert.deepEqual((await all('alpha', { ids: [a.id, c.id], types: ['indicator'] })).map((entry) => entry.id), [a.id]);
        assert.deepEqual((await all('alpha', { addedAfter: dateAddedOf(added) })).map((entry) => entry.id), [b.id, c.id]);
        assert.deepEqual(await all('alpha', { ids: [a.id], addedAfter: dateAddedOf(added) }), []);
        assert.deepEqual(await all('alpha', { types: [] }), []);
      });

      it('pages through a filtered list with the same cursor rule', async () => {
        await store.addObjects('alpha', range(12).flatMap((n) => [indicator(n), malware(n)]));
        const first = await store.listEntries('alpha', { types: ['malware'] }, { limit: 5 });
        const rest = await store.listEntries('alpha', { types: ['malware'] }, { limit: 50, after: first.entries.at(-1)?.dateAdded ?? 0 });
        assert.equal(first.more, true);
        assert.equal(rest.more, false);
        assert.equal(new Set([...first.entries, ...rest.entries].map((entry) => entry.id)).size, 12);
      });
    });

    describe('revocation', () => {
      it('rejects a version newer than a revoked one, but accepts older history and duplicates', async () => {
        const v1 = malware(5, { modified: '2024-01-01T00:00:00.000Z' });
        const revoked = malware(5, { modified: '2024-02-01T00:00:00.000Z', revoked: true });
        const v3 = malware(5, { modified: '2024-03-01T00:00:00.000Z' });
        const older = malware(5, { modified: '2023-12-01T00:00:00.000Z' });
        await store.addObjects('alpha', [v1, revoked]);
        const outcomes = await store.addObjects('alpha', [v3, older, revoked]);
        assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['rejected', 'added', 'duplicate']);
        const [rejected] = outcomes;
        assert.ok(rejected?.kind === 'rejected');
        assert.equal(rejected.code, 'ENT_OBJECT_REVOKED');
        assert.match(rejected.message, new RegExp(escapeRegExp(v3.id)));
        // Revocation belongs to the object, not to one collection.
        const [elsewhere] = await store.addObjects('beta', [v3]);
        assert.equal(elsewhere?.kind, 'rejected');
        const [latest] = await all('alpha', { ids: [v1.id] });
        assert.equal(latest?.revoked, true);
      });
    });

    describe('deleting', () => {
      const v1 = indicator(9, { modified: '2024-01-01T00:00:00.000Z' });
      const v2 = indicator(9, { modified: '2024-02-01T00:00:00.000Z' });
      const v3 = indicator(9, { modified: '2024-03-01T00:00:00.000Z', spec_version: '2.0' });

      beforeEach(async () => {
        await store.addObjects('alpha', [v1, v2, v3, indicator(10)]);
      });

      it('removes one version and recomputes last', async () => {
        assert.equal(await store.deleteObject('alpha', v1.id, { versions: [{ kind: 'at', version: '2024-03-01T00:00:00.000Z' }] }), 1);
        assert.deepEqual((await all('alpha', { ids: [v1.id] })).map((entry) => entry.version), ['2024-02-01T00:00:00.000Z']);
        assert.equal((await store.countEntries('alpha')).versions, 3);
      });

      it('removes the first version and recomputes first', async () => {
        assert.equal(await store.deleteObject('alpha', v1.id, { versions: [{ kind: 'first' }] }), 1);
        const [first] = await all('alpha', { ids: [v1.id], versions: [{ kind: 'first' }] });
        assert.equal(first?.version, '2024-02-01T00:00:00.000Z');
      });

      it('filters by spec version', async () => {
        assert.equal(await store.deleteObject('alpha', v1.id, { specVersions: ['2.0'] }), 1);
        assert.equal((await all('alpha', { ids: [v1.id] }))[0]?.version, '2024-02-01T00:00:00.000Z');
      });

      it('removes every version when no version is named, touching only that collection', async () => {
        await store.addObjects('beta', [v2]);
        assert.equal(await store.deleteObject('alpha', v1.id, {}), 3);
        assert.deepEqual((await store.listVersions('alpha', v1.id, {}, { limit: 10 })).entries, []);
        assert.equal((await all('beta')).length, 1);
        assert.equal(await store.deleteObject('alpha', v1.id, {}), 0);
      });

      it('forgets a version held by no collection, so it can be published again', async () => {
        await store.deleteObject('alpha', v1.id, {});
        const [outcome] = await store.addObjects('alpha', [{ ...v1, confidence: 1 }]);
        assert.equal(outcome?.kind, 'added');
      });
    });

    // The home sightings gate ties evidence to the sighting written with it by this, however far apart.
    describe('evidence references (evidenceReferrersOf)', () => {
      const address = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--e0000000-0000-4000-8000-000000000001', value: '10.0.0.1' } as StixObject;
      const evidence = (n: number, refs: readonly string[]): StixObject =>
        ({
          type: 'observed-data', spec_version: '2.1', id: `observed-data--e0000000-0000-4000-8000-00000000000${n}`, created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z',
          first_observed: '2024-01-01T00:00:00.000Z', last_observed: '2024-01-01T00:00:00.000Z', number_observed: 1, object_refs: [...refs],
        }) as StixObject;
      const sightingOf = (n: number, observedData: string, modified = '2024-01-01T00:00:00.000Z'): StixObject =>
        ({
          type: 'sighting', spec_version: '2.1', id: `sighting--e0000000-0000-4000-8000-00000000000${n}`, created: '2024-01-01T00:00:00.000Z', modified,
          sighting_of_ref: indicator(1).id, observed_data_refs: [observedData],
        }) as StixObject;
      const entryOf = async (collectionId: string, id: string): Promise<StoredEntry> => {
        const [entry] = await all(collectionId, { ids: [id], versions: [{ kind: 'first' }] });
        assert.ok(entry !== undefined, id);
        return entry;
      };
      const idsOf = (found: readonly (StoredEntry | undefined)[]): (string | undefined)[] => found.map((entry) => (entry === undefined ? undefined : `${entry.id}@${entry.version}`));
      // Answered for the node's home sightings collection, the one the gate asks about (nothing for another).
      beforeEach(async () => {
        await store.setMeta(metaKeys.homeSightingsCollection, 'alpha');
      });

      it('finds, for each entry, the first entry added after it naming it as evidence, with its JSON, whatever lies between', async () => {
        const first = evidence(1, [address.id]);
        const second = evidence(2, [address.id]);
        await store.addObjects('alpha', [address, first]);
        await store.addObjects('alpha', Array.from({ length: 300 }, (_, n) => indicator(100 + n)));
        await store.addObjects('alpha', [sightingOf(1, first.id), second, sightingOf(2, second.id)]);
        const asked = [await entryOf('alpha', address.id), await entryOf('alpha', first.id), await entryOf('alpha', second.id), await entryOf('alpha', sightingOf(1, first.id).id)];
        const found = await store.evidenceReferrersOf('alpha', asked);
        assert.deepEqual(idsOf(found), [`${first.id}@2024-01-01T00:00:00.000Z`, `${sightingOf(1, first.id).id}@2024-01-01T00:00:00.000Z`, `${sightingOf(2, second.id).id}@2024-01-01T00:00:00.000Z`, undefined]);
        assert.deepEqual((JSON.parse(found[1]?.json ?? '{}') as { observed_data_refs?: string[] }).observed_data_refs, [first.id]);
        assert.deepEqual(await store.evidenceReferrersOf('alpha', []), []);
      });

      it('answers nothing for an entry the collection does not hold at that dateAdded, nor for what refers to it in another collection', async () => {
        const observed = evidence(3, [address.id]);
        await store.addObjects('alpha', [address, observed]);
        await store.addObjects('beta', [sightingOf(3, observed.id)]);
        const held = await entryOf('alpha', observed.id);
        assert.deepEqual(idsOf(await store.evidenceReferrersOf('alpha', [held, { ...held, dateAdded: held.dateAdded - 1 }, { ...held, version: '2024-02-01T00:00:00.000Z' }])), [undefined, undefined, undefined]);
        assert.deepEqual(idsOf(await store.evidenceReferrersOf('beta', [held])), [undefined]);
        assert.equal(idsOf(await store.evidenceReferrersOf('alpha', [await entryOf('alpha', address.id)]))[0], `${observed.id}@2024-01-01T00:00:00.000Z`);
      });

      it('forgets a deleted referrer: the next one naming the entry answers', async () => {
        const observed = evidence(4, [address.id]);
        await store.addObjects('alpha', [address, observed, sightingOf(4, observed.id)]);
        await store.addObjects('alpha', [sightingOf(4, observed.id, '2024-01-02T00:00:00.000Z')]);
        await store.deleteObject('alpha', sightingOf(4, observed.id).id, { versions: [{ kind: 'first' }] });
        const held = await entryOf('alpha', observed.id);
        assert.deepEqual(idsOf(await store.evidenceReferrersOf('alpha', [held])), [`${sightingOf(4, observed.id).id}@2024-01-02T00:00:00.000Z`]);
        await store.deleteObject('alpha', sightingOf(4, observed.id).id, {});
        assert.deepEqual(idsOf(await store.evidenceReferrersOf('alpha', [held])), [undefined]);
      });
    });

    describe('status records', () => {
      it('records successes (added and duplicate), failures (validation and rejected) and totals', async () => {
        await store.addObjects('alpha', [indicator(1)]);
        const conflict = { ...indicator(2), confidence: 3 };
        await store.addObjects('alpha', [indicator(2)]);
        const outcomes = await store.addObjects('alpha', [indicator(1), conflict, indicator(3)], {
          statusId: 'status-1',
          requestTimestamp: '2025-03-01T12:00:00.000Z',
          tokenName: 'partner',
          validationFailures: [{ id: 'indicator--bad', version: 'unknown', message: 'pattern is invalid' }],
        });
        assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['duplicate', 'rejected', 'added']);
        const status = await store.getStatus('status-1');
        assert.ok(status);
        assert.equal(status.collectionId, 'alpha');
        assert.equal(status.tokenName, 'partner');
        assert.equal(status.status, 'complete');
        assert.equal(status.requestTimestamp, '2025-03-01T12:00:00.000Z');
        assert.equal(status.totalCount, 4);
        assert.equal(status.successCount, 2);
        assert.equal(status.failureCount, 2);
        assert.equal(status.pendingCount, 0);
        assert.deepEqual(status.successes.map((detail) => detail.id).sort(), [indicator(1).id, indicator(3).id].sort());
        assert.deepEqual(status.failures.map((detail) => detail.id), ['indicator--bad', conflict.id]);
        assert.match(status.failures[1]?.message ?? '', /different content/);
        assert.equal(await store.getStatus('status-2'), undefined);
      });

      it('stores no object when the status cannot be stored (one transaction)', async () => {
        const draft = { statusId: 'same', requestTimestamp: '2025-03-01T12:00:00.000Z', tokenName: 't', validationFailures: [] };
        await store.addObjects('alpha', [indicator(1)], draft);
        await assert.rejects(store.addObjects('alpha', [indicator(2), indicator(3)], draft));
        assert.deepEqual((await all('alpha')).map((entry) => entry.id), [indicator(1).id]);
        const [next] = await store.addObjects('alpha', [indicator(2)]);
        assert.equal(next?.kind, 'added');
      });
    });

    describe('all or nothing', () => {
      const allOrNothing = { allOrNothing: true } as const;
      // One version of the envelope conflicts with what another writer stored meanwhile.
      const conflicting = { ...indicator(2), confidence: 5 };
      let before: StoredEntry[];
      beforeEach(async () => {
        await store.addObjects('alpha', [malware(1)]);
        await store.addObjects('beta', [indicator(2)]);
        before = await all('alpha');
      });
      const envelope = (): StixObject[] => [malware(3, { name: 'Rollbackworm' }), conflicting, indicator(4), malware(1)];

      it('stores nothing of the envelope when one version is refused, and returns the refusals alone', async () => {
        const outcomes = await store.addObjects('alpha', envelope(), undefined, undefined, allOrNothing);
        assert.deepEqual(outcomes.map((outcome) => [outcome.kind, outcome.id]), [['rejected', conflicting.id]]);
        assert.equal(outcomes[0]?.kind === 'rejected' ? outcomes[0].code : undefined, 'ENT_OBJECT_VERSION_CONFLICT');
        assert.deepEqual(await all('alpha'), before);
        assert.deepEqual(await store.countEntries('alpha'), { objects: 1, versions: 1 });
        assert.deepEqual([...(await store.latestVersions([malware(3).id, indicator(4).id])).keys()], [], 'no version of the envelope is held anywhere');
        assert.deepEqual(await store.search({ text: 'Rollbackworm', collectionIds: ['alpha', 'beta'], limit: 10 }), [], 'nor searchable');
      });

      it('leaves nothing that blocks the same ids later, and dateAdded keeps increasing', async () => {
        await store.addObjects('alpha', envelope(), undefined, undefined, allOrNothing);
        const outcomes = await store.addObjects('alpha', [malware(3, { name: 'Other content, same version' }), indicator(4)]);
        assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['added', 'added']);
        assertStrictlyIncreasing((await all('alpha')).map((entry) => entry.dateAdded));
        assert.ok(dateAddedOf(outcomes[0]) > (before[0]?.dateAdded ?? Infinity));
      });

      it('stores everything, as without the option, when nothing is refused', async () => {
        const outcomes = await store.addObjects('alpha', [malware(3), indicator(4), malware(1)], undefined, undefined, allOrNothing);
        assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['added', 'added', 'duplicate']);
        assert.deepEqual((await all('alpha')).map((entry) => entry.id), [malware(1).id, malware(3).id, indicator(4).id]);
      });

      it('keeps what it accepted without the option (each version on its own)', async () => {
        const outcomes = await store.addObjects('alpha', envelope());
        assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['added', 'rejected', 'added', 'duplicate']);
        assert.deepEqual((await all('alpha')).map((entry) => entry.id), [malware(1).id, malware(3).id, indicator(4).id]);
      });

      it('records a status that reports every version as not stored', async () => {
        const status = { statusId: 'status-all', requestTimestamp: '2025-03-01T12:00:00.000Z', tokenName: 't', validationFailures: [{ id: 'indicator--bad', version: 'unknown', message: 'invalid' }] };
        await store.addObjects('alpha', envelope(), status, undefined, allOrNothing);
        const record = await store.getStatus('status-all');
        assert.ok(record);
        assert.equal(record.totalCount, 5);
        assert.equal(record.successCount, 0);
        assert.deepEqual(record.successes, []);
        assert.deepEqual(record.failures.map((detail) => detail.id), ['indicator--bad', malware(3).id, conflicting.id, indicator(4).id, malware(1).id]);
        assert.match(record.failures[2]?.message ?? '', /different content/);
        assert.match(record.failures[1]?.message ?? '', /not stored/);
        assert.deepEqual(await all('alpha'), before);
      });
    });

    describe('search', () => {
      beforeEach(async () => {
        await store.addObjects('alpha', [
          malware(1, { name: 'Emotet', description: 'Banking trojan turned loader', aliases: ['Geodo', 'Heodo'] }),
          malware(2, { name: 'AND Stealer', description: 'Steals "credentials" or cookies (NEAR the browser)' }),
          { ...malware(3), type: 'intrusion-set', id: 'intrusion-set--3f2a8d6e-4c5b-4d3a-9e1f-000000000003', name: 'Sandworm Team', x_mitre_aliases: ['Voodoo Bear', 'IRIDIUM'] },
          indicator(4),
        ]);
        await store.addObjects('beta', [malware(5, { name: 'Emotion' })]);
      });

      const search = (text: string, extra: { types?: string[]; collectionIds?: string[]; order?: SearchOrder } = {}) =>
        store.search({
          text, collectionIds: extra.collectionIds ?? ['alpha', 'beta'], limit: 10,
          ...(extra.types === undefined ? {} : { types: extra.types }), ...(extra.order === undefined ? {} : { order: extra.order }),
        });

      it('matches words as prefixes over name, description and aliases', async () => {
        assert.deepEqual((await search('emot')).map((hit) => hit.name).sort(), ['Emotet', 'Emotion']);
        assert.deepEqual((await search('heod')).map((hit) => hit.name), ['Emotet']);
        assert.deepEqual((await search('voodoo')).map((hit) => hit.name), ['Sandworm Team']);
        assert.deepEqual((await search('banking LOADER')).map((hit) => hit.name), ['Emotet']);
      });

      it('returns the stored object, its collection, version and, by relevance, a rank where higher is better', async () => {
        const [hit] = await search('geodo');
        assert.equal(hit?.type, 'malware');
        assert.equal(hit?.collectionId, 'alpha');
        assert.equal(hit?.version, malware(1)['modified']);
        assert.equal((JSON.parse(hit?.json ?? '{}') as StixObject).id, malware(1).id);
        assert.equal(hit?.rank, undefined, 'no score unless asked for relevance');
        const ranked = await search('emotet', { order: 'relevance' });
        assert.equal(ranked[0]?.name, 'Emotet');
        assert.equal(typeof ranked[0]?.rank, 'number');
      });

      it('orders by default hits whose name or aliases hold every word first, then the most recently added', async () => {
        await store.addObjects('beta', [malware(6, { name: 'Dropper', description: 'drops emotet' }), malware(7, { name: 'Later', aliases: ['Emotet clone'] })]);
        assert.deepEqual((await search('emotet')).map((hit) => hit.name), ['Later', 'Emotet', 'Dropper']);
        // Relevance differs: it weighs where and how often the word occurs.
        assert.deepEqual((await search('emotet', { order: 'relevance' })).map((hit) => hit.name)[0], 'Emotet');
      });

      it('filters by type and by collection', async () => {
        assert.deepEqual((await search('emot', { collectionIds: ['beta'] })).map((hit) => hit.name), ['Emotion']);
        assert.deepEqual((await search('sandworm', { types: ['malware'] })), []);
        assert.equal((await search('sandworm', { types: ['intrusion-set'] })).length, 1);
        assert.deepEqual(await search('emotet', { collectionIds: [] }), []);
      });

      it('indexes only the latest version of an object', async () => {
        await store.addObjects('alpha', [malware(1, { modified: '2026-01-01T00:00:00.000Z', name: 'Renamed' })]);
        assert.deepEqual(await search('emotet', { collectionIds: ['alpha'] }), []);
        assert.deepEqual((await search('renamed')).map((hit) => hit.version), ['2026-01-01T00:00:00.000Z']);
        await store.deleteObject('alpha', malware(1).id, { versions: [{ kind: 'at', version: '2026-01-01T00:00:00.000Z' }] });
        assert.deepEqual((await search('emotet', { collectionIds: ['alpha'] })).map((hit) => hit.name), ['Emotet']);
        assert.deepEqual(await search('renamed'), []);
      });

      it('treats hostile query text as words, never as FTS syntax', async () => {
        const hostile = ['"AND" OR NEAR(', '"', '*', 'name:emotet', '^emotet', 'NOT', ')(', '-', 'emotet"* OR "x', '{name}: x', "'; DROP TABLE x; --", '\u0000', 'a'.repeat(10_000), '', '   '];
        for (const text of hostile) {
          const hits = await search(text);
          assert.ok(Array.isArray(hits), text);
        }
        assert.deepEqual((await search('"AND" OR NEAR(')).map((hit) => hit.name), ['AND Stealer']);
        assert.deepEqual((await search('name:emotet')).map((hit) => hit.name), []);
        assert.deepEqual((await search('emotet"* OR "x')).map((hit) => hit.name), []);
      });
    });

    describe('counting', () => {
      it('counts distinct objects and versions per collection', async () => {
        await store.addObjects('alpha', [indicator(1), indicator(1, { modified: '2026-01-01T00:00:00.000Z' }), indicator(2)]);
        assert.deepEqual(await store.countEntries('alpha'), { objects: 2, versions: 3 });
        assert.deepEqual(await store.countEntries('beta'), { objects: 0, versions: 0 });
      });
    });

    describe('organisations', () => {
      const bank = {
        id: 'identity--0b2c4f6e-1a3d-4c5e-8f70-9a1b2c3d4e5f',
        name: 'Acme Bank',
        kind: 'company',
        sectors: ['financial-services'],
        country: 'DE',
        identityJson: '{"type":"identity","id":"identity--0b2c4f6e-1a3d-4c5e-8f70-9a1b2c3d4e5f"}',
        createdAt: '2026-11-23T00:00:00.000Z',
      };
      const cert = { ...bank, id: 'identity--1c3d5f7a-2b4e-4d6f-9a81-ab2c3d4e5f60', name: 'CERT-FR', kind: 'cert', sectors: [], country: undefined };

      it('keeps partner organisations and lists them by name', async () => {
        await store.createOrganisation(cert);
        await store.createOrganisation(bank);
        assert.deepEqual(await store.listOrganisations(), [bank, cert]);
        assert.deepEqual(await store.getOrganisation(cert.id), cert);
        assert.equal(await store.getOrganisation('identity--00000000-0000-4000-8000-000000000000'), undefined);
      });

      it('refuses a second organisation with the same id', async () => {
        await store.createOrganisation(bank);
        await assert.rejects(store.createOrganisation({ ...bank, name: 'Other' }), (error: unknown) => isEntenteError(error) && error.code === 'ENT_ORG_EXISTS');
        assert.equal((await store.getOrganisation(bank.id))?.name, 'Acme Bank');
      });
    });

    describe('tokens', () => {
      const token = {
        name: 'partner-a',
        secretHash: 'a'.repeat(64),
        admin: false,
        grants: [{ collectionId: 'alpha', read: true, write: false }],
        organisationId: 'identity--7a6f1c3e-8e9b-4b49-9d0c-2a9c2f3e1d11',
        createdAt: '2025-03-01T12:00:00.000Z',
        revokedAt: undefined,
      };

      it('creates, lists and finds tokens by secret hash', async () => {
        await store.createToken(token);
        assert.deepEqual(await store.listTokens(), [token]);
        assert.deepEqual(await store.findTokenBySecretHash(token.secretHash), token);
        assert.equal(await store.findTokenBySecretHash('b'.repeat(64)), undefined);
      });

      it('refuses a taken name, even after revocation', async () => {
        await store.createToken(token);
        await assertRejectsWith(store.createToken({ ...token, secretHash: 'c'.repeat(64) }), 'ENT_TOKEN_EXISTS');
        await store.revokeToken(token.name, now);
        await assertRejectsWith(store.createToken({ ...token, secretHash: 'c'.repeat(64) }), 'ENT_TOKEN_EXISTS');
      });

      it('revokes a token and keeps the first revocation time', async () => {
        await store.createToken({ ...token, organisationId: undefined, admin: true });
        const revoked = await store.revokeToken(token.name, now);
        assert.equal(revoked.revokedAt, now.toISOString());
        assert.equal(revoked.admin, true);
        assert.equal(revoked.organisationId, undefined);
        const again = await store.revokeToken(token.name, new Date('2030-01-01T00:00:00.000Z'));
        assert.equal(again.revokedAt, now.toISOString());
        assert.equal((await store.findTokenBySecretHash(token.secretHash))?.revokedAt, now.toISOString());
      });

      it('reports an unknown token on revocation', async () => {
        await assertRejectsWith(store.revokeToken('ghost', now), 'ENT_TOKEN_NOT_FOUND');
      });

      it('changes the token change marker when a token is created or revoked, and only then', async () => {
        const initial = await store.tokenChangeMarker();
        assert.equal(await store.tokenChangeMarker(), initial, 'reading changes nothing');
        await store.createToken(token);
        const created = await store.tokenChangeMarker();
        assert.notEqual(created, initial);
        await store.findTokenBySecretHash(token.secretHash);
        assert.equal(await store.tokenChangeMarker(), created, 'a lookup changes nothing');
        await store.revokeToken(token.name, now);
        assert.notEqual(await store.tokenChangeMarker(), created);
      });
    });

    describe('node metadata', () => {
      it('reads back what was written and overwrites', async () => {
        assert.equal(await store.getMeta('home'), undefined);
        await store.setMeta('home', 'identity--1');
        await store.setMeta('home', 'identity--2');
        assert.equal(await store.getMeta('home'), 'identity--2');
      });
    });

    describe('federation', () => {
      const orgA = 'identity--0a0a0a0a-0000-4000-8000-00000000000a';
      const orgB = 'identity--0b0b0b0b-0000-4000-8000-00000000000b';
      const home = 'identity--0c0c0c0c-0000-4000-8000-00000000000c';
      const received = '2025-03-01T12:00:00.000Z';

      const peer = (name: string, overrides: Partial<PeerRecord> = {}): PeerRecord => ({
        name,
        url: `https://${name}.example/taxii2/`,
        apiRootUrl: `https://${name}.example/api/`,
        token: `token-of-${name}`,
        circleId: 'circle-alpha',
        localCollectionId: 'alpha',
        remoteCollectionId: 'remote-1',
        organisationId: orgA,
        kind: 'entente',
        push: false,
        intervalSeconds: 30,
        silentAfter: 3,
        createdAt: received,
        ...overrides,
      });
      const arrived = (object: StixObject, overrides: Partial<ArrivedObject> = {}): ArrivedObject => ({
        object,
        signer: orgA,
        keyId: 'key-a-1',
        verification: 'verified',
        hops: [orgA],
        ...overrides,
      });
      const batch = (overrides: Partial<SyncBatch> = {}): SyncBatch => ({
        collectionId: 'alpha',
        peer: 'north',
        circleId: 'circle-alpha',
        source: 'pull',
        contributorOrganisationId: orgA,
        accepted: [],
        quarantined: [],
        receivedAt: received,
        ...overrides,
      });
      const item = (n: number, overrides: Partial<NewQuarantineItem> = {}): NewQuarantineItem => ({
        objectId: indicator(n).id,
        version: String(indicator(n)['modified']),
        reason: 'bad-signature',
        message: 'the signature does not verify',
        json: JSON.stringify(indicator(n)),
        ...overrides,
      });
      const versionOfObject = (object: StixObject): { id: string; version: string } => ({ id: object.id, version: String(object['modified']) });
      const provenance = async (object: StixObject): Promise<ProvenanceRecord[]> =>
        (await store.provenanceOf([versionOfObject(object)])).get(versionKey(object.id, String(object['modified']))) ?? [];

      beforeEach(async () => {
        await store.addPeer(peer('north'));
        await store.addPeer(peer('south', { organisationId: orgB, localCollectionId: 'beta' }));
      });

      describe('peers', () => {
        it('adds, reads, lists by name and removes peers', async () => {
          assert.deepEqual(await store.getPeer('north'), peer('north'));
          assert.equal(await store.getPeer('west'), undefined);
          await store.addPeer(peer('east', { kind: 'plain', push: true, intervalSeconds: 3600 }));
          assert.deepEqual((await store.listPeers()).map((record) => record.name), ['east', 'north', 'south']);
          assert.deepEqual(await store.getPeer('east'), peer('east', { kind: 'plain', push: true, intervalSeconds: 3600 }));
          await store.removePeer('east');
          assert.equal(await store.getPeer('east'), undefined);
          await assertRejectsWith(store.getPeerState('east'), 'ENT_PEER_NOT_FOUND');
        });

        it('refuses a taken name and names that do not exist', async () => {
          await assertRejectsWith(store.addPeer(peer('north', { url: 'https://other.example/' })), 'ENT_PEER_EXISTS');
          assert.equal((await store.getPeer('north'))?.url, peer('north').url);
          await assertRejectsWith(store.removePeer('west'), 'ENT_PEER_NOT_FOUND');
          await assertRejectsWith(store.getPeerState('west'), 'ENT_PEER_NOT_FOUND');
          await assertRejectsWith(store.recordSyncAttempt('west', { at: received, ok: true }), 'ENT_PEER_NOT_FOUND');
          await assertRejectsWith(store.setPushCursor('west', 1), 'ENT_PEER_NOT_FOUND');
        });

        it('starts a peer with zero counters and no cursors', async () => {
          assert.deepEqual(await store.getPeerState('north'), {
            pullCursor: undefined,
            pushCursor: undefined,
            lastAttemptAt: undefined,
            lastSuccessAt: undefined,
            lastError: undefined,
            consecutiveFailures: 0,
            objectsIn: 0,
            objectsOut: 0,
            quarantined: 0,
          });
        });

        it('counts failures until a success, keeps the last error, adds objects out and moves the push cursor', async () => {
          await store.recordSyncAttempt('north', { at: '2025-03-01T12:01:00.000Z', ok: false, error: { code: 'ENT_PEER_TIMEOUT', message: 'no answer' } });
          await store.recordSyncAttempt('north', { at: '2025-03-01T12:02:00.000Z', ok: false, error: { code: 'ENT_PEER_UNREACHABLE', message: 'refused' } });
          let state = await store.getPeerState('north');
          assert.equal(state.consecutiveFailures, 2);
          assert.deepEqual(state.lastError, { code: 'ENT_PEER_UNREACHABLE', message: 'refused', at: '2025-03-01T12:02:00.000Z' });
          assert.equal(state.lastAttemptAt, '2025-03-01T12:02:00.000Z');
          assert.equal(state.lastSuccessAt, undefined);

          await store.recordSyncAttempt('north', { at: '2025-03-01T12:03:00.000Z', ok: true, objectsOut: 4 });
          await store.recordSyncAttempt('north', { at: '2025-03-01T12:04:00.000Z', ok: true, objectsOut: 3 });
          await store.setPushCursor('north', 1_700_000_000_000_000);
          state = await store.getPeerState('north');
          assert.equal(state.consecutiveFailures, 0);
          assert.equal(state.lastSuccessAt, '2025-03-01T12:04:00.000Z');
          assert.equal(state.lastError?.code, 'ENT_PEER_UNREACHABLE');
          assert.equal(state.objectsOut, 7);
          assert.equal(state.pushCursor, 1_700_000_000_000_000);
          assert.equal((await store.getPeerState('south')).objectsOut, 0);
        });

        it('forgets the sync state with the peer but keeps its name on provenance', async () => {
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(1))], pullCursor: { addedAfter: 'x' } }));
          await store.removePeer('north');
          await store.addPeer(peer('north'));
          assert.equal((await store.getPeerState('north')).pullCursor, undefined);
          assert.equal((await provenance(indicator(1)))[0]?.peer, 'north');
        });
      });

      describe('sync batches', () => {
        it('stores objects, provenance, contributions, quarantine items and the cursor together', async () => {
          const objects = [malware(1, { name: 'Synced Family' }), indicator(2)];
          const outcome = await store.applySyncBatch(
            batch({
              accepted: [arrived(objects[0] as StixObject, { hops: [orgB, orgA], signer: orgB, keyId: 'key-b-1' }), arrived(objects[1] as StixObject)],
              quarantined: [item(3)],
              pullCursor: { addedAfter: '2025-02-28T00:00:00.000000Z', next: 'page-2' },
            }),
          );
          assert.deepEqual(outcome.outcomes.map((result) => result.kind), ['added', 'added']);
          assert.equal(outcome.quarantined, 1);
          assert.deepEqual(keysOf(await all('alpha')), objects.map((object) => `${object.id}@${String(object['modified'])}`));
          // The same add path as addObjects: dateAdded from the clock, searchable, contributor recorded.
          assert.equal(dateAddedOf(outcome.outcomes[0]), now.getTime() * 1000);
          assert.deepEqual((await store.search({ text: 'synced', collectionIds: ['alpha'], limit: 5 })).map((hit) => hit.id), [malware(1).id]);
          assert.deepEqual((await store.contributionsOf([versionOfObject(indicator(2))])).get(versionKey(indicator(2).id, String(indicator(2)['modified']))), [
            { collectionId: 'alpha', organisationId: orgA, arrivalOnwardSharing: 'none' },
          ]);

          assert.deepEqual(await provenance(malware(1)), [
            {
              id: malware(1).id,
              version: String(malware(1)['modified']),
              collectionId: 'alpha',
              peer: 'north',
              circleId: 'circle-alpha',
              signer: orgB,
              keyId: 'key-b-1',
              verification: 'verified',
              hops: [orgB, orgA],
              receivedAt: received,
            },
          ]);
          const [quarantined] = await store.listQuarantine({ limit: 10 });
          assert.deepEqual({ ...quarantined, seq: 0 }, {
            ...item(3),
            seq: 0,
            peer: 'north',
            circleId: 'circle-alpha',
            collectionId: 'alpha',
            source: 'pull',
            contributorOrganisationId: orgA,
            receivedAt: received,
            resolution: undefined,
          });
          const state = await store.getPeerState('north');
          assert.deepEqual(state.pullCursor, { addedAfter: '2025-02-28T00:00:00.000000Z', next: 'page-2' });
          assert.equal(state.objectsIn, 2);
          assert.equal(state.quarantined, 1);
        });

        it('keeps the latest version flags as addObjects does', async () => {
          await store.addObjects('alpha', [indicator(1, { modified: '2024-02-01T00:00:00.000Z' })]);
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(1, { modified: '2024-03-01T00:00:00.000Z' })), arrived(indicator(1))] }));
          assert.deepEqual((await all('alpha')).map((entry) => entry.version), ['2024-03-01T00:00:00.000Z']);
          assert.deepEqual((await all('alpha', { versions: [{ kind: 'first' }] })).map((entry) => entry.version), ['2024-01-01T00:00:00.000Z']);
        });

        it('stores nothing, not even the cursor, when any part of the batch fails', async () => {
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(1))], pullCursor: { addedAfter: 'before' } }));
          const broken = { ...item(4), json: null as unknown as string };
          await assert.rejects(
            store.applySyncBatch(batch({ accepted: [arrived(indicator(2)), arrived(malware(3))], quarantined: [item(5), broken], pullCursor: { addedAfter: 'after' } })),
          );
          assert.deepEqual(keysOf(await all('alpha')), [`${indicator(1).id}@${String(indicator(1)['modified'])}`]);
          assert.deepEqual(await provenance(indicator(2)), []);
          assert.deepEqual(await store.listQuarantine({ limit: 10 }), []);
          const state = await store.getPeerState('north');
          assert.deepEqual(state.pullCursor, { addedAfter: 'before' });
          assert.equal(state.objectsIn, 1);
          assert.equal(state.quarantined, 0);
          assert.deepEqual((await store.storedVersionsOf([indicator(2).id, malware(3).id])).size, 0);
        });

        it('refuses a batch for an unknown collection or peer and stores nothing', async () => {
          await assertRejectsWith(store.applySyncBatch(batch({ collectionId: 'nope', accepted: [arrived(indicator(1))], quarantined: [item(2)] })), 'ENT_COLLECTION_NOT_FOUND');
          await assertRejectsWith(store.applySyncBatch(batch({ peer: 'west', accepted: [arrived(indicator(1))], quarantined: [item(2)] })), 'ENT_PEER_NOT_FOUND');
          assert.deepEqual(await all('alpha'), []);
          assert.deepEqual(await store.listQuarantine({ limit: 10 }), []);
        });

        it('quarantines what the store refuses (content conflict, revoked) instead of losing it', async () => {
          const revoked = malware(7, { modified: '2024-02-01T00:00:00.000Z', revoked: true });
          await store.addObjects('beta', [indicator(1), revoked]);
          const conflicting = indicator(1, { confidence: 90 });
          const afterRevocation = malware(7, { modified: '2024-03-01T00:00:00.000Z' });
          const result = await store.applySyncBatch(
            batch({ accepted: [arrived(conflicting), arrived(indicator(2)), arrived(afterRevocation)], quarantined: [item(3)], pullCursor: { addedAfter: 'c1' } }),
          );
          assert.deepEqual(result.outcomes.map((outcome) => outcome.kind), ['rejected', 'added', 'rejected']);
          assert.equal(result.quarantined, 3);
          const items = await store.listQuarantine({ limit: 10 });
          assert.deepEqual(
            items.map((entry) => [entry.objectId, entry.reason]),
            [
              [conflicting.id, 'content-conflict'],
              [afterRevocation.id, 'revoked'],
              [indicator(3).id, 'bad-signature'],
            ],
          );
          assert.deepEqual(JSON.parse(items[0]?.json ?? 'null'), conflicting);
          assert.match(items[1]?.message ?? '', /revoked/);
          assert.deepEqual(await provenance(indicator(1)), []);
          const state = await store.getPeerState('north');
          assert.equal(state.objectsIn, 1);
          assert.equal(state.quarantined, 3);
        });

        it('writes provenance for duplicates once per peer and ignores exact repeats', async () => {
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(1))] }));
          const again = await store.applySyncBatch(batch({ accepted: [arrived(indicator(1))], receivedAt: '2025-03-02T00:00:00.000Z' }));
          assert.deepEqual(again.outcomes.map((outcome) => outcome.kind), ['duplicate']);
          const viaSouth = await store.applySyncBatch(
            batch({ peer: 'south', contributorOrganisationId: orgB, accepted: [arrived(indicator(1), { hops: [orgA, orgB] })], receivedAt: '2025-03-03T00:00:00.000Z' }),
          );
          assert.deepEqual(viaSouth.outcomes.map((outcome) => outcome.kind), ['duplicate']);
          const rows = await provenance(indicator(1));
          assert.deepEqual(rows.map((row) => [row.peer, row.receivedAt, row.hops]), [
            ['north', received, [orgA]],
            ['south', '2025-03-03T00:00:00.000Z', [orgA, orgB]],
          ]);
          const states = [await store.getPeerState('north'), await store.getPeerState('south')];
          assert.deepEqual(states.map((state) => state.objectsIn), [1, 0]);
        });

        it('forgets where a version came from when no collection holds it any more', async () => {
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(1))] }));
          await store.addObjects('beta', [indicator(1)]);
          assert.equal(await store.deleteObject('alpha', indicator(1).id, {}), 1);
          assert.equal((await provenance(indicator(1))).length, 1, 'still held by beta');
          assert.equal(await store.deleteObject('beta', indicator(1).id, {}), 1);
          assert.deepEqual(await provenance(indicator(1)), []);
          assert.equal((await store.originSignersOf([indicator(1).id])).size, 0);
          // A version stored later (which may get the forgotten row's key) has no provenance of its own.
          await store.addObjects('alpha', [indicator(2)]);
          assert.deepEqual(await provenance(indicator(2)), []);
        });

        it('forgets the signatures it made of a version no collection holds any more (the id and version may return with other content)', async () => {
          const object = indicator(1);
          await store.addObjects('alpha', [object]);
          const key = { id: object.id, version: String(object['modified']), variant: '' };
          await store.putSignatures([{ ...key, extensionJson: '{"signature":"old"}', signer: 'identity--0b000000-0000-4000-8000-000000000002' }]);
          assert.deepEqual(await store.signaturesIn([key]), ['{"signature":"old"}']);
          await store.deleteObject('alpha', object.id, {});
          assert.deepEqual(await store.signaturesIn([key]), [undefined]);
        });

        it('answers signaturesIn by position, a repeated key at each of its places, undefined where none is kept', async () => {
          await store.addObjects('alpha', [indicator(1), indicator(2)]);
          const key = (n: number, variant = ''): { id: string; version: string; variant: string } => ({ id: indicator(n).id, version: String(indicator(n)['modified']), variant });
          await store.putSignatures([
            { ...key(1), extensionJson: '{"signature":"one"}', signer: 'identity--0b000000-0000-4000-8000-000000000002' },
            { ...key(2, 'ab'), extensionJson: '{"signature":"two-derived"}', signer: 'identity--0b000000-0000-4000-8000-000000000002' },
          ]);
          const asked = [key(2), key(1), key(2, 'ab'), key(3), key(1)];
          assert.deepEqual(await store.signaturesIn(asked), [undefined, '{"signature":"one"}', '{"signature":"two-derived"}', undefined, '{"signature":"one"}']);
          assert.deepEqual(await store.signaturesIn([]), []);
        });

        it('accepts a file batch without a peer', async () => {
          const result = await store.applySyncBatch(batch({ peer: undefined, circleId: undefined, source: 'file', accepted: [arrived(indicator(1), { verification: 'derived', hops: [] })] }));
          assert.deepEqual(result.outcomes.map((outcome) => outcome.kind), ['added']);
          const [row] = await provenance(indicator(1));
          assert.equal(row?.peer, undefined);
          assert.equal(row?.circleId, undefined);
          assert.equal(row?.verification, 'derived');
          assert.deepEqual(row?.hops, []);
          assert.equal((await store.getPeerState('north')).objectsIn, 0);
        });
      });

      describe('what the node holds', () => {
        it('returns every stored version of each id with its text, whatever the collection', async () => {
          const v2 = indicator(1, { modified: '2024-02-01T00:00:00.000Z' });
          await store.addObjects('alpha', [v2]);
          await store.addObjects('beta', [indicator(1), malware(2)]);
          const found = await store.storedVersionsOf([indicator(1).id, malware(2).id, indicator(9).id]);
          assert.deepEqual([...found.keys()].sort(), [indicator(1).id, malware(2).id].sort());
          assert.deepEqual(found.get(indicator(1).id), [
            { version: '2024-01-01T00:00:00.000Z', json: JSON.stringify(indicator(1)) },
            { version: '2024-02-01T00:00:00.000Z', json: JSON.stringify(v2) },
          ]);
          assert.equal((await store.storedVersionsOf([])).size, 0);
        });

        it('answers a page of a thousand ids', async () => {
          await store.addObjects('alpha', range(1000).map((n) => indicator(n)));
          const found = await store.storedVersionsOf(range(1000).map((n) => indicator(n).id));
          assert.equal(found.size, 1000);
        });

        it('names the origin from the earliest verified version, else from the signatures this node made', async () => {
          const v1 = malware(1);
          const v2 = malware(1, { modified: '2024-02-01T00:00:00.000Z' });
          await store.applySyncBatch(batch({ accepted: [arrived(v2, { signer: orgB })] }));
          await store.applySyncBatch(batch({ peer: 'south', contributorOrganisationId: orgB, accepted: [arrived(v1, { signer: orgA })] }));
          // A derived version is signed by the peer that redacted it: not the origin.
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(2), { signer: orgB, verification: 'derived' })] }));
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(3), { signer: undefined, keyId: undefined, verification: 'unverified' })] }));
          await store.putSignatures([
            { id: indicator(4).id, version: '2024-01-01T00:00:00.000Z', variant: '', extensionJson: '{}', signer: home },
            { id: indicator(2).id, version: '2024-01-01T00:00:00.000Z', variant: 'ab12', extensionJson: '{}', signer: home },
          ]);
          const origins = await store.originSignersOf([v1.id, indicator(2).id, indicator(3).id, indicator(4).id, indicator(5).id]);
          assert.deepEqual(
            [...origins.entries()].sort(),
            [
              [v1.id, orgA],
              [indicator(4).id, home],
            ].sort(),
          );
        });

        it('answers arrivalHistoryOf as storedVersionsOf and originSignersOf do, for held, new, repeated and signature-only ids', async () => {
          const v1 = malware(1);
          const v2 = malware(1, { modified: '2024-02-01T00:00:00.000Z' });
          await store.applySyncBatch(batch({ accepted: [arrived(v2, { signer: orgB })] }));
          await store.applySyncBatch(batch({ peer: 'south', contributorOrganisationId: orgB, accepted: [arrived(v1, { signer: orgA })] }));
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(2), { signer: orgB, verification: 'derived' })] }));
          await store.addObjects('beta', [indicator(3)]);
          // A signature kept of an id no collection holds a version of: the origin is still known.
          await store.putSignatures([{ id: indicator(4).id, version: '2024-01-01T00:00:00.000Z', variant: '', extensionJson: '{}', signer: home }]);
          // Held once and then deleted: nothing is found of it any more, by either answer.
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(6), { signer: orgA })] }));
          assert.equal(await store.deleteObject('alpha', indicator(6).id, {}), 1);
          const asked = [indicator(5).id, v1.id, indicator(2).id, indicator(3).id, indicator(4).id, v1.id, indicator(6).id, ...range(50).map((n) => indicator(100 + n).id)];
          const together = await store.arrivalHistoryOf(asked);
          const versions = await store.storedVersionsOf(asked);
          const origins = await store.originSignersOf(asked);
          assert.deepEqual([...together.versions.entries()].sort(), [...versions.entries()].sort());
          assert.deepEqual([...together.originSigners.entries()].sort(), [...origins.entries()].sort());
          assert.deepEqual([...together.versions.keys()].sort(), [v1.id, indicator(2).id, indicator(3).id].sort());
          assert.deepEqual(together.versions.get(v1.id)?.map((held) => held.version), ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z']);
          assert.deepEqual([...together.originSigners.entries()].sort(), [[v1.id, orgA], [indicator(4).id, home]].sort());
          const none = await store.arrivalHistoryOf(range(20).map((n) => indicator(200 + n).id));
          assert.deepEqual([none.versions.size, none.originSigners.size], [0, 0]);
          const empty = await store.arrivalHistoryOf([]);
          assert.deepEqual([empty.versions.size, empty.originSigners.size], [0, 0]);
        });
      });

      describe('where the versions of entries came from', () => {
        const dateAddedOfEntry = async (collectionId: string, object: StixObject): Promise<number> => {
          const entry = (await all(collectionId, { ids: [object.id], versions: [{ kind: 'all' }] })).find((candidate) => candidate.version === String(object['modified']));
          assert.ok(entry !== undefined, `${object.id} is held in ${collectionId}`);
          return entry.dateAdded;
        };

        it('gives per entry the arrivals of its version (through any collection), else its contributors, else nothing', async () => {
          await store.applySyncBatch(batch({ accepted: [arrived(indicator(1), { hops: [orgB, orgA], signer: orgB, keyId: 'key-b-1' }), arrived(indicator(2), { verification: 'unverified', signer: undefined, keyId: undefined, hops: [] })] }));
          // The same version through another peer into another collection: one more arrival of it.
          await store.applySyncBatch(batch({ peer: 'south', collectionId: 'beta', contributorOrganisationId: orgB, accepted: [arrived(indicator(1), { hops: [orgB], signer: orgB, verification: 'derived' })], receivedAt: '2025-03-02T00:00:00.000Z' }));
          await store.addObjects('alpha', [indicator(3)], undefined, orgB);
          await store.addObjects('alpha', [indicator(4)]);
          const at = await Promise.all([1, 2, 3, 4].map((n) => dateAddedOfEntry('alpha', indicator(n))));
          const found = await store.arrivalsOfEntries('alpha', [...at, 999_999_999]);
          assert.deepEqual(
            [...(found.get(at[0] ?? 0)?.arrivals ?? [])].sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : 1)),
            [
              { verification: 'verified', signer: orgB, peer: 'north', deliveredBy: orgA, receivedAt: received },
              { verification: 'derived', signer: orgB, peer: 'south', deliveredBy: orgB, receivedAt: '2025-03-02T00:00:00.000Z' },
            ],
          );
          assert.deepEqual(found.get(at[0] ?? 0)?.contributors, [], 'contributors only when no arrival was recorded');
          assert.deepEqual(found.get(at[1] ?? 0), { arrivals: [{ verification: 'unverified', signer: undefined, peer: 'north', deliveredBy: undefined, receivedAt: received }], contributors: [] });
          assert.deepEqual(found.get(at[2] ?? 0), { arrivals: [], contributors: [orgB] });
          assert.equal(found.has(at[3] ?? 0), false, 'stored here: from nobody');
          assert.equal(found.size, 3);
          assert.equal((await store.arrivalsOfEntries('alpha', [])).size, 0);
          await assertRejectsWith(store.arrivalsOfEntries('nope', at), 'ENT_COLLECTION_NOT_FOUND');
        });

        it('answers a page of five thousand entries', async () => {
          const objects = range(5000).map((n) => indicator(n));
          for (let start = 0; start < objects.length; start += 1000) {
            await store.applySyncBatch(batch({ accepted: objects.slice(start, start + 1000).map((object) => arrived(object)) }));
          }
          const entries = await all('alpha');
          const found = await store.arrivalsOfEntries('alpha', entries.map((entry) => entry.dateAdded));
          assert.equal(found.size, 5000);
          assert.ok([...found.values()].every((evidence) => evidence.arrivals.length === 1 && evidence.arrivals[0]?.signer === orgA));
        });
      });

      describe('signatures', () => {
        it('keeps the first signature of each (id, version, variant)', async () => {
          const key = { id: indicator(1).id, version: '2024-01-01T00:00:00.000Z', variant: '' };
          const derived = { ...key, variant: 'f00d' };
          await store.addObjects('alpha', [indicator(1)]);
          await store.putSignatures([{ ...key, extensionJson: '{"signature":"first"}', signer: home }]);
          await store.putSignatures([
            { ...key, extensionJson: '{"signature":"second"}', signer: home },
            { ...derived, extensionJson: '{"signature":"derived"}', signer: home },
          ]);
          await store.putSignatures([]);
          assert.deepEqual(
            await store.signaturesIn([key, derived, { ...key, version: '2025-01-01T00:00:00.000Z' }]),
            ['{"signature":"first"}', '{"signature":"derived"}', undefined],
          );
        });

        it("lists a stored form's signature with its entry, and forgets it with its version", async () => {
          const held = { id: indicator(1).id, version: '2024-01-01T00:00:00.000Z', variant: '' };
          const unheld = { id: indicator(2).id, version: '2024-01-01T00:00:00.000Z', variant: '' };
          await store.addObjects('alpha', [indicator(1)]);
          await store.putSignatures([
            { ...held, extensionJson: '{"signer":"identity--home"}', signer: home },
            { ...unheld, extensionJson: '{"signer":"identity--home"}', signer: home },
          ]);
          await store.putSignatures([{ ...held, extensionJson: '{"signer":"identity--home","second":true}', signer: home }]);
          assert.deepEqual(await store.signaturesIn([held, unheld]), ['{"signer":"identity--home"}', '{"signer":"identity--home"}']);
          const listed = await store.listEntries('alpha', {}, { limit: 10 });
          assert.deepEqual(listed.entries.map((entry) => [entry.id, entry.originSignature]), [[held.id, '{"signer":"identity--home"}']]);
          await store.deleteObject('alpha', held.id, {});
          await store.addObjects('alpha', [indicator(1)]);
          assert.deepEqual(await store.signaturesIn([held]), [undefined]);
          // Kept before its version was held: still the first, once the version is stored.
          await store.addObjects('alpha', [indicator(2)]);
          await store.putSignatures([{ ...unheld, extensionJson: '{"signer":"identity--home","second":true}', signer: home }]);
          assert.deepEqual(await store.signaturesIn([unheld]), ['{"signer":"identity--home"}']);
          assert.deepEqual(await store.homeOriginalsIn([{ id: unheld.id, version: unheld.version }]), [true]);
        });
      });

      describe('quarantine', () => {
        beforeEach(async () => {
          await store.applySyncBatch(batch({ quarantined: [item(1), item(2, { reason: 'unsigned' })] }));
          await store.applySyncBatch(batch({ peer: 'south', contributorOrganisationId: orgB, collectionId: 'beta', source: 'push', quarantined: [item(3)] }));
        });

        it('lists items oldest first, filtered by peer, reason and resolution, in pages', async () => {
          const items = await store.listQuarantine({ limit: 10 });
          assert.deepEqual(items.map((entry) => entry.objectId), [indicator(1).id, indicator(2).id, indicator(3).id]);
          assert.deepEqual((await store.listQuarantine({ peer: 'south', limit: 10 })).map((entry) => [entry.collectionId, entry.source]), [['beta', 'push']]);
          assert.deepEqual((await store.listQuarantine({ reason: 'unsigned', limit: 10 })).map((entry) => entry.objectId), [indicator(2).id]);
          const [first, second] = items;
          assert.ok(first !== undefined && second !== undefined);
          assert.deepEqual((await store.listQuarantine({ afterSeq: first.seq, limit: 1 })).map((entry) => entry.seq), [second.seq]);
          assert.deepEqual(await store.getQuarantined(first.seq), first);
          assert.equal(await store.getQuarantined(first.seq + 1000), undefined);
        });

        it('releases an item into its collection, unverified, and closes it once', async () => {
          const [first] = await store.listQuarantine({ limit: 1 });
          assert.ok(first !== undefined);
          const outcome = await store.releaseQuarantined(first.seq, 'analyst', '2025-03-02T09:00:00.000Z');
          assert.equal(outcome.kind, 'added');
          assert.deepEqual(keysOf(await all('alpha')), [`${indicator(1).id}@2024-01-01T00:00:00.000Z`]);
          const [row] = await provenance(indicator(1));
          assert.deepEqual(row, {
            id: indicator(1).id,
            version: '2024-01-01T00:00:00.000Z',
            collectionId: 'alpha',
            peer: 'north',
            circleId: 'circle-alpha',
            signer: undefined,
            keyId: undefined,
            verification: 'unverified',
            hops: [],
            receivedAt: received,
          });
          assert.deepEqual((await store.contributionsOf([versionOfObject(indicator(1))])).get(versionKey(indicator(1).id, '2024-01-01T00:00:00.000Z')), [
            { collectionId: 'alpha', organisationId: orgA, arrivalOnwardSharing: 'none' },
          ]);
          assert.deepEqual((await store.getQuarantined(first.seq))?.resolution, { kind: 'released', by: 'analyst', at: '2025-03-02T09:00:00.000Z' });
          assert.deepEqual((await store.listQuarantine({ limit: 10 })).map((entry) => entry.objectId), [indicator(2).id, indicator(3).id]);
          assert.equal((await store.listQuarantine({ unresolvedOnly: false, limit: 10 })).length, 3);
          await assertRejectsWith(store.releaseQuarantined(first.seq, 'analyst', '2025-03-02T09:01:00.000Z'), 'ENT_QUARANTINE_RESOLVED');
          await assertRejectsWith(store.dropQuarantined(first.seq, 'analyst', '2025-03-02T09:01:00.000Z'), 'ENT_QUARANTINE_RESOLVED');
        });

        it('drops an item without storing it, once', async () => {
          const [, second] = await store.listQuarantine({ limit: 10 });
          assert.ok(second !== undefined);
          await store.dropQuarantined(second.seq, 'analyst', '2025-03-02T10:00:00.000Z');
          assert.deepEqual((await store.getQuarantined(second.seq))?.resolution, { kind: 'dropped', by: 'analyst', at: '2025-03-02T10:00:00.000Z' });
          assert.deepEqual(await all('alpha'), []);
          await assertRejectsWith(store.dropQuarantined(second.seq, 'analyst', '2025-03-02T10:01:00.000Z'), 'ENT_QUARANTINE_RESOLVED');
          await assertRejectsWith(store.releaseQuarantined(second.seq, 'analyst', '2025-03-02T10:01:00.000Z'), 'ENT_QUARANTINE_RESOLVED');
        });

        it('refuses items that do not exist', async () => {
          await assertRejectsWith(store.releaseQuarantined(999_999, 'analyst', received), 'ENT_QUARANTINE_NOT_FOUND');
          await assertRejectsWith(store.dropQuarantined(999_999, 'analyst', received), 'ENT_QUARANTINE_NOT_FOUND');
        });

        it('leaves an item open when the store refuses it, and returns the refusal', async () => {
          await store.addObjects('alpha', [indicator(1, { confidence: 5 })]);
          const [first] = await store.listQuarantine({ limit: 1 });
          assert.ok(first !== undefined);
          const outcome = await store.releaseQuarantined(first.seq, 'analyst', received);
          assert.equal(outcome.kind, 'rejected');
          assert.equal(outcome.kind === 'rejected' ? outcome.code : undefined, 'ENT_OBJECT_VERSION_CONFLICT');
          assert.equal((await store.getQuarantined(first.seq))?.resolution, undefined);
          assert.deepEqual(await provenance(indicator(1)), []);
        });

        it('refuses to release text that is not a STIX object, and leaves it open', async () => {
          await store.applySyncBatch(batch({ quarantined: [item(8, { reason: 'malformed', json: '{"not":"stix"' })] }));
          const [malformed] = await store.listQuarantine({ reason: 'malformed', limit: 1 });
          assert.ok(malformed !== undefined);
          await assertRejectsWith(store.releaseQuarantined(malformed.seq, 'analyst', received), 'ENT_OBJECT_INVALID');
          assert.equal((await store.getQuarantined(malformed.seq))?.resolution, undefined);
        });
      });

      describe('keys', () => {
        const nodeKey = (keyId: string, validFrom: string, overrides: Partial<NodeKeyRecord> = {}): NodeKeyRecord => ({
          keyId,
          publicKey: `public-${keyId}`,
          privateKey: `private-${keyId}`,
          validFrom,
          validUntil: undefined,
          rotationStatement: undefined,
          createdAt: validFrom,
          ...overrides,
        });

        it("keeps the node's key pairs newest first and retires them", async () => {
          assert.deepEqual(await store.listNodeKeys(), []);
          await store.addNodeKey(nodeKey('old-key', '2025-01-01T00:00:00.000Z'));
          await store.addNodeKey(nodeKey('new-key', '2025-03-01T00:00:00.000Z', { rotationStatement: '{"signed":"by old-key"}' }));
          await store.retireNodeKey('old-key', '2025-03-08T00:00:00.000Z');
          assert.deepEqual(await store.listNodeKeys(), [
            nodeKey('new-key', '2025-03-01T00:00:00.000Z', { rotationStatement: '{"signed":"by old-key"}' }),
            nodeKey('old-key', '2025-01-01T00:00:00.000Z', { validUntil: '2025-03-08T00:00:00.000Z' }),
          ]);
          await assertRejectsWith(store.retireNodeKey('no-such-key', '2025-03-08T00:00:00.000Z'), 'ENT_KEY_NOT_FOUND');
        });

        it('changes the node keys as decided on the keys read, wholly or not at all', async () => {
          await store.addNodeKey(nodeKey('old-key', '2025-01-01T00:00:00.000Z'));
          const result = await store.changeNodeKeys((keys) => {
            assert.deepEqual(keys.map((key) => key.keyId), ['old-key']);
            return { add: nodeKey('new-key', '2025-03-01T00:00:00.000Z'), ends: [{ keyId: 'old-key', validUntil: '2025-03-08T00:00:00.000Z' }], result: 'rotated' };
          });
          assert.equal(result, 'rotated');
          const kept = await store.listNodeKeys();
          assert.deepEqual(kept.map((key) => [key.keyId, key.validUntil]), [['new-key', undefined], ['old-key', '2025-03-08T00:00:00.000Z']]);
          // An end naming no key refuses the whole change: the key it would have added is not kept.
          await assertRejectsWith(
            store.changeNodeKeys(() => ({ add: nodeKey('third-key', '2025-06-01T00:00:00.000Z'), ends: [{ keyId: 'no-such-key', validUntil: '2025-06-08T00:00:00.000Z' }], result: undefined })),
            'ENT_KEY_NOT_FOUND',
          );
          assert.deepEqual(await store.listNodeKeys(), kept);
        });

        it('pins keys per organisation; pinning again only narrows the window', async () => {
          const pinned = (organisationId: string, keyId: string, overrides: Partial<PinnedKeyRecord> = {}): PinnedKeyRecord => ({
            organisationId,
            keyId,
            publicKey: `public-${keyId}`,
            validFrom: '2025-01-01T00:00:00.000Z',
            validUntil: undefined,
            source: 'peer-add',
            pinnedAt: received,
            ...overrides,
          });
          await store.pinKey(pinned(orgA, 'a-1'));
          await store.pinKey(pinned(orgB, 'b-1', { source: 'fingerprint' }));
          await store.pinKey(pinned(orgA, 'a-2', { validFrom: '2025-02-01T00:00:00.000Z', source: 'rotation' }));
          await store.pinKey(pinned(orgA, 'a-1', { validUntil: '2025-02-08T00:00:00.000Z', source: 'rotation', pinnedAt: '2025-03-05T00:00:00.000Z' }));
          assert.deepEqual(await store.listPinnedKeys(orgA), [
            pinned(orgA, 'a-1', { validUntil: '2025-02-08T00:00:00.000Z' }),
            pinned(orgA, 'a-2', { validFrom: '2025-02-01T00:00:00.000Z', source: 'rotation' }),
          ]);
          assert.deepEqual((await store.listPinnedKeys()).map((key) => key.keyId), ['a-1', 'a-2', 'b-1']);
          assert.deepEqual(await store.listPinnedKeys('identity--nobody'), []);
          // A rotated-out key is not reopened, nor its start moved back.
          await store.pinKey(pinned(orgA, 'a-1', { validFrom: '2024-01-01T00:00:00.000Z', validUntil: undefined, source: 'acceptance' }));
          await store.pinKey(pinned(orgA, 'a-1', { validUntil: '2025-03-01T00:00:00.000Z' }));
          assert.deepEqual((await store.listPinnedKeys(orgA)).find((key) => key.keyId === 'a-1'), pinned(orgA, 'a-1', { validUntil: '2025-02-08T00:00:00.000Z' }));
          await store.pinKey(pinned(orgA, 'a-1', { validUntil: '2025-02-05T00:00:00.000Z' }));
          assert.equal((await store.listPinnedKeys(orgA)).find((key) => key.keyId === 'a-1')?.validUntil, '2025-02-05T00:00:00.000Z');
          // A key id belongs to one organisation.
          await assertRejectsWith(store.pinKey(pinned(orgB, 'a-2')), 'ENT_PEER_KEY_MISMATCH');
          assert.deepEqual((await store.listPinnedKeys(orgB)).map((key) => key.keyId), ['b-1']);
        });

        it("pins none of this node's own keys, for any organisation", async () => {
          await store.addNodeKey(nodeKey('own-key', '2025-01-01T00:00:00.000Z'));
          const own = { keyId: 'own-key', publicKey: 'public-own-key', validFrom: '2025-01-01T00:00:00.000Z', validUntil: undefined, source: 'acceptance', pinnedAt: received };
          await assertRejectsWith(store.pinKey({ ...own, organisationId: orgA }), 'ENT_PEER_KEY_MISMATCH');
          assert.equal(await store.pinFirstKeys(orgA, [own]), 0);
          assert.deepEqual(await store.listPinnedKeys(), []);
        });

        it("pins an organisation's first keys only while it has none, leaving out key ids held elsewhere", async () => {
          const key = (keyId: string) => ({ keyId, publicKey: `public-${keyId}`, validFrom: '2025-01-01T00:00:00.000Z', validUntil: undefined, source: 'circle', pinnedAt: received });
          await store.pinKey({ ...key('b-1'), organisationId: orgB, source: 'peer-add' });
          // b-1 is orgB's: left out; the same key twice counts once.
          assert.equal(await store.pinFirstKeys(orgA, [key('a-1'), key('b-1'), key('a-1'), key('a-2')]), 2);
          assert.deepEqual((await store.listPinnedKeys(orgA)).map((pinned) => pinned.keyId), ['a-1', 'a-2']);
          // orgA has keys now, and orgB had one: a later vouching pins nothing for either.
          assert.equal(await store.pinFirstKeys(orgA, [key('a-3')]), 0);
          assert.equal(await store.pinFirstKeys(orgB, [key('b-2')]), 0);
          assert.deepEqual((await store.listPinnedKeys()).map((pinned) => pinned.keyId), ['a-1', 'a-2', 'b-1']);
        });
      });

      describe('flash messages', () => {
        const flash = (id: string, overrides: Partial<FlashRecord> = {}): FlashRecord => ({
          id,
          circleId: 'circle-alpha',
          direction: 'sent',
          senderOrganisationId: home,
          text: `Flash ${id}: patch now`,
          indicatorId: indicator(1).id,
          sentAt: received,
          signedJson: `{"id":"${id}"}`,
          receivedAt: undefined,
          acknowledged: undefined,
          receipts: [],
          ...overrides,
        });

        it('stores a flash once; a retried delivery is ignored', async () => {
          assert.equal(await store.addFlash(flash('f-1')), true);
          assert.equal(await store.addFlash(flash('f-1', { text: 'changed' })), false);
          assert.deepEqual(await store.getFlash('f-1'), flash('f-1'));
          assert.equal(await store.getFlash('f-9'), undefined);
        });

        it('lists newest first, by circle, up to the limit', async () => {
          await store.addFlash(flash('f-1'));
          await store.addFlash(flash('f-2', { circleId: 'circle-beta', indicatorId: undefined }));
          await store.addFlash(flash('f-3', { direction: 'received', senderOrganisationId: orgA, receivedAt: '2025-03-01T12:00:01.000Z' }));
          assert.deepEqual((await store.listFlashes({ limit: 10 })).map((record) => record.id), ['f-3', 'f-2', 'f-1']);
          assert.deepEqual((await store.listFlashes({ limit: 1 })).map((record) => record.id), ['f-3']);
          assert.deepEqual((await store.listFlashes({ circleId: 'circle-alpha', limit: 10 })).map((record) => record.id), ['f-3', 'f-1']);
          assert.deepEqual((await store.listFlashes({ circleId: 'circle-beta', limit: 10 }))[0], flash('f-2', { circleId: 'circle-beta', indicatorId: undefined }));
        });

        it("merges what each member's node said", async () => {
          await store.addFlash(flash('f-1', { receipts: [{ organisationId: orgB, lastError: 'timeout' }] }));
          await store.recordFlashReceipt('f-1', { organisationId: orgA, lastError: 'refused' });
          await store.recordFlashReceipt('f-1', { organisationId: orgA, deliveredAt: '2025-03-01T12:00:02.000Z', deliveredFlashId: 'f-1-without-indicator' });
          await store.recordFlashReceipt('f-1', { organisationId: orgA, acknowledgedAt: '2025-03-01T12:10:00.000Z', acknowledgedBy: 'duty officer' });
          const stored = await store.getFlash('f-1');
          assert.deepEqual(stored?.receipts, [
            {
              organisationId: orgA, deliveredAt: '2025-03-01T12:00:02.000Z', deliveredFlashId: 'f-1-without-indicator',
              acknowledgedAt: '2025-03-01T12:10:00.000Z', acknowledgedBy: 'duty officer',
            },
            { organisationId: orgB, lastError: 'timeout' },
          ]);
          await assertRejectsWith(store.recordFlashReceipt('f-9', { organisationId: orgA }), 'ENT_FLASH_NOT_FOUND');
        });

        it('records the first acknowledgement of a received flash', async () => {
          await store.addFlash(flash('f-1', { direction: 'received', senderOrganisationId: orgA, receivedAt: received }));
          await store.acknowledgeFlash('f-1', 'analyst', '2025-03-01T12:05:00.000Z');
          await store.acknowledgeFlash('f-1', 'someone else', '2025-03-01T12:06:00.000Z');
          assert.deepEqual((await store.getFlash('f-1'))?.acknowledged, { by: 'analyst', at: '2025-03-01T12:05:00.000Z' });
          await assertRejectsWith(store.acknowledgeFlash('f-9', 'analyst', received), 'ENT_FLASH_NOT_FOUND');
        });
      });

      describe('recall notices', () => {
        const notice = (n: number, organisationId = orgA): RecallNotice => ({
          circleId: 'circle-alpha',
          organisationId,
          objectId: indicator(n).id,
          version: '2024-01-01T00:00:00.000Z',
          reason: 'member-left',
          queuedAt: received,
        });

        it('marks notices delivered and acknowledged, counting only what changed', async () => {
          await store.queueRecalls([notice(1), notice(2), notice(3), notice(1, orgB)]);
          const filter = { circleId: 'circle-alpha', organisationId: orgA };
          assert.equal(await store.markRecalls({ ...filter, versions: [{ id: indicator(1).id, version: '2024-01-01T00:00:00Z' }] }, { deliveredAt: '2025-03-02T00:00:00.000Z' }), 1);
          assert.equal(await store.markRecalls(filter, { deliveredAt: '2025-03-03T00:00:00.000Z' }), 2);
          assert.equal(await store.markRecalls(filter, { deliveredAt: '2025-03-04T00:00:00.000Z' }), 0);
          assert.equal(await store.markRecalls({ ...filter, versions: [{ id: indicator(2).id, version: '2024-01-01T00:00:00.000Z' }] }, { acknowledgedAt: '2025-03-05T00:00:00.000Z' }), 1);
          // Acknowledged implies delivered.
          assert.equal(await store.markRecalls({ ...filter, organisationId: orgB }, { acknowledgedAt: '2025-03-06T00:00:00.000Z' }), 1);
          assert.equal(await store.markRecalls(filter, {}), 0);
          const recalls = await store.listRecalls({ circleId: 'circle-alpha' });
          assert.deepEqual(
            recalls.map((recall) => [recall.objectId === indicator(1).id ? 1 : recall.objectId === indicator(2).id ? 2 : 3, recall.organisationId, recall.deliveredAt, recall.acknowledgedAt]),
            [
              [1, orgA, '2025-03-02T00:00:00.000Z', undefined],
              [2, orgA, '2025-03-03T00:00:00.000Z', '2025-03-05T00:00:00.000Z'],
              [3, orgA, '2025-03-03T00:00:00.000Z', undefined],
              [1, orgB, '2025-03-06T00:00:00.000Z', '2025-03-06T00:00:00.000Z'],
            ],
          );
          assert.deepEqual(await store.listRecalls({ undeliveredOnly: true }), []);
        });
      });

      describe('recalls received', () => {
        const named = (n: number, outcome: ReceivedRecallVersion['outcome'], withProvenance = true): ReceivedRecallVersion => ({
          id: indicator(n).id,
          version: '2024-01-01T00:00:00.000Z',
          outcome,
          provenance: withProvenance ? { signer: orgA, peer: 'north', verification: 'verified', receivedAt: received } : undefined,
        });
        const recall = (versions: readonly ReceivedRecallVersion[], overrides: Partial<NewReceivedRecall> = {}): NewReceivedRecall => ({
          circleId: 'circle-alpha',
          senderOrganisationId: orgA,
          authority: 'coordinator',
          reason: 'circle circle-alpha ended',
          receivedAt: '2025-03-02T00:00:00.000Z',
          signedJson: '{"kind":"recall","signature":"s1"}',
          versions,
          ...overrides,
        });

        it('keeps a recall with what it did to each version and where that version had come from, and lists it back', async () => {
          const first = recall([named(1, 'removed'), named(2, 'kept', false), named(3, 'absent', false)]);
          const { seq, repeated } = await store.recordReceivedRecall(first);
          assert.equal(repeated, false);
          assert.deepEqual(await store.listReceivedRecalls({ limit: 10 }), [{ ...first, seq }]);
          // Nothing else reads as a received recall: not the versions' own provenance, which the store forgets.
          assert.deepEqual(await store.listReceivedRecalls({ circleId: 'circle-beta', limit: 10 }), []);
        });

        it('lists newest first, by circle, up to the limit and before a seq', async () => {
          const one = await store.recordReceivedRecall(recall([named(1, 'removed')]));
          const two = await store.recordReceivedRecall(recall([named(2, 'removed')], { circleId: 'circle-beta', authority: 'origin', senderOrganisationId: orgB }));
          const three = await store.recordReceivedRecall(recall([named(3, 'removed')]));
          assert.deepEqual((await store.listReceivedRecalls({ limit: 10 })).map((record) => record.seq), [three.seq, two.seq, one.seq]);
          assert.deepEqual((await store.listReceivedRecalls({ limit: 1 })).map((record) => record.seq), [three.seq]);
          assert.deepEqual((await store.listReceivedRecalls({ beforeSeq: three.seq, limit: 10 })).map((record) => record.seq), [two.seq, one.seq]);
          assert.deepEqual((await store.listReceivedRecalls({ circleId: 'circle-alpha', limit: 10 })).map((record) => record.seq), [three.seq, one.seq]);
          const [beta] = await store.listReceivedRecalls({ circleId: 'circle-beta', limit: 10 });
          assert.deepEqual([beta?.authority, beta?.senderOrganisationId, beta?.versions.map((version) => version.id)], ['origin', orgB, [indicator(2).id]]);
        });

        it('keeps a recall sent again once: same sender, circle and versions in any order, nothing removed the second time', async () => {
          const first = await store.recordReceivedRecall(recall([named(1, 'removed'), named(2, 'removed')]));
          const again = await store.recordReceivedRecall(
            recall([named(2, 'absent', false), named(1, 'absent', false)], { receivedAt: '2025-03-02T01:00:00.000Z', signedJson: '{"kind":"recall","signature":"s2"}' }),
          );
          assert.deepEqual(again, { seq: first.seq, repeated: true });
          assert.equal((await store.listReceivedRecalls({ limit: 10 })).length, 1);
          // Not a repeat: another sender, another circle, other versions, or one that removed something again.
          const others = [
            recall([named(1, 'absent'), named(2, 'absent')], { senderOrganisationId: orgB }),
            recall([named(1, 'absent'), named(2, 'absent')], { circleId: 'circle-beta' }),
            recall([named(1, 'absent')]),
            recall([named(1, 'removed'), named(2, 'absent')]),
          ];
          for (const other of others) assert.equal((await store.recordReceivedRecall(other)).repeated, false);
          assert.equal((await store.listReceivedRecalls({ limit: 10 })).length, 5);
        });

        it('keeps the versions of a large recall in the order it named them', async () => {
          const versions = range(2000).map((n) => named(n, n % 3 === 0 ? 'removed' : n % 3 === 1 ? 'kept' : 'absent', n % 2 === 0));
          await store.recordReceivedRecall(recall(versions));
          const [kept] = await store.listReceivedRecalls({ limit: 1 });
          assert.deepEqual(kept?.versions, versions);
        });
      });
    });
  });
}

// ---- Fixtures: small, readable, deterministic ----

export function indicator(n: number, overrides: Partial<StixObject> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuidFor(n)}`,
    created: '2024-01-01T00:00:00.000Z',
    modified: '2024-01-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '198.51.100.${n % 256}']`,
    pattern_type: 'stix',
    valid_from: '2024-01-01T00:00:00.000Z',
    ...overrides,
  } as StixObject;
}

export function malware(n: number, overrides: Partial<StixObject> = {}): StixObject {
  return {
    type: 'malware',
    spec_version: '2.1',
    id: `malware--${uuidFor(n)}`,
    created: '2024-01-01T00:00:00.000Z',
    modified: '2024-01-01T00:00:00.000Z',
    name: `Family ${n}`,
    is_family: true,
    ...overrides,
  } as StixObject;
}

function uuidFor(n: number): string {
  return `6a3a8a2e-1b7c-4d2e-8f00-${n.toString(16).padStart(12, '0')}`;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

function dateAddedOf(outcome: AddOutcome | undefined): number {
  assert.ok(outcome?.kind === 'added', `expected an added outcome, got ${JSON.stringify(outcome)}`);
  return outcome.dateAdded;
}

function assertStrictlyIncreasing(values: readonly number[]): void {
  for (let index = 1; index < values.length; index += 1) {
    assert.ok((values[index] ?? 0) > (values[index - 1] ?? 0), `not strictly increasing at ${index}: ${values.join(', ')}`);
  }
}

async function assertRejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => isEntenteError(error) && error.code === code);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
