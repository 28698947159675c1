/**
 * The home organisation's acceptance of a mirrored circle is its own word, recorded on this node
 * when the coordinator's node confirms this node's request (`entente circle accept C`,
 * acceptOrForward); the coordinator's circle view never supplies it. One node, in this process,
 * with a coordinator's node that answers as scripted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import { acceptOrForward } from '../../src/federation/coordinator-link.ts';
import { storeCircleMirror } from '../../src/federation/mirror-circle.ts';
import { parseCircleView, type CircleView } from '../../src/federation/parse-circle-view.ts';
import { openTerms, testOrganisation } from '../../src/federation/test-support.ts';
import { bindingAgreement, type Agreement, type AgreementAcceptance } from '../../src/policy/agreement.ts';
import type { Circle } from '../../src/policy/circle.ts';
import { toAcceptanceDocument, toAgreementDocument, toCircleDocument } from '../../src/policy/circle-documents.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { TaxiiClient } from '../../src/taxii/taxii-client.ts';

const HOME = testOrganisation(40);
const COORDINATOR = testOrganisation(41);
const NOW = new Date('2026-06-01T00:00:00.000Z');
const CIRCLE = 'wide';
const ADMIN = { organisationId: HOME.id, admin: true };

const member = (organisationId: string, role: 'coordinator' | 'contributor' = 'contributor') => ({ organisationId, role, joinedAt: '2026-01-01T00:00:00.000Z', trial: false });
const circle: Circle = {
  id: CIRCLE, name: 'Wide', kind: 'tacit', visibility: 'open', collectionId: CIRCLE, defaultTlp: 'amber',
  validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2027-01-01T00:00:00.000Z', members: [member(COORDINATOR.id, 'coordinator'), member(HOME.id)],
};
const agreements: Agreement[] = [
  { circleId: CIRCLE, version: 1, proposedBy: COORDINATOR.id, proposedAt: '2026-02-01T00:00:00.000Z', terms: openTerms({ highestTlp: 'green' }) },
  { circleId: CIRCLE, version: 2, proposedBy: COORDINATOR.id, proposedAt: '2026-05-01T00:00:00.000Z', terms: openTerms({ highestTlp: 'red' }) },
];

/** The coordinator's node: serves its circle view (the versions `shown`), and answers an acceptance with `answer`. */
function coordinatorNode(
  acceptances: () => readonly AgreementAcceptance[],
  answer: (body: Record<string, unknown>) => unknown,
  shown: () => readonly Agreement[] = () => agreements,
): { client: TaxiiClient; posted: unknown[] } {
  const posted: unknown[] = [];
  const unused = (): never => {
    throw new Error('not used by an acceptance');
  };
  const client: TaxiiClient = {
    url: 'https://coordinator.example/taxii2/api/',
    discover: unused, apiRoot: unused, collections: unused, collection: unused, getObjects: unused, pages: unused,
    postObjects: unused, getStatus: unused, followStatus: unused,
    getJson: (path) => {
      assert.equal(path, `/api/circles/${CIRCLE}`);
      return Promise.resolve({ ...toCircleDocument(circle), agreements: shown().map(toAgreementDocument), acceptances: acceptances().map(toAcceptanceDocument), member_keys: [] });
    },
    postJson: (path, body) => {
      assert.equal(path, `/api/circles/${CIRCLE}/accept`);
      posted.push(body);
      return Promise.resolve(answer(body as Record<string, unknown>));
    },
    close: () => undefined,
  };
  return { client, posted };
}

function parseView(document: unknown): CircleView {
  const view = parseCircleView(document);
  assert.ok(view.ok);
  return view.value;
}

async function memberNode(client: TaxiiClient) {
  const store = openSqliteObjectStore({ path: ':memory:' });
  await store.createOrganisation({ id: COORDINATOR.id, name: 'CERT A', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: NOW.toISOString() });
  await store.addPeer({
    name: 'cert-a', url: 'https://coordinator.example/taxii2/', apiRootUrl: 'https://coordinator.example/taxii2/api/', token: 'secret',
    circleId: CIRCLE, localCollectionId: CIRCLE, remoteCollectionId: CIRCLE, organisationId: COORDINATOR.id, kind: 'entente',
    push: false, intervalSeconds: 300, silentAfter: 3, createdAt: NOW.toISOString(),
  });
  const deps = { store, clock: () => NOW, homeOrganisationId: HOME.id, openClient: () => client };
  await storeCircleMirror(deps, parseView(await client.getJson(`/api/circles/${CIRCLE}`)), COORDINATOR.id);
  return { store, deps };
}

const homeVersions = async (store: { getAgreementState(circleId: string): Promise<{ acceptances: readonly AgreementAcceptance[] }> }): Promise<number[]> =>
  (await store.getAgreementState(CIRCLE)).acceptances.filter((acceptance) => acceptance.organisationId === HOME.id).map((acceptance) => acceptance.version);

describe("the home's acceptance of a mirrored circle comes from this node's own request only", () => {
  it('records the version the coordinator confirmed, and binds the coordinator by it at once', async () => {
    const recorded: AgreementAcceptance[] = [];
    const { client, posted } = coordinatorNode(() => recorded, (body) => {
      const accepted = { circleId: CIRCLE, organisationId: HOME.id, version: body['version'] as number, acceptedAt: '2026-05-20T00:00:00.000Z' };
      recorded.push(accepted);
      return { version: accepted.version, accepted_at: accepted.acceptedAt };
    });
    const { store, deps } = await memberNode(client);
    assert.deepEqual(await homeVersions(store), []);
    const outcome = await acceptOrForward(deps, ADMIN, CIRCLE, HOME.id, 1);
    assert.equal(outcome.forwarded?.refreshError, undefined);
    assert.equal((posted[0] as Record<string, unknown>)['version'], 1);
    assert.deepEqual(await homeVersions(store), [1]);
    const here = await store.getCircle(CIRCLE);
    assert.ok(here !== undefined);
    const binding = bindingAgreement(await store.getAgreementState(CIRCLE), here, COORDINATOR.id, NOW);
    assert.equal(binding.kind === 'bound' ? binding.agreement.version : undefined, 1, 'the coordinator is bound by the version the home accepted, without waiting for a sync');
    await store.close();
  });

  it('records nothing when the coordinator confirms another version than the one asked for', async () => {
    // Asked to accept v1, the coordinator's node answers (and lists) an acceptance of the wider v2.
    const claimed = { circleId: CIRCLE, organisationId: HOME.id, version: 2, acceptedAt: '2026-05-20T00:00:00.000Z' };
    const { client } = coordinatorNode(() => [claimed], () => ({ version: 2, accepted_at: claimed.acceptedAt }));
    const { store, deps } = await memberNode(client);
    await assert.rejects(acceptOrForward(deps, ADMIN, CIRCLE, HOME.id, 1), (error: unknown) => isEntenteError(error) && error.code === 'ENT_PEER_BAD_RESPONSE' && /version 1 \(it named version 2\)/.test(error.message));
    assert.deepEqual(await homeVersions(store), [], 'neither the answer nor the view records an acceptance of v2 here');
    const here = await store.getCircle(CIRCLE);
    assert.ok(here !== undefined);
    assert.equal(bindingAgreement(await store.getAgreementState(CIRCLE), here, COORDINATOR.id, NOW).kind, 'unbound');
    await store.close();
  });

  it("accepts the latest version this node holds, naming it: never one the coordinator adds at the moment of accepting", async () => {
    // The administrator reviewed the mirror while it held v1 (TLP:GREEN) only; as the acceptance is
    // sent, the coordinator's node shows a newer v2 (TLP:RED).
    let shown: readonly Agreement[] = agreements.slice(0, 1);
    const recorded: AgreementAcceptance[] = [];
    const { client, posted } = coordinatorNode(() => recorded, (body) => {
      const accepted = { circleId: CIRCLE, organisationId: HOME.id, version: body['version'] as number, acceptedAt: '2026-05-20T00:00:00.000Z' };
      recorded.push(accepted);
      return { version: accepted.version, accepted_at: accepted.acceptedAt };
    }, () => shown);
    const { store, deps } = await memberNode(client);
    shown = agreements;
    const outcome = await acceptOrForward(deps, ADMIN, CIRCLE, HOME.id);
    assert.equal(outcome.version, 1);
    assert.equal((posted[0] as Record<string, unknown>)['version'], 1, 'the version is always named to the coordinator');
    assert.deepEqual(await homeVersions(store), [1]);
    const here = await store.getCircle(CIRCLE);
    assert.ok(here !== undefined);
    const binding = bindingAgreement(await store.getAgreementState(CIRCLE), here, COORDINATOR.id, NOW);
    assert.equal(binding.kind === 'bound' ? binding.agreement.terms.highestTlp : undefined, 'green', 'bound by the terms the administrator saw here');
    await store.close();
  });

  it('records nothing when, asked for the latest version held here, the coordinator confirms a version this node did not hold', async () => {
    let shown: readonly Agreement[] = agreements.slice(0, 1);
    const claimed = { circleId: CIRCLE, organisationId: HOME.id, version: 2, acceptedAt: '2026-05-20T00:00:00.000Z' };
    const { client } = coordinatorNode(() => [claimed], () => ({ version: 2, accepted_at: claimed.acceptedAt }), () => shown);
    const { store, deps } = await memberNode(client);
    shown = agreements;
    await assert.rejects(
      acceptOrForward(deps, ADMIN, CIRCLE, HOME.id),
      (error: unknown) => isEntenteError(error) && error.code === 'ENT_PEER_BAD_RESPONSE' && /version 1 \(it named version 2, which this node did not hold before the request; it holds 1\)/.test(error.message),
    );
    assert.deepEqual(await homeVersions(store), []);
    const here = await store.getCircle(CIRCLE);
    assert.ok(here !== undefined);
    assert.equal(bindingAgreement(await store.getAgreementState(CIRCLE), here, COORDINATOR.id, NOW).kind, 'unbound');
    await store.close();
  });

  it('asks the coordinator nothing for a version this node does not hold yet (or when it holds none), naming the versions it holds', async () => {
    let shown: readonly Agreement[] = [];
    const { client, posted } = coordinatorNode(() => [], (body) => ({ version: body['version'], accepted_at: '2026-05-20T00:00:00.000Z' }), () => shown);
    const { store, deps } = await memberNode(client);
    await assert.rejects(acceptOrForward(deps, ADMIN, CIRCLE, HOME.id), (error: unknown) => isEntenteError(error) && error.code === 'ENT_AGREEMENT_NOT_FOUND' && /holds no agreement version of circle wide yet/.test(error.message));
    shown = agreements.slice(0, 1);
    await storeCircleMirror(deps, parseView(await client.getJson(`/api/circles/${CIRCLE}`)), COORDINATOR.id);
    await assert.rejects(acceptOrForward(deps, ADMIN, CIRCLE, HOME.id, 2), (error: unknown) => isEntenteError(error) && error.code === 'ENT_AGREEMENT_NOT_FOUND' && /holds version\(s\) 1 of circle wide, not version 2/.test(error.message));
    assert.deepEqual(posted, [], 'nothing was sent to the coordinator');
    assert.deepEqual(await homeVersions(store), []);
    await store.close();
  });
});
