import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { metaKeys } from '../bootstrap-node.ts';
import { bindingAgreement, type Agreement, type AgreementTerms } from '../policy/agreement.ts';
import { membershipAt, type Circle, type CircleMember } from '../policy/circle.ts';
import { openReleaseGate } from '../release/open-release-gate.ts';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import { decideCircleRelease } from '../policy/decide-circle-release.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { StixObject } from '../stix/types.ts';
import { storeCircleMirror } from './mirror-circle.ts';
import type { CircleView } from './parse-circle-view.ts';
import { openTerms, testOrganisation } from './test-support.ts';

// What a coordinator's node serves is trusted for what a coordinator may say, and no further:
// it cannot bind itself to terms this node never accepted, crown new coordinators, or vouch for
// keys in the name of organisations this node already knows.
const HOME = testOrganisation(30);
const COORDINATOR = testOrganisation(31);
const MEMBER = testOrganisation(32);
const KNOWN = testOrganisation(33);
const NOW = new Date('2026-06-01T00:00:00.000Z');
const TLP_AMBER = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';

const circle = (members: Circle['members']): Circle => ({
  id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', collectionId: 'wide', defaultTlp: 'amber',
  validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2027-01-01T00:00:00.000Z', members,
});
const member = (organisationId: string, role: CircleMember['role'] = 'contributor') => ({ organisationId, role, joinedAt: '2026-01-01T00:00:00.000Z', trial: false });
const agreement = (version: number, terms: AgreementTerms, proposedAt: string): Agreement => ({ circleId: 'wide', version, proposedBy: COORDINATOR.id, proposedAt, terms });
const key = (org: ReturnType<typeof testOrganisation>, organisationId = org.id) => ({ organisationId, keyId: org.pinned.keyId, publicKey: org.pinned.publicKey, validFrom: org.pinned.validFrom, validUntil: undefined });

async function world() {
  const store = openSqliteObjectStore({ path: ':memory:' });
  for (const org of [COORDINATOR, MEMBER, KNOWN]) {
    await store.createOrganisation({ id: org.id, name: org.id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: NOW.toISOString() });
  }
  return { store, deps: { store, clock: () => NOW, homeOrganisationId: HOME.id } };
}

describe('the circle mirror trusts its coordinator only as far as a coordinator goes', () => {
  // The command line beside the running node records this node's leave (coordinator-link.ts) while
  // the node's sync refreshes the mirror from a view taken before it: two connections on one file.
  it('does not write a refresh over a leave another process recorded after the refresh read the circle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entente-mirror-race-'));
    const path = join(dir, 'store.db');
    const node = openSqliteObjectStore({ path });
    const cli = openSqliteObjectStore({ path });
    try {
      for (const org of [COORDINATOR, MEMBER, KNOWN]) {
        await node.createOrganisation({ id: org.id, name: org.id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: NOW.toISOString() });
      }
      const deps = { store: node, clock: () => NOW, homeOrganisationId: HOME.id };
      const before: CircleView = { circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id)]), agreements: [], acceptances: [], memberKeys: [] };
      await storeCircleMirror(deps, before, COORDINATOR.id);
      const leftAt = '2026-05-31T00:00:00.000Z';
      const racing = new Proxy(node, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (key !== 'updateCircle') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          return async (...args: Parameters<ObjectStore['updateCircle']>) => {
            const held = await cli.getCircle('wide');
            assert.ok(held !== undefined);
            await cli.updateCircle({ ...held, members: held.members.map((each) => (each.organisationId === HOME.id ? { ...each, leftAt } : each)) }, NOW);
            return target.updateCircle(...args);
          };
        },
      });
      // The coordinator's view, taken before the leave reached it, adds a member.
      const view: CircleView = { ...before, circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), member(MEMBER.id)]) };
      await assert.rejects(storeCircleMirror({ ...deps, store: racing }, view, COORDINATOR.id), (error: unknown) => error instanceof Error && 'code' in error && error.code === 'ENT_STORE_UNAVAILABLE');
      const here = await node.getCircle('wide');
      assert.equal(here?.members.find((each) => each.organisationId === HOME.id)?.leftAt, leftAt, 'the leave stands: this node shares nothing more into the circle');
      // The next cycle's refresh reads the leave and keeps it.
      await storeCircleMirror(deps, view, COORDINATOR.id);
      assert.equal((await node.getCircle('wide'))?.members.find((each) => each.organisationId === HOME.id)?.leftAt, leftAt);
    } finally {
      await cli.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // `entente peer add` pins a member's own key (its node, checked by fingerprint) while the node's
  // sync refreshes the mirror: the coordinator vouches for a member's key only while this node has
  // none for it, and that is decided where the coordinator's key is written, not in a read before.
  it("does not pin a coordinator's key for a member whose own key another process pinned after the refresh began", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entente-mirror-pin-race-'));
    const path = join(dir, 'store.db');
    const node = openSqliteObjectStore({ path });
    const cli = openSqliteObjectStore({ path });
    try {
      for (const org of [COORDINATOR, MEMBER]) {
        await node.createOrganisation({ id: org.id, name: org.id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: NOW.toISOString() });
      }
      const deps = { store: node, clock: () => NOW, homeOrganisationId: HOME.id };
      const before: CircleView = { circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), member(MEMBER.id)]), agreements: [], acceptances: [], memberKeys: [] };
      await storeCircleMirror(deps, before, COORDINATOR.id);
      // Before the refresh writes any key (whichever store call writes it), the command line pins MEMBER's own.
      let raced = false;
      const racing = new Proxy(node, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver) as unknown;
          if (typeof value !== 'function') return value;
          const call = (value as (...args: unknown[]) => unknown).bind(target);
          if (typeof name !== 'string' || !name.startsWith('pin')) return call;
          return async (...args: unknown[]) => {
            if (!raced) {
              raced = true;
              await cli.pinKey({ ...MEMBER.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: NOW.toISOString() });
            }
            return call(...args);
          };
        },
      });
      const vouched = testOrganisation(36);
      const view: CircleView = {
        ...before,
        acceptances: [{ circleId: 'wide', organisationId: MEMBER.id, version: 1, acceptedAt: '2026-02-02T00:00:00.000Z' }],
        memberKeys: [key(vouched, MEMBER.id)],
      };
      const outcome = await storeCircleMirror({ ...deps, store: racing }, view, COORDINATOR.id);
      assert.ok(raced);
      assert.equal(outcome.keysPinned, 0);
      assert.deepEqual((await node.listPinnedKeys(MEMBER.id)).map((pinned) => [pinned.keyId, pinned.source]), [[MEMBER.pinned.keyId, 'peer-add']], "MEMBER's own key only: none in its name from the coordinator");
    } finally {
      await cli.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("binds the coordinator only to versions this node's organisation accepted too, from when it accepted", async () => {
    const { store, deps } = await world();
    const narrow = openTerms({ highestTlp: 'green' });
    const wide = openTerms({ highestTlp: 'red' });
    const view: CircleView = {
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id)]),
      agreements: [agreement(1, narrow, '2026-02-01T00:00:00.000Z'), agreement(2, wide, '2026-05-01T00:00:00.000Z')],
      acceptances: [],
      memberKeys: [],
    };
    await storeCircleMirror(deps, view, COORDINATOR.id, { homeAcceptance: { version: 1, acceptedAt: '2026-02-02T00:00:00.000Z' } });
    const here = await store.getCircle('wide');
    assert.ok(here !== undefined);
    const binding = bindingAgreement(await store.getAgreementState('wide'), here, COORDINATOR.id, NOW);
    assert.equal(binding.kind === 'bound' ? binding.agreement.version : undefined, 1, 'version 2 widened the terms, and this node never accepted it');
    assert.equal(binding.kind === 'bound' ? binding.acceptance.acceptedAt : undefined, '2026-02-02T00:00:00.000Z');
    await store.close();
  });

  it('never makes a collection this node holds already carry a mirrored circle: the default one, an internal feed', async () => {
    const { store, deps } = await world();
    await store.createCollection({ id: 'wide', title: 'Internal feed', description: 'RED, home readers only' }, NOW);
    const view: CircleView = {
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id)]),
      agreements: [agreement(1, openTerms({ highestTlp: 'red' }), '2026-02-01T00:00:00.000Z')],
      acceptances: [],
      memberKeys: [],
    };
    await assert.rejects(storeCircleMirror(deps, view, COORDINATOR.id), (error: unknown) => {
      assert.ok(error instanceof Error && 'code' in error && error.code === 'ENT_CIRCLE_COLLECTION_TAKEN', String(error));
      assert.match(error.message, /holds already as one of its own/);
      return true;
    });
    assert.equal(await store.getCircle('wide'), undefined, 'no circle was made');
    assert.equal(await store.getCircleByCollection('wide'), undefined, 'the internal collection carries no circle');
    await store.close();
  });

  it("takes no acceptance of this node's organisation from the view, on the first mirror or a refresh: the home's word is recorded here only", async () => {
    const { store, deps } = await world();
    const narrow = openTerms({ highestTlp: 'green' });
    const wide = openTerms({ highestTlp: 'red' });
    const homeAccepted = (version: number, acceptedAt: string) => ({ circleId: 'wide', organisationId: HOME.id, version, acceptedAt });
    const base = {
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id)]),
      agreements: [agreement(1, narrow, '2026-02-01T00:00:00.000Z'), agreement(2, wide, '2026-05-01T00:00:00.000Z')],
      memberKeys: [],
    };
    const first = await storeCircleMirror(deps, { ...base, acceptances: [homeAccepted(1, '2026-02-02T00:00:00.000Z')] }, COORDINATOR.id);
    assert.equal(first.acceptancesAdded, 0);
    assert.deepEqual((await store.getAgreementState('wide')).acceptances, [], 'the coordinator says the home accepted v1: the home never said so here');

    // The home accepts v1 here (as `entente circle accept` records what the coordinator confirmed).
    await store.addAcceptance(homeAccepted(1, '2026-02-02T00:00:00.000Z'));
    await storeCircleMirror(deps, { ...base, acceptances: [homeAccepted(1, '2026-02-02T00:00:00.000Z')] }, COORDINATOR.id);
    // The coordinator's node then adds "the home accepted v2" (the wider terms) to its view.
    await storeCircleMirror(deps, { ...base, acceptances: [homeAccepted(1, '2026-02-02T00:00:00.000Z'), homeAccepted(2, '2026-05-02T00:00:00.000Z')] }, COORDINATOR.id);

    const state = await store.getAgreementState('wide');
    assert.deepEqual(state.acceptances.filter((acceptance) => acceptance.organisationId === HOME.id).map((acceptance) => acceptance.version), [1]);
    const here = await store.getCircle('wide');
    assert.ok(here !== undefined);
    const binding = bindingAgreement(state, here, COORDINATOR.id, NOW);
    assert.equal(binding.kind === 'bound' ? binding.agreement.version : undefined, 1, 'the coordinator stays bound by the terms the home accepted');
    const amber = {
      type: 'indicator', spec_version: '2.1', id: 'indicator--00000000-0000-4000-8000-0000000000aa', created: '2026-05-10T00:00:00.000Z', modified: '2026-05-10T00:00:00.000Z',
      pattern: "[ipv4-addr:value = '203.0.113.5']", pattern_type: 'stix', valid_from: '2026-05-10T00:00:00Z', object_marking_refs: [TLP_AMBER],
    };
    const decision = decideCircleRelease({ object: amber as unknown as StixObject, markingDefinitions: new Map() }, { organisationId: COORDINATOR.id, sectors: [] }, here, state, NOW, () => 'share');
    assert.equal(decision.kind, 'withhold', 'TLP:AMBER is above the TLP:GREEN the home accepted');
    await store.close();
  });

  it("records the home's acceptance the coordinator confirmed, and binds the coordinator to that version at once", async () => {
    const { store, deps } = await world();
    const view: CircleView = {
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id)]),
      agreements: [agreement(1, openTerms({ highestTlp: 'green' }), '2026-02-01T00:00:00.000Z')],
      acceptances: [],
      memberKeys: [],
    };
    await storeCircleMirror(deps, view, COORDINATOR.id);
    const confirmed = { version: 1, acceptedAt: '2026-05-20T00:00:00.000Z' };
    const outcome = await storeCircleMirror(deps, view, COORDINATOR.id, { homeAcceptance: confirmed });
    assert.equal(outcome.acceptancesAdded, 2);
    const state = await store.getAgreementState('wide');
    assert.deepEqual(state.acceptances.map((acceptance) => [acceptance.organisationId, acceptance.version, acceptance.acceptedAt]).sort(), [
      [COORDINATOR.id, 1, '2026-05-20T00:00:00.000Z'],
      [HOME.id, 1, '2026-05-20T00:00:00.000Z'],
    ].sort());
    await store.close();
  });

  it('makes nobody a coordinator on a refresh (a demotion is taken)', async () => {
    const { store, deps } = await world();
    const base = { agreements: [], acceptances: [], memberKeys: [] };
    await storeCircleMirror(deps, { ...base, circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), member(MEMBER.id)]) }, COORDINATOR.id);
    await storeCircleMirror(deps, { ...base, circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), member(MEMBER.id, 'coordinator')]) }, COORDINATOR.id);
    const roles = (await store.getCircle('wide'))?.members.map((entry) => [entry.organisationId, entry.role]);
    assert.deepEqual(roles, [[COORDINATOR.id, 'coordinator'], [HOME.id, 'contributor'], [MEMBER.id, 'contributor']]);
    await store.close();
  });

  it("makes only the peer's organisation a coordinator on the first mirror: the home recorded no other", async () => {
    const { store, deps } = await world();
    const view: CircleView = {
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id, 'coordinator'), member(MEMBER.id, 'coordinator'), member(KNOWN.id, 'consumer')]),
      agreements: [], acceptances: [], memberKeys: [],
    };
    await storeCircleMirror(deps, view, COORDINATOR.id);
    const roles = (await store.getCircle('wide'))?.members.map((entry) => [entry.organisationId, entry.role]);
    assert.deepEqual(roles, [[COORDINATOR.id, 'coordinator'], [HOME.id, 'contributor'], [MEMBER.id, 'contributor'], [KNOWN.id, 'consumer']]);
    await store.close();
  });

  it('never loosens the circle on a refresh: default TLP only stricter, hidden stays hidden, the end only earlier, an ended circle stays ended', async () => {
    const { store, deps } = await world();
    let now = NOW;
    const clocked = { ...deps, clock: () => now };
    const strict: Circle = { ...circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), member(MEMBER.id)]), visibility: 'hidden', defaultTlp: 'red', validUntil: '2026-07-01T00:00:00.000Z' };
    const view = (over: Partial<Circle>): CircleView => ({ circle: { ...strict, ...over }, agreements: [], acceptances: [], memberKeys: [] });
    await storeCircleMirror(clocked, view({}), COORDINATOR.id);
    now = new Date('2026-08-01T00:00:00.000Z');
    await storeCircleMirror(clocked, view({ defaultTlp: 'green', visibility: 'open', validUntil: '2027-12-31T00:00:00.000Z' }), COORDINATOR.id);
    const held = await store.getCircle('wide');
    assert.deepEqual([held?.defaultTlp, held?.visibility, held?.validUntil], ['red', 'hidden', '2026-07-01T00:00:00.000Z'], 'the ended circle is not re-opened, nor made wider');
    await store.close();
  });

  it('keeps a member that left gone on a refresh: the leaving stays, or moves earlier, never later or away', async () => {
    const { store, deps } = await world();
    const left = (at: string | undefined) => (at === undefined ? member(MEMBER.id) : { ...member(MEMBER.id), leftAt: at });
    const view = (memberEntry: Circle['members'][number]): CircleView => ({ circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), memberEntry]), agreements: [], acceptances: [], memberKeys: [] });
    const leftAtHere = async () => (await store.getCircle('wide'))?.members.find((entry) => entry.organisationId === MEMBER.id)?.leftAt;
    await storeCircleMirror(deps, view(left('2026-05-01T00:00:00.000Z')), COORDINATOR.id);
    await storeCircleMirror(deps, view(left(undefined)), COORDINATOR.id);
    assert.equal(await leftAtHere(), '2026-05-01T00:00:00.000Z', 'the member does not re-join');
    await storeCircleMirror(deps, view(left('2026-09-01T00:00:00.000Z')), COORDINATOR.id);
    assert.equal(await leftAtHere(), '2026-05-01T00:00:00.000Z');
    await storeCircleMirror(deps, view(left('2026-04-01T00:00:00.000Z')), COORDINATOR.id);
    assert.equal(await leftAtHere(), '2026-04-01T00:00:00.000Z');
    await store.close();
  });

  it('takes what narrows the circle on a refresh: a stricter default TLP, hiding, an earlier end (the coordinator ends it)', async () => {
    const { store, deps } = await world();
    const loose: Circle = { ...circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id)]), visibility: 'open', defaultTlp: 'green', validUntil: '2026-12-01T00:00:00.000Z' };
    const view = (over: Partial<Circle>): CircleView => ({ circle: { ...loose, ...over }, agreements: [], acceptances: [], memberKeys: [] });
    await storeCircleMirror(deps, view({}), COORDINATOR.id);
    await storeCircleMirror(deps, view({ defaultTlp: 'amber', visibility: 'hidden', validUntil: '2026-06-15T00:00:00.000Z', name: 'Renamed' }), COORDINATOR.id);
    const held = await store.getCircle('wide');
    assert.deepEqual([held?.defaultTlp, held?.visibility, held?.validUntil, held?.name], ['amber', 'hidden', '2026-06-15T00:00:00.000Z', 'Renamed']);
    // A refresh that says nothing new changes nothing: the stricter values stay.
    await storeCircleMirror(deps, view({ name: 'Renamed' }), COORDINATOR.id);
    const again = await store.getCircle('wide');
    assert.deepEqual([again?.defaultTlp, again?.visibility, again?.validUntil], ['amber', 'hidden', '2026-06-15T00:00:00.000Z']);
    await store.close();
  });

  it("pins a member's key only for a member that accepted, with no key pinned here yet, and never a key id known under another organisation", async () => {
    const { store, deps } = await world();
    await store.pinKey({ ...KNOWN.pinned, validUntil: undefined, source: 'fingerprint', pinnedAt: NOW.toISOString() });
    const impostor = testOrganisation(34);
    const view: CircleView = {
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), member(MEMBER.id), member(KNOWN.id), member(impostor.id)]),
      agreements: [],
      acceptances: ['wide'].flatMap(() => [MEMBER.id, KNOWN.id, impostor.id].map((organisationId) => ({ circleId: 'wide', organisationId, version: 1, acceptedAt: '2026-02-02T00:00:00.000Z' }))),
      memberKeys: [
        key(MEMBER),
        key(testOrganisation(35), KNOWN.id), // a new key "for" an organisation pinned by fingerprint here
        key(KNOWN, impostor.id), // KNOWN's key id claimed for another organisation
      ],
    };
    const outcome = await storeCircleMirror(deps, view, COORDINATOR.id);
    assert.equal(outcome.keysPinned, 1);
    assert.deepEqual((await store.listPinnedKeys()).map((pinned) => [pinned.organisationId, pinned.keyId, pinned.source]).sort(), [
      [KNOWN.id, KNOWN.pinned.keyId, 'fingerprint'],
      [MEMBER.id, MEMBER.pinned.keyId, 'circle'],
    ].sort());
    await store.close();
  });

  it('keeps a member that left when a view leaves it out, and never takes it back when a later view lists it again', async () => {
    const { store, deps } = await world();
    const base = { agreements: [], acceptances: [], memberKeys: [] };
    const others = [member(COORDINATOR.id, 'coordinator'), member(HOME.id)];
    const leftAt = '2026-05-01T00:00:00.000Z';
    await storeCircleMirror(deps, { ...base, circle: circle([...others, { ...member(MEMBER.id), leftAt }]) }, COORDINATOR.id);
    const omitted = await storeCircleMirror(deps, { ...base, circle: circle(others) }, COORDINATOR.id);
    assert.deepEqual(omitted.rejoinsRefused, []);
    const held = (await store.getCircle('wide'))?.members.find((entry) => entry.organisationId === MEMBER.id);
    assert.equal(held?.leftAt, leftAt, 'the member that left is kept, left, though the view leaves it out');
    const relisted = await storeCircleMirror(deps, { ...base, circle: circle([...others, member(MEMBER.id)]) }, COORDINATOR.id);
    const here = await store.getCircle('wide');
    assert.ok(here !== undefined);
    assert.equal(membershipAt(here, MEMBER.id, NOW).kind, 'not-member', 'a member that left stays gone');
    assert.deepEqual(relisted.rejoinsRefused, [MEMBER.id], 'the refresh reports the re-joining it refused');
    await store.close();
  });

  /** A mirror under `endRule` in which this node released one indicator to MEMBER and KNOWN; `leaves` refreshes it with MEMBER left. */
  async function releasedToMembers(endRule: AgreementTerms['endRule']) {
    const { store, deps } = await world();
    let now = NOW;
    const clocked = { ...deps, clock: () => now };
    await store.setMeta(metaKeys.homeOrganisation, JSON.stringify({ type: 'identity', id: HOME.id }));
    const terms = agreement(1, openTerms({ endRule }), '2026-02-01T00:00:00.000Z');
    const accepted = [MEMBER.id, KNOWN.id].map((organisationId) => ({ circleId: 'wide', organisationId, version: 1, acceptedAt: '2026-02-02T00:00:00.000Z' }));
    const view = (left: string | undefined): CircleView => ({
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id), { ...member(MEMBER.id), ...(left === undefined ? {} : { leftAt: left }) }, member(KNOWN.id)]),
      agreements: [terms], acceptances: accepted, memberKeys: [],
    });
    await storeCircleMirror(clocked, view(undefined), COORDINATOR.id, { homeAcceptance: { version: 1, acceptedAt: '2026-02-02T00:00:00.000Z' } });
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: 'indicator--00000000-0000-4000-8000-0000000000bb', created: '2026-05-10T00:00:00.000Z', modified: '2026-05-10T00:00:00.000Z',
      pattern: "[ipv4-addr:value = '198.51.100.20']", pattern_type: 'stix', valid_from: '2026-05-10T00:00:00Z', object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'],
    };
    await store.addObjects('wide', [indicator]);
    const entries = (await store.listEntries('wide', { ids: [indicator.id], versions: [{ kind: 'last' }] }, { limit: 1 })).entries;
    for (const organisationId of [MEMBER.id, KNOWN.id]) {
      const gate = await openReleaseGate(store, { name: organisationId, organisationId, admin: false, actsForHome: false, grants: [{ collectionId: 'wide', read: true, write: false }] }, 'wide', now);
      assert.equal((await gate.release(entries)).released.length, 1, 'released to each member before it left');
    }
    const leaves = () => {
      now = new Date('2026-06-10T00:00:00.000Z');
      return storeCircleMirror(clocked, view('2026-06-05T00:00:00.000Z'), COORDINATOR.id);
    };
    return { store, indicator, leaves };
  }

  it('recalls, under the recall rule, what this node released to a member the view shows as left, once', async () => {
    const { store, indicator, leaves } = await releasedToMembers('recall');
    const refreshed = await leaves();
    assert.equal(refreshed.recallsQueued, 1);
    const recalls = await store.listRecalls({ circleId: 'wide', organisationId: MEMBER.id });
    assert.deepEqual(recalls.map((notice) => [notice.objectId, notice.version, notice.reason]), [[indicator.id, indicator.modified, `${MEMBER.id} left circle wide`]]);
    assert.deepEqual(await store.listRecalls({ circleId: 'wide', organisationId: KNOWN.id }), [], 'a member that stays is recalled nothing');
    const again = await leaves();
    assert.equal(again.recallsQueued, 0, 'a later refresh queues nothing again');
    await store.close();
  });

  it('recalls nothing from a member that left under the retain rule', async () => {
    const { store, leaves } = await releasedToMembers('retain');
    assert.equal((await leaves()).recallsQueued, 0);
    assert.deepEqual(await store.listRecalls({ circleId: 'wide' }), []);
    await store.close();
  });
});
