// A member re-publishing what this node released to it does not corroborate the original's source,
// against the SQLite store: the releases are read from the audit log as the release gate writes them
// (page entries per recipient), the publications' arrival times are the store's dateAdded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PageAuditEntry } from '../../src/audit/audit-chain.ts';
import { loadSourceReputation } from '../../src/federation/load-source-reputation.ts';
import type { ArrivedObject } from '../../src/store/federation-store.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const source = 'identity--2f6d0c1e-0000-4000-8000-00000000000a';
const copier = 'identity--2f6d0c1e-0000-4000-8000-00000000000b';
const bystander = 'identity--2f6d0c1e-0000-4000-8000-00000000000c';
const collectionId = 'collection--2f6d0c1e-0000-4000-8000-000000000001';
const created = '2026-03-01T00:00:00.000Z';

function indicator(n: number, value: string): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--2f6d0c1e-5c1f-4e0a-9d2b-${String(n).padStart(12, '0')}`,
    created,
    modified: created,
    pattern: `[ipv4-addr:value = '${value}']`,
    pattern_type: 'stix',
    valid_from: created,
  } as StixObject;
}

const signed = (object: StixObject, signer: string): ArrivedObject => ({ object, signer, keyId: `k${signer.slice(-1)}`.padEnd(22, 'k'), verification: 'verified', hops: [signer] });

/** A store whose clock the test moves: an hour between steps. */
async function node(): Promise<{ store: SqliteObjectStore; hourLater: () => Date }> {
  let now = new Date('2026-03-02T00:00:00.000Z');
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => now });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', id: 'identity--2f6d0c1e-0000-4000-8000-000000000000' }));
  await store.createCollection({ id: collectionId, title: 'Circle' }, now);
  return { store, hourLater: () => (now = new Date(now.getTime() + 3_600_000)) };
}

async function arrive(store: SqliteObjectStore, object: StixObject, signer: string, at: Date): Promise<void> {
  await store.applySyncBatch({ collectionId, peer: undefined, circleId: undefined, source: 'file', contributorOrganisationId: signer, accepted: [signed(object, signer)], quarantined: [], receivedAt: at.toISOString() });
}

/** The page entry the gate appends when it shares an object with a member. */
function released(object: StixObject, recipient: string, at: Date): PageAuditEntry {
  return { kind: 'page', recipientOrganisationId: recipient, circleId: 'circle--2f6d0c1e-0000-4000-8000-000000000001', at: at.toISOString(), releases: [{ objectId: object.id, objectModified: created, decision: 'share' }] };
}

async function corroboratorsOfOriginal(releaseTo: string | undefined, releaseAfterCopy = false): Promise<readonly string[] | undefined> {
  const { store, hourLater } = await node();
  try {
    const original = indicator(1, '45.9.30.1');
    await arrive(store, original, source, new Date('2026-03-02T00:00:00.000Z'));
    let at = hourLater();
    if (releaseTo !== undefined && !releaseAfterCopy) await store.appendAudit([released(original, releaseTo, at)]);
    at = hourLater();
    await arrive(store, indicator(2, '45.9.30.1'), copier, at);
    at = hourLater();
    if (releaseTo !== undefined && releaseAfterCopy) await store.appendAudit([released(original, releaseTo, at)]);
    const report = await loadSourceReputation(store, { now: hourLater() });
    return report.corroboration.get(original.id);
  } finally {
    await store.close();
  }
}

describe('reputation: copies of what this node released (SQLite store, audit log)', () => {
  it('the member this node shared the indicator with re-publishes its value: no corroboration of the source', async () => {
    assert.equal(await corroboratorsOfOriginal(copier), undefined);
  });

  it('a member that published the value without having been given it here still corroborates', async () => {
    assert.deepEqual(await corroboratorsOfOriginal(undefined), [copier]);
    assert.deepEqual(await corroboratorsOfOriginal(bystander), [copier], 'released to someone else');
  });

  // Walking the log read every release ever made to every such member at every refresh: some 20 s a
  // refresh at a million indicators released to two members, and growing with the log.
  it('asks when its candidates were first given, never walks the audit log', async () => {
    const { store, hourLater } = await node();
    try {
      const original = indicator(1, '45.9.30.2');
      await arrive(store, original, source, new Date('2026-03-02T00:00:00.000Z'));
      const filler = Array.from({ length: 400 }, (_, n) => ({ objectId: indicator(100 + n, '10.0.0.1').id, objectModified: created, decision: 'share' as const }));
      await store.appendAudit([{ ...released(original, copier, hourLater()), releases: [...filler, { objectId: original.id, objectModified: created, decision: 'share' as const }] }]);
      await arrive(store, indicator(2, '45.9.30.2'), copier, hourLater());
      const asked: string[][] = [];
      const walked = (): Promise<never> => Promise.reject(new Error('the reputation walked the audit log'));
      const watched = new Proxy(store, {
        get: (target, name, receiver) => {
          if (name === 'readAudit' || name === 'auditWindow') return walked;
          if (name === 'firstReleases') return (ids: readonly string[]) => (asked.push([...ids]), target.firstReleases(ids));
          const value: unknown = Reflect.get(target, name, receiver);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const report = await loadSourceReputation(watched, { now: hourLater() });
      assert.equal(report.corroboration.get(original.id), undefined, 'the copy is still told');
      assert.deepEqual(asked.flat().sort(), [original.id, indicator(2, '45.9.30.2').id].sort(), 'only the indicators several sources published');
    } finally {
      await store.close();
    }
  });

  it('a member that published the value before it was given it here still corroborates', async () => {
    assert.deepEqual(await corroboratorsOfOriginal(copier, true), [copier]);
  });
});
