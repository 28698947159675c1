import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { hashTokenSecret } from '../../policy/token-secret.ts';
import { openSqliteObjectStore } from './sqlite-object-store.ts';
import { watchWalIndex, type WalIndexWatch } from './wal-index-watch.ts';

const dir = mkdtempSync(join(tmpdir(), 'entente-wal-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;
const freshPath = (): string => join(dir, `db-${(databases += 1)}.sqlite`);

function walDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS t (v INTEGER)');
  return db;
}

/** Two connections to a fresh WAL database and a watch on the first; both closed afterwards. */
function withTwoConnections(test: (db: Database.Database, other: Database.Database, watch: WalIndexWatch) => void): void {
  const path = freshPath();
  const db = walDatabase(path);
  const other = walDatabase(path);
  try {
    const watch = watchWalIndex(db);
    assert.ok(watch);
    test(db, other, watch);
  } finally {
    other.close();
    db.close();
  }
}

describe('watchWalIndex', () => {
  it('is undefined where there is no -shm file to read: in memory, or not in WAL mode', () => {
    const memory = new Database(':memory:');
    assert.equal(watchWalIndex(memory), undefined);
    memory.close();
    const rollback = new Database(freshPath());
    rollback.pragma('journal_mode = DELETE');
    rollback.exec('CREATE TABLE t (v INTEGER)');
    assert.equal(watchWalIndex(rollback), undefined);
    rollback.close();
  });

  it('stays the same while nothing is committed, whoever reads', () => {
    withTwoConnections((db, other, watch) => {
      const before = watch.changeCount();
      db.prepare('SELECT count(*) FROM t').get();
      other.prepare('SELECT count(*) FROM t').get();
      assert.equal(watch.changeCount(), before);
      assert.equal(watch.changeCount(), before);
    });
  });

  it('changes after every commit: by another connection, by its own, and after the WAL was checkpointed and restarted', () => {
    withTwoConnections((db, other, watch) => {
      let seen = watch.changeCount();
      const assertChanged = (what: string): void => {
        const now = watch.changeCount();
        assert.notEqual(now, seen, what);
        seen = now;
      };
      other.prepare('INSERT INTO t VALUES (1)').run();
      assertChanged('a commit by another connection');
      db.prepare('INSERT INTO t VALUES (2)').run();
      assertChanged('a commit by its own connection');
      other.pragma('wal_checkpoint(TRUNCATE)');
      watch.changeCount();
      seen = watch.changeCount();
      other.prepare('INSERT INTO t VALUES (3)').run();
      assertChanged('a commit into a restarted WAL');
      other.prepare('UPDATE t SET v = v + 1').run();
      assertChanged('a second commit into the restarted WAL');
    });
  });
});

describe('SqliteObjectStore token change marker (wal-index)', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');
  const feed = { name: 'feed', secretHash: hashTokenSecret('ent_feed-secret'), admin: false, grants: [], organisationId: undefined, createdAt: now.toISOString(), revokedAt: undefined };

  it('changes when a connection that is not an Entente store revokes the token with plain SQL', async () => {
    const path = freshPath();
    const store = openSqliteObjectStore({ path });
    try {
      await store.createToken(feed);
      const before = await store.tokenChangeMarker();
      assert.match(before, /^w/, 'a file store in WAL mode reads the wal-index, not PRAGMA data_version');
      assert.equal(await store.tokenChangeMarker(), before);
      const raw = new Database(path);
      raw.prepare('UPDATE tokens SET revoked_at = ? WHERE name = ?').run(now.toISOString(), 'feed');
      raw.close();
      assert.notEqual(await store.tokenChangeMarker(), before);
      assert.ok((await store.findTokenBySecretHash(feed.secretHash))?.revokedAt);
    } finally {
      await store.close();
    }
  });

  it('changes when another process revokes the token', async () => {
    const path = freshPath();
    const store = openSqliteObjectStore({ path });
    try {
      await store.createToken(feed);
      const before = await store.tokenChangeMarker();
      const script = `const Database = require('better-sqlite3'); const db = new Database(process.argv[1]); db.prepare('UPDATE tokens SET revoked_at = ? WHERE name = ?').run('${now.toISOString()}', 'feed'); db.close();`;
      execFileSync(process.execPath, ['-e', script, path], { cwd: process.cwd(), stdio: 'pipe' });
      assert.notEqual(await store.tokenChangeMarker(), before);
    } finally {
      await store.close();
    }
  });

  it('keeps working for a store when another store of the same file in this process closes', async () => {
    const path = freshPath();
    const server = openSqliteObjectStore({ path });
    const cli = openSqliteObjectStore({ path });
    await cli.createToken(feed);
    await cli.close();
    const writer = openSqliteObjectStore({ path });
    try {
      const before = await server.tokenChangeMarker();
      await writer.revokeToken('feed', now);
      assert.notEqual(await server.tokenChangeMarker(), before);
      assert.equal((await server.findTokenBySecretHash(feed.secretHash))?.revokedAt, now.toISOString());
      assert.equal(server.database.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      await writer.close();
      await server.close();
    }
  });

  it('throws after close, as every other store call does', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    await store.close();
    await assert.rejects(store.tokenChangeMarker());
  });
});
