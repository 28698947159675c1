import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { AddOutcome, EntryFilter, ObjectStore, StoredEntry } from '../../src/store/object-store.ts';

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

      it('refuses objects for a collection that does not exist', async () => {
        await assertRejectsWith(store.addObjects('nope', [indicator(1)]), 'ENT_COLLECTION_NOT_FOUND');
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

      const search = (text: string, extra: { types?: string[]; collectionIds?: string[] } = {}) =>
        store.search({ text, collectionIds: extra.collectionIds ?? ['alpha', 'beta'], limit: 10, ...(extra.types === undefined ? {} : { types: extra.types }) });

      it('matches words as prefixes over name, description and aliases', async () => {
        assert.deepEqual((await search('emot')).map((hit) => hit.name).sort(), ['Emotet', 'Emotion']);
        assert.deepEqual((await search('heod')).map((hit) => hit.name), ['Emotet']);
        assert.deepEqual((await search('voodoo')).map((hit) => hit.name), ['Sandworm Team']);
        assert.deepEqual((await search('banking LOADER')).map((hit) => hit.name), ['Emotet']);
      });

      it('returns the stored object, its collection, version and a rank where higher is better', async () => {
        const [hit] = await search('geodo');
        assert.equal(hit?.type, 'malware');
        assert.equal(hit?.collectionId, 'alpha');
        assert.equal(hit?.version, malware(1)['modified']);
        assert.equal((JSON.parse(hit?.json ?? '{}') as StixObject).id, malware(1).id);
        const ranked = await search('emotet');
        assert.equal(ranked[0]?.name, 'Emotet');
        assert.equal(typeof ranked[0]?.rank, 'number');
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
    });

    describe('node metadata', () => {
      it('reads back what was written and overwrites', async () => {
        assert.equal(await store.getMeta('home'), undefined);
        await store.setMeta('home', 'identity--1');
        await store.setMeta('home', 'identity--2');
        assert.equal(await store.getMeta('home'), 'identity--2');
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
