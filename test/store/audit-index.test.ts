import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { chainEntryText, GENESIS_HASH, verifyChain, type AuditEntry } from '../../src/audit/audit-chain.ts';
import type { AuditQuery } from '../../src/store/object-store.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { auditReadStatement } from '../../src/store/sqlite/sqlite-circle-tables.ts';
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
        assert.ok(plan.some((detail) => /^SEARCH audit_log USING INDEX audit_by_recipient_seq \(recipient_organisation_id=\? AND seq>\?\)/.test(detail)), `${what}:\n${plan.join('\n')}`);
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
      assert.deepEqual(triggers, ['audit_log_is_append_only_delete', 'audit_log_is_append_only_update']);
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
