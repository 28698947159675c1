import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindingAgreement, type Agreement, type AgreementTerms } from '../policy/agreement.ts';
import type { Circle } from '../policy/circle.ts';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
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

const circle = (members: Circle['members']): Circle => ({
  id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', collectionId: 'wide', defaultTlp: 'amber',
  validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2027-01-01T00:00:00.000Z', members,
});
const member = (organisationId: string, role: 'coordinator' | 'contributor' = 'contributor') => ({ organisationId, role, joinedAt: '2026-01-01T00:00:00.000Z', trial: false });
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
  it("binds the coordinator only to versions this node's organisation accepted too, from when it accepted", async () => {
    const { store, deps } = await world();
    const narrow = openTerms({ highestTlp: 'green' });
    const wide = openTerms({ highestTlp: 'red' });
    const view: CircleView = {
      circle: circle([member(COORDINATOR.id, 'coordinator'), member(HOME.id)]),
      agreements: [agreement(1, narrow, '2026-02-01T00:00:00.000Z'), agreement(2, wide, '2026-05-01T00:00:00.000Z')],
      acceptances: [{ circleId: 'wide', organisationId: HOME.id, version: 1, acceptedAt: '2026-02-02T00:00:00.000Z' }],
      memberKeys: [],
    };
    await storeCircleMirror(deps, view, COORDINATOR.id);
    const here = await store.getCircle('wide');
    assert.ok(here !== undefined);
    const binding = bindingAgreement(await store.getAgreementState('wide'), here, COORDINATOR.id, NOW);
    assert.equal(binding.kind === 'bound' ? binding.agreement.version : undefined, 1, 'version 2 widened the terms, and this node never accepted it');
    assert.equal(binding.kind === 'bound' ? binding.acceptance.acceptedAt : undefined, '2026-02-02T00:00:00.000Z');
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
});
