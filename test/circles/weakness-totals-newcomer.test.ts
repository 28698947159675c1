// Weakness totals and a member added to a running circle (rule 3a, src/policy/README.md). A member's
// disclosures reach a newcomer only once that member has agreed to terms with the newcomer in the
// circle; the totals are derived from those disclosures, so they must not tell the newcomer more.
// Counted over every member's disclosures, a newcomer learnt something of the weaknesses of members
// that never consented to share with it: a row rising from 2 to 3 organisations, or a row shown at
// all only because a non-consenting member's disclosure lifted it over the threshold. So the totals
// a member reads count only the disclosures of contributors the release decision would let reach it
// (the same rule, asked of the same standing), and the k-organisation threshold applies to what is
// left.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptAgreement, createCircle, invite, leave, proposeAgreement, weaknessTotals, type CircleActor, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { aggregateWeaknesses, type WeaknessDisclosure } from '../../src/policy/aggregate-weaknesses.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { disclosure, weaknessMarking } from './weakness-kit.ts';

const HOME = 'identity--c0000000-0000-4000-8000-00000000000c'; // the coordinator's node
const A = 'identity--c0000000-0000-4000-8000-00000000000a';
const B = 'identity--c0000000-0000-4000-8000-00000000000b';
const C = 'identity--c0000000-0000-4000-8000-00000000000d';
const NEW = 'identity--c0000000-0000-4000-8000-00000000000e'; // the newcomer
const admin: CircleActor = { organisationId: HOME, admin: true };
const as = (organisationId: string): CircleActor => ({ organisationId, admin: false });
// weakness-kit's markings opt circle alpha into the totals.
const CIRCLE = 'alpha';
const CVE = 'CVE-2026-4242';

const terms = {
  // Vulnerabilities in scope, so that the release gate can be asked which disclosures reach a member.
  scope: { types: ['indicator', 'vulnerability'] },
  highest_tlp: 'amber',
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
  end_rule: 'retain',
};

describe('weakness totals a newcomer reads count only the disclosures of members that agreed to terms with it in', () => {
  let store: ObjectStore;
  let now: Date;
  let deps: CircleDeps;
  const hours = (n: number): void => {
    now = new Date(Date.parse('2026-03-01T00:00:00.000Z') + n * 3_600_000);
  };
  /** CVE rows (key, organisations) of the circle's totals as `organisationId` reads them. */
  const rowsFor = async (organisationId: string): Promise<[string, number][]> =>
    (await weaknessTotals(deps, as(organisationId), CIRCLE)).cves.map((row) => [row.key, row.organisations]);

  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    hours(0);
    deps = { store, clock: () => now, homeOrganisationId: HOME };
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: now.toISOString(), modified: now.toISOString(), name: 'Coordinator', identity_class: 'organization' }));
    for (const id of [A, B, C, NEW]) await store.createOrganisation({ id, name: id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: now.toISOString() });
    // Founding members A, B and C accept v1 and each disclose the same CVE, opted into the totals;
    // then the coordinator alone invites the newcomer, which accepts v1.
    await createCircle(deps, { id: CIRCLE, name: 'Alpha', kind: 'formal', visibility: 'open', default_tlp: 'green', review_at: '2027-01-01T00:00:00Z' });
    await proposeAgreement(deps, admin, CIRCLE, terms);
    for (const org of [A, B, C]) await invite(deps, admin, CIRCLE, { organisationId: org, role: 'contributor', trial: false });
    hours(1);
    for (const org of [A, B, C]) await acceptAgreement(deps, as(org), CIRCLE, org);
    hours(2);
    for (const [n, org, tag] of [[1, A, 'a'], [2, B, 'b'], [3, C, 'd']] as const) {
      const marking = weaknessMarking(tag);
      await store.addObjects(CIRCLE, [marking, disclosure(n, CVE, org, marking)], undefined, org);
    }
    hours(3);
    await invite(deps, admin, CIRCLE, { organisationId: NEW, role: 'contributor', trial: false });
    hours(4);
    await acceptAgreement(deps, as(NEW), CIRCLE, NEW);
    hours(5);
  });
  afterEach(async () => {
    await store.close();
  });

  it('shows the newcomer no row that only members which never acknowledged it stand behind', async () => {
    assert.deepEqual(await rowsFor(A), [[CVE, 3]], 'a founding member reads the row: B and C beside it');
    assert.deepEqual(await rowsFor(NEW), [], 'A, B and C accepted before the newcomer joined: none of their disclosures reach it');
  });

  it('counts a member for the newcomer once it accepts terms after the newcomer joined, the threshold applying to those counted', async () => {
    await proposeAgreement(deps, admin, CIRCLE, terms);
    hours(6);
    await acceptAgreement(deps, as(A), CIRCLE, A);
    assert.deepEqual(await rowsFor(NEW), [], 'A alone acknowledged the newcomer: a row of one would point at A');
    await acceptAgreement(deps, as(B), CIRCLE, B);
    assert.deepEqual(await rowsFor(NEW), [[CVE, 2]], 'A and B, not C: the newcomer does not learn that a third member has the gap');
    await acceptAgreement(deps, as(C), CIRCLE, C);
    assert.deepEqual(await rowsFor(NEW), [[CVE, 3]]);
  });

  it("counts the newcomer's own disclosure in its row, never towards showing it", async () => {
    const marking = weaknessMarking('e');
    await store.addObjects(CIRCLE, [marking, disclosure(4, CVE, NEW, marking)], undefined, NEW);
    await proposeAgreement(deps, admin, CIRCLE, terms);
    hours(6);
    await acceptAgreement(deps, as(A), CIRCLE, A);
    assert.deepEqual(await rowsFor(NEW), [], 'the newcomer and A: one other organisation');
    await acceptAgreement(deps, as(B), CIRCLE, B);
    assert.deepEqual(await rowsFor(NEW), [[CVE, 3]], 'the newcomer, A and B');
    // The newcomer accepted before the founding members' v2 acceptances and after they joined: it counts for them.
    assert.deepEqual(await rowsFor(C), [[CVE, 4]]);
  });

  it("counts the coordinator's own disclosures for the newcomer: coordinators decide who is in", async () => {
    const marking = weaknessMarking('f');
    await store.addObjects(CIRCLE, [marking, disclosure(5, CVE, HOME, marking)]);
    await proposeAgreement(deps, admin, CIRCLE, terms);
    hours(6);
    assert.deepEqual(await rowsFor(NEW), [], 'the coordinator alone');
    await acceptAgreement(deps, as(A), CIRCLE, A);
    assert.deepEqual(await rowsFor(NEW), [[CVE, 2]], 'the coordinator and A');
  });

  it('does not count for the newcomer a member that left without acknowledging it', async () => {
    await proposeAgreement(deps, admin, CIRCLE, terms);
    hours(6);
    await acceptAgreement(deps, as(A), CIRCLE, A);
    await acceptAgreement(deps, as(B), CIRCLE, B);
    await leave(deps, as(C), CIRCLE, C);
    hours(7);
    assert.deepEqual(await rowsFor(NEW), [[CVE, 2]]);
  });

  it('gives each member the totals over exactly the disclosures the release gate gives it', async () => {
    /** Who sent each disclosure into the circle's collection (every disclosure here is sent by one). */
    const sentBy = new Map([[1, A], [2, B], [3, C]].map(([n, org]) => [disclosure(n as number, CVE, org as string, weaknessMarking('a')).id, org as string]));
    const released = async (organisationId: string): Promise<WeaknessDisclosure[]> => {
      const recipient: Recipient = { name: organisationId, organisationId, admin: false, actsForHome: false, grants: [{ collectionId: CIRCLE, read: true, write: false }] };
      const gate = await openReleaseGate(store, recipient, CIRCLE, now, { audit: false });
      const page = await store.listEntries(CIRCLE, { types: ['vulnerability'] }, { limit: 100 });
      return (await gate.release(page.entries)).released.map((entry) => ({ object: JSON.parse(entry.json) as StixObject, contributor: sentBy.get(entry.id) ?? '' }));
    };
    const marks = await store.markingDefinitions(['a', 'b', 'd'].map((tag) => weaknessMarking(tag).id));
    const check = async (stage: string): Promise<void> => {
      for (const reader of [A, B, C, NEW]) {
        const expected = aggregateWeaknesses(await released(reader), marks, CIRCLE, { reader }).cves;
        assert.deepEqual((await weaknessTotals(deps, as(reader), CIRCLE)).cves, expected, `${stage}: ${reader}`);
      }
    };
    await check('before anyone acknowledged the newcomer');
    await proposeAgreement(deps, admin, CIRCLE, terms);
    hours(6);
    for (const org of [A, B, C]) {
      await acceptAgreement(deps, as(org), CIRCLE, org);
      await check(`once ${org} accepted v2`);
    }
  });

  it('leaves the home organisation its totals over every disclosure it holds', async () => {
    const home = await weaknessTotals(deps, admin, CIRCLE);
    assert.deepEqual(home.cves.map((row) => [row.key, row.organisations]), [[CVE, 3]]);
  });
});
