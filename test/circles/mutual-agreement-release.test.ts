// What this node releases to a member is bound by terms both sides agreed to: the member's accepted
// version, provided this node's organisation accepted it too (or proposed it as coordinator). In a
// circle mirrored from its coordinator's node, the other members' acceptances are the coordinator's
// word: a coordinator listing member Bank as bound by wider terms (v2, up to RED) than this node's
// organisation ever accepted (v1, up to GREEN) must not make this node release AMBER to Bank.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Recipient } from '../../src/policy/recipient.ts';
import { TLP2_MARKING_IDS, type TlpLevel } from '../../src/policy/tlp.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--eeeeeeee-0000-4000-8000-000000000000';
const COORD = 'identity--eeeeeeee-0000-4000-8000-00000000000c';
const BANK = 'identity--eeeeeeee-0000-4000-8000-00000000000b';
const AT = new Date('2026-06-01T00:00:00Z');

const amber: StixObject = {
  type: 'indicator', spec_version: '2.1', id: 'indicator--eeeeeeee-0000-4000-8000-000000000001', created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
  pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.amber],
};

const terms = (highestTlp: TlpLevel) => ({
  scope: { types: ['indicator'] }, highestTlp, onwardSharing: 'none' as const, attribution: 'keep' as const,
  expectations: { permittedActions: 'none' as const, affectedPartyNotifications: 'may' as const, providerAttribution: 'may' as const }, endRule: 'retain' as const,
});

/** A circle coordinated by COORD (as mirrored here) where Bank accepted v1 and v2, and the home organisation the versions given. */
async function releasedToBank(homeAccepts: readonly number[]): Promise<boolean> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  try {
    const created = new Date('2026-01-01T00:00:00Z');
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: created.toISOString(), modified: created.toISOString(), name: 'Home', identity_class: 'organization' }));
    for (const org of [COORD, BANK]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    await store.createCollection({ id: 'c', title: 'c' }, created);
    await store.createCircle({
      id: 'c', name: 'c', kind: 'formal', visibility: 'open', collectionId: 'c', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [COORD, HOME, BANK].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    }, created);
    await store.addAgreement({ circleId: 'c', version: 1, proposedBy: COORD, proposedAt: '2026-01-02T00:00:00.000Z', terms: terms('green') });
    await store.addAgreement({ circleId: 'c', version: 2, proposedBy: COORD, proposedAt: '2026-01-05T00:00:00.000Z', terms: terms('red') });
    for (const version of [1, 2]) await store.addAcceptance({ circleId: 'c', organisationId: BANK, version, acceptedAt: '2026-01-06T00:00:00.000Z' });
    for (const version of homeAccepts) await store.addAcceptance({ circleId: 'c', organisationId: HOME, version, acceptedAt: '2026-01-06T00:00:00.000Z' });
    await store.addObjects('c', [amber]);

    const bank: Recipient = { name: 'bank', organisationId: BANK, admin: false, actsForHome: false, grants: [{ collectionId: 'c', read: true, write: false }] };
    const gate = await openReleaseGate(store, bank, 'c', AT, { audit: false });
    const page = await store.listEntries('c', {}, { limit: 10 });
    const { released } = await gate.release(page.entries, 10);
    return released.some((entry) => entry.id === amber.id);
  } finally {
    await store.close();
  }
}

describe('a release to a member is bound by terms this node accepted too', () => {
  it('the wider version only the member accepted does not let AMBER go: the GREEN version both accepted binds', async () => {
    assert.equal(await releasedToBank([1]), false);
  });

  it('once this node accepted the wider version too, AMBER goes to the member', async () => {
    assert.equal(await releasedToBank([1, 2]), true);
  });

  it('a member bound by nothing this node agreed to receives nothing', async () => {
    assert.equal(await releasedToBank([]), false);
  });
});
