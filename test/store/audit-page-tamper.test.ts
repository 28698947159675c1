import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AUDIT_READ_ENTRIES, releasesIn, verifyChain, type AuditEntry, type PageAuditEntry, type PageRelease } from '../../src/audit/audit-chain.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';

// A page entry (kind "page") records many releases under one hash. Whatever an attacker holding the
// database file rewrites in its row — a release inside it, the columns queries filter on, the shape
// of its `releases` — the chain no longer verifies, and a page whose releases are not all releases
// is never read as releasing anything.

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';
const AT = '2026-03-06T00:00:00.000Z';

const dir = temporaryDirectory('audit-page-tamper');
after(() => dir.remove());
let files = 0;

function release(n: number, decision: PageRelease['decision'] = 'share'): PageRelease {
  return { objectId: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, objectModified: '2026-01-01T00:00:00.000Z', agreementVersion: 1, decision };
}

const single = (n: number): AuditEntry => ({ ...release(n), recipientOrganisationId: BANK, circleId: 'grid-2026', at: AT });
const page: PageAuditEntry = { kind: 'page', recipientOrganisationId: BANK, circleId: 'grid-2026', at: AT, releases: [release(1), { ...release(2, 'redact'), redactedFields: ['$.description'] }, release(3)] };

/** A log of a single release, a page (seq 2) and another single release; the page row is then edited with `sql`. */
async function tamperedPage(sql: string, ...params: unknown[]): Promise<{ verified: ReturnType<typeof verifyChain>; page: AuditEntry[] }> {
  const path = join(dir.path, `store-${(files += 1)}.db`);
  const store = openSqliteObjectStore({ path });
  await store.appendAudit([single(0), page, single(4)]);
  assert.ok(verifyChain((await store.readAudit({ limit: 100 })).map((record) => record.chained)).ok, 'the log verifies as written');
  await store.close();
  const db = new Database(path);
  try {
    db.exec('DROP TRIGGER IF EXISTS audit_log_is_append_only_update; DROP TRIGGER IF EXISTS audit_log_is_append_only_delete;');
    const text = db.prepare('SELECT entry FROM audit_log WHERE seq = 2').pluck().get() as string;
    db.prepare(sql).run(...params.map((param) => (typeof param === 'function' ? (param as (entry: string) => string)(text) : param)));
  } finally {
    db.close();
  }
  const reopened = openSqliteObjectStore({ path });
  try {
    const records = await reopened.readAudit({ limit: 100 });
    const second = records.find((record) => record.seq === 2);
    assert.ok(second !== undefined);
    return { verified: verifyChain(records.map((record) => record.chained)), page: releasesIn(second.chained.entry) };
  } finally {
    await reopened.close();
  }
}

const SET_ENTRY = 'UPDATE audit_log SET entry = ? WHERE seq = 2';
/** The stored text with `edit` applied to its parsed page. */
const edited = (edit: (stored: Record<string, unknown>) => unknown) => (text: string): string => JSON.stringify(edit(JSON.parse(text) as Record<string, unknown>));
const storedReleases = (stored: Record<string, unknown>): Record<string, unknown>[] => stored['releases'] as Record<string, unknown>[];

describe('a page entry rewritten in the database fails `audit verify`', () => {
  const rewrites: [string, string, ...unknown[]][] = [
    ['a release inside it turned into a withhold', SET_ENTRY, edited((stored) => ({ ...stored, releases: storedReleases(stored).map((item, index) => (index === 0 ? { ...item, decision: 'withhold' } : item)) }))],
    ['a release dropped from it', SET_ENTRY, edited((stored) => ({ ...stored, releases: storedReleases(stored).slice(1) }))],
    ['its releases reordered', SET_ENTRY, edited((stored) => ({ ...stored, releases: [...storedReleases(stored)].reverse() }))],
    ['a redaction erased', SET_ENTRY, edited((stored) => ({ ...stored, releases: storedReleases(stored).map(({ redactedFields: _fields, ...item }) => item) }))],
    ['the recipient column, to hide it from `audit received`', 'UPDATE audit_log SET recipient_organisation_id = ? WHERE seq = 2', NGO],
    ['the circle column, to keep it from the recalls of a leaving', "UPDATE audit_log SET circle_id = 'other' WHERE seq = 2"],
    ['the time column, to move it out of a --from/--to window', "UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 2"],
  ];
  for (const [what, sql, ...params] of rewrites) {
    it(what, async () => {
      const { verified } = await tamperedPage(sql, ...params);
      assert.deepEqual(verified, { ok: false, error: { index: 1, reason: 'hash-mismatch' } });
    });
  }
});

describe('a page entry whose releases are not all releases is read as releasing nothing, and fails `audit verify`', () => {
  const shapes: [string, (stored: Record<string, unknown>) => unknown][] = [
    ['no release', (stored) => ({ ...stored, releases: [] })],
    ['releases that are not an array', (stored) => ({ ...stored, releases: Object.fromEntries(storedReleases(stored).map((item, index) => [String(index), item])) })],
    ['releases missing', ({ releases: _releases, ...stored }) => stored],
    ['one release of an unknown decision', (stored) => ({ ...stored, releases: [...storedReleases(stored), { ...release(9), decision: 'leak' }] })],
    ['one release without its version', (stored) => ({ ...stored, releases: [...storedReleases(stored), { objectId: release(9).objectId, decision: 'share' }] })],
    ['one release that is a string', (stored) => ({ ...stored, releases: [...storedReleases(stored), release(9).objectId] })],
    ['one release that is null', (stored) => ({ ...stored, releases: [...storedReleases(stored), null] })],
    ["a single release's fields on the page itself", (stored) => ({ ...stored, objectId: release(9).objectId, objectModified: '2026-01-01T00:00:00.000Z', decision: 'share' })],
  ];
  for (const [what, edit] of shapes) {
    it(what, async () => {
      const { verified, page: read } = await tamperedPage(SET_ENTRY, edited(edit));
      assert.equal(verified.ok, false);
      assert.deepEqual(read.filter((item) => item.decision !== 'withhold' || item.objectId !== ''), [], 'nothing read from it');
    });
  }

  it('a page entry turned into the single release of its first version is a different entry', async () => {
    const { verified, page: read } = await tamperedPage(SET_ENTRY, edited(() => single(1)));
    assert.deepEqual(verified, { ok: false, error: { index: 1, reason: 'hash-mismatch' } });
    assert.equal(read.length, 1);
  });
});

describe('`entente audit verify` reads the log a bounded number of entries at a time', () => {
  it(`verifies across reads of ${AUDIT_READ_ENTRIES} entries, and names a tampered entry of a later read`, async () => {
    const node = temporaryDirectory('audit-page-tamper-cli');
    try {
      assert.equal((await entente(node.path, ['audit', 'verify'])).code, 0);
      const path = join(node.path, 'entente.sqlite');
      const store = openSqliteObjectStore({ path });
      const count = 2 * AUDIT_READ_ENTRIES + 50;
      await store.appendAudit(Array.from({ length: count }, (_, n) => (n % 2 === 0 ? page : single(n))));
      await store.close();
      const verified = await entente(node.path, ['audit', 'verify']);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, new RegExp(`Audit log verified: ${count} entries, last hash [0-9a-f]{64}`));

      const seq = 2 * AUDIT_READ_ENTRIES + 11;
      const db = new Database(path);
      try {
        db.exec('DROP TRIGGER IF EXISTS audit_log_is_append_only_update;');
        db.prepare('UPDATE audit_log SET circle_id = ? WHERE seq = ?').run('other', seq);
      } finally {
        db.close();
      }
      const broken = await entente(node.path, ['audit', 'verify']);
      assert.equal(broken.code, 1);
      assert.match(broken.stderr, new RegExp(`ENT_AUDIT_BROKEN: audit entry ${seq} does not verify`));
    } finally {
      node.remove();
    }
  });
});
