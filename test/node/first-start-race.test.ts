import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adminTokenName, homeSightingsCollectionAlias, metaKeys, readHomeOrganisation } from '../../src/bootstrap-node.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { raceProcesses } from './racing-processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'entente-first-start-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;
const freshPath = (): string => join(dir, `store-${(databases += 1)}.db`);

interface Started {
  readonly homeOrganisation: string;
  readonly defaultCollection: string;
  readonly homeSightingsCollection: string;
  readonly madeAdminSecret: boolean;
}

const RACER = join(import.meta.dirname, 'first-start-racer.ts');

/** The first start of `racers` processes on one data file at once (raceProcesses). */
function firstStartAtOnce(path: string, racers: number, step: 'node' | 'sightings' = 'node'): Promise<Started[]> {
  return raceProcesses<Started>(path, RACER, [path, step], racers);
}

// `entente start` beside `entente import` (each opens the node, and opening initialises it) on a data
// directory neither has used yet, or on one an older version made.
describe('processes starting on one data directory at once', () => {
  it('give a fresh one one home organisation, default collection, home sightings collection, admin token and node key, and all use the same', async () => {
    const path = freshPath();
    await openSqliteObjectStore({ path }).close(); // migrated, as the racers' own opening would leave it
    const started = await firstStartAtOnce(path, 2);
    const store = openSqliteObjectStore({ path });
    try {
      const home = await readHomeOrganisation(store);
      for (const each of started) {
        assert.equal(each.homeOrganisation, home?.id, 'each runs as the home organisation the node keeps');
        assert.equal(each.defaultCollection, await store.getMeta(metaKeys.defaultCollection));
        assert.equal(each.homeSightingsCollection, await store.getMeta(metaKeys.homeSightingsCollection));
      }
      assert.equal(started.filter((each) => each.madeAdminSecret).length, 1, 'one of them writes admin.token');
      assert.equal((await store.listCollections()).length, 2, 'the default collection and the home sightings collection, no orphan');
      assert.deepEqual((await store.listTokens()).map((token) => [token.name, token.organisationId]), [[adminTokenName, home?.id]]);
      assert.equal((await store.listNodeKeys()).length, 1, 'one node key: partners pin one');
      const held = await store.listEntries(started[0]?.defaultCollection ?? '', {}, { limit: 10 });
      assert.deepEqual(held.entries.map((entry) => entry.id), [home?.id], 'the default collection holds the home organisation the node keeps');
    } finally {
      await store.close();
    }
  });

  // The home sightings collection alone (store.recordedCollection, in a transaction of its own) too.
  for (const [operators, step] of [[undefined, 'node'], [{ id: 'ops', alias: homeSightingsCollectionAlias, title: "The SOC's own" }, 'sightings']] as const) {
    it(`give an older one one home sightings collection (${operators === undefined ? 'its alias free' : "its alias an operator's collection's"}, through ${step === 'node' ? 'ensureNodeInitialised' : 'ensureHomeSightingsCollection'})`, async () => {
      const path = freshPath();
      const older = openSqliteObjectStore({ path });
      await older.setMeta(metaKeys.homeOrganisation, JSON.stringify({ type: 'identity', spec_version: '2.1', id: 'identity--0a000000-0000-4000-8000-000000000001', name: 'Old' }));
      await older.createCollection({ id: 'old-default', alias: 'default', title: 'Old default' }, new Date());
      await older.setMeta(metaKeys.defaultCollection, 'old-default');
      if (operators !== undefined) await older.createCollection(operators, new Date());
      await older.close();
      const started = await firstStartAtOnce(path, 2, step);
      const store = openSqliteObjectStore({ path });
      try {
        const kept = await store.getMeta(metaKeys.homeSightingsCollection);
        assert.deepEqual(started.map((each) => each.homeSightingsCollection), [kept, kept]);
        assert.equal((await store.listCollections()).length, operators === undefined ? 2 : 3, 'no orphan');
      } finally {
        await store.close();
      }
    });
  }
});
