// Rule 3a (newcomer consent) for a version relayed by another node. A version reaches this node from
// the peer that delivered it, and the store records that peer's organisation as its contributor. When
// the peer passes on another member's version (a coordinator's node serving on what a member posted
// there, a member's node pushing what it pulled), the version is still the originating member's
// contribution to the circle: its newcomer consent must hold it back from a member that joined after
// it last accepted terms, however many nodes it went through. The originator is known here only by
// what proves it — the Entente signature of its node, verified against its pinned key on arrival and
// kept in the version's provenance (signer, hops [signer, peer]) — never by what the object claims.
//
// Before this, the relaying peer alone was the contributor: a coordinator relaying passes rule 3a for
// every member it admitted, and a member that acknowledged the newcomer passes too, so the
// originator's version went to the newcomer without its word.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { acceptAgreement, createCircle, invite, proposeAgreement, type CircleActor, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { storeCircleMirror } from '../../src/federation/mirror-circle.ts';
import { pullPeer } from '../../src/federation/pull-peer.ts';
import { receivePush } from '../../src/federation/receive-push.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { openTerms, testOrganisation, type TestOrganisation } from '../../src/federation/test-support.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { CursoredPage, TaxiiClient } from '../../src/taxii/taxii-client.ts';
import { CIRCLE, coordinatorNode, readBy as readFrom, sorted, terms, whyNot as whyNotFrom } from './newcomer-kit.ts';

const HOME = 'identity--0a000000-0000-4000-8000-000000000001'; // this node: the circle's coordinator
const bravo = testOrganisation(2); // a founding member whose node relays
const charlie = testOrganisation(3); // a founding member, the originator of the relayed version
const stranger = testOrganisation(4); // no member of the circle: its version came in through the relay's onward sharing
const newcomer = testOrganisation(5); // added by the coordinator alone, later
const relay = testOrganisation(6); // a second coordinator, whose node relays
const DELTA = 'identity--0a000000-0000-4000-8000-0000000000dd'; // a founding member without keys pinned here (a plain TAXII client)
const admin: CircleActor = { organisationId: HOME, admin: true };
const as = (organisation: TestOrganisation): CircleActor => ({ organisationId: organisation.id, admin: false });

/** Indicator `n`, signed by the node of `signer` (its originator), with `extra` properties. */
function indicator(n: number, signer: TestOrganisation, extra: Record<string, string> = {}): StixObject {
  return signObject(
    {
      type: 'indicator', spec_version: '2.1', id: `indicator--0a000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
      created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z',
      pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-03-01T00:00:00Z', ...extra,
    } as StixObject,
    signer.signer,
  );
}

const CHARLIES = indicator(1, charlie); // Charlie's, relayed to this node by another node
const BRAVOS = indicator(2, bravo); // Bravo's own
const STRANGERS = indicator(3, stranger); // a non-member's, passed on by the relay (its onward sharing)
const CREATED_BY_DELTA = indicator(4, bravo, { created_by_ref: DELTA }); // signed by Bravo, naming Delta its creator

/** A peer serving one page of these objects. */
function onePage(objects: readonly unknown[]): TaxiiClient {
  return {
    close() {},
    async *pages(): AsyncGenerator<CursoredPage> {
      yield { objects: [...objects], more: false, cursor: { addedAfter: '2026-03-01T06:00:00.000001Z' } } as CursoredPage;
    },
  } as unknown as TaxiiClient;
}

describe("rule 3a for a version another node relayed: the originator's consent holds it back from a newcomer", () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  let hours: (n: number) => void;

  beforeEach(async () => {
    const keyed = [bravo, charlie, stranger, newcomer, relay];
    ({ store, deps, hours } = await coordinatorNode(HOME, [...keyed.map((organisation) => organisation.id), DELTA]));
    for (const organisation of keyed) await store.pinKey({ ...organisation.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: deps.clock().toISOString() });
    // Bravo, Charlie, Delta and a second coordinator accept v1; the coordinator adds the newcomer alone,
    // which accepts v1; the coordinator proposes v2 and Bravo and the relay accept it (they
    // acknowledge the newcomer). Charlie and Delta do not.
    await createCircle(deps, { id: CIRCLE, name: 'Pact', kind: 'tacit', visibility: 'open', default_tlp: 'green', valid_until: '2027-01-01T00:00:00Z' });
    await proposeAgreement(deps, admin, CIRCLE, terms);
    for (const member of [bravo.id, charlie.id, DELTA]) await invite(deps, admin, CIRCLE, { organisationId: member, role: 'contributor', trial: false });
    await invite(deps, admin, CIRCLE, { organisationId: relay.id, role: 'coordinator', trial: false });
    hours(1);
    for (const member of [bravo, charlie, relay]) await acceptAgreement(deps, as(member), CIRCLE, member.id);
    await acceptAgreement(deps, { organisationId: DELTA, admin: false }, CIRCLE, DELTA);
    hours(3);
    await invite(deps, admin, CIRCLE, { organisationId: newcomer.id, role: 'contributor', trial: false });
    hours(4);
    await acceptAgreement(deps, as(newcomer), CIRCLE, newcomer.id);
    await proposeAgreement(deps, admin, CIRCLE, terms);
    hours(5);
    for (const member of [bravo, relay, newcomer]) await acceptAgreement(deps, as(member), CIRCLE, member.id);
    hours(6);
  });
  afterEach(async () => {
    await store.close();
  });

  /** Pulls one page of these objects from the node of `from` (an Entente peer of the circle). */
  async function pullFrom(from: TestOrganisation, objects: readonly StixObject[]): Promise<void> {
    const now = deps.clock();
    const name = `peer-${from.id.slice(-1)}`;
    await store.addPeer({
      name, url: `https://${name}.example/taxii2/`, apiRootUrl: `https://${name}.example/taxii2/api/`, token: 'secret', circleId: CIRCLE,
      localCollectionId: CIRCLE, remoteCollectionId: 'feed', organisationId: from.id, kind: 'entente', push: false, intervalSeconds: 60,
      silentAfter: 3, createdAt: now.toISOString(),
    });
    const peer = await store.getPeer(name);
    assert.ok(peer !== undefined);
    const counts = await pullPeer({ store, clock: deps.clock, homeOrganisationId: HOME }, peer, onePage(objects));
    assert.equal(counts.added, objects.length, 'every object passed the arrival checks');
  }

  /** The node of `from` POSTs these objects into the circle's collection (a push; `plain`: as a plain TAXII client, whose objects need no signature where the terms accept unsigned input). */
  async function pushedBy(from: TestOrganisation, objects: readonly StixObject[], senderKind: 'entente' | 'plain' = 'entente'): Promise<void> {
    const now = deps.clock();
    const status = { statusId: `status-${from.id}-${senderKind}`, requestTimestamp: now.toISOString(), tokenName: 'push', validationFailures: [] };
    await receivePush({ store, homeOrganisationId: HOME }, { collectionId: CIRCLE, sender: from.id, senderKind, items: objects, status, now });
    assert.deepEqual((await store.getStatus(status.statusId))?.failures, [], 'every object passed the arrival checks');
  }

  /** The ids of what the member reads from the circle's collection now (one page, as a TAXII read gets it). */
  const readBy = (organisation: TestOrganisation): Promise<string[]> => readFrom(store, organisation.id, deps.clock());
  /** Why the gate withholds one object from the member now, decided for that entry alone, or 'released'. */
  const whyNot = (organisation: TestOrganisation, object: StixObject): Promise<string> => whyNotFrom(store, organisation.id, object, deps.clock());
  const NEWCOMER_BY_CHARLIE = new RegExp(`^newcomer: the version was contributed by ${charlie.id}, which has not agreed to terms with ${newcomer.id}`);

  it("pulled from a member's node that acknowledged the newcomer: Charlie's version stays back, the relay's own and a non-member's pass", async () => {
    await pullFrom(bravo, [CHARLIES, BRAVOS, STRANGERS]);
    assert.deepEqual(await readBy(newcomer), sorted(BRAVOS, STRANGERS));
    assert.match(await whyNot(newcomer, CHARLIES), NEWCOMER_BY_CHARLIE);
  });

  it("pulled from a second coordinator's node: the relay covers every member it admitted, Charlie does not", async () => {
    await pullFrom(relay, [CHARLIES]);
    assert.deepEqual(await readBy(newcomer), []);
    assert.match(await whyNot(newcomer, CHARLIES), NEWCOMER_BY_CHARLIE);
  });

  it("pushed by a member's node: the same", async () => {
    await pushedBy(bravo, [CHARLIES, BRAVOS]);
    assert.deepEqual(await readBy(newcomer), sorted(BRAVOS));
    assert.match(await whyNot(newcomer, CHARLIES), NEWCOMER_BY_CHARLIE);
  });

  it('the founding members keep receiving it, the originator included, and the newcomer does once Charlie accepts terms with it in', async () => {
    await pullFrom(bravo, [CHARLIES, BRAVOS]);
    assert.deepEqual(await readBy(bravo), sorted(CHARLIES, BRAVOS));
    assert.deepEqual(await readBy(charlie), sorted(CHARLIES, BRAVOS));
    hours(7);
    await acceptAgreement(deps, as(charlie), CIRCLE, charlie.id);
    assert.deepEqual(await readBy(newcomer), sorted(CHARLIES, BRAVOS));
  });

  it('reads provenance once a page while a member holds back, and not at all once every member acknowledged the newcomer', async () => {
    await pullFrom(bravo, [CHARLIES, BRAVOS]);
    let provenanceReads = 0;
    const counting = new Proxy(store, {
      get(target, method) {
        // Bound to the store itself: its methods read private fields, which a proxy receiver lacks.
        const value = Reflect.get(target, method, target) as unknown;
        if (method === 'provenanceOf') provenanceReads += 1;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const readCounted = (): Promise<string[]> => readFrom(counting, newcomer.id, deps.clock());
    assert.deepEqual(await readCounted(), sorted(BRAVOS));
    assert.equal(provenanceReads, 1);
    // Who relayed a version can then change nothing: every organisation it could add lets it through.
    hours(7);
    await acceptAgreement(deps, as(charlie), CIRCLE, charlie.id);
    await acceptAgreement(deps, { organisationId: DELTA, admin: false }, CIRCLE, DELTA);
    assert.deepEqual(await readCounted(), sorted(CHARLIES, BRAVOS));
    assert.equal(provenanceReads, 1);
  });

  it("a copy another member's node re-signed as derived stays Charlie's: traced to the version Charlie signed", async () => {
    // This node holds Charlie's version, verified against Charlie's key, from another circle whose
    // terms let Charlie's content be shared on into circles (a signed file Charlie sent). Bravo's node
    // pushes the same content into this circle signed by Bravo as derived (as a node does when the
    // originator is hidden from the recipient, or for a redaction that removed nothing this version
    // carries), which names Bravo alone. The arrival checks take a derived copy of a version held
    // only with the same content, so provenance ties it to the version Charlie signed: it is
    // Charlie's contribution to this circle, and Charlie never acknowledged the newcomer.
    const charlies = indicator(5, charlie);
    const { extensions: _signature, ...unsigned } = charlies;
    await createCircle(deps, { id: 'outer', name: 'Outer', kind: 'tacit', visibility: 'open', default_tlp: 'green', valid_until: '2027-01-01T00:00:00Z' });
    await proposeAgreement(deps, admin, 'outer', { ...terms, onward_sharing: 'circles' });
    await invite(deps, admin, 'outer', { organisationId: charlie.id, role: 'contributor', trial: false });
    await acceptAgreement(deps, as(charlie), 'outer', charlie.id);
    await store.applySyncBatch({
      collectionId: 'outer', peer: undefined, circleId: 'outer', source: 'file', contributorOrganisationId: charlie.id,
      accepted: [{ object: charlies, signer: charlie.id, keyId: charlie.pinned.keyId, verification: 'verified', hops: [charlie.id] }],
      quarantined: [], receivedAt: deps.clock().toISOString(),
    });
    await pushedBy(bravo, [signObject(unsigned as StixObject, bravo.signer, { derived: true }), BRAVOS]);
    assert.deepEqual(await readBy(newcomer), sorted(BRAVOS));
    assert.match(await whyNot(newcomer, charlies), NEWCOMER_BY_CHARLIE);
    assert.deepEqual(await readBy(bravo), sorted(charlies, BRAVOS), 'the founding members keep receiving it');
  });

  it("a copy another member's node stripped of its signature stays Charlie's too: a relay cannot skip the trace by sending it unsigned", async () => {
    // The terms of the circle now accept unsigned input (v3, which Bravo, the relay and the newcomer
    // accept: they keep acknowledging the newcomer; Charlie accepts nothing after it joined). Bravo
    // POSTs Charlie's version with Charlie's signature removed, as a plain TAXII client, before this
    // node holds it signed: the arrival checks take it (no origin is known yet), recorded unverified. Charlie's
    // signed version then reaches this node through another circle. The store holds one content per
    // version (the signature aside), so the unsigned copy is the version Charlie signed, exactly as a
    // derived copy would be: re-signing as derived or stripping the signature must come to the same.
    await proposeAgreement(deps, admin, CIRCLE, { ...terms, unsigned_input: 'accept' });
    hours(7);
    for (const member of [bravo, relay, newcomer]) await acceptAgreement(deps, as(member), CIRCLE, member.id);
    const charlies = indicator(8, charlie);
    const { extensions: _signature, ...unsigned } = charlies;
    await pushedBy(bravo, [unsigned as StixObject, BRAVOS], 'plain');
    assert.deepEqual(await readBy(newcomer), sorted(unsigned as StixObject, BRAVOS), 'nothing here says who wrote it yet: Bravo delivered it');
    await createCircle(deps, { id: 'outer', name: 'Outer', kind: 'tacit', visibility: 'open', default_tlp: 'green', valid_until: '2027-01-01T00:00:00Z' });
    await proposeAgreement(deps, admin, 'outer', { ...terms, onward_sharing: 'circles' });
    await invite(deps, admin, 'outer', { organisationId: charlie.id, role: 'contributor', trial: false });
    await acceptAgreement(deps, as(charlie), 'outer', charlie.id);
    await store.applySyncBatch({
      collectionId: 'outer', peer: undefined, circleId: 'outer', source: 'file', contributorOrganisationId: charlie.id,
      accepted: [{ object: charlies, signer: charlie.id, keyId: charlie.pinned.keyId, verification: 'verified', hops: [charlie.id] }],
      quarantined: [], receivedAt: deps.clock().toISOString(),
    });
    assert.deepEqual(await readBy(newcomer), sorted(BRAVOS));
    assert.match(await whyNot(newcomer, charlies), NEWCOMER_BY_CHARLIE);
    assert.deepEqual(await readBy(bravo), sorted(charlies, BRAVOS), 'the founding members keep receiving it');
  });

  it('a redacted copy traced to no signed version still asks the consent of the member that redacted and delivered it', async () => {
    // What this node never received whole, redacted by a member's node: who wrote it cannot be told,
    // and the release never drops the consent of the member that put it into the circle (fail closed).
    const redactedBy = (signer: TestOrganisation, n: number): StixObject => {
      const { extensions: _signature, ...unsigned } = indicator(n, signer);
      return signObject(unsigned as StixObject, signer.signer, { derived: true });
    };
    const byCharlie = redactedBy(charlie, 6);
    const byBravo = redactedBy(bravo, 7);
    await pushedBy(charlie, [byCharlie]);
    await pushedBy(bravo, [byBravo]);
    assert.deepEqual(await readBy(newcomer), sorted(byBravo), 'Bravo acknowledged the newcomer, Charlie did not');
    assert.match(await whyNot(newcomer, byCharlie), NEWCOMER_BY_CHARLIE);
  });

  it("a version's own claim names no contributor: created_by_ref is not proof, the verified signer is", async () => {
    // Bravo signed it; what it says of its creator (Delta, a member with no keys pinned here, which
    // the arrival checks therefore let through, and which never acknowledged the newcomer) adds
    // nobody whose consent is needed: the version is Bravo's word.
    await pullFrom(bravo, [CREATED_BY_DELTA]);
    assert.deepEqual(await readBy(newcomer), sorted(CREATED_BY_DELTA));
  });
});

describe("rule 3a on a member's node: another member's version pulled from the coordinator", () => {
  // The review's case: Bravo's node mirrors circle pact from coordinator Alpha's node and pulls from
  // it what Charlie posted there. Alpha's node applied rule 3a when it released the version to Bravo;
  // Bravo's node, serving the newcomer's node directly, must apply it too — to Charlie, not to the
  // coordinator that relayed it.
  const alpha = testOrganisation(7);
  const hour = (n: number): string => new Date(Date.parse('2026-03-01T00:00:00.000Z') + n * 3_600_000).toISOString();

  it('withholds it from a member that joined after Charlie last accepted terms, and serves it to Charlie and the coordinator', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      const now = new Date(hour(6));
      await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: bravo.id, created: hour(0), modified: hour(0), name: 'Bravo', identity_class: 'organization' }));
      for (const organisation of [alpha, charlie, newcomer]) {
        await store.createOrganisation({ id: organisation.id, name: organisation.id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: hour(0) });
      }
      await store.pinKey({ ...alpha.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: hour(0) });
      const member = (organisation: TestOrganisation, role: 'coordinator' | 'contributor', joined: number) => ({ organisationId: organisation.id, role, joinedAt: hour(joined), trial: false });
      await storeCircleMirror({ store, clock: () => now, homeOrganisationId: bravo.id }, {
        circle: {
          id: CIRCLE, name: 'Pact', kind: 'tacit', visibility: 'open', collectionId: CIRCLE, defaultTlp: 'green', validFrom: hour(0), validUntil: '2027-01-01T00:00:00.000Z',
          members: [member(alpha, 'coordinator', 0), member(bravo, 'contributor', 0), member(charlie, 'contributor', 0), member(newcomer, 'contributor', 3)],
        },
        agreements: [{ circleId: CIRCLE, version: 1, proposedBy: alpha.id, proposedAt: hour(0), terms: { ...openTerms(), scope: { types: ['indicator'] }, highestTlp: 'amber', onwardSharing: 'none' } }],
        acceptances: [
          { circleId: CIRCLE, organisationId: charlie.id, version: 1, acceptedAt: hour(1) },
          { circleId: CIRCLE, organisationId: newcomer.id, version: 1, acceptedAt: hour(4) },
        ],
        memberKeys: [{ organisationId: charlie.id, keyId: charlie.pinned.keyId, publicKey: charlie.pinned.publicKey, validFrom: charlie.pinned.validFrom, validUntil: undefined }],
      }, alpha.id, { homeAcceptance: { version: 1, acceptedAt: hour(1) } });
      await store.addPeer({
        name: 'alpha', url: 'https://alpha.example/taxii2/', apiRootUrl: 'https://alpha.example/taxii2/api/', token: 'secret', circleId: CIRCLE,
        localCollectionId: CIRCLE, remoteCollectionId: CIRCLE, organisationId: alpha.id, kind: 'entente', push: false, intervalSeconds: 60, silentAfter: 3, createdAt: hour(0),
      });
      const peer = await store.getPeer('alpha');
      assert.ok(peer !== undefined);
      const counts = await pullPeer({ store, clock: () => now, homeOrganisationId: bravo.id }, peer, onePage([CHARLIES]));
      assert.equal(counts.added, 1, "Charlie's version passed the arrival checks, its signature verified by the key the mirror pinned");

      const readBy = (organisation: TestOrganisation): Promise<string[]> => readFrom(store, organisation.id, now);
      assert.deepEqual(await readBy(newcomer), [], "recorded as the coordinator's contribution, it is still Charlie's");
      assert.deepEqual(await readBy(charlie), [CHARLIES.id]);
      assert.deepEqual(await readBy(alpha), [CHARLIES.id]);
    } finally {
      await store.close();
    }
  });
});
