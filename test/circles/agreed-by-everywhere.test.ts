// Terms bind a member only when this node's organisation accepted or proposed them too
// (bindingAgreement, `agreedBy`), on every path that reads them, not only the release gate: in a
// circle mirrored from its coordinator's node, the other members' acceptances are the coordinator's
// word, and a version this node never accepted must change nothing here — not the onward sharing of
// what a member sent, not who a flash goes to, not what a sender may write, not the weakness totals,
// not whether what was released is recalled.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metaKeys } from '../../src/bootstrap-node.ts';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import { acceptAgreement, createCircle, end, invite, leave, proposeAgreement, queueRecallsOfEndedCircles, weaknessTotals, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { flashAddressees, flashSenderRefusal } from '../../src/federation/flash-recipients.ts';
import { loadSenderStanding } from '../../src/federation/load-arrival-context.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import type { AgreementTerms } from '../../src/policy/agreement.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--eeeeeeee-0000-4000-8000-000000000000';
const COORD = 'identity--eeeeeeee-0000-4000-8000-00000000000c';
const X = 'identity--eeeeeeee-0000-4000-8000-00000000000a';
const OTHER = 'identity--eeeeeeee-0000-4000-8000-00000000000b';
const AT = new Date('2026-06-01T00:00:00.000Z');
const JOINED = '2026-01-01T00:00:00.000Z';

function indicator(n: number, tlp: 'clear' | 'green' | 'amber' = 'green'): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--eeeeeeee-0000-4000-8000-00000000000${n}`, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS[tlp]],
  };
}

function reader(organisationId: string, collectionId: string): Recipient {
  return { name: organisationId, organisationId, admin: false, actsForHome: false, grants: [{ collectionId, read: true, write: false }] };
}

async function openHomeStore(): Promise<ObjectStore> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  await store.setMeta(metaKeys.homeOrganisation, JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: JOINED, modified: JOINED, name: 'Home', identity_class: 'organization' }));
  for (const org of [COORD, X, OTHER]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: JOINED });
  return store;
}

/**
 * Circle `c` as mirrored from COORD's node: COORD proposed v1 (`narrow`) and later v2 (`wide`); X
 * accepted both; the home organisation accepted the versions in `homeAccepts`.
 */
async function mirroredCircle(store: ObjectStore, narrow: AgreementTerms, wide: AgreementTerms, homeAccepts: readonly number[], id = 'c', members = [COORD, HOME, X]): Promise<Circle> {
  await store.createCollection({ id, title: id }, new Date(JOINED));
  const circle: Circle = {
    id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'amber', validFrom: JOINED, reviewAt: '2027-01-01T00:00:00.000Z',
    members: members.map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: JOINED, trial: false })),
  };
  await store.createCircle(circle, new Date(JOINED));
  await store.addAgreement({ circleId: id, version: 1, proposedBy: COORD, proposedAt: '2026-01-02T00:00:00.000Z', terms: narrow });
  await store.addAgreement({ circleId: id, version: 2, proposedBy: COORD, proposedAt: '2026-05-01T00:00:00.000Z', terms: wide });
  await store.addAcceptance({ circleId: id, organisationId: X, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  await store.addAcceptance({ circleId: id, organisationId: X, version: 2, acceptedAt: '2026-05-02T00:00:00.000Z' });
  for (const version of homeAccepts) await store.addAcceptance({ circleId: id, organisationId: HOME, version, acceptedAt: version === 1 ? '2026-01-03T00:00:00.000Z' : '2026-05-02T00:00:00.000Z' });
  return circle;
}

describe('onward sharing of what a member sent: the terms both sides agreed to', () => {
  /** X sends a GREEN indicator through `c`; the home organisation copies it into `second`, where OTHER reads. */
  async function otherReads(homeAccepts: readonly number[]): Promise<number> {
    const store = await openHomeStore();
    try {
      await mirroredCircle(store, openTerms({ onwardSharing: 'none' }), openTerms({ onwardSharing: 'circles' }), homeAccepts, 'c', [COORD, HOME, X]);
      await store.createCollection({ id: 'second', title: 'second' }, new Date(JOINED));
      await store.createCircle({
        id: 'second', name: 'second', kind: 'formal', visibility: 'open', collectionId: 'second', defaultTlp: 'amber', validFrom: JOINED, reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, X, OTHER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: JOINED, trial: false })),
      }, new Date(JOINED));
      await store.addAgreement({ circleId: 'second', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms({ onwardSharing: 'none' }) });
      for (const org of [X, OTHER]) await store.addAcceptance({ circleId: 'second', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
      await store.addObjects('c', [indicator(1)], undefined, X);
      await store.addObjects('second', [indicator(1)]);
      const gate = await openReleaseGate(store, reader(OTHER, 'second'), 'second', AT, { audit: false });
      const page = await store.listEntries('second', {}, { limit: 10 });
      return (await gate.release(page.entries)).released.length;
    } finally {
      await store.close();
    }
  }

  it('a version widening onward sharing that only the source accepted does not let its content into another circle', async () => {
    assert.equal(await otherReads([1]), 0);
  });

  it('once this node accepted the wider version too, the content goes on', async () => {
    assert.equal(await otherReads([1, 2]), 1);
  });
});

describe('flashes: addressed to members bound by terms this node agreed to', () => {
  it('a member bound only by a version this node never accepted is bound by the one both accepted (v1)', async () => {
    const store = await openHomeStore();
    try {
      const circle = await mirroredCircle(store, openTerms(), openTerms({ highestTlp: 'red' }), [1]);
      const addressees = await flashAddressees(store, circle, HOME, undefined, AT);
      const x = addressees.find((addressee) => addressee.organisationId === X);
      assert.deepEqual(x?.kind === 'eligible' ? x.agreementVersion : x, 1);
    } finally {
      await store.close();
    }
  });

  it('a member bound by nothing this node accepted is no addressee, and its flashes are refused', async () => {
    const store = await openHomeStore();
    try {
      const circle = await mirroredCircle(store, openTerms(), openTerms(), []);
      const x = (await flashAddressees(store, circle, HOME, undefined, AT)).find((addressee) => addressee.organisationId === X);
      assert.equal(x?.kind, 'not-eligible');
      assert.match(x.kind === 'not-eligible' ? x.reason : '', /accepted or proposed too/);
      assert.match((await flashSenderRefusal(store, circle, X, AT)) ?? '', /accepted or proposed too/);
    } finally {
      await store.close();
    }
  });
});

describe('what a sender may write: its terms as this node agreed to them', () => {
  it('a version accepting unsigned input that only the sender accepted leaves the one both accepted in force', async () => {
    const store = await openHomeStore();
    try {
      const circle = await mirroredCircle(store, openTerms({ unsignedInput: 'quarantine' }), openTerms({ unsignedInput: 'accept' }), [1]);
      const standing = await loadSenderStanding(store, circle, { organisationId: X, kind: 'plain' }, AT);
      assert.equal(standing.terms?.unsignedInput, 'quarantine');
    } finally {
      await store.close();
    }
  });

  it('a sender bound by nothing this node accepted has no standing', async () => {
    const store = await openHomeStore();
    try {
      const circle = await mirroredCircle(store, openTerms(), openTerms(), []);
      const standing = await loadSenderStanding(store, circle, { organisationId: X, kind: 'plain' }, AT);
      assert.equal(standing.terms, undefined);
      assert.match(standing.peer.noStanding ?? '', /accepted or proposed too/);
    } finally {
      await store.close();
    }
  });
});

describe('weakness totals: for members bound by terms this node agreed to', () => {
  it('a member whose only acceptances this node never accepted is told the circle does not exist', async () => {
    const store = await openHomeStore();
    try {
      await mirroredCircle(store, openTerms(), openTerms(), []);
      const deps: CircleDeps = { store, clock: () => AT, homeOrganisationId: HOME };
      await assert.rejects(weaknessTotals(deps, { organisationId: X, admin: false }, 'c'), (error) => isEntenteError(error) && error.code === 'ENT_CIRCLE_NOT_FOUND');
    } finally {
      await store.close();
    }
  });
});

const wire = (endRule: 'retain' | 'recall'): Record<string, unknown> => ({
  scope: { types: ['indicator'] }, highest_tlp: 'red', onward_sharing: 'none', attribution: 'keep',
  expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: endRule,
});

describe('recalls: decided by the terms the releases were made under', () => {
  /** A circle hosted here with the partner COORD as second coordinator; X accepted v1 (recall). */
  async function hosted(): Promise<{ store: ObjectStore; deps: CircleDeps; setNow: (at: string) => void }> {
    const store = await openHomeStore();
    let now = new Date('2026-06-01T00:00:00.000Z');
    const deps: CircleDeps = { store, clock: () => now, homeOrganisationId: HOME };
    const admin = { organisationId: HOME, admin: true };
    await createCircle(deps, { id: 'c', name: 'c', kind: 'formal', visibility: 'open', default_tlp: 'green', valid_from: JOINED, review_at: '2027-01-01T00:00:00.000Z' });
    await invite(deps, admin, 'c', { organisationId: COORD, role: 'coordinator', trial: false });
    await invite(deps, admin, 'c', { organisationId: X, role: 'contributor', trial: false });
    await proposeAgreement(deps, admin, 'c', wire('recall'));
    await acceptAgreement(deps, { organisationId: X, admin: false }, 'c', X, 1);
    return { store, deps, setNow: (at) => (now = new Date(at)) };
  }

  async function releaseTo(store: ObjectStore, organisationId: string, at: Date): Promise<number> {
    const gate = await openReleaseGate(store, reader(organisationId, 'c'), 'c', at);
    return (await gate.release((await store.listEntries('c', {}, { limit: 10 })).entries)).released.length;
  }

  it('a retain version a partner coordinator proposed and only the member accepted does not cancel the recall', async () => {
    const { store, deps, setNow } = await hosted();
    try {
      setNow('2026-06-02T00:00:00.000Z');
      await proposeAgreement(deps, { organisationId: COORD, admin: false }, 'c', wire('retain'));
      await acceptAgreement(deps, { organisationId: X, admin: false }, 'c', X, 2);
      setNow('2026-06-03T00:00:00.000Z');
      await store.addObjects('c', [indicator(1)]);
      assert.equal(await releaseTo(store, X, deps.clock()), 1);
      setNow('2026-06-04T00:00:00.000Z');
      assert.equal((await leave(deps, { organisationId: X, admin: false }, 'c', X)).recalls, 1);
    } finally {
      await store.close();
    }
  });

  it('what was released under recall terms is recalled, though both sides later agreed to retain', async () => {
    const { store, deps, setNow } = await hosted();
    try {
      await store.addObjects('c', [indicator(1)]);
      assert.equal(await releaseTo(store, X, deps.clock()), 1);
      setNow('2026-06-02T00:00:00.000Z');
      await proposeAgreement(deps, { organisationId: HOME, admin: true }, 'c', wire('retain'));
      await acceptAgreement(deps, { organisationId: X, admin: false }, 'c', X, 2);
      setNow('2026-06-03T00:00:00.000Z');
      await store.addObjects('c', [indicator(2)]);
      assert.equal(await releaseTo(store, X, deps.clock()), 2);
      setNow('2026-06-04T00:00:00.000Z');
      await leave(deps, { organisationId: X, admin: false }, 'c', X);
      // Indicator 1 went under v1 (recall): recalled. Indicator 2 (and its second release) under v2 only: kept.
      assert.deepEqual((await store.listRecalls({ organisationId: X })).map((notice) => notice.objectId), [indicator(1).id]);
    } finally {
      await store.close();
    }
  });
});

describe("the end of a circle: recalls for members that left too", () => {
  it('a member that left (as the mirror shows) is recalled at the end for what it received before leaving', async () => {
    const store = await openHomeStore();
    try {
      const circle = await mirroredCircle(store, openTerms({ endRule: 'recall' }), openTerms({ endRule: 'recall' }), [1], 'c', [COORD, HOME, X, OTHER]);
      await store.addAcceptance({ circleId: 'c', organisationId: OTHER, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
      await store.addObjects('c', [indicator(1)]);
      for (const org of [X, OTHER]) {
        const gate = await openReleaseGate(store, reader(org, 'c'), 'c', AT);
        assert.equal((await gate.release((await store.listEntries('c', {}, { limit: 10 })).entries)).released.length, 1);
      }
      // The mirror's next refresh: X left on the coordinator's node, and the circle ends.
      await store.updateCircle({ ...circle, validUntil: '2026-06-20T00:00:00.000Z', members: circle.members.map((member) => (member.organisationId === X ? { ...member, leftAt: '2026-06-05T00:00:00.000Z' } : member)) }, new Date('2026-06-10T00:00:00.000Z'));
      const deps: CircleDeps = { store, clock: () => new Date('2026-06-21T00:00:00.000Z'), homeOrganisationId: HOME };
      assert.equal(await queueRecallsOfEndedCircles(deps), 2);
      for (const org of [X, OTHER]) assert.equal((await store.listRecalls({ organisationId: org })).length, 1, org);
    } finally {
      await store.close();
    }
  });

  it('a member whose leave already queued its recalls gets no second notice at the end', async () => {
    const store = await openHomeStore();
    try {
      let now = new Date('2026-06-01T00:00:00.000Z');
      const deps: CircleDeps = { store, clock: () => now, homeOrganisationId: HOME };
      const admin = { organisationId: HOME, admin: true };
      await createCircle(deps, { id: 'c', name: 'c', kind: 'formal', visibility: 'open', default_tlp: 'green', valid_from: JOINED, review_at: '2027-01-01T00:00:00.000Z' });
      await invite(deps, admin, 'c', { organisationId: X, role: 'contributor', trial: false });
      await proposeAgreement(deps, admin, 'c', wire('recall'));
      await acceptAgreement(deps, { organisationId: X, admin: false }, 'c', X, 1);
      await store.addObjects('c', [indicator(1)]);
      const gate = await openReleaseGate(store, reader(X, 'c'), 'c', now);
      await gate.release((await store.listEntries('c', {}, { limit: 10 })).entries);
      now = new Date('2026-06-02T00:00:00.000Z');
      assert.equal((await leave(deps, { organisationId: X, admin: false }, 'c', X)).recalls, 1);
      now = new Date('2026-06-03T00:00:00.000Z');
      assert.equal((await end(deps, admin, 'c')).recalls, 0);
      assert.equal((await store.listRecalls({ organisationId: X })).length, 1);
    } finally {
      await store.close();
    }
  });
});

describe('accepting terms: only the latest version proposed', () => {
  it('a superseded version is refused, naming the latest', async () => {
    const store = await openHomeStore();
    try {
      let now = new Date('2026-06-01T00:00:00.000Z');
      const deps: CircleDeps = { store, clock: () => now, homeOrganisationId: HOME };
      const admin = { organisationId: HOME, admin: true };
      await createCircle(deps, { id: 'c', name: 'c', kind: 'formal', visibility: 'open', default_tlp: 'amber', valid_from: JOINED, review_at: '2027-01-01T00:00:00.000Z' });
      await invite(deps, admin, 'c', { organisationId: X, role: 'contributor', trial: false });
      await proposeAgreement(deps, admin, 'c', wire('recall'));
      now = new Date('2026-06-02T00:00:00.000Z');
      await proposeAgreement(deps, admin, 'c', wire('retain'));
      now = new Date('2026-06-03T00:00:00.000Z');
      await assert.rejects(
        acceptAgreement(deps, { organisationId: X, admin: false }, 'c', X, 1),
        (error) => isEntenteError(error) && error.code === 'ENT_AGREEMENT_SUPERSEDED' && /version 2/.test(error.message),
      );
      assert.deepEqual((await store.getAgreementState('c')).acceptances.filter((acceptance) => acceptance.organisationId === X), []);
      assert.equal((await acceptAgreement(deps, { organisationId: X, admin: false }, 'c', X, 2)).version, 2);
    } finally {
      await store.close();
    }
  });
});
