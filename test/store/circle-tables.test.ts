import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { GENESIS_HASH, releasesIn, verifyChain, type AuditEntry, type PageAuditEntry } from '../../src/audit/audit-chain.ts';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import type { Agreement } from '../../src/policy/agreement.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';

const COORD = 'identity--0a000000-0000-4000-8000-000000000001';
const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';
const NOW = new Date('2026-03-01T00:00:00Z');

const dir = temporaryDirectory('circle-tables');
after(() => dir.remove());
let files = 0;
const freshPath = (): string => join(dir.path, `store-${(files += 1)}.db`);

function circle(id: string, collectionId: string, overrides: Partial<Circle> = {}): Circle {
  return {
    id,
    name: `Circle ${id}`,
    kind: 'tacit',
    visibility: 'hidden',
    collectionId,
    defaultTlp: 'amber',
    validFrom: '2026-02-01T00:00:00.000Z',
    validUntil: '2026-12-31T00:00:00.000Z',
    members: [{ organisationId: COORD, role: 'coordinator', joinedAt: '2026-02-01T00:00:00.000Z', trial: false }],
    ...overrides,
  };
}

function agreement(circleId: string, version: number, endRule: 'retain' | 'recall' = 'recall'): Agreement {
  return {
    circleId,
    version,
    proposedBy: COORD,
    proposedAt: `2026-02-0${version + 1}T00:00:00.000Z`,
    terms: {
      scope: { types: ['indicator'] },
      highestTlp: 'amber',
      onwardSharing: 'none',
      attribution: 'keep',
      expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' },
      endRule,
    },
  };
}

function entry(n: number, recipient: string, circleId: string, at: string): AuditEntry {
  return {
    objectId: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    objectModified: '2026-01-01T00:00:00.000Z',
    recipientOrganisationId: recipient,
    circleId,
    agreementVersion: 1,
    decision: n % 3 === 0 ? 'redact' : 'share',
    ...(n % 3 === 0 ? { redactedFields: ['$.description'] } : {}),
    at,
  };
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isEntenteError(error), `expected an EntenteError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

async function freshStore(path = freshPath()): Promise<ObjectStore> {
  const store = openSqliteObjectStore({ path });
  for (const id of ['grid', 'bank', 'spare']) await store.createCollection({ id, title: id }, NOW);
  return store;
}

describe('circle tables', () => {
  let store: ObjectStore;
  before(async () => {
    store = await freshStore();
  });
  after(async () => store.close());

  it('creates, gets, finds by collection, lists and updates circles (round-trip)', async () => {
    const grid = circle('grid-2026', 'grid');
    await store.createCircle(grid, NOW);
    const { validUntil: _none, ...formal } = circle('bank-2026', 'bank', { visibility: 'open', kind: 'formal', reviewAt: '2027-01-01T00:00:00.000Z' });
    await store.createCircle(formal, NOW);
    assert.deepEqual(await store.getCircle('bank-2026'), formal);
    assert.deepEqual(await store.getCircle('grid-2026'), grid);
    assert.deepEqual(await store.getCircleByCollection('grid'), grid);
    assert.deepEqual((await store.listCircles()).map((c) => c.id), ['bank-2026', 'grid-2026']);

    const updated: Circle = { ...grid, members: [...grid.members, { organisationId: BANK, role: 'consumer', joinedAt: '2026-03-01T00:00:00.000Z', trial: true }] };
    await store.updateCircle(updated, NOW);
    assert.deepEqual(await store.getCircle('grid-2026'), updated);
    assert.equal(await store.getCircle('nope'), undefined);
  });

  it('keeps one circle per collection, and refuses a taken id, an unknown collection, an unknown circle to update', async () => {
    await rejects(store.createCircle(circle('other', 'grid'), NOW), 'ENT_CIRCLE_COLLECTION_TAKEN');
    await rejects(store.createCircle(circle('grid-2026', 'spare'), NOW), 'ENT_CIRCLE_EXISTS');
    await rejects(store.createCircle(circle('ghost', 'no-such-collection'), NOW), 'ENT_COLLECTION_NOT_FOUND');
    assert.equal(await store.getCircleByCollection('no-such-collection'), undefined);
    assert.equal(await store.getCircleByCollection('spare'), undefined);
    await rejects(store.updateCircle(circle('ghost', 'spare'), NOW), 'ENT_CIRCLE_NOT_FOUND');
    // Moving a circle to another collection through an update is not an update of that circle.
    await rejects(store.updateCircle(circle('grid-2026', 'spare'), NOW), 'ENT_CIRCLE_NOT_FOUND');
    assert.equal((await store.getCircle('grid-2026'))?.collectionId, 'grid');
  });

  it('refuses to store a circle it could not read back', async () => {
    const bad = circle('bad', 'spare', { members: [{ organisationId: 'identity--0A000000-0000-4000-8000-000000000001', role: 'coordinator', joinedAt: '2026-02-01T00:00:00.000Z', trial: false }] });
    await rejects(store.createCircle(bad, NOW), 'ENT_POLICY_CIRCLE_INVALID');
    assert.equal(await store.getCircleByCollection('spare'), undefined);
    const grid = await store.getCircle('grid-2026');
    assert.ok(grid);
    await rejects(store.updateCircle({ ...grid, members: [{ ...grid.members[0]!, leftAt: grid.members[0]!.joinedAt }] }, NOW), 'ENT_POLICY_CIRCLE_INVALID');
    assert.deepEqual((await store.listCircles()).map((c) => c.id), ['bank-2026', 'grid-2026']);
  });

  it('appends agreement versions, never replacing one, and records acceptances once', async () => {
    await store.addAgreement(agreement('grid-2026', 1));
    await store.addAgreement(agreement('grid-2026', 2, 'retain'));
    await rejects(store.addAgreement({ ...agreement('grid-2026', 1, 'retain'), proposedBy: BANK }), 'ENT_AGREEMENT_EXISTS');
    await rejects(store.addAgreement(agreement('no-such-circle', 1)), 'ENT_CIRCLE_NOT_FOUND');
    const acceptance = { circleId: 'grid-2026', organisationId: BANK, version: 1, acceptedAt: '2026-03-02T00:00:00.000Z' };
    await store.addAcceptance(acceptance);
    await store.addAcceptance({ ...acceptance, acceptedAt: '2026-09-09T00:00:00.000Z' });
    const state = await store.getAgreementState('grid-2026');
    assert.deepEqual(state.agreements, [agreement('grid-2026', 1), agreement('grid-2026', 2, 'retain')]);
    assert.deepEqual(state.acceptances, [acceptance], 'the first acceptance stands; accepting again changes nothing');
    assert.deepEqual(await store.getAgreementState('bank-2026'), { agreements: [], acceptances: [] });
    await rejects(store.addAcceptance({ ...acceptance, circleId: 'no-such-circle' }), 'ENT_CIRCLE_NOT_FOUND');
  });

  it('chains audit entries across appends, and filters by recipient, circle, time and sequence', async () => {
    await store.appendAudit([]);
    await store.appendAudit([entry(1, BANK, 'grid-2026', '2026-03-01T00:00:00.000Z'), entry(2, NGO, 'grid-2026', '2026-03-02T00:00:00.000Z')]);
    await store.appendAudit([entry(3, BANK, 'bank-2026', '2026-03-03T00:00:00.000Z')]);
    await store.appendAudit([entry(4, BANK, 'grid-2026', '2026-03-04T00:00:00.000Z'), entry(5, BANK, 'grid-2026', '2026-03-05T00:00:00.000Z')]);
    const all = await store.readAudit({ limit: 100 });
    assert.deepEqual(all.map((record) => record.seq), [1, 2, 3, 4, 5]);
    assert.equal(all[0]?.chained.previousHash, GENESIS_HASH);
    assert.ok(verifyChain(all.map((record) => record.chained)).ok);
    assert.deepEqual(all.map((record) => record.chained.entry), [1, 2, 3, 4, 5].map((n) => entry(n, [2].includes(n) ? NGO : BANK, n === 3 ? 'bank-2026' : 'grid-2026', `2026-03-0${n}T00:00:00.000Z`)));

    const seqs = async (query: Parameters<ObjectStore['readAudit']>[0]): Promise<number[]> => (await store.readAudit(query)).map((record) => record.seq);
    assert.deepEqual(await seqs({ recipientOrganisationId: BANK, limit: 100 }), [1, 3, 4, 5]);
    assert.deepEqual(await seqs({ recipientOrganisationId: BANK, circleId: 'grid-2026', limit: 100 }), [1, 4, 5]);
    assert.deepEqual(await seqs({ from: new Date('2026-03-02T00:00:00Z'), to: new Date('2026-03-04T00:00:00Z'), limit: 100 }), [2, 3], 'from inclusive, to exclusive');
    assert.deepEqual(await seqs({ afterSeq: 3, limit: 100 }), [4, 5]);
    assert.deepEqual(await seqs({ afterSeq: 1, limit: 2 }), [2, 3]);
    assert.deepEqual(await seqs({ recipientOrganisationId: "x' OR 1=1 --", limit: 100 }), []);
    assert.deepEqual(await seqs({ limit: Number.NaN }), [1], 'a nonsense limit reads one page of at least one entry, never fails the query');
    assert.deepEqual(await seqs({ limit: -5, afterSeq: 4 }), [5]);
  });

  it('reads back every entry as appended, whatever its strings hold, and the chain verifies', async () => {
    const odd = (n: number, objectModified: string): AuditEntry => ({ ...entry(n, BANK, 'grid-2026', '2026-03-01T00:00:00.000Z'), objectModified });
    const appended = [odd(1, 'quote " backslash \\ tab \t'), odd(2, 'é ✓ \u2028 😀'), odd(3, '\u0000\u001f'), { ...odd(4, 'x'), redactedFields: [] }];
    await store.appendAudit(appended);
    const read = await store.readAudit({ limit: 100 });
    assert.deepEqual(read.slice(-appended.length).map((record) => record.chained.entry), appended);
    assert.ok(verifyChain(read.map((record) => record.chained)).ok);
  });

  it("reads back a page's releases as one entry, in the chain, and a page that lists no release as unreadable", async () => {
    const releases = [1, 2, 3].map((n) => {
      const { recipientOrganisationId: _recipient, circleId: _circle, at: _at, ...release } = entry(n, BANK, 'grid-2026', '');
      return release;
    });
    const page: PageAuditEntry = { kind: 'page', recipientOrganisationId: BANK, circleId: 'grid-2026', at: '2026-03-06T00:00:00.000Z', releases };
    await store.appendAudit([page]);
    const [read] = (await store.readAudit({ recipientOrganisationId: BANK, from: new Date('2026-03-06T00:00:00.000Z'), limit: 100 })).slice(-1);
    assert.deepEqual(read?.chained.entry, page);
    assert.deepEqual(releasesIn(page).map((release) => release.objectId), releases.map((release) => release.objectId));
    assert.ok(verifyChain((await store.readAudit({ limit: 1000 })).map((record) => record.chained)).ok);

    await store.appendAudit([{ ...page, releases: [] }]);
    const [empty] = (await store.readAudit({ limit: 1000 })).slice(-1);
    assert.ok(empty?.chained.hash.startsWith('unreadable:'), 'a page of no release reads as nothing anyone acts on, and fails the chain');
  });

  it('queues each recall once per circle, organisation and object version', async () => {
    const notice = { circleId: 'grid-2026', organisationId: BANK, objectId: entry(1, BANK, 'g', '').objectId, version: '2026-01-01T00:00:00.000Z', reason: 'left', queuedAt: '2026-04-01T00:00:00.000Z' };
    assert.equal(await store.queueRecalls([notice, notice, { ...notice, version: '2026-02-01T00:00:00.000Z' }]), 2);
    assert.equal(await store.queueRecalls([{ ...notice, reason: 'again', queuedAt: '2026-05-01T00:00:00.000Z' }]), 0);
    assert.equal(await store.queueRecalls([{ ...notice, organisationId: NGO }]), 1);
    const bank = await store.listRecalls({ organisationId: BANK });
    assert.deepEqual(bank.map((n) => [n.version, n.reason]), [['2026-01-01T00:00:00.000Z', 'left'], ['2026-02-01T00:00:00.000Z', 'left']]);
    assert.equal((await store.listRecalls({ circleId: 'grid-2026', undeliveredOnly: true })).length, 3);
    assert.equal((await store.listRecalls({ circleId: 'bank-2026' })).length, 0);
  });
});

describe('the audit log inside the database file', () => {
  it('refuses UPDATE and DELETE through SQL, even from another connection', async () => {
    const path = freshPath();
    const store = await freshStore(path);
    await store.appendAudit([entry(1, BANK, 'grid-2026', '2026-03-01T00:00:00.000Z'), entry(2, BANK, 'grid-2026', '2026-03-02T00:00:00.000Z')]);
    await store.close();
    const db = new Database(path);
    try {
      assert.throws(() => db.prepare("UPDATE audit_log SET recipient_organisation_id = 'identity--x' WHERE seq = 1").run(), /append-only/);
      assert.throws(() => db.prepare("UPDATE audit_log SET entry = '{}'").run(), /append-only/);
      assert.throws(() => db.prepare('DELETE FROM audit_log WHERE seq = 2').run(), /append-only/);
      assert.throws(() => db.prepare('DELETE FROM audit_log').run(), /append-only/);
      assert.equal(db.prepare('SELECT count(*) FROM audit_log').pluck().get(), 2);
    } finally {
      db.close();
    }
  });

  it('fails closed on a circle, agreement or acceptance document edited behind its back', async () => {
    const path = freshPath();
    const store = await freshStore(path);
    await store.createCircle(circle('grid-2026', 'grid'), NOW);
    await store.createCircle(circle('bank-2026', 'bank'), NOW);
    await store.addAgreement(agreement('bank-2026', 1));
    await store.addAcceptance({ circleId: 'bank-2026', organisationId: BANK, version: 1, acceptedAt: '2026-03-02T00:00:00.000Z' });
    const db = new Database(path);
    try {
      const grid = JSON.parse(db.prepare("SELECT document FROM circles WHERE id = 'grid-2026'").pluck().get() as string) as Record<string, unknown>;
      // An attacker widens the circle: makes it open and drops the end.
      db.prepare("UPDATE circles SET document = ? WHERE id = 'grid-2026'").run(JSON.stringify({ ...grid, visibility: 'public', valid_until: undefined }));
      await rejects(store.getCircle('grid-2026'), 'ENT_STORE_UNAVAILABLE');
      await rejects(store.getCircleByCollection('grid'), 'ENT_STORE_UNAVAILABLE');
      await rejects(store.listCircles(), 'ENT_STORE_UNAVAILABLE');
      // Not JSON at all.
      db.prepare("UPDATE circles SET document = '{not json' WHERE id = 'grid-2026'").run();
      await rejects(store.getCircle('grid-2026'), 'ENT_STORE_UNAVAILABLE');
      await rejects(store.listCircles(), 'ENT_STORE_UNAVAILABLE');
      // A valid document of another circle pasted into this row: the row's id and collection decide.
      const bankDocument = db.prepare("SELECT document FROM circles WHERE id = 'bank-2026'").pluck().get() as string;
      db.prepare("UPDATE circles SET document = ? WHERE id = 'grid-2026'").run(bankDocument);
      await rejects(store.getCircle('grid-2026'), 'ENT_STORE_UNAVAILABLE');
      await rejects(store.getCircleByCollection('grid'), 'ENT_STORE_UNAVAILABLE');

      db.prepare("UPDATE agreements SET document = '[]' WHERE circle_id = 'bank-2026'").run();
      await rejects(store.getAgreementState('bank-2026'), 'ENT_STORE_UNAVAILABLE');
      db.prepare("UPDATE agreements SET document = 'garbage' WHERE circle_id = 'bank-2026'").run();
      await rejects(store.getAgreementState('bank-2026'), 'ENT_STORE_UNAVAILABLE');
    } finally {
      db.close();
      await store.close();
    }
  });
});

describe('entente audit verify on a tampered file', () => {
  const data = temporaryDirectory('audit-tamper');
  after(() => data.remove());

  async function seededNode(): Promise<string> {
    const path = join(data.path, 'entente.sqlite');
    const init = await entente(data.path, ['audit', 'verify']);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Audit log verified: 0 entries/);
    const store = openSqliteObjectStore({ path });
    await store.appendAudit([1, 2, 3, 4].map((n) => entry(n, BANK, 'grid-2026', `2026-03-0${n}T00:00:00.000Z`)));
    await store.close();
    const verified = await entente(data.path, ['audit', 'verify']);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /Audit log verified: 4 entries, last hash [0-9a-f]{64}/);
    return path;
  }

  /** An attacker with the file drops the triggers, then edits what SQL allows. */
  function tamper(path: string, sql: string, ...params: unknown[]): void {
    const db = new Database(path);
    try {
      db.exec('DROP TRIGGER IF EXISTS audit_log_is_append_only_update; DROP TRIGGER IF EXISTS audit_log_is_append_only_delete;');
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  }

  it('names the sequence number of an entry whose text was changed', async () => {
    const path = await seededNode();
    const db = new Database(path, { readonly: true });
    const text = db.prepare('SELECT entry FROM audit_log WHERE seq = 3').pluck().get() as string;
    db.close();
    // The attacker erases the proof of a release: the decision becomes a withhold.
    tamper(path, 'UPDATE audit_log SET entry = ? WHERE seq = 3', JSON.stringify({ ...(JSON.parse(text) as object), decision: 'withhold' }));
    const broken = await entente(data.path, ['audit', 'verify']);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /ENT_AUDIT_BROKEN: audit entry 3 does not verify/);
  });

  it('names the entry when its text is no longer JSON', async () => {
    const path = join(data.path, 'entente.sqlite');
    tamper(path, "UPDATE audit_log SET entry = '{\"objectId\":' WHERE seq = 2");
    const broken = await entente(data.path, ['audit', 'verify']);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /ENT_AUDIT_BROKEN: audit entry 2 does not verify/);
  });

  it('detects a removed entry, and a recipient column rewritten to hide a release from `audit received`', async () => {
    const other = temporaryDirectory('audit-tamper-2');
    try {
      const init = await entente(other.path, ['audit', 'verify']);
      assert.equal(init.code, 0);
      const path = join(other.path, 'entente.sqlite');
      const store = openSqliteObjectStore({ path });
      await store.appendAudit([1, 2, 3, 4].map((n) => entry(n, BANK, 'grid-2026', `2026-03-0${n}T00:00:00.000Z`)));
      await store.close();

      tamper(path, 'UPDATE audit_log SET recipient_organisation_id = ? WHERE seq = 4', NGO);
      const hidden = await entente(other.path, ['audit', 'verify']);
      assert.equal(hidden.code, 1, hidden.stdout);
      assert.match(hidden.stderr, /ENT_AUDIT_BROKEN: audit entry 4 does not verify/);

      tamper(path, 'DELETE FROM audit_log WHERE seq = 2');
      const removed = await entente(other.path, ['audit', 'verify']);
      assert.equal(removed.code, 1);
      assert.match(removed.stderr, /ENT_AUDIT_BROKEN: audit entry 3 does not verify \(previous-hash-mismatch\)/);
    } finally {
      other.remove();
    }
  });
});
