// The rule next to the release decision: when the collection's latest version of an object is
// withheld from a recipient, every version of that object is withheld from it (docs/architecture.md,
// "Reads"). Over the gate; test/taxii/withheld-latest-version.test.ts pins it over every TAXII read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openTerms } from '../federation/test-support.ts';
import type { Recipient } from '../policy/recipient.ts';
import { TLP2_MARKING_IDS } from '../policy/tlp.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import type { EntryFilter, PageRequest, StoredEntry } from '../store/object-store.ts';
import { openReleaseGate, type GateStore, type ReleaseGate } from './open-release-gate.ts';

const HOME = 'identity--11111111-1111-4111-8111-111111111111';
const PARTNER = 'identity--22222222-2222-4222-8222-222222222222';
const AT = new Date('2026-01-01T00:00:00.000Z');
const partner: Recipient = { name: 'partner', organisationId: PARTNER, admin: false, actsForHome: false, grants: [{ collectionId: 'shared', read: true, write: false }] };

describe('openReleaseGate, an object whose latest version it withholds', () => {
  const ids = [1, 2, 3].map((n) => `indicator--44444444-4444-4444-8444-${String(n).padStart(12, '0')}`);
  const version = (id: string, modified: string, tlp: 'green' | 'red') => ({
    type: 'indicator', spec_version: '2.1', id, created: '2025-06-01T00:00:00.000Z', modified, pattern: "[domain-name:value = 'example.org']",
    pattern_type: 'stix', valid_from: '2025-06-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS[tlp]],
  });

  /**
   * Circle 'shared' (home and the partner) holding, of each id, a GREEN version and a newer one:
   * RED (withheld from every member) for ids[0] and ids[1], GREEN for ids[2]. `lookups` counts the
   * store calls that read versions of those ids.
   */
  async function world(): Promise<{ store: SqliteObjectStore; gate: ReleaseGate; lookups: () => number; close: () => Promise<void> }> {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2025-01-01T00:00:00Z');
    await store.createOrganisation({ id: PARTNER, name: 'partner', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    await store.createCollection({ id: 'shared', title: 'shared' }, created);
    await store.createCircle({
      id: 'shared', name: 'shared', kind: 'formal', visibility: 'open', collectionId: 'shared', defaultTlp: 'green', validFrom: '2025-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, PARTNER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2025-01-01T00:00:00.000Z', trial: false })),
    }, created);
    await store.addAgreement({ circleId: 'shared', version: 1, proposedBy: HOME, proposedAt: '2025-01-02T00:00:00.000Z', terms: openTerms() });
    await store.addAcceptance({ circleId: 'shared', organisationId: PARTNER, version: 1, acceptedAt: '2025-01-03T00:00:00.000Z' });
    await store.addObjects('shared', ids.map((id) => version(id, '2025-06-01T00:00:00.000Z', 'green')));
    await store.addObjects('shared', ids.map((id, n) => version(id, '2025-07-01T00:00:00.000Z', n < 2 ? 'red' : 'green')));
    let lookups = 0;
    const counted: GateStore = new Proxy(store, {
      get(target, method) {
        // Bound to the store itself: its methods read private fields, which a proxy receiver lacks.
        const value = Reflect.get(target, method, target) as unknown;
        if (method !== 'listEntries') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        return (collectionId: string, filter: EntryFilter, page: PageRequest) => {
          if (filter.ids?.some((id) => ids.includes(id)) === true) lookups += 1;
          return target.listEntries(collectionId, filter, page);
        };
      },
    });
    const gate = await openReleaseGate(counted, partner, 'shared', AT, { audit: false });
    return { store, gate, lookups: () => lookups, close: () => store.close() };
  }

  const keys = (entries: readonly StoredEntry[]): string[] => entries.map((entry) => `${entry.id.slice(-1)}@${entry.version.slice(5, 7)}`);

  it('withholds every version of it, reading the latest versions once for a whole page', async () => {
    const { store, gate, lookups, close } = await world();
    try {
      const older = await store.listEntries('shared', { versions: [{ kind: 'first' }] }, { limit: 10 });
      assert.deepEqual(keys(older.entries), ['1@06', '2@06', '3@06']);
      assert.deepEqual(keys((await gate.release(older.entries)).released), ['3@06']);
      assert.equal(lookups(), 1, 'one store call for the latest versions of the whole page, none per entry');
      // A page that holds the latest versions itself needs no lookup.
      const every = await store.listEntries('shared', { versions: [{ kind: 'all' }] }, { limit: 10 });
      assert.deepEqual(keys(every.entries), ['1@06', '2@06', '3@06', '1@07', '2@07', '3@07']);
      assert.deepEqual(keys((await gate.release(every.entries)).released), ['3@06', '3@07']);
      assert.equal(lookups(), 1);
    } finally {
      await close();
    }
  });

  it('withholds an older version decided alone, and says why', async () => {
    const { store, gate, close } = await world();
    try {
      const [older] = (await store.listVersions('shared', ids[0] ?? '', { versions: [{ kind: 'first' }] }, { limit: 1 })).entries;
      assert.equal(older?.version, '2025-06-01T00:00:00.000Z');
      const decision = await gate.decide(older as StoredEntry);
      assert.equal(decision.kind, 'withhold');
      assert.match(decision.kind === 'withhold' ? decision.reasons.join('; ') : '', /latest version/);
      // The same version, stripped of what the listing said of it, is decided the same.
      const { id, type, version: v, specVersion, dateAdded, revoked, json } = older as StoredEntry;
      assert.equal((await gate.decide({ id, type, version: v, specVersion, dateAdded, revoked, json })).kind, 'withhold');
      const [kept] = (await store.listVersions('shared', ids[2] ?? '', { versions: [{ kind: 'first' }] }, { limit: 1 })).entries;
      assert.equal((await gate.decide(kept as StoredEntry)).kind, 'share', 'an older version of an object whose latest is released is decided on its own');
    } finally {
      await close();
    }
  });

  it('costs a page of latest versions no store call more', async () => {
    const { store, gate, lookups, close } = await world();
    try {
      const page = await store.listEntries('shared', {}, { limit: 10 });
      assert.deepEqual(keys((await gate.release(page.entries)).released), ['3@07']);
      assert.equal(lookups(), 0);
    } finally {
      await close();
    }
  });
});
