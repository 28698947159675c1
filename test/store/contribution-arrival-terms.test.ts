// A partner's contribution carries the onward-sharing terms it arrived under (migration 20), so that
// a circle loosening its terms later does not loosen them for what was given before
// (src/policy/README.md, rule 6). Rows stored before the migration take the strictest terms their
// circle has had.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { OnwardSharing } from '../../src/policy/agreement.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { SCHEMA_VERSION, openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { versionKey } from '../../src/store/object-store.ts';
import { indicator } from './object-store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'entente-arrival-terms-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const HOME = 'identity--eeeeeeee-0000-4000-8000-000000000000';
const SOURCE = 'identity--eeeeeeee-0000-4000-8000-00000000000a';
const VERSION = '2024-01-01T00:00:00.000Z';

const terms = (onwardSharing: OnwardSharing) => ({
  scope: { types: ['indicator'] }, highestTlp: 'red' as const, onwardSharing, attribution: 'keep' as const,
  expectations: { permittedActions: 'none' as const, affectedPartyNotifications: 'may' as const, providerAttribution: 'may' as const }, endRule: 'retain' as const,
});

async function arrivalTerms(store: SqliteObjectStore, n: number): Promise<OnwardSharing[]> {
  const found = await store.contributionsOf([{ id: indicator(n).id, version: VERSION }]);
  return (found.get(versionKey(indicator(n).id, VERSION)) ?? []).map((contribution) => contribution.arrivalOnwardSharing);
}

describe('contributions record the onward-sharing terms they arrived under', () => {
  it('migrating a schema 19 store: each row takes the strictest terms its circle has had; outside any circle, "none"', async () => {
    const path = join(dir, 'v19.db');
    const raw = new Database(path);
    // Migration 10 calls the store's own function; the database is empty then (rows come after).
    raw.function('entente_content_version', (_json: unknown) => null);
    raw.exec(migrations.slice(0, 19).join('\n'));
    raw.pragma('user_version = 19');
    const collections = ['changed', 'loose', 'plain', 'unagreed'];
    collections.forEach((id, index) => raw.prepare(`INSERT INTO collections (key, id, title, created_at) VALUES (?, ?, ?, 'c')`).run(index + 1, id, id));
    for (const circle of ['changed', 'loose', 'unagreed']) raw.prepare(`INSERT INTO circles (id, collection_id, document, created_at, updated_at) VALUES (?, ?, '{}', 'c', 'c')`).run(circle, circle);
    // "changed" went from "circles" to "organisation" and back: a row of it may have arrived under "organisation".
    const agreements: [string, number, OnwardSharing][] = [['changed', 1, 'circles'], ['changed', 2, 'organisation'], ['changed', 3, 'circles'], ['loose', 1, 'circles']];
    for (const [circle, version, onward] of agreements) {
      raw.prepare('INSERT INTO agreements (circle_id, version, document) VALUES (?, ?, ?)').run(circle, version, JSON.stringify({ terms: { onward_sharing: onward } }));
    }
    collections.forEach((_id, index) => {
      const object = indicator(index + 1);
      raw.prepare(`INSERT INTO object_versions (vid, object_id, version, type, spec_version, revoked, json) VALUES (?, ?, ?, 'indicator', '2.1', 0, ?)`).run(index + 1, object.id, VERSION, JSON.stringify(object));
      raw.prepare('INSERT INTO contributions (vid, collection_key, organisation_id) VALUES (?, ?, ?)').run(index + 1, index + 1, SOURCE);
    });
    raw.close();

    const store = openSqliteObjectStore({ path });
    try {
      assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(await arrivalTerms(store, 1), ['organisation'], 'the strictest version the circle has had');
      assert.deepEqual(await arrivalTerms(store, 2), ['circles']);
      assert.deepEqual(await arrivalTerms(store, 3), ['none'], 'a collection without a circle');
      assert.deepEqual(await arrivalTerms(store, 4), ['none'], 'a circle without an agreement');
    } finally {
      await store.close();
    }
  });

  it('migrating reads each circle\'s agreement versions once, not once per contribution', () => {
    // Its cost stays that of one pass over the contributions however many versions the agreements
    // have had (a million contributions times every version's JSON would hold a node's start).
    const raw = new Database(':memory:');
    try {
      raw.function('entente_content_version', (_json: unknown) => null);
      raw.exec(migrations.slice(0, 19).join('\n'));
      const statements = (migrations[19] ?? '').replace(/--[^\n]*/g, '').split(';').map((text) => text.trim()).filter((text) => text !== '');
      const [alter, ...backfill] = statements;
      assert.ok(alter?.startsWith('ALTER TABLE contributions') === true && backfill.length > 0);
      raw.exec(alter);
      for (const statement of backfill) {
        const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${statement}`).all() as { detail: string }[]).map((row) => row.detail);
        assert.ok(!plan.some((detail) => /CORRELATED/.test(detail)), `a subquery run for each row:\n${plan.join('\n')}`);
      }
    } finally {
      raw.close();
    }
  });

  it('records the terms binding the contributor when it sends; a send again under stricter terms keeps those', async () => {
    let now = new Date('2026-02-01T00:00:00Z');
    const store = openSqliteObjectStore({ path: ':memory:', clock: () => now });
    try {
      const created = new Date('2026-01-01T00:00:00Z');
      await store.createCollection({ id: 'first', title: 'first' }, created);
      await store.createCircle({
        id: 'first', name: 'first', kind: 'formal', visibility: 'open', collectionId: 'first', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, SOURCE].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
      }, created);
      const agree = async (version: number, onward: OnwardSharing, at: string): Promise<void> => {
        await store.addAgreement({ circleId: 'first', version, proposedBy: HOME, proposedAt: at, terms: terms(onward) });
        await store.addAcceptance({ circleId: 'first', organisationId: SOURCE, version, acceptedAt: at });
      };
      await agree(1, 'circles', '2026-01-02T00:00:00.000Z');
      await store.addObjects('first', [indicator(1)], undefined, SOURCE);
      assert.deepEqual(await arrivalTerms(store, 1), ['circles']);

      now = new Date('2026-03-01T00:00:00Z');
      await agree(2, 'none', '2026-02-15T00:00:00.000Z');
      await store.addObjects('first', [indicator(2)], undefined, SOURCE);
      assert.deepEqual(await arrivalTerms(store, 2), ['none']);
      // Sent again under "none": it has now been given under "none" too.
      await store.addObjects('first', [indicator(1)], undefined, SOURCE);
      assert.deepEqual(await arrivalTerms(store, 1), ['none']);

      now = new Date('2026-04-01T00:00:00Z');
      await agree(3, 'circles', '2026-03-15T00:00:00.000Z');
      // Sent again under looser terms: what was given under stricter ones stays so given.
      await store.addObjects('first', [indicator(2)], undefined, SOURCE);
      assert.deepEqual(await arrivalTerms(store, 2), ['none']);
      // Outside any circle: no terms were agreed.
      await store.createCollection({ id: 'plain', title: 'plain' }, created);
      await store.addObjects('plain', [indicator(3)], undefined, SOURCE);
      assert.deepEqual(await arrivalTerms(store, 3), ['none']);
    } finally {
      await store.close();
    }
  });
  it('a quarantined item released after the terms loosened keeps the stricter terms it arrived under', async () => {
    let now = new Date('2026-02-01T00:00:00Z');
    const store = openSqliteObjectStore({ path: ':memory:', clock: () => now });
    try {
      const created = new Date('2026-01-01T00:00:00Z');
      await store.createCollection({ id: 'first', title: 'first' }, created);
      await store.createCircle({
        id: 'first', name: 'first', kind: 'formal', visibility: 'open', collectionId: 'first', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, SOURCE].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
      }, created);
      for (const [version, onward, at] of [[1, 'none', '2026-01-02T00:00:00.000Z'], [2, 'circles', '2026-02-15T00:00:00.000Z']] as const) {
        await store.addAgreement({ circleId: 'first', version, proposedBy: HOME, proposedAt: at, terms: terms(onward) });
        await store.addAcceptance({ circleId: 'first', organisationId: SOURCE, version, acceptedAt: at });
      }
      const object = indicator(1);
      await store.applySyncBatch({
        collectionId: 'first', peer: undefined, circleId: 'first', source: 'file', contributorOrganisationId: SOURCE, accepted: [],
        quarantined: [{ objectId: object.id, version: VERSION, reason: 'unsigned', message: 'unsigned', json: JSON.stringify(object) }], receivedAt: now.toISOString(),
      });
      now = new Date('2026-03-01T00:00:00Z');
      const [held] = await store.listQuarantine({ limit: 1 });
      assert.ok(held !== undefined);
      assert.equal((await store.releaseQuarantined(held.seq, 'analyst', now.toISOString())).kind, 'added');
      assert.deepEqual(await arrivalTerms(store, 1), ['none']);
    } finally {
      await store.close();
    }
  });
});

describe('the terms a contribution arrives under, when acceptances are stamped by a clock ahead of this one', () => {
  // A mirrored circle's acceptances carry the coordinator's clock, up to the peer clock skew (5 min)
  // ahead of this one, and the arrival checks already admit what a partner sends under terms accepted
  // that far ahead (load-arrival-context.ts). The record must be no looser than any terms that may
  // already bind: the strictest binding anywhere between now and now + the skew.
  async function recorded(first: OnwardSharing, ahead: readonly [OnwardSharing, number][]): Promise<OnwardSharing[]> {
    const now = new Date('2026-02-01T00:00:00Z');
    const store = openSqliteObjectStore({ path: ':memory:', clock: () => now });
    try {
      const created = new Date('2026-01-01T00:00:00Z');
      await store.createCollection({ id: 'first', title: 'first' }, created);
      await store.createCircle({
        id: 'first', name: 'first', kind: 'formal', visibility: 'open', collectionId: 'first', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, SOURCE].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
      }, created);
      const versions: [OnwardSharing, string][] = [[first, '2026-01-02T00:00:00.000Z'], ...ahead.map(([onward, minutes]): [OnwardSharing, string] => [onward, new Date(now.getTime() + minutes * 60_000).toISOString()])];
      for (const [index, [onward, at]] of versions.entries()) {
        await store.addAgreement({ circleId: 'first', version: index + 1, proposedBy: HOME, proposedAt: at, terms: terms(onward) });
        await store.addAcceptance({ circleId: 'first', organisationId: SOURCE, version: index + 1, acceptedAt: at });
      }
      await store.addObjects('first', [indicator(1)], undefined, SOURCE);
      return await arrivalTerms(store, 1);
    } finally {
      await store.close();
    }
  }

  it('stricter terms accepted up to the skew ahead bind the contribution already', async () => {
    assert.deepEqual(await recorded('circles', [['none', 2]]), ['none']);
  });

  it('as do stricter terms that looser ones replace within the skew', async () => {
    assert.deepEqual(await recorded('circles', [['none', 1], ['circles', 2]]), ['none']);
  });

  it('looser terms accepted ahead widen nothing yet; terms accepted beyond the skew do not bind yet', async () => {
    assert.deepEqual(await recorded('none', [['circles', 2]]), ['none']);
    assert.deepEqual(await recorded('circles', [['none', 6]]), ['circles']);
  });
});
