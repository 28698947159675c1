// When each indicator was first given to each member (migration 21): the source reputation asks it of
// the indicators several sources published (a member's publication of what it was given here is no
// corroboration), a seek per indicator instead of a walk of everything ever released.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { chainEntryText, GENESIS_HASH, verifyChain, type AuditLogEntry, type PageRelease } from '../../src/audit/audit-chain.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { MOVE_FIRST_RELEASES_EARLIER_SQL, nextBatchEntries } from '../../src/store/sqlite/sqlite-circle-tables.ts';
import { openSqliteObjectStore, SCHEMA_VERSION, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { temporaryDirectory } from '../cli/cli-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';
const GRID = 'circle--0a000000-0000-4000-8000-000000000001';
const SIDE = 'circle--0a000000-0000-4000-8000-000000000002';
const modified = '2026-01-01T00:00:00.000Z';

const dir = temporaryDirectory('audit-first-releases');
after(() => dir.remove());
let files = 0;
const freshPath = (): string => join(dir.path, `store-${(files += 1)}.db`);

const indicator = (n: number): string => `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const share = (objectId: string, decision: PageRelease['decision'] = 'share'): PageRelease => ({ objectId, objectModified: modified, decision, ...(decision === 'withhold' ? {} : { agreementVersion: 1 }) });
const page = (recipient: string, circleId: string, at: string, releases: PageRelease[]): AuditLogEntry => ({ kind: 'page', recipientOrganisationId: recipient, circleId, at, releases });
const single = (objectId: string, recipient: string, at: string, decision: PageRelease['decision'] = 'share'): AuditLogEntry => ({ ...share(objectId, decision), recipientOrganisationId: recipient, circleId: GRID, at });
const flash = (indicatorId: string, recipient: string, at: string, named: boolean): AuditLogEntry => ({
  kind: 'flash', flashId: 'flash-1', sentFlashId: named ? 'flash-1' : 'flash-2', indicatorId, indicatorNamed: named, recipientOrganisationId: recipient, circleId: GRID, agreementVersion: 1, at,
});

/** Every first release of these indicators, sorted, as [indicator, recipient, circle, at]. */
async function firsts(store: SqliteObjectStore, ids: readonly string[]): Promise<string[][]> {
  return (await store.firstReleases(ids)).map((r) => [r.objectId, r.recipientOrganisationId, r.circleId, r.at]).sort((a, b) => (a.join() < b.join() ? -1 : 1));
}

/** The shapes every writer of the log appends: pages of shares, redactions and withholdings, single releases, flashes named or not. */
function aLog(): AuditLogEntry[] {
  return [
    page(BANK, GRID, '2026-03-01T10:00:00.000Z', [share(indicator(1)), share(indicator(2), 'redact'), share(indicator(3), 'withhold'), share('report--00000000-0000-4000-8000-000000000009')]),
    single(indicator(4), NGO, '2026-03-01T10:05:00.000Z'),
    single(indicator(5), NGO, '2026-03-01T10:06:00.000Z', 'withhold'),
    flash(indicator(6), BANK, '2026-03-01T10:10:00.000Z', true),
    flash(indicator(7), BANK, '2026-03-01T10:11:00.000Z', false),
    // Released again later, and through another circle.
    page(BANK, GRID, '2026-03-01T11:00:00.000Z', [share(indicator(1)), share(indicator(3))]),
    page(BANK, SIDE, '2026-03-01T12:00:00.000Z', [share(indicator(1)), share(indicator(1))]),
  ];
}
const EXPECTED = [
  [indicator(1), BANK, GRID, '2026-03-01T10:00:00.000Z'],
  [indicator(1), BANK, SIDE, '2026-03-01T12:00:00.000Z'],
  [indicator(2), BANK, GRID, '2026-03-01T10:00:00.000Z'],
  [indicator(3), BANK, GRID, '2026-03-01T11:00:00.000Z'],
  [indicator(4), NGO, GRID, '2026-03-01T10:05:00.000Z'],
  [indicator(6), BANK, GRID, '2026-03-01T10:10:00.000Z'],
];
const ALL = Array.from({ length: 9 }, (_, n) => indicator(n + 1));

describe('when each indicator was first given to each recipient (audit_first_releases)', () => {
  it('holds, once asked, the earliest share, redaction or naming flash per indicator, recipient and circle; nothing withheld, unnamed or not an indicator', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      await store.appendAudit(aLog());
      assert.deepEqual(await firsts(store, ALL), EXPECTED);
      assert.deepEqual(await firsts(store, ['report--00000000-0000-4000-8000-000000000009', indicator(5), indicator(7)]), []);
      // Entries appended since are added at the next ask; one stamped earlier but appended later (its
      // writer waited for the lock) moves the time earlier.
      await store.appendAudit([page(BANK, GRID, '2026-03-01T09:59:00.000Z', [share(indicator(2)), share(indicator(8))])]);
      assert.deepEqual(await firsts(store, [indicator(2), indicator(8)]), [[indicator(2), BANK, GRID, '2026-03-01T09:59:00.000Z'], [indicator(8), BANK, GRID, '2026-03-01T09:59:00.000Z']]);
      assert.equal(await store.firstUnindexedAudit(), undefined);
      assert.ok(verifyChain((await store.readAudit({ limit: 100 })).map((record) => record.chained)).ok, 'the log itself as written');
    } finally {
      await store.close();
    }
  });

  // Keyed by random ids, a row per release written by the gate's appends made serving a million
  // indicators to two members twenty times slower: the reader adds a refresh's entries in one batch.
  it('costs the release gate nothing: its appends write no row, the next ask adds them', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      const rows = (): unknown => store.database.prepare('SELECT count(*) FROM audit_first_releases').pluck().get();
      await store.appendAudit(aLog());
      assert.equal(rows(), 0);
      await store.firstReleases([]);
      assert.equal(rows(), EXPECTED.length);
      await store.appendAudit([page(NGO, SIDE, '2026-03-02T00:00:00.000Z', [share(indicator(9))])]);
      assert.equal(rows(), EXPECTED.length);
      assert.deepEqual(await firsts(store, [indicator(9)]), [[indicator(9), NGO, SIDE, '2026-03-02T00:00:00.000Z']]);
    } finally {
      await store.close();
    }
  });

  it('answers for many indicators at once, over more entries than one batch adds', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      const ids = Array.from({ length: 2500 }, (_, n) => indicator(n + 1));
      await store.appendAudit([page(NGO, GRID, '2026-03-01T10:00:00.000Z', ids.slice(0, 500).map((id) => share(id))), page(NGO, GRID, '2026-03-01T10:00:00.000Z', ids.slice(2000).map((id) => share(id)))]);
      await store.appendAudit(ids.slice(500, 2000).map((id) => single(id, BANK, '2026-03-01T11:00:00.000Z')));
      assert.equal((await store.firstReleases(ids)).length, 2500);
      assert.deepEqual(await firsts(store, [indicator(1999)]), [[indicator(1999), BANK, GRID, '2026-03-01T11:00:00.000Z']], 'from the second batch');
    } finally {
      await store.close();
    }
  });

  it('migrates a schema 20 store to 21: fills the table from the log written before, rewrites no entry', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.function('entente_content_version', (_json: unknown) => null);
    raw.exec(migrations.slice(0, 20).join('\n'));
    raw.pragma('user_version = 20');
    const insert = raw.prepare('INSERT INTO audit_log (recipient_organisation_id, circle_id, at, entry, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)');
    let previous = GENESIS_HASH;
    for (const entry of aLog()) {
      const chained = chainEntryText(previous, entry);
      insert.run(entry.recipientOrganisationId, entry.circleId, entry.at, chained.entryJson, chained.previousHash, chained.hash);
      previous = chained.hash;
    }
    const rowsBefore = raw.prepare('SELECT * FROM audit_log ORDER BY seq').all();
    raw.close();
    const store = openSqliteObjectStore({ path });
    try {
      assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      // Filled by the migration in one sorted insert, before any ask.
      assert.deepEqual(store.database.prepare('SELECT count(*), (SELECT through_seq FROM audit_first_releases_cursor) FROM audit_first_releases').raw().get(), [EXPECTED.length, aLog().length]);
      assert.deepEqual(await firsts(store, ALL), EXPECTED);
      assert.deepEqual(store.database.prepare('SELECT * FROM audit_log ORDER BY seq').all(), rowsBefore, 'no entry rewritten');
      assert.equal(await store.firstUnindexedAudit(), undefined);
    } finally {
      await store.close();
    }
  });

  // Outside the hash chain: a row lost or moved later would let a member's copy of what it was given
  // here corroborate the source again while the chain still verified.
  it('refuses to lose a row or move it later, through every statement that could', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      await store.appendAudit(aLog());
      await store.firstReleases([]);
      const db = store.database;
      const key = [indicator(1), BANK, GRID];
      for (const [what, sql] of [
        ['a delete', 'DELETE FROM audit_first_releases WHERE object_id = ? AND recipient_organisation_id = ? AND circle_id = ?'],
        ['a later time', "UPDATE audit_first_releases SET first_at = '2026-03-02T00:00:00.000Z' WHERE object_id = ? AND recipient_organisation_id = ? AND circle_id = ?"],
        ['another recipient', `UPDATE audit_first_releases SET recipient_organisation_id = '${NGO}' WHERE object_id = ? AND recipient_organisation_id = ? AND circle_id = ?`],
        ['an insert or replace', "INSERT OR REPLACE INTO audit_first_releases (object_id, recipient_organisation_id, circle_id, first_at) VALUES (?, ?, ?, '2026-03-02T00:00:00.000Z')"],
      ] as const) {
        assert.throws(() => db.prepare(sql).run(...key), /audit_first_releases/, what);
      }
      assert.throws(() => db.prepare('UPDATE audit_first_releases_cursor SET through_seq = 0').run(), /cursor only moves on/, 'the cursor moved back');
      assert.throws(() => db.prepare('DELETE FROM audit_first_releases_cursor').run(), /cursor only moves on/, 'the cursor deleted');
      assert.deepEqual(await firsts(store, ALL), EXPECTED);
    } finally {
      await store.close();
    }
  });

  it('audit verify names the first entry the table no longer places, once changed around its triggers', async () => {
    for (const change of [
      'DELETE FROM audit_first_releases WHERE object_id = ? AND recipient_organisation_id = ? AND circle_id = ?',
      "UPDATE audit_first_releases SET first_at = '2026-03-01T10:30:00.000Z' WHERE object_id = ? AND recipient_organisation_id = ? AND circle_id = ?",
    ]) {
      const store = openSqliteObjectStore({ path: freshPath() });
      try {
        await store.appendAudit(aLog());
        await store.firstReleases([]);
        store.database.exec('DROP TRIGGER audit_first_releases_keeps_its_rows; DROP TRIGGER audit_first_releases_only_earlier');
        store.database.prepare(change).run(indicator(4), NGO, GRID);
        assert.ok(verifyChain((await store.readAudit({ limit: 100 })).map((record) => record.chained)).ok, 'the chain alone cannot tell');
        assert.equal(await store.firstUnindexedAudit(), 2, change);
      } finally {
        await store.close();
      }
    }
  });

  it('audit verify names the first entry a cursor moved on past the log would leave out', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      store.database.prepare('UPDATE audit_first_releases_cursor SET through_seq = 100').run();
      await store.appendAudit(aLog());
      assert.deepEqual(await firsts(store, ALL), [], 'never added');
      assert.equal(await store.firstUnindexedAudit(), 1);
    } finally {
      await store.close();
    }
  });
});

// The reader catches up on the thread that serves requests (the reputation's refresh): each of its
// transactions is sized to take about FIRST_RELEASE_BATCH_MS (50 ms), not a fixed hundred entries,
// which held that thread 0.7 to 1.4 s a batch after 200,000 releases.
describe('the size of a catch-up batch of first releases', () => {
  it('doubles while a batch takes well under 50 ms, and shrinks in proportion past it, within 1 to 100 entries', () => {
    assert.equal(nextBatchEntries(1, 5), 2);
    assert.equal(nextBatchEntries(64, 10), 100, 'never past 100');
    assert.equal(nextBatchEntries(40, 200), 10, 'four times too long: a quarter');
    assert.equal(nextBatchEntries(3, 2_000), 1, 'never below one entry');
    assert.equal(nextBatchEntries(10, 40), 12);
  });
});

describe('moving first releases earlier', () => {
  it('seeks each row of the batch in the table, never scans the table (its cost grew with every release indexed)', () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      const plan = (store.database.prepare(`EXPLAIN QUERY PLAN ${MOVE_FIRST_RELEASES_EARLIER_SQL}`).all() as { detail: string }[]).map((row) => row.detail);
      assert.ok(plan.some((detail) => /^SEARCH first USING PRIMARY KEY/.test(detail)), plan.join(' | '));
      assert.ok(!plan.some((detail) => /^SCAN first\b/.test(detail)), plan.join(' | '));
    } finally {
      void store.close();
    }
  });
});
