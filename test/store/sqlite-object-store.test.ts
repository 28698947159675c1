import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { EVIDENCE_REFERRER_SQL, SCHEMA_VERSION, openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { versionKey, type StoredEntry } from '../../src/store/object-store.ts';
import { indicator, malware, runObjectStoreContract } from './object-store.contract.ts';
import { contentVersionOf } from '../../src/stix/versions.ts';

const dir = mkdtempSync(join(tmpdir(), 'entente-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;
const freshPath = (): string => join(dir, `store-${(databases += 1)}.db`);

runObjectStoreContract('SqliteObjectStore (file)', async ({ clock }) => openSqliteObjectStore({ path: freshPath(), clock }));
runObjectStoreContract('SqliteObjectStore (:memory:)', async ({ clock }) => openSqliteObjectStore({ path: ':memory:', clock }));

describe('SqliteObjectStore', () => {
  it('changes the token change marker when another connection revokes a token', async () => {
    const path = freshPath();
    const server = openSqliteObjectStore({ path });
    const cli = openSqliteObjectStore({ path });
    try {
      await cli.createToken({ name: 'partner', secretHash: 'd'.repeat(64), admin: false, grants: [], organisationId: undefined, createdAt: '2025-03-01T12:00:00.000Z', revokedAt: undefined });
      const before = await server.tokenChangeMarker();
      assert.equal(await server.tokenChangeMarker(), before);
      await cli.revokeToken('partner', new Date('2025-03-02T00:00:00.000Z'));
      assert.notEqual(await server.tokenChangeMarker(), before, 'a commit by another connection must change the marker');
    } finally {
      await cli.close();
      await server.close();
    }
  });

  it('opens with WAL, synchronous=FULL and foreign keys on', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      assert.equal(store.database.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(store.database.pragma('synchronous', { simple: true }), 2);
      assert.equal(store.database.pragma('foreign_keys', { simple: true }), 1);
    } finally {
      await store.close();
    }
  });

  it('sizes its page cache to an import: half the input, between 16 and 128 MiB; an unknown size leaves it', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    const cacheKib = (): number => -(store.database.pragma('cache_size', { simple: true }) as number);
    try {
      assert.equal(cacheKib(), 131_072);
      store.sizeCacheForImport(0);
      assert.equal(cacheKib(), 131_072, 'standard input: size unknown');
      store.sizeCacheForImport(50 * 1024 * 1024);
      assert.equal(cacheKib(), 25_600, 'ATT&CK Enterprise: 50 MB');
      store.sizeCacheForImport(1024 * 1024);
      assert.equal(cacheKib(), 16_384);
      store.sizeCacheForImport(470 * 1024 * 1024);
      assert.equal(cacheKib(), 131_072, '1,000,000 indicators: the id index needs the whole cache');
      store.sizeCacheForImport(Number.NaN);
      assert.equal(cacheKib(), 131_072);
    } finally {
      await store.close();
    }
  });

  it('stores the JSON of a version once however many collections hold it', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      for (const id of ['one', 'two', 'three']) {
        await store.createCollection({ id, title: id }, new Date());
        await store.addObjects(id, [indicator(1)]);
      }
      assert.equal(store.database.prepare('SELECT count(*) FROM object_versions').pluck().get(), 1);
      assert.equal(store.database.prepare('SELECT count(*) FROM entries').pluck().get(), 3);
    } finally {
      await store.close();
    }
  });

  it('leaves every table as it was after an all-or-nothing add that is refused: no version, entry, search text, contribution or dateAdded', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      await store.createCollection({ id: 'alpha', title: 'alpha' }, new Date());
      await store.addObjects('alpha', [indicator(1)]);
      const tables = ['object_versions', 'entries', 'object_text', 'contributions', 'statuses'];
      const snapshot = (): unknown[] => [
        ...tables.map((table) => store.database.prepare(`SELECT count(*) FROM ${table}`).pluck().get()),
        store.database.prepare('SELECT last_date_added FROM collections').pluck().all(),
      ];
      const before = snapshot();
      const outcomes = await store.addObjects('alpha', [malware(2), { ...indicator(1), confidence: 9 }, malware(3)], undefined, 'identity--partner-a', { allOrNothing: true });
      assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['rejected']);
      assert.deepEqual(snapshot(), before);
    } finally {
      await store.close();
    }
  });

  it('answers contributionsOf for a whole page in one call: every contributor of each version, nothing for the rest', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      for (const id of ['alpha', 'beta']) await store.createCollection({ id, title: id }, new Date());
      const version = '2024-01-01T00:00:00.000Z';
      await store.addObjects('alpha', [1, 3, 4].map((n) => indicator(n)));
      await store.addObjects('alpha', [indicator(2)], undefined, 'identity--partner-a');
      // A partner sending again what the home organisation put there itself is no contribution:
      // the entry stays the home organisation's (docs/federation.md, "Who may recall what").
      await store.addObjects('alpha', [indicator(1)], undefined, 'identity--partner-a');
      // Another partner sending what one partner contributed is recorded as well.
      await store.addObjects('alpha', [indicator(2)], undefined, 'identity--partner-c');
      await store.addObjects('beta', [indicator(2), indicator(3)], undefined, 'identity--partner-b');
      const wanted = [1, 2, 3, 2, 5].map((n) => ({ id: indicator(n).id, version }));
      const found = await store.contributionsOf([...wanted, { id: indicator(4).id, version: '1999-01-01T00:00:00.000Z' }]);
      const sorted = (key: string): unknown => [...(found.get(key) ?? [])].sort((x, y) => x.organisationId.localeCompare(y.organisationId));
      assert.deepEqual([...found.keys()].sort(), [versionKey(indicator(2).id, version), versionKey(indicator(3).id, version)].sort());
      assert.deepEqual(sorted(versionKey(indicator(2).id, version)), [
        { collectionId: 'alpha', organisationId: 'identity--partner-a', arrivalOnwardSharing: 'none' },
        { collectionId: 'beta', organisationId: 'identity--partner-b', arrivalOnwardSharing: 'none' },
        { collectionId: 'alpha', organisationId: 'identity--partner-c', arrivalOnwardSharing: 'none' },
      ]);
      assert.deepEqual(found.get(versionKey(indicator(3).id, version)), [{ collectionId: 'beta', organisationId: 'identity--partner-b', arrivalOnwardSharing: 'none' }]);
      assert.equal((await store.contributionsOf([])).size, 0);
    } finally {
      await store.close();
    }
  });

  it('answers contributionsOfEntries as contributionsOf, for listed entries and for entries of another collection or another version', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      for (const id of ['alpha', 'beta']) await store.createCollection({ id, title: id }, new Date());
      await store.addObjects('alpha', [1, 3, 4].map((n) => indicator(n)));
      await store.addObjects('alpha', [indicator(2)], undefined, 'identity--partner-a');
      // A partner sending again what the home organisation put there itself is no contribution:
      // the entry stays the home organisation's (docs/federation.md, "Who may recall what").
      await store.addObjects('alpha', [indicator(1)], undefined, 'identity--partner-a');
      // Another partner sending what one partner contributed is recorded as well.
      await store.addObjects('alpha', [indicator(2)], undefined, 'identity--partner-c');
      await store.addObjects('beta', [indicator(2), indicator(3), indicator(5)], undefined, 'identity--partner-b');
      await store.addObjects('beta', [indicator(5)], undefined, 'identity--partner-c');
      const alpha = (await store.listEntries('alpha', {}, { limit: 100 })).entries;
      const beta = (await store.listEntries('beta', {}, { limit: 100 })).entries;
      const normal = (found: Map<string, { collectionId: string; organisationId: string }[]>): unknown =>
        [...found].map(([key, list]) => [key, [...list].sort((x, y) => x.organisationId.localeCompare(y.organisationId))]).sort();
      const expected = async (entries: readonly StoredEntry[]): Promise<unknown> => normal(await store.contributionsOf(entries));
      // Listed from alpha; then beta's entries asked as if alpha listed them (their dateAdded name other
      // entries there, or none), and an entry whose version does not match the one stored at its dateAdded.
      const first = alpha[0] as StoredEntry;
      const asked = [...alpha, ...beta, { ...first, version: '2030-01-01T00:00:00.000Z' }, { ...first, id: indicator(5).id }];
      for (const entries of [alpha, beta, asked, []]) assert.deepEqual(normal(await store.contributionsOfEntries('alpha', entries)), await expected(entries));
      assert.deepEqual(normal(await store.contributionsOfEntries('beta', beta)), await expected(beta));
      assert.deepEqual(normal(await store.contributionsOfEntries('no-such-collection', beta)), await expected(beta));
      assert.equal((await store.contributionsOfEntries('beta', beta)).get(versionKey(indicator(5).id, '2024-01-01T00:00:00.000Z'))?.length, 2);
    } finally {
      await store.close();
    }
  });

  describe('migrations', () => {
    it('migrates a new file to the current schema version and reopens it without change', async () => {
      const path = freshPath();
      const first = openSqliteObjectStore({ path });
      await first.createCollection({ id: 'kept', title: 'Kept' }, new Date());
      await first.addObjects('kept', [indicator(1)]);
      assert.equal(first.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      await first.close();

      for (let reopen = 0; reopen < 2; reopen += 1) {
        const again = openSqliteObjectStore({ path });
        assert.equal(again.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.deepEqual(await again.countEntries('kept'), { objects: 1, versions: 1 });
        await again.close();
      }
    });

    it('migrates a schema 6 store to 7 (federation) keeping its data', async () => {
      const path = freshPath();
      const raw = new Database(path);
      raw.exec(migrations.slice(0, 6).join('\n'));
      raw.pragma('user_version = 6');
      // Data a schema 6 node wrote (its statements, since this program's store needs schema 7 to open).
      raw.exec(`
        INSERT INTO collections (id, title, created_at, last_date_added) VALUES ('kept', 'Kept', 'c', 1);
        INSERT INTO object_versions (object_id, version, type, spec_version, revoked, json)
          VALUES ('${indicator(1).id}', '2024-01-01T00:00:00.000Z', 'indicator', '2.1', 0, '${JSON.stringify(indicator(1)).replaceAll("'", "''")}');
        INSERT INTO entries (collection_key, date_added, vid, is_latest, is_first) VALUES (1, 1, 1, 1, 1);
        INSERT INTO contributions (vid, collection_key, organisation_id) VALUES (1, 1, 'identity--partner');
        INSERT INTO recall_notices (circle_id, organisation_id, object_id, version, reason, queued_at)
          VALUES ('c', 'identity--partner', '${indicator(1).id}', '2024-01-01T00:00:00.000Z', 'member-left', 'q');
        INSERT INTO webhooks (name, url, secret, min_severity, created_at) VALUES ('soc', 'https://soc.example/hook', 's', 'high', 'c');
      `);
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.deepEqual(await store.countEntries('kept'), { objects: 1, versions: 1 });
        assert.equal((await store.contributionsOf([{ id: indicator(1).id, version: '2024-01-01T00:00:00.000Z' }])).size, 1);
        assert.equal((await store.listWebhooks()).length, 1);
        const [recall] = await store.listRecalls({});
        assert.equal(recall?.acknowledgedAt, undefined);
        assert.equal(await store.markRecalls({ circleId: 'c', organisationId: 'identity--partner' }, { acknowledgedAt: 'a' }), 1);
        assert.deepEqual(
          (await store.listRecalls({})).map((notice) => [notice.deliveredAt, notice.acknowledgedAt]),
          [['a', 'a']],
        );
        const [outcome] = (
          await store.applySyncBatch({
            collectionId: 'kept',
            peer: undefined,
            circleId: undefined,
            source: 'file',
            contributorOrganisationId: 'identity--partner',
            accepted: [{ object: indicator(1), signer: 'identity--partner', keyId: 'k', verification: 'verified', hops: [] }],
            quarantined: [],
            receivedAt: 'r',
          })
        ).outcomes;
        assert.equal(outcome?.kind, 'duplicate');
        assert.deepEqual([...(await store.originSignersOf([indicator(1).id])).values()], ['identity--partner']);
      } finally {
        await store.close();
      }
    });

    it('migrates a schema 15 store to 16 (evidence references), indexing the sightings and observed-data it holds', async () => {
      const path = freshPath();
      const raw = new Database(path);
      // Migration 10 calls the store's own function; the database is empty then (rows come after).
      raw.function('entente_content_version', (_json: unknown) => null);
      raw.exec(migrations.slice(0, 15).join('\n'));
      raw.pragma('user_version = 15');
      const address = 'ipv4-addr--e0000000-0000-4000-8000-000000000001';
      const observed = { type: 'observed-data', spec_version: '2.1', id: 'observed-data--e0000000-0000-4000-8000-000000000001', created: 'c', modified: 'm', object_refs: [address] };
      const sighting = { type: 'sighting', spec_version: '2.1', id: 'sighting--e0000000-0000-4000-8000-000000000001', created: 'c', modified: 'm', observed_data_refs: [observed.id] };
      const insertVersion = raw.prepare('INSERT INTO object_versions (vid, object_id, version, type, spec_version, revoked, json) VALUES (?, ?, ?, ?, ?, 0, ?)');
      const insertEntry = raw.prepare('INSERT INTO entries (collection_key, date_added, vid, is_latest, is_first) VALUES (1, ?, ?, 1, 1)');
      raw.exec(`INSERT INTO collections (key, id, title, created_at, last_date_added) VALUES (1, 'sightings', 'S', 'c', 30)`);
      raw.exec(`INSERT INTO node_meta (key, value) VALUES ('home_sightings_collection', 'sightings')`);
      insertVersion.run(1, address, 'k', 'ipv4-addr', '2.1', JSON.stringify({ type: 'ipv4-addr', spec_version: '2.1', id: address, value: '10.0.0.1' }));
      insertVersion.run(2, observed.id, 'm', 'observed-data', '2.1', JSON.stringify(observed));
      insertVersion.run(3, sighting.id, 'm', 'sighting', '2.1', JSON.stringify(sighting));
      for (const [dateAdded, vid] of [[10, 1], [20, 2], [30, 3]] as const) insertEntry.run(dateAdded, vid);
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        const found = await store.evidenceReferrersOf('sightings', [
          { id: address, version: 'k', dateAdded: 10 },
          { id: observed.id, version: 'm', dateAdded: 20 },
        ]);
        assert.deepEqual(found.map((entry) => entry?.id), [observed.id, sighting.id]);
        // The store's own statement: one seek in the index, never a scan of the collection's entries nor
        // a sort of every row naming the id (an observable a thousand observed-data list).
        const plan = (store.database.prepare(`EXPLAIN QUERY PLAN ${EVIDENCE_REFERRER_SQL}`).all({ collectionKey: 1, id: 'x', dateAdded: 0, version: 'v' }) as { detail: string }[]).map((row) => row.detail);
        assert.match(plan.join('\n'), /SEARCH r USING PRIMARY KEY \(collection_key=\? AND ref_id=\? AND date_added>\?\)/);
        assert.deepEqual(plan.filter((detail) => /^SCAN|TEMP B-TREE/.test(detail)), [], plan.join('\n'));
      } finally {
        await store.close();
      }
    });

    // evidenceReferrersOf skips a row of a deleted entry by its join, one lookup a row: rows left behind
    // would make the one seek a walk over every deleted referrer of an id, so they go with the entry.
    it('keeps no evidence reference of a deleted entry: the rows of a deleted sighting and observed-data go with them', async () => {
      const store = openSqliteObjectStore({ path: freshPath() });
      try {
        await store.createCollection({ id: 'sightings', title: 'S' }, new Date('2024-01-01T00:00:00.000Z'));
        await store.setMeta('home_sightings_collection', 'sightings');
        const address = 'ipv4-addr--e0000000-0000-4000-8000-000000000005';
        const observed = 'observed-data--e0000000-0000-4000-8000-000000000005';
        const sighting = 'sighting--e0000000-0000-4000-8000-000000000005';
        const at = '2024-01-01T00:00:00.000Z';
        await store.addObjects('sightings', [
          { type: 'ipv4-addr', spec_version: '2.1', id: address, value: '10.0.0.5' },
          { type: 'observed-data', spec_version: '2.1', id: observed, created: at, modified: at, first_observed: at, last_observed: at, number_observed: 1, object_refs: [address] },
          { type: 'sighting', spec_version: '2.1', id: sighting, created: at, modified: at, sighting_of_ref: 'indicator--e0000000-0000-4000-8000-000000000005', observed_data_refs: [observed] },
        ] as never);
        const rows = (): number => (store.database.prepare('SELECT count(*) AS n FROM evidence_refs').get() as { n: number }).n;
        assert.equal(rows(), 2, 'one for the observed-data naming the address, one for the sighting naming the observed-data');
        await store.deleteObject('sightings', sighting, {});
        assert.equal(rows(), 1);
        await store.deleteObject('sightings', observed, {});
        assert.equal(rows(), 0);
      } finally {
        await store.close();
      }
    });

    // The upgrade's cost is the home sightings collection's, never the store's: no index finds a
    // store's sightings and observed-data, so a backfill over every version read all of their JSON.
    it('fills evidence references from the home sightings collection alone, read by its key: a version held only elsewhere is never read', async () => {
      const path = freshPath();
      const raw = new Database(path);
      raw.function('entente_content_version', (_json: unknown) => null);
      raw.exec(migrations.slice(0, 15).join('\n'));
      raw.pragma('user_version = 15');
      raw.exec(`INSERT INTO collections (key, id, title, created_at, last_date_added) VALUES (1, 'sightings', 'S', 'c', 20), (2, 'feeds', 'F', 'c', 30)`);
      raw.exec(`INSERT INTO node_meta (key, value) VALUES ('home_sightings_collection', 'sightings')`);
      const address = 'ipv4-addr--e0000000-0000-4000-8000-000000000002';
      const observed = { type: 'observed-data', spec_version: '2.1', id: 'observed-data--e0000000-0000-4000-8000-000000000002', created: 'c', modified: 'm', object_refs: [address] };
      const insertVersion = raw.prepare('INSERT INTO object_versions (vid, object_id, version, type, spec_version, revoked, json) VALUES (?, ?, ?, ?, ?, 0, ?)');
      const insertEntry = raw.prepare('INSERT INTO entries (collection_key, date_added, vid, is_latest, is_first) VALUES (?, ?, ?, 1, 1)');
      insertVersion.run(1, address, 'k', 'ipv4-addr', '2.1', JSON.stringify({ type: 'ipv4-addr', spec_version: '2.1', id: address, value: '10.0.0.2' }));
      insertVersion.run(2, observed.id, 'm', 'observed-data', '2.1', JSON.stringify(observed));
      // A feed's observed-data whose text json_each refuses: read, it would fail the upgrade.
      insertVersion.run(3, 'observed-data--e0000000-0000-4000-8000-000000000003', 'm', 'observed-data', '2.1', '{"object_refs": [');
      for (const [collection, dateAdded, vid] of [[1, 10, 1], [1, 20, 2], [2, 30, 3]] as const) insertEntry.run(collection, dateAdded, vid);
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        const found = await store.evidenceReferrersOf('sightings', [{ id: address, version: 'k', dateAdded: 10 }]);
        assert.deepEqual(found.map((entry) => entry?.id), [observed.id]);
        // The backfill as migration 16 runs it: the home sightings collection's entries by the primary key, no scan.
        const backfill = /INSERT OR IGNORE INTO evidence_refs \(collection_key, ref_id, date_added\)\s+(SELECT[^;]+);/.exec(migrations[15] ?? '')?.[1];
        assert.ok(backfill !== undefined, 'migration 16 fills evidence_refs');
        const plan = (store.database.prepare(`EXPLAIN QUERY PLAN ${backfill}`).all() as { detail: string }[]).map((row) => row.detail);
        assert.ok(plan.some((detail) => /^SEARCH e USING PRIMARY KEY \(collection_key=\?\)/.test(detail)), plan.join('\n'));
        assert.deepEqual(plan.filter((detail) => /^SCAN (e|ov|entries|object_versions)\b/.test(detail)), [], plan.join('\n'));
      } finally {
        await store.close();
      }
    });

    it('migrates a schema 7 store to 8 (recalls received) keeping its data', async () => {
      const path = freshPath();
      const raw = new Database(path);
      raw.exec(migrations.slice(0, 7).join('\n'));
      raw.pragma('user_version = 7');
      raw.exec(`
        INSERT INTO collections (id, title, created_at, last_date_added) VALUES ('kept', 'Kept', 'c', 1);
        INSERT INTO peers (name, url, api_root_url, token, circle_id, local_collection_id, remote_collection_id, organisation_id, kind, push, interval_seconds, silent_after, created_at)
          VALUES ('north', 'https://north.example/', 'https://north.example/api/', 't', 'c', 'kept', 'r', 'identity--partner', 'entente', 0, 30, 3, 'c');
        INSERT INTO peer_state (peer) VALUES ('north');
        INSERT INTO node_meta (key, value) VALUES ('home_organisation', '{"id":"identity--home"}');
      `);
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.equal((await store.getPeer('north'))?.organisationId, 'identity--partner');
        assert.equal(await store.getMeta('home_organisation'), '{"id":"identity--home"}');
        assert.deepEqual(await store.listReceivedRecalls({ limit: 10 }), []);
        const version = { id: indicator(1).id, version: '2024-01-01T00:00:00.000Z', outcome: 'removed' as const, provenance: undefined };
        const { seq } = await store.recordReceivedRecall({
          circleId: 'c', senderOrganisationId: 'identity--partner', authority: 'coordinator', reason: 'circle c ended', receivedAt: 'r', signedJson: '{}', versions: [version],
        });
        assert.deepEqual((await store.listReceivedRecalls({ limit: 10 })).map((recall) => [recall.seq, recall.versions]), [[seq, [version]]]);
      } finally {
        await store.close();
      }
    });

    it('migrates a schema 9 store to 10: each stored SCO, and every row naming it, takes the key of its content', async () => {
      const path = freshPath();
      const raw = new Database(path);
      raw.exec(migrations.slice(0, 9).join('\n'));
      raw.pragma('user_version = 9');
      const fixed = '1970-01-01T00:00:00.000Z';
      const sco = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' };
      // An object whose `created` happens to be the old fixed key is versioned: it keeps its key.
      const dated = { ...indicator(1), created: fixed, modified: fixed };
      raw.exec(`INSERT INTO collections (id, title, created_at, last_date_added) VALUES ('kept', 'Kept', 'c', 2)`);
      const insertVersion = raw.prepare('INSERT INTO object_versions (object_id, version, type, spec_version, revoked, json) VALUES (?, ?, ?, ?, 0, ?)');
      const scoVid = Number(insertVersion.run(sco.id, fixed, sco.type, '2.1', JSON.stringify(sco)).lastInsertRowid);
      const datedVid = Number(insertVersion.run(dated.id, fixed, dated.type, '2.1', JSON.stringify(dated)).lastInsertRowid);
      raw.prepare('INSERT INTO entries (collection_key, date_added, vid, is_latest, is_first) VALUES (1, ?, ?, 1, 1)').run(1, scoVid);
      raw.prepare('INSERT INTO entries (collection_key, date_added, vid, is_latest, is_first) VALUES (1, ?, ?, 1, 1)').run(2, datedVid);
      raw.prepare("INSERT INTO signatures (object_id, version, variant, extension_json, signer) VALUES (?, ?, '', '{}', 'identity--home')").run(sco.id, fixed);
      raw.prepare("INSERT INTO recall_notices (circle_id, organisation_id, object_id, version, reason, queued_at) VALUES ('c', 'identity--partner', ?, ?, 'r', 'q')").run(sco.id, fixed);
      const quarantined = { ...sco, id: 'ipv4-addr--0e9b4a6c-1bd4-5a5b-8f0a-8a1f4a0b8c11', value: '198.51.100.9' };
      raw.prepare(
        "INSERT INTO quarantine (object_id, version, reason, message, json, collection_key, source, contributor_organisation_id, received_at) VALUES (?, ?, 'unsigned', 'm', ?, 1, 'pull', 'identity--partner', 'r')",
      ).run(quarantined.id, fixed, JSON.stringify(quarantined));
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        const key = contentVersionOf(sco);
        assert.notEqual(key, fixed);
        const column = (sql: string): unknown[] => store.database.prepare(sql).pluck().all();
        assert.deepEqual(column('SELECT version FROM object_versions ORDER BY vid'), [key, fixed]);
        assert.deepEqual(await store.signaturesIn([{ id: sco.id, version: key, variant: '' }]), ['{}']);
        assert.deepEqual(column('SELECT version FROM recall_notices'), [key]);
        assert.deepEqual(column('SELECT version FROM quarantine'), [contentVersionOf(quarantined)]);
        const held = await store.listEntries('kept', { versions: [{ kind: 'at', version: key }] }, { limit: 10 });
        assert.deepEqual(held.entries.map((entry) => JSON.parse(entry.json) as unknown), [sco]);
      } finally {
        await store.close();
      }
    });

    it('migrates a schema 13 store to 14: origin signatures move onto their version rows, redacted forms and unheld versions stay', async () => {
      const path = freshPath();
      const raw = new Database(path);
      raw.function('entente_content_version', (_json: unknown) => null);
      raw.exec(migrations.slice(0, 13).join('\n'));
      raw.pragma('user_version = 13');
      const held = indicator(1);
      const version = held.modified as string;
      raw.exec(`INSERT INTO collections (id, title, created_at, last_date_added) VALUES ('kept', 'Kept', 'c', 1)`);
      const vid = Number(
        raw.prepare('INSERT INTO object_versions (object_id, version, type, spec_version, revoked, json) VALUES (?, ?, ?, ?, 0, ?)').run(held.id, version, held.type, '2.1', JSON.stringify(held)).lastInsertRowid,
      );
      raw.prepare('INSERT INTO entries (collection_key, date_added, vid, is_latest, is_first) VALUES (1, 1, ?, 1, 1)').run(vid);
      const insertSignature = raw.prepare('INSERT INTO signatures (object_id, version, variant, extension_json, signer) VALUES (?, ?, ?, ?, ?)');
      insertSignature.run(held.id, version, '', '{"signer":"identity--home","n":1}', 'identity--home');
      insertSignature.run(held.id, version, 'ab'.repeat(32), '{"signer":"identity--home","n":2}', 'identity--home');
      // Nothing holds this version any more: its row says who originated the id (originSignersOf).
      insertSignature.run(indicator(2).id, version, '', '{"signer":"identity--home","n":3}', 'identity--home');
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        const column = (sql: string): unknown[] => store.database.prepare(sql).pluck().all();
        assert.deepEqual(column('SELECT origin_signature FROM object_versions'), ['{"signer":"identity--home","n":1}']);
        assert.deepEqual(column('SELECT n.extension_json FROM signatures n ORDER BY n.extension_json'), ['{"signer":"identity--home","n":2}', '{"signer":"identity--home","n":3}']);
        assert.deepEqual(
          await store.signaturesIn([
            { id: held.id, version, variant: 'ab'.repeat(32) },
            { id: held.id, version, variant: '' },
          ]),
          ['{"signer":"identity--home","n":2}', '{"signer":"identity--home","n":1}'],
        );
        const listed = await store.listEntries('kept', {}, { limit: 10 });
        assert.deepEqual(listed.entries.map((entry) => entry.originSignature), ['{"signer":"identity--home","n":1}']);
        assert.deepEqual(await store.homeOriginalsIn([{ id: held.id, version }]), [true]);
        const origins = await store.originSignersOf([held.id, indicator(2).id]);
        assert.deepEqual([...origins.entries()].sort(), [[held.id, 'identity--home'], [indicator(2).id, 'identity--home']]);
      } finally {
        await store.close();
      }
    });

    it('migrates a schema 14 store to 15: a member delivered a flash naming no indicator was delivered the flash itself; for one naming an indicator, the copy is not guessed', async () => {
      const path = freshPath();
      const raw = new Database(path);
      raw.function('entente_content_version', (_json: unknown) => null);
      raw.exec(migrations.slice(0, 14).join('\n'));
      raw.pragma('user_version = 14');
      const insertFlash = raw.prepare(
        "INSERT INTO flashes (id, circle_id, direction, sender_organisation_id, text, indicator_id, sent_at, signed_json) VALUES (?, 'c', 'sent', 'identity--home', 't', ?, 's', '{}')",
      );
      insertFlash.run('plain', null);
      insertFlash.run('named', indicator(1).id);
      const insertReceipt = raw.prepare('INSERT INTO flash_receipts (flash_id, organisation_id, delivered_at, last_error) VALUES (?, ?, ?, ?)');
      insertReceipt.run('plain', 'identity--a', 'd', null);
      insertReceipt.run('plain', 'identity--b', null, 'timeout');
      insertReceipt.run('named', 'identity--a', 'd', null);
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.deepEqual((await store.getFlash('plain'))?.receipts, [
          { organisationId: 'identity--a', deliveredAt: 'd', deliveredFlashId: 'plain' },
          { organisationId: 'identity--b', lastError: 'timeout' },
        ]);
        assert.deepEqual((await store.getFlash('named'))?.receipts, [{ organisationId: 'identity--a', deliveredAt: 'd' }]);
      } finally {
        await store.close();
      }
    });

    it('migrates a schema 12 store to 13: a webhook stored before keeps receiving alerts from every collection', async () => {
      const path = freshPath();
      const raw = new Database(path);
      // Migration 10 calls the function the store registers; with no SCO stored it is never asked.
      raw.function('entente_content_version', (_json: unknown) => null);
      raw.exec(migrations.slice(0, 12).join('\n'));
      raw.pragma('user_version = 12');
      raw.exec("INSERT INTO webhooks (name, url, secret, min_severity, created_at) VALUES ('soc', 'http://soc.example/hook', 's', 'high', 'c')");
      raw.close();

      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.deepEqual(await store.listWebhooks(), [{ name: 'soc', url: 'http://soc.example/hook', secret: 's', minSeverity: 'high', createdAt: 'c' }]);
        await store.addWebhook({ name: 'scoped', url: 'https://soc.example/a', secret: 's', minSeverity: 'low', collections: ['a', 'b'], createdAt: 'c' });
        assert.deepEqual((await store.listWebhooks()).map((webhook) => webhook.collections), [['a', 'b'], undefined]);
      } finally {
        await store.close();
      }
    });

    it('keys by content, in entente_content_version (migration 10), every SCO: one carrying `modified` or `created` too, as versionOf does', async () => {
      const store = openSqliteObjectStore({ path: ':memory:' });
      try {
        const keyOf = (object: unknown): unknown => store.database.prepare('SELECT entente_content_version(?)').pluck().get(JSON.stringify(object));
        const sco = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' };
        const dated = { ...sco, modified: '2026-05-31T00:00:00.000Z', created: '2026-05-31T00:00:00.000Z' };
        assert.equal(keyOf(sco), contentVersionOf(sco));
        assert.equal(keyOf(dated), contentVersionOf(dated));
        assert.equal(keyOf(indicator(1)), null);
        assert.equal(keyOf({ type: 'x-acme-thing', id: 'x-acme-thing--1', modified: '2026-05-31T00:00:00.000Z' }), null);
      } finally {
        await store.close();
      }
    });

    it('keeps provenance rows compact: a million synced versions must not cost hundreds of megabytes', async () => {
      const store = openSqliteObjectStore({ path: ':memory:' });
      try {
        await store.createCollection({ id: 'c', title: 'C' }, new Date());
        const signer = 'identity--0a0a0a0a-0000-4000-8000-00000000000a';
        const peerOrganisation = 'identity--0b0b0b0b-0000-4000-8000-00000000000b';
        await store.addPeer({
          name: 'north', url: 'https://north.example/', apiRootUrl: 'https://north.example/api/', token: 't', circleId: 'circle-with-a-long-name',
          localCollectionId: 'c', remoteCollectionId: 'r', organisationId: peerOrganisation, kind: 'entente', push: false, intervalSeconds: 30, silentAfter: 3,
          createdAt: '2025-03-01T12:00:00.000Z',
        });
        const count = 4000;
        for (let page = 0; page < count / 1000; page += 1) {
          await store.applySyncBatch({
            collectionId: 'c', peer: 'north', circleId: 'circle-with-a-long-name', source: 'pull', contributorOrganisationId: peerOrganisation,
            accepted: Array.from({ length: 1000 }, (_, index) => ({
              object: indicator(page * 1000 + index), signer, keyId: 'AbCdEfGhIjKlMnOpQrStUv', verification: 'verified' as const, hops: [signer, peerOrganisation],
            })),
            quarantined: [], pullCursor: { addedAfter: `2025-03-01T12:00:0${page}.000000Z` }, receivedAt: new Date(Date.UTC(2025, 2, 1, 12, 0, page)).toISOString(),
          });
        }
        assert.equal(store.database.prepare('SELECT count(*) FROM provenance').pluck().get(), count);
        const bytes = store.database.prepare("SELECT sum(pgsize) FROM dbstat WHERE name = 'provenance'").pluck().get() as number;
        assert.ok(bytes / count < 60, `${(bytes / count).toFixed(0)} bytes per provenance row`);
      } finally {
        await store.close();
      }
    });

    it('refuses a database written by a newer schema', async () => {
      const path = freshPath();
      const raw = new Database(path);
      raw.pragma('user_version = 999');
      raw.close();
      assert.throws(
        () => openSqliteObjectStore({ path }),
        (error: unknown) => isEntenteError(error) && error.code === 'ENT_STORE_UNAVAILABLE' && /999/.test(error.message),
      );
    });

    it('reports a path that cannot be opened as ENT_STORE_UNAVAILABLE', () => {
      assert.throws(
        () => openSqliteObjectStore({ path: join(dir, 'missing-dir', 'store.db') }),
        (error: unknown) => isEntenteError(error) && error.code === 'ENT_STORE_UNAVAILABLE',
      );
    });
  });

  it('reports use after close as ENT_STORE_UNAVAILABLE', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    await store.close();
    await assert.rejects(store.getMeta('x'), (error: unknown) => isEntenteError(error) && error.code === 'ENT_STORE_UNAVAILABLE');
  });

  it('keeps every batch whole or absent when the writing process is killed (kill -9)', { timeout: 120_000 }, async () => {
    const path = freshPath();
    const writer = join(import.meta.dirname, 'sqlite-crash-writer.ts');
    for (let run = 1; run <= 3; run += 1) {
      await runAndKill(writer, path, String(run), 150 + Math.floor(Math.random() * 600));
      assertConsistentAfterCrash(path);
    }
  });
});

async function runAndKill(script: string, path: string, run: string, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, path, run], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.on('exit', () => reject(new Error(`writer exited before it was killed: ${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', stderr);
}

function assertConsistentAfterCrash(path: string): void {
  // Reopening runs WAL recovery, exactly as the node would after a crash.
  const store = openSqliteObjectStore({ path });
  const db = store.database;
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    db.prepare("INSERT INTO object_text (object_text, rank) VALUES ('integrity-check', 0)").run();

    const versions = db.prepare('SELECT object_id, version, json FROM object_versions').all() as { object_id: string; version: string; json: string }[];
    const statusIds = new Set(db.prepare('SELECT id FROM statuses').pluck().all() as string[]);
    assert.ok(statusIds.size > 0, 'the writer stored nothing before it was killed; raise the delay');
    const batchesSeen = new Map<string, number>();
    for (const row of versions) {
      const object = JSON.parse(row.json) as { id: string; modified: string; x_entente_batch: string };
      assert.equal(object.id, row.object_id);
      assert.equal(object.modified, row.version);
      assert.ok(statusIds.has(object.x_entente_batch), `version of ${row.object_id} stored without its status ${object.x_entente_batch}`);
      batchesSeen.set(object.x_entente_batch, (batchesSeen.get(object.x_entente_batch) ?? 0) + 1);
    }

    const stored = new Set(versions.map((row) => `${row.object_id}@${row.version}`));
    for (const row of db.prepare('SELECT id, successes, total_count FROM statuses').all() as { id: string; successes: string; total_count: number }[]) {
      const successes = JSON.parse(row.successes) as { id: string; version: string }[];
      assert.equal(successes.length, row.total_count);
      for (const success of successes) assert.ok(stored.has(`${success.id}@${success.version}`), `status ${row.id} reports a missing version`);
      assert.equal(batchesSeen.get(row.id), row.total_count, `batch ${row.id} is not whole`);
    }

    const badFlags = db
      .prepare(
        `SELECT ov.object_id FROM entries e JOIN object_versions ov ON ov.vid = e.vid
         GROUP BY e.collection_key, ov.object_id HAVING sum(e.is_latest) != 1 OR sum(e.is_first) != 1`,
      )
      .all();
    assert.deepEqual(badFlags, []);
  } finally {
    void store.close();
  }
}
