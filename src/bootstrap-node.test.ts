import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureHomeSightingsCollection, ensureNodeInitialised, findCollection, homeSightingsCollectionAlias, metaKeys } from './bootstrap-node.ts';
import { openSqliteObjectStore } from './store/sqlite/sqlite-object-store.ts';
import { CURSOR_KEY_META, loadCursorKey } from './taxii/cursor-key.ts';

describe('ensureNodeInitialised', () => {
  it('makes the TAXII cursor key at the first start (before `start --workers` forks) and keeps it afterwards', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      const inputs = { orgName: 'Test CERT', now: new Date('2026-11-24T00:00:00Z'), randomUuid: randomUUID, randomBytes: (size: number) => randomBytes(size) };
      await ensureNodeInitialised(store, inputs);
      const made = await store.getMeta(CURSOR_KEY_META);
      assert.equal(Buffer.from(made ?? '', 'base64').length, 32);
      await loadCursorKey(store); // the key the TAXII server will read is one it accepts
      await ensureNodeInitialised(store, inputs);
      assert.equal(await store.getMeta(CURSOR_KEY_META), made, 'the same key on every later start');
    } finally {
      await store.close();
    }
  });

  const inputs = { orgName: 'Test CERT', now: new Date('2026-11-24T00:00:00Z'), randomUuid: randomUUID, randomBytes: (size: number) => randomBytes(size) };

  it('makes the home sightings collection once, with its alias, and the same one at every later start', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      const first = await ensureNodeInitialised(store, inputs);
      assert.equal(first.homeSightingsCollection.alias, homeSightingsCollectionAlias);
      assert.notEqual(first.homeSightingsCollection.id, first.defaultCollection.id);
      assert.equal((await findCollection(store, homeSightingsCollectionAlias))?.id, first.homeSightingsCollection.id);
      const again = await ensureNodeInitialised(store, inputs);
      assert.equal(again.homeSightingsCollection.id, first.homeSightingsCollection.id);
      assert.equal((await store.listCollections()).length, 2, 'the default collection and the home sightings collection');
      assert.deepEqual((await store.listTokens()).flatMap((token) => token.grants), [], 'no token is granted it');
    } finally {
      await store.close();
    }
  });

  it('gives a data directory made before it existed the home sightings collection at its next start', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      // A node initialised by an older version: home organisation and default collection, nothing more.
      await store.setMeta(metaKeys.homeOrganisation, JSON.stringify({ type: 'identity', spec_version: '2.1', id: 'identity--0a000000-0000-4000-8000-000000000001', name: 'Old' }));
      await store.createCollection({ id: 'old-default', alias: 'default', title: 'Old default' }, inputs.now);
      await store.setMeta(metaKeys.defaultCollection, 'old-default');
      const opened = await ensureNodeInitialised(store, inputs);
      assert.equal(opened.defaultCollection.id, 'old-default');
      assert.equal(await store.getMeta(metaKeys.homeSightingsCollection), opened.homeSightingsCollection.id);
      assert.equal(opened.homeSightingsCollection.alias, homeSightingsCollectionAlias);
    } finally {
      await store.close();
    }
  });

  it("leaves an operator's collection answering to home-sightings as it is, and makes the home sightings collection without the alias", async () => {
    // An older data directory: its operator's collection answers to the name (as its alias, or as its
    // id), made before the node reserved it. The store refuses a second collection by that name, so each is its own node.
    for (const operators of [{ id: 'ops', alias: homeSightingsCollectionAlias, title: "The SOC's own" }, { id: homeSightingsCollectionAlias, title: 'Named so' }]) {
      const store = openSqliteObjectStore({ path: ':memory:' });
      try {
        await store.createCollection(operators, inputs.now);
        const opened = await ensureNodeInitialised(store, inputs);
        assert.equal(opened.homeSightingsCollection.alias, undefined);
        assert.ok(!['ops', homeSightingsCollectionAlias].includes(opened.homeSightingsCollection.id));
      } finally {
        await store.close();
      }
    }
  });

  // Two processes first-starting one older data directory (`entente start` beside an `entente import`,
  // or `start --workers`): each read the key, found no collection, and made and recorded its own, the
  // second overwriting the first's key and leaving its collection an orphan that partners' sightings
  // may already have gone to.
  for (const operatorsCollection of [undefined, { id: 'ops', alias: homeSightingsCollectionAlias, title: "The SOC's own" }]) {
    const when = operatorsCollection === undefined ? 'its alias free' : 'its alias taken by an operator\'s collection';
    // Two connections in one process, whose steps interleaved at each await before 2b4bbb8; separate
    // processes racing for the write lock: test/node/first-start-race.test.ts.
    it(`gives two connections first-starting one older data directory the same home sightings collection, and makes no other (${when})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'entente-bootstrap-'));
      const path = join(dir, 'store.db');
      const older = openSqliteObjectStore({ path });
      await older.setMeta(metaKeys.homeOrganisation, JSON.stringify({ type: 'identity', spec_version: '2.1', id: 'identity--0a000000-0000-4000-8000-000000000001', name: 'Old' }));
      await older.createCollection({ id: 'old-default', alias: 'default', title: 'Old default' }, inputs.now);
      await older.setMeta(metaKeys.defaultCollection, 'old-default');
      if (operatorsCollection !== undefined) await older.createCollection(operatorsCollection, inputs.now);
      await older.close();
      const first = openSqliteObjectStore({ path });
      const second = openSqliteObjectStore({ path });
      try {
        const [mine, theirs] = await Promise.all([ensureHomeSightingsCollection(first, inputs), ensureHomeSightingsCollection(second, inputs)]);
        assert.equal(mine.id, theirs.id);
        assert.equal(await first.getMeta(metaKeys.homeSightingsCollection), mine.id);
        assert.equal((await first.listCollections()).length, operatorsCollection === undefined ? 2 : 3, 'the default collection, the home sightings collection and no orphan');
        assert.equal(mine.alias, operatorsCollection === undefined ? homeSightingsCollectionAlias : undefined);
        assert.equal((await ensureNodeInitialised(second, inputs)).homeSightingsCollection.id, mine.id, 'and the same one at the next start');
      } finally {
        await first.close();
        await second.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
