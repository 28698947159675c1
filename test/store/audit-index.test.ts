import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { chainEntryText, GENESIS_HASH, verifyChain, type AuditEntry } from '../../src/audit/audit-chain.ts';
import { auditRecords } from '../../src/audit/read-audit-log.ts';
import type { AuditQuery } from '../../src/store/object-store.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { auditReadStatement, auditWindowStatement } from '../../src/store/sqlite/sqlite-circle-tables.ts';
import { SCHEMA_VERSION, openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { temporaryDirectory } from '../cli/cli-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';

const dir = temporaryDirectory('audit-index');
after(() => dir.remove());
let files = 0;
const freshPath = (): string => join(dir.path, `store-${(files += 1)}.db`);

function release(n: number, recipient: string, circleId: string, at: string): AuditEntry {
  return {
    objectId: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    objectModified: '2026-01-01T00:00:00.000Z',
    recipientOrganisationId: recipient,
    circleId,
    agreementVersion: 1,
    decision: 'share',
    at,
  };
}

/** The plan SQLite makes for the statement readAudit runs for this query. */
function planOf(db: Database.Database, query: AuditQuery): string[] {
  const { sql, params } = auditReadStatement(query);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
}

// Every shape readAudit is asked in: `audit received` (a recipient, maybe a circle, maybe a window),
// the recalls of a member leaving (recipient and circle), `audit verify` and revocation recalls (all).
const RECIPIENT_READS: readonly [string, AuditQuery][] = [
  ['a recipient', { recipientOrganisationId: BANK, afterSeq: 10, limit: 5000 }],
  ['a recipient through a circle', { recipientOrganisationId: BANK, circleId: 'grid', afterSeq: 10, limit: 5000 }],
  ['a recipient in a window', { recipientOrganisationId: BANK, from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z'), afterSeq: 10, limit: 5000 }],
  ['a recipient through a circle from a time', { recipientOrganisationId: BANK, circleId: 'grid', from: new Date('2026-03-01T00:00:00Z'), limit: 5000 }],
];

describe('reading the audit log for one recipient', () => {
  // Sorting a recipient's rows by seq for every page made paging through a member with a million
  // per-version rows re-read and re-sort the rest of them 200 times: the index hands them over in order.
  it('reads in log order through the index on (recipient, seq): a seek from afterSeq, never a sort', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      for (const [what, query] of RECIPIENT_READS) {
        const plan = planOf(store.database, query);
        // A window also stops the seek where its entries end (migration 18).
        assert.ok(plan.some((detail) => /^SEARCH audit_log USING INDEX audit_by_recipient_seq \(recipient_organisation_id=\? AND seq>\?( AND seq<\?)?\)/.test(detail)), `${what}:\n${plan.join('\n')}`);
        assert.deepEqual(plan.filter((detail) => /TEMP B-TREE/.test(detail)), [], `${what}:\n${plan.join('\n')}`);
      }
      // The whole log, in order, is the table itself.
      const whole = planOf(store.database, { afterSeq: 10, limit: 10_000 });
      assert.ok(whole.some((detail) => /^SEARCH audit_log USING INTEGER PRIMARY KEY \(rowid>\?\)/.test(detail)), whole.join('\n'));
      assert.deepEqual(whole.filter((detail) => /TEMP B-TREE/.test(detail)), [], whole.join('\n'));
    } finally {
      await store.close();
    }
  });

  it('answers every shape as before: the recipient, circle and window filters, in seq order, from afterSeq, up to the limit', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      // Times out of seq order on purpose: the order is the log's, not the clock's.
      const ats = ['2026-03-05', '2026-03-01', '2026-02-20', '2026-03-10', '2026-04-02', '2026-03-02', '2026-03-03'].map((day) => `${day}T00:00:00.000Z`);
      await store.appendAudit(ats.map((at, n) => release(n + 1, n % 3 === 2 ? NGO : BANK, n % 2 === 0 ? 'grid' : 'side', at)));
      const seqs = async (query: AuditQuery): Promise<number[]> => (await store.readAudit(query)).map((record) => record.seq);
      assert.deepEqual(await seqs({ recipientOrganisationId: BANK, limit: 100 }), [1, 2, 4, 5, 7]);
      assert.deepEqual(await seqs({ recipientOrganisationId: BANK, afterSeq: 2, limit: 2 }), [4, 5]);
      assert.deepEqual(await seqs({ recipientOrganisationId: BANK, circleId: 'grid', limit: 100 }), [1, 5, 7]);
      assert.deepEqual(await seqs({ recipientOrganisationId: BANK, from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z'), limit: 100 }), [1, 2, 4, 7]);
      assert.deepEqual(await seqs({ recipientOrganisationId: NGO, limit: 100 }), [3, 6]);
      assert.deepEqual(await seqs({ limit: 100 }), [1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await store.close();
    }
  });
});

describe('migration 17: the audit log indexed by recipient and seq', () => {
  it('migrates a schema 16 store to 17: builds the index, drops (recipient, at), leaves every row and the append-only triggers as they were', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.function('entente_content_version', (_json: unknown) => null);
    raw.exec(migrations.slice(0, 16).join('\n'));
    raw.pragma('user_version = 16');
    // A schema 16 node's log, chained as the store chains it.
    const insert = raw.prepare('INSERT INTO audit_log (recipient_organisation_id, circle_id, at, entry, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)');
    let previous = GENESIS_HASH;
    for (const n of [1, 2, 3, 4, 5]) {
      const entry = release(n, n % 2 === 0 ? NGO : BANK, 'grid', `2026-03-0${n}T00:00:00.000Z`);
      const chained = chainEntryText(previous, entry);
      insert.run(entry.recipientOrganisationId, entry.circleId, entry.at, chained.entryJson, chained.previousHash, chained.hash);
      previous = chained.hash;
    }
    const rowsBefore = raw.prepare('SELECT * FROM audit_log ORDER BY seq').all();
    assert.deepEqual(raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'audit_log'").pluck().all(), ['audit_by_recipient']);
    raw.close();

    const store = openSqliteObjectStore({ path });
    try {
      assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const indexes = (store.database.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'audit_log'").all() as { name: string; sql: string | null }[]);
      assert.deepEqual(indexes.map((index) => index.name), ['audit_by_recipient_seq']);
      assert.match(indexes[0]?.sql ?? '', /\(recipient_organisation_id, seq\)/);
      assert.deepEqual(store.database.prepare('SELECT * FROM audit_log ORDER BY seq').all(), rowsBefore, 'an index built, no row rewritten');
      const triggers = store.database.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'audit_log' ORDER BY name").pluck().all();
      // audit_log_hours: migration 18's, which keeps audit_hours as entries are appended.
      assert.deepEqual(triggers, ['audit_log_hours', 'audit_log_is_append_only_delete', 'audit_log_is_append_only_update']);
      assert.deepEqual((await store.readAudit({ recipientOrganisationId: BANK, limit: 100 })).map((record) => record.seq), [1, 3, 5]);
      assert.ok(verifyChain((await store.readAudit({ limit: 100 })).map((record) => record.chained)).ok);
      assert.deepEqual(planOf(store.database, { recipientOrganisationId: NGO, limit: 10 }).filter((detail) => /TEMP B-TREE/.test(detail)), []);
    } finally {
      await store.close();
    }
  });

  // Safe on a log of millions of rows: the migration builds an index and touches no row of any table.
  it('is an index build alone: no statement of migration 17 writes rows', () => {
    const text = (migrations[16] ?? '').replace(/--[^\n]*/g, '');
    assert.ok(text.includes('CREATE INDEX'), 'migration 17 builds the index');
    assert.doesNotMatch(text, /\b(INSERT|UPDATE|DELETE|ALTER|REPLACE)\b/i);
  });
});

/** The seqs read for a window, page by page, as `audit received` reads them (auditRecords). */
async function walked(store: ReturnType<typeof openSqliteObjectStore>, query: Omit<AuditQuery, 'afterSeq' | 'throughSeq' | 'limit'>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const record of auditRecords(store, query)) seqs.push(record.seq);
  return seqs;
}

const hourly = (start: string, hours: number): string => new Date(Date.parse(start) + hours * 3_600_000).toISOString();

describe('reading a --from/--to window of the audit log', () => {
  // `audit received --from --to` over a long log read the recipient's entries from the first (and
  // on to the last) to find the few in its window: 4,410 of 900,000 took 199 ms.
  it('starts and stops the walk at the window: bounds from audit_hours, both on the seek', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      for (const [what, query] of RECIPIENT_READS.filter(([, query]) => query.from !== undefined || query.to !== undefined)) {
        const plan = planOf(store.database, { ...query, throughSeq: 900_000 });
        assert.ok(plan.some((detail) => /^SEARCH audit_log USING INDEX audit_by_recipient_seq \(recipient_organisation_id=\? AND seq>\? AND seq<\?\)/.test(detail)), `${what}:\n${plan.join('\n')}`);
        const { sql, params } = auditWindowStatement(query);
        const bounds = (store.database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
        assert.equal(bounds.filter((detail) => /^SEARCH audit_hours USING PRIMARY KEY \(recipient_organisation_id=\? AND hour>\?/.test(detail)).length, 2, `${what}:\n${bounds.join('\n')}`);
      }
      const whole = planOf(store.database, { to: new Date('2026-04-01T00:00:00Z'), throughSeq: 900_000, limit: 10_000 });
      assert.ok(whole.some((detail) => /^SEARCH audit_log USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/.test(detail)), whole.join('\n'));
    } finally {
      await store.close();
    }
  });

  it("walks the window's hours only, not the recipient's entries before and after it", async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      // 600 of the bank's entries an hour apart before the window, an NGO's between, 600 after.
      const before = Array.from({ length: 600 }, (_, n) => release(n + 1, BANK, 'grid', hourly('2026-01-01T00:30:00.000Z', n)));
      const inWindow = Array.from({ length: 6 }, (_, n) => release(1000 + n, n % 2 === 0 ? BANK : NGO, 'grid', hourly('2026-03-01T10:15:00.000Z', n / 2)));
      const after = Array.from({ length: 600 }, (_, n) => release(2000 + n, BANK, 'grid', hourly('2026-04-01T00:30:00.000Z', n)));
      await store.appendAudit([...before, ...inWindow, ...after]);
      const window = { recipientOrganisationId: BANK, from: new Date('2026-03-01T10:20:00Z'), to: new Date('2026-03-01T12:00:00Z') };
      // The window's hours (10:00 to 12:59) hold the bank's 601 (10:15), 603 (11:15) and 605 (12:15):
      // the walk covers those and nothing else, and 603 alone is in the window.
      assert.deepEqual(await store.auditWindow(window), { afterSeq: 600, throughSeq: 605 });
      assert.deepEqual(await walked(store, window), [603]);
      const later = { ...window, from: new Date('2027-01-01T00:00:00Z'), to: new Date('2027-01-02T00:00:00Z') };
      assert.equal(await store.auditWindow(later), undefined, 'no hour, no walk');
      assert.deepEqual(await walked(store, later), []);
    } finally {
      await store.close();
    }
  });

  // Bounds worked out by every page's statement aggregated all the window's hours again: a year's
  // window of 100,000 entries (1,000 pages) took 1,079 ms against 100 ms walked with no bounds at all.
  it('asks where the window lies once for the walk, and pages between those bounds', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      await store.appendAudit(Array.from({ length: 250 }, (_, n) => release(n + 1, BANK, 'grid', hourly('2026-03-01T00:30:00.000Z', n / 10))));
      const asked: string[] = [];
      const counting = {
        auditWindow: async (query: Pick<AuditQuery, 'recipientOrganisationId' | 'from' | 'to'>) => (asked.push('window'), await store.auditWindow(query)),
        readAudit: async (query: AuditQuery) => (asked.push(`page after ${query.afterSeq ?? 0} through ${query.throughSeq ?? '-'}`), await store.readAudit(query)),
      };
      const read: number[] = [];
      for await (const record of auditRecords(counting, { recipientOrganisationId: BANK, from: new Date('2026-03-01T01:00:00Z'), to: new Date('2026-03-02T00:00:00Z') })) read.push(record.seq);
      // Six minutes apart from 00:30: seqs 6 (01:00) to 235 (23:54) are in the window, and its hours
      // (01 to 00 of the next day) run from 6 to 245.
      assert.deepEqual(read, Array.from({ length: 230 }, (_, n) => n + 6));
      assert.deepEqual(asked, ['window', 'page after 5 through 245', 'page after 105 through 245', 'page after 205 through 245']);
    } finally {
      await store.close();
    }
  });

  // `at` is stamped before the append waits for the write lock, and clocks step back: a log's times
  // need not rise with its seqs, and a bound taken from `at` alone would drop entries.
  it('finds every entry of any window however far out of time order the log is', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      // mulberry32: the same log and windows at every run.
      let state = 7;
      const next = (below: number): number => {
        state = (state + 0x6d2b79f5) | 0;
        let t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * below);
      };
      const ats: string[] = [];
      const entries = Array.from({ length: 400 }, (_, n) => {
        // Mostly rising by minutes, a tenth of them hours or days behind.
        const at = new Date(Date.parse('2026-03-01T00:00:00Z') + n * 600_000 - (next(10) === 0 ? next(5 * 86_400_000) : 0)).toISOString();
        ats.push(at);
        return release(n + 1, next(3) === 0 ? NGO : BANK, next(2) === 0 ? 'grid' : 'side', at);
      });
      await store.appendAudit(entries);
      for (let trial = 0; trial < 60; trial += 1) {
        const from = next(4) === 0 ? undefined : new Date(Date.parse('2026-02-25T00:00:00Z') + next(8 * 86_400_000));
        const to = next(4) === 0 ? undefined : new Date((from?.getTime() ?? Date.parse('2026-02-25T00:00:00Z')) + 1 + next(2 * 86_400_000));
        const recipientOrganisationId = next(3) === 0 ? undefined : next(2) === 0 ? BANK : NGO;
        const query = { ...(recipientOrganisationId === undefined ? {} : { recipientOrganisationId }), ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
        const expected = entries.flatMap((entry, n) =>
          (recipientOrganisationId === undefined || entry.recipientOrganisationId === recipientOrganisationId) &&
          (from === undefined || (ats[n] ?? '') >= from.toISOString()) && (to === undefined || (ats[n] ?? '') < to.toISOString()) ? [n + 1] : []);
        const read: number[] = [];
        for await (const record of auditRecords(store, query)) read.push(record.seq);
        assert.deepEqual(read, expected, JSON.stringify(query));
      }
    } finally {
      await store.close();
    }
  });
});

describe('a --from/--to window over `at` texts of any shape', () => {
  // Entente writes `at` with Date.toISOString, but the window is a comparison of texts and the bounds
  // must take in whatever it would keep: a text's first 13 characters keep text order, whatever the
  // text. Shorter and longer texts, an offset, a space for the T, an expanded year, none at all.
  it('reads every entry the comparison keeps, bounds or no bounds', async () => {
    const store = openSqliteObjectStore({ path: freshPath() });
    try {
      const ats = ['2026-03-01T10:15:00Z', '2026-03-01T10:15:00.123456Z', '2026-03-01T12:15:00+02:00', '2026-03-01 10:15:00', '2026-03-01', '2026-03-01T1', '',
        '+010000-01-01T00:00:00.000Z', '2026-03-01T09:59:59.999Z', '2026-03-01T11:00:00.000Z', '2026-03-02T00:00:00.000-05:00', '2026-02-28T23:59:59.999Z'];
      await store.appendAudit(ats.map((at, n) => release(n + 1, BANK, 'grid', at)));
      const instants = ['2026-02-28T23:00:00Z', '2026-03-01T00:00:00Z', '2026-03-01T10:00:00Z', '2026-03-01T10:15:00.001Z', '2026-03-01T11:00:00Z', '2026-03-01T12:30:00Z', '2026-03-02T00:00:00Z', '2027-01-01T00:00:00Z'].map((text) => new Date(text));
      for (const from of [undefined, ...instants]) {
        for (const to of [undefined, ...instants]) {
          if (from === undefined && to === undefined) continue;
          const expected = ats.flatMap((at, n) => ((from === undefined || at >= from.toISOString()) && (to === undefined || at < to.toISOString()) ? [n + 1] : []));
          const query = { recipientOrganisationId: BANK, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
          assert.deepEqual(await walked(store, query), expected, JSON.stringify(query));
        }
      }
    } finally {
      await store.close();
    }
  });
});

describe('migration 18: where each recipient\'s entries of each hour lie', () => {
  it('migrates a schema 17 store to 18: fills audit_hours from the log, keeps it as entries are appended, rewrites no entry', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.function('entente_content_version', (_json: unknown) => null);
    raw.exec(migrations.slice(0, 17).join('\n'));
    raw.pragma('user_version = 17');
    const insert = raw.prepare('INSERT INTO audit_log (recipient_organisation_id, circle_id, at, entry, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)');
    let previous = GENESIS_HASH;
    // Out of time order on purpose: seq 4 is an hour behind seq 3.
    const ats = ['2026-03-01T10:05:00.000Z', '2026-03-01T10:50:00.000Z', '2026-03-01T11:10:00.000Z', '2026-03-01T10:59:00.000Z', '2026-03-01T11:20:00.000Z'];
    ats.forEach((at, n) => {
      const entry = release(n + 1, n === 1 ? NGO : BANK, 'grid', at);
      const chained = chainEntryText(previous, entry);
      insert.run(entry.recipientOrganisationId, entry.circleId, entry.at, chained.entryJson, chained.previousHash, chained.hash);
      previous = chained.hash;
    });
    const rowsBefore = raw.prepare('SELECT * FROM audit_log ORDER BY seq').all();
    raw.close();

    const store = openSqliteObjectStore({ path });
    try {
      assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const hours = (): unknown[] => store.database.prepare('SELECT recipient_organisation_id, hour, first_seq, last_seq FROM audit_hours ORDER BY recipient_organisation_id, hour').raw().all();
      assert.deepEqual(hours(), [[BANK, '2026-03-01T10', 1, 4], [BANK, '2026-03-01T11', 3, 5], [NGO, '2026-03-01T10', 2, 2]]);
      assert.deepEqual(store.database.prepare('SELECT * FROM audit_log ORDER BY seq').all(), rowsBefore, 'no entry rewritten');
      const window = { recipientOrganisationId: BANK, from: new Date('2026-03-01T10:30:00Z'), to: new Date('2026-03-01T11:00:00Z') };
      assert.deepEqual(await walked(store, window), [4]);
      await store.appendAudit([release(6, BANK, 'grid', '2026-03-01T10:40:00.000Z'), release(7, NGO, 'grid', '2026-03-01T12:00:00.000Z')]);
      assert.deepEqual(hours(), [[BANK, '2026-03-01T10', 1, 6], [BANK, '2026-03-01T11', 3, 5], [NGO, '2026-03-01T10', 2, 2], [NGO, '2026-03-01T12', 7, 7]]);
      assert.deepEqual(await walked(store, window), [4, 6]);
      assert.ok(verifyChain((await store.readAudit({ limit: 100 })).map((record) => record.chained)).ok);
    } finally {
      await store.close();
    }
  });
});

// audit_hours bounds every --from/--to read, and the hash chain does not cover it: a row deleted or
// narrowed would hide its hour's entries from `audit received` while `audit verify` still passed.
describe("audit_hours, which the chain does not cover", () => {
  const logOfThreeHours = async (path: string): Promise<ReturnType<typeof openSqliteObjectStore>> => {
    const store = openSqliteObjectStore({ path });
    // The bank's seqs 1, 3, 5 at 10:15, 11:15, 12:15; the NGO's 2, 4 between.
    await store.appendAudit(Array.from({ length: 5 }, (_, n) => release(n + 1, n % 2 === 0 ? BANK : NGO, 'grid', hourly('2026-03-01T10:15:00.000Z', n / 2))));
    return store;
  };
  const hourOfBank11 = [BANK, '2026-03-01T11'];

  it('refuses to lose or narrow a row, through every statement that could', async () => {
    const store = await logOfThreeHours(freshPath());
    try {
      const db = store.database;
      for (const [what, sql, params] of [
        ['a delete', 'DELETE FROM audit_hours WHERE recipient_organisation_id = ? AND hour = ?', hourOfBank11],
        ['a narrowing update', 'UPDATE audit_hours SET first_seq = first_seq + 1 WHERE recipient_organisation_id = ? AND hour = ?', hourOfBank11],
        ['an update moving a row to another hour', "UPDATE audit_hours SET hour = '2026-03-01T09' WHERE recipient_organisation_id = ? AND hour = ?", hourOfBank11],
        // REPLACE deletes the row it conflicts with and fires no DELETE trigger.
        ['an insert or replace', 'INSERT OR REPLACE INTO audit_hours (recipient_organisation_id, hour, first_seq, last_seq) VALUES (?, ?, 4, 4)', hourOfBank11],
      ] as const) {
        assert.throws(() => db.prepare(sql).run(...params), /audit_hours/, what);
      }
      assert.deepEqual(db.prepare('SELECT first_seq, last_seq FROM audit_hours WHERE recipient_organisation_id = ? AND hour = ?').raw().get(...hourOfBank11), [3, 3]);
      assert.equal(await store.firstUnindexedAudit(), undefined);
      // Appending still keeps it, a second entry in an hour widening that hour's row.
      await store.appendAudit([release(6, BANK, 'grid', '2026-03-01T11:40:00.000Z')]);
      assert.deepEqual(db.prepare('SELECT first_seq, last_seq FROM audit_hours WHERE recipient_organisation_id = ? AND hour = ?').raw().get(...hourOfBank11), [3, 6]);
      assert.equal(await store.firstUnindexedAudit(), undefined);
    } finally {
      await store.close();
    }
  });

  it('names the first entry a window read would skip once a row no longer places it', async () => {
    const store = await logOfThreeHours(freshPath());
    try {
      const db = store.database;
      const window = { recipientOrganisationId: BANK, from: new Date('2026-03-01T11:00:00Z'), to: new Date('2026-03-01T12:00:00Z') };
      assert.deepEqual(await walked(store, window), [3]);
      // Changed around the triggers, as whoever can edit the database file can.
      db.exec('DROP TRIGGER audit_hours_keeps_its_rows');
      db.prepare('DELETE FROM audit_hours WHERE recipient_organisation_id = ? AND hour = ?').run(...hourOfBank11);
      assert.deepEqual(await walked(store, window), [], 'the window read now skips seq 3');
      assert.ok(verifyChain((await store.readAudit({ limit: 100 })).map((record) => record.chained)).ok, 'and the chain alone cannot tell');
      assert.equal(await store.firstUnindexedAudit(), 3);
    } finally {
      await store.close();
    }
  });
});
