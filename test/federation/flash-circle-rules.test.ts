/**
 * Flash messages obey the circle's rules as every release does (docs/federation.md, "Flash messages
 * and recalls"): a flash goes only to members bound by an agreement, names an indicator only to
 * members the release decision gives it, is re-checked at every delivery attempt, and a promoted
 * flash neither names its sender in its text nor escapes the sender's terms.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openTerms, testOrganisation, type TestOrganisation } from '../../src/federation/test-support.ts';
import { deliverFlash, promoteFlash, receiveFlash, receiveFlashAck, sendFlash, showFlash, type FlashDeps } from '../../src/federation/flash-operations.ts';
import { createFlashBody } from '../../src/federation/flash-message.ts';
import { signMessage } from '../../src/federation/signed-message.ts';
import { FlashRetrier } from '../../src/federation/flash-retry.ts';
import { verifyChain } from '../../src/audit/audit-chain.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import type { AgreementTerms } from '../../src/policy/agreement.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import type { SignedMessage } from '../../src/federation/signed-message.ts';

const home = testOrganisation(1);
const HOME = home.id;
const P = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const Q = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const trial = testOrganisation(4);
const T = trial.id;
const CREATED = new Date('2026-01-01T00:00:00Z');
const AT = new Date('2026-06-01T00:00:00Z');
const IND = 'indicator--cccccccc-0000-4000-8000-000000000001';
const RECIPIENTS = 'marking-definition--bbbbbbbb-0000-4000-8000-000000000001';
const FLASH = '11111111-2222-4333-8444-555555555555';
const ANALYST: Recipient = { name: 'analyst', organisationId: HOME, admin: false, actsForHome: true, grants: [{ collectionId: 'alpha', read: true, write: true }] };

function partner(organisationId: string, collectionId = 'alpha'): Recipient {
  return { name: `tok-${organisationId.slice(-2)}`, organisationId, admin: false, actsForHome: false, grants: [{ collectionId, read: true, write: false }] };
}

interface Setup {
  readonly members: readonly { readonly id: string; readonly trial?: boolean; readonly accepts?: boolean }[];
  readonly visibility?: 'open' | 'hidden';
  readonly terms?: Partial<AgreementTerms>;
}

async function circleStore(setup: Setup, clock: () => Date = () => AT): Promise<{ store: ObjectStore; circle: Circle }> {
  const store = openSqliteObjectStore({ path: ':memory:', clock });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
  for (const member of setup.members) {
    await store.createOrganisation({ id: member.id, name: member.id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
  }
  await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
  const circle = {
    id: 'alpha', name: 'alpha', kind: 'formal', visibility: setup.visibility ?? 'open', collectionId: 'alpha', defaultTlp: 'amber',
    validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [{ organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false }, ...setup.members.map((member) => ({
      organisationId: member.id, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: member.trial === true,
    }))],
  } as Circle;
  await store.createCircle(circle, CREATED);
  await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms(setup.terms) });
  for (const member of setup.members) {
    if (member.accepts !== false) await store.addAcceptance({ circleId: 'alpha', organisationId: member.id, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    await store.addPeer({
      name: `node-${member.id.slice(-2)}`, url: 'https://x.example/taxii2/', apiRootUrl: 'https://x.example/api/', token: 't', circleId: 'alpha', localCollectionId: 'alpha',
      remoteCollectionId: 'alpha', organisationId: member.id, kind: 'entente', push: false, intervalSeconds: 60, silentAfter: 3, createdAt: CREATED.toISOString(),
    });
  }
  return { store, circle };
}

interface Posted {
  readonly to: string;
  readonly message: SignedMessage;
}

/**
 * The flash channel of the home node. A member whose organisation is in `up` answers with its signed
 * receipt of the copy it was posted; every other member's node is down.
 */
function flashDeps(store: ObjectStore, clock: () => Date, posted: Posted[], up: readonly TestOrganisation[] = []): FlashDeps {
  return {
    store, clock, randomUuid: () => '99999999-0000-4000-8000-000000000001', homeOrganisationId: HOME, signer: async () => home.signer,
    post: async (peer: { organisationId: string }, _path: string, message: SignedMessage) => {
      posted.push({ to: peer.organisationId, message });
      const member = up.find((organisation) => organisation.id === peer.organisationId);
      if (member === undefined) throw new Error('the member node is down');
      const flashId = (message.body as { id: string }).id;
      return signMessage('flash-receipt', { flash_id: flashId, recipient: member.id, received_at: clock().toISOString() }, member.signer);
    },
  } as unknown as FlashDeps;
}

describe('a flash goes to the members the circle rules allow', () => {
  it('not to a member bound by no agreement; and names a RED indicator only to the member the release decision gives it', async () => {
    const { store } = await circleStore({ members: [{ id: P }, { id: Q, accepts: false }, { id: T, trial: true }] });
    await store.addObjects('alpha', [
      { type: 'marking-definition', spec_version: '2.1', id: RECIPIENTS, created: '2026-01-01T00:00:00.000Z', name: 'recipients: P', extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: [P] } } },
      { type: 'indicator', spec_version: '2.1', id: IND, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME, name: 'red', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.red, RECIPIENTS] },
    ] as never);
    await store.pinKey({ ...trial.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: CREATED.toISOString() });
    const posted: Posted[] = [];
    const { deliveries, flash } = await sendFlash(flashDeps(store, () => AT, posted, [trial]), ANALYST, { circleId: 'alpha', text: 'Urgent: see this indicator', indicatorId: IND });

    assert.deepEqual(posted.map((post) => post.to).sort(), [P, T].sort(), 'Q accepted no agreement version: nothing goes to it');
    const body = (to: string) => posted.find((post) => post.to === to)?.message.body as Record<string, unknown>;
    assert.equal(body(P)['indicator_id'], IND, 'P is named on the RED indicator');
    assert.equal(Object.hasOwn(body(T), 'indicator_id'), false, 'the release decision withholds the indicator from trial member T: its id is not named to it');
    // A flash's id is derived from its content: T's copy has the id of the flash without the indicator.
    const withoutIndicator = createFlashBody({ circleId: 'alpha', sender: HOME, text: 'Urgent: see this indicator', sentAt: flash.sentAt });
    assert.deepEqual(body(T), withoutIndicator);
    assert.equal(posted.find((post) => post.to === T)?.message.signer, HOME);
    // T's acknowledgement of the copy it was delivered is the flash's.
    assert.equal(deliveries.find((delivery) => delivery.organisationId === T)?.outcome, 'delivered');
    const ack = signMessage('flash-ack', { flash_id: withoutIndicator.id, recipient: T, acknowledged_by: 'duty', acknowledged_at: AT.toISOString() }, trial.signer);
    assert.deepEqual(await receiveFlashAck(flashDeps(store, () => AT, []), partner(T), ack), { flashId: flash.id, organisationId: T });
    assert.equal(deliveries.find((delivery) => delivery.organisationId === Q)?.outcome, 'not-eligible');
    const view = await showFlash({ store, homeOrganisationId: HOME }, ANALYST, flash.id);
    assert.equal(view.members.find((member) => member.organisation_id === T)?.state, 'acknowledged');
    const q = view.members.find((member) => member.organisation_id === Q);
    assert.equal(q?.state, 'not-eligible');
    assert.match(q?.error ?? '', /accepted no valid agreement version/);
    await store.close();
  });

  it('a retry re-checks the member: one that left after the first attempt gets nothing, is marked not eligible, and is not retried', async () => {
    let now = AT;
    const { store, circle } = await circleStore({ members: [{ id: P }] }, () => now);
    const posted: Posted[] = [];
    const deps = flashDeps(store, () => now, posted);
    const { flash } = await sendFlash(deps, ANALYST, { circleId: 'alpha', text: 'we are breached; the attacker is in our mail' });
    assert.deepEqual(posted.map((post) => post.to), [P], 'the first attempt fails (the node is down)');

    now = new Date(AT.getTime() + 10 * 60_000);
    await store.updateCircle({ ...circle, members: circle.members.map((member) => (member.organisationId === P ? { ...member, leftAt: now.toISOString() } : member)) }, now);
    now = new Date(AT.getTime() + 12 * 60_000);
    const deliveries = await deliverFlash(deps, flash.id, [P]);
    assert.deepEqual(posted.map((post) => post.to), [P], 'nothing is POSTed to an organisation that is no longer a member');
    assert.equal(deliveries[0]?.outcome, 'not-eligible');
    assert.equal(deliveries[0]?.permanent, true);
    const view = await showFlash({ store, homeOrganisationId: HOME }, ANALYST, flash.id);
    assert.equal(view.members.find((member) => member.organisation_id === P)?.state, 'not-eligible');

    // The retrier leaves a member marked not eligible alone, whatever the delays.
    const retrier = new FlashRetrier(deps, { delaysMs: [0, 0, 0] });
    for (let tick = 0; tick < 3; tick += 1) await retrier.tick();
    assert.equal(posted.length, 1);
    await store.close();
  });

  it("a retry after the circle ended sends nothing", async () => {
    let now = AT;
    const { store, circle } = await circleStore({ members: [{ id: P }] }, () => now);
    const posted: Posted[] = [];
    const deps = flashDeps(store, () => now, posted);
    const { flash } = await sendFlash(deps, ANALYST, { circleId: 'alpha', text: 'second wave tonight' });
    now = new Date(AT.getTime() + 5 * 60_000);
    await store.updateCircle({ ...circle, validUntil: now.toISOString() }, now);
    now = new Date(AT.getTime() + 6 * 60_000);
    const [delivery] = await deliverFlash(deps, flash.id, [P]);
    assert.equal(posted.length, 1);
    assert.equal(delivery?.outcome, 'not-eligible');
    assert.match(delivery?.error ?? '', /circle/);
    await store.close();
  });
});

// An acknowledgement says that a human at a member read what this node sent it. It is taken only for
// the copy that member's node was delivered, under that copy's id, from an organisation still a
// member; anything else is answered as an unknown flash is, so that the answer confirms nothing
// about a flash (or the indicator it named) the caller was not sent.
describe('a flash acknowledgement is taken only for the copy a member was delivered', () => {
  const full = testOrganisation(2);
  const unbound = testOrganisation(3);
  const TEXT = 'Urgent: see this indicator';

  /** A flash naming a RED indicator for `full` only; `unbound` accepted no agreement, T is on trial. */
  async function sent(up: readonly TestOrganisation[] = [full, trial]) {
    let now = AT;
    const { store, circle } = await circleStore({ members: [{ id: full.id }, { id: unbound.id, accepts: false }, { id: T, trial: true }] }, () => now);
    for (const organisation of [full, unbound, trial]) await store.pinKey({ ...organisation.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: CREATED.toISOString() });
    await store.addObjects('alpha', [
      { type: 'marking-definition', spec_version: '2.1', id: RECIPIENTS, created: '2026-01-01T00:00:00.000Z', name: 'recipients: P', extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: [full.id] } } },
      { type: 'indicator', spec_version: '2.1', id: IND, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME, name: 'red', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.red, RECIPIENTS] },
    ] as never);
    const posted: Posted[] = [];
    const deps = flashDeps(store, () => now, posted, up);
    const { flash } = await sendFlash(deps, ANALYST, { circleId: 'alpha', text: TEXT, indicatorId: IND });
    /** The id of the flash as it would be with this indicator (or none): what a member can compute from the copy it got. */
    const idWith = (indicatorId: string | undefined) => createFlashBody({ circleId: 'alpha', sender: HOME, text: TEXT, indicatorId, sentAt: flash.sentAt }).id;
    /** What this node answers `member`'s signed acknowledgement of `flashId`: 'accepted', or the error's code and message with the id masked. */
    const answer = async (member: TestOrganisation, flashId: string): Promise<string> => {
      const ack = signMessage('flash-ack', { flash_id: flashId, recipient: member.id, acknowledged_by: `duty officer ${member.id.slice(-2)}`, acknowledged_at: now.toISOString() }, member.signer);
      try {
        await receiveFlashAck(deps, partner(member.id), ack);
        return 'accepted';
      } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        return `${code ?? '?'}: ${(message ?? '').replaceAll(flashId, 'ID')}`;
      }
    };
    const stateOf = async (organisationId: string) =>
      (await showFlash({ store, homeOrganisationId: HOME }, ANALYST, flash.id)).members.find((member) => member.organisation_id === organisationId);
    const setNow = (at: Date) => {
      now = at;
    };
    return { store, circle, flash, posted, idWith, answer, stateOf, setNow };
  }

  const UNKNOWN = 'ENT_FLASH_NOT_FOUND: No flash message ID';

  it('not from a member the flash never reached (bound by no agreement): answered as an unknown flash, nothing recorded', async () => {
    const { store, flash, posted, answer, stateOf } = await sent();
    assert.equal(posted.some((post) => post.to === unbound.id), false);
    assert.equal(await answer(unbound, flash.id), UNKNOWN);
    const state = await stateOf(unbound.id);
    assert.equal(state?.state, 'not-eligible');
    assert.equal(state?.acknowledged_by, null);
    await store.close();
  });

  it('only under the id of the copy delivered: the answer to a guessed id does not tell which indicator a withheld flash named', async () => {
    const { store, flash, idWith, answer, stateOf } = await sent();
    const tCopy = idWith(undefined);
    assert.notEqual(tCopy, flash.id);
    // T got the copy without the indicator. The flash's own id, recomputed with the right indicator,
    // is answered exactly as a wrong guess is.
    assert.equal(await answer(trial, idWith('indicator--cccccccc-0000-4000-8000-00000000dead')), UNKNOWN);
    assert.equal(await answer(trial, flash.id), UNKNOWN);
    assert.equal((await stateOf(T))?.state, 'delivered');
    assert.equal(await answer(trial, tCopy), 'accepted');
    assert.equal((await stateOf(T))?.state, 'acknowledged');
    // The full member was given the flash itself: the copy without the indicator is not its.
    assert.equal(await answer(full, tCopy), UNKNOWN);
    assert.equal(await answer(full, flash.id), 'accepted');
    assert.equal((await stateOf(full.id))?.acknowledged_by, `duty officer ${full.id.slice(-2)}`);
    await store.close();
  });

  it('not from a member whose node the flash has not reached yet (the delivery failed)', async () => {
    const { store, flash, posted, answer, stateOf } = await sent([trial]);
    assert.ok(posted.some((post) => post.to === full.id), 'the flash was POSTed, but no receipt came back');
    assert.equal(await answer(full, flash.id), UNKNOWN);
    assert.equal((await stateOf(full.id))?.state, 'failed');
    await store.close();
  });

  it('not from an organisation that has left the circle since it was delivered', async () => {
    const { store, circle, flash, answer, setNow } = await sent();
    const left = new Date(AT.getTime() + 60_000);
    setNow(left);
    await store.updateCircle({ ...circle, members: circle.members.map((member) => (member.organisationId === full.id ? { ...member, leftAt: left.toISOString() } : member)) }, left);
    setNow(new Date(AT.getTime() + 120_000));
    assert.equal(await answer(full, flash.id), UNKNOWN);
    await store.close();
  });
});

// A flash is a release (docs/federation.md): each copy POSTed to a member's node is in the audit log,
// written before it leaves, with the circle, the agreement version that bound the member, and
// whether the copy named the flash's indicator.
describe('every copy of a flash sent to a member is in the audit log', () => {
  const full = testOrganisation(2);

  it('names the recipient, the circle, the flash and the copy sent, and whether the indicator was named; nothing for a member the flash did not go to', async () => {
    const { store } = await circleStore({ members: [{ id: full.id }, { id: Q, accepts: false }, { id: T, trial: true }] });
    for (const organisation of [full, trial]) await store.pinKey({ ...organisation.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: CREATED.toISOString() });
    await store.addObjects('alpha', [
      { type: 'indicator', spec_version: '2.1', id: IND, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME, name: 'amber', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.amber] },
    ] as never);
    const { flash } = await sendFlash(flashDeps(store, () => AT, [], [full, trial]), ANALYST, { circleId: 'alpha', text: 'Urgent', indicatorId: IND });
    const records = await store.readAudit({ afterSeq: 0, limit: 100 });
    assert.deepEqual(verifyChain(records.map((record) => record.chained)).ok, true, 'flash entries chain and verify like any other');
    const withoutIndicator = createFlashBody({ circleId: 'alpha', sender: HOME, text: 'Urgent', sentAt: flash.sentAt }).id;
    const at = AT.toISOString();
    assert.deepEqual(
      records.map((record) => record.chained.entry).sort((a, b) => a.recipientOrganisationId.localeCompare(b.recipientOrganisationId)),
      [
        { kind: 'flash', flashId: flash.id, sentFlashId: flash.id, indicatorId: IND, indicatorNamed: true, recipientOrganisationId: full.id, circleId: 'alpha', agreementVersion: 1, at },
        // TLP:AMBER is withheld from a trial member: its copy does not name the indicator.
        { kind: 'flash', flashId: flash.id, sentFlashId: withoutIndicator, indicatorId: IND, indicatorNamed: false, recipientOrganisationId: T, circleId: 'alpha', agreementVersion: 1, at },
      ],
    );
    await store.close();
  });

  it('records every attempt that POSTs a copy, a retry too; a flash naming no indicator says so', async () => {
    let now = AT;
    const { store } = await circleStore({ members: [{ id: full.id }] }, () => now);
    const deps = flashDeps(store, () => now, []);
    const { flash } = await sendFlash(deps, ANALYST, { circleId: 'alpha', text: 'second wave tonight' });
    now = new Date(AT.getTime() + 60_000);
    await deliverFlash(deps, flash.id, [full.id]);
    const entries = (await store.readAudit({ afterSeq: 0, limit: 100 })).map((record) => record.chained.entry);
    assert.deepEqual(entries, [AT, now].map((at) => ({
      kind: 'flash', flashId: flash.id, sentFlashId: flash.id, indicatorNamed: false, recipientOrganisationId: full.id, circleId: 'alpha', agreementVersion: 1, at: at.toISOString(),
    })));
    await store.close();
  });
});

describe('a promoted flash', () => {
  async function promoteReceived(setup: Setup, flash: { readonly indicatorId?: string; readonly sender?: string } = { indicatorId: IND }) {
    const { store } = await circleStore(setup);
    await store.addObjects('alpha', [
      { type: 'indicator', spec_version: '2.1', id: IND, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME, name: 'c2', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.amber] },
    ] as never);
    await store.addFlash({
      id: FLASH, circleId: 'alpha', direction: 'received', senderOrganisationId: flash.sender ?? P, text: 'We are breached via this C2, keep it quiet', indicatorId: flash.indicatorId,
      sentAt: '2026-05-31T00:00:00.000Z', signedJson: '{}', receivedAt: '2026-05-31T00:00:01.000Z', acknowledged: undefined, receipts: [],
    });
    const admin: Recipient = { name: 'admin', organisationId: HOME, admin: true, actsForHome: true, grants: [] };
    return { store, promote: () => promoteFlash(flashDeps(store, () => AT, []), admin, FLASH) };
  }

  it('does not name its sender in its text: a member of a hidden, anonymising circle cannot tell who sent it', async () => {
    const { store, promote } = await promoteReceived({ members: [{ id: P }, { id: Q }], visibility: 'hidden', terms: { attribution: 'anonymise' } });
    const promoted = await promote();
    const entries = (await store.listEntries('alpha', { ids: [promoted.noteId] }, { limit: 1 })).entries;
    const gate = await openReleaseGate(store, partner(Q), 'alpha', AT, { audit: false });
    const [note] = (await gate.release(entries)).released;
    assert.ok(note !== undefined, 'Q receives the note');
    assert.equal(note.json.includes(P), false, `the note names its sender: ${note.json}`);
    assert.equal(JSON.stringify(promoted.note).includes(P), false, 'nothing in the stored note names the sender either');
    await store.close();
  });

  it("is the home organisation's own note, which it signs: an Entente member's node takes an unsigned note naming the home as creator for a forgery", async () => {
    const { store, promote } = await promoteReceived({ members: [{ id: P }, { id: Q }], terms: { onwardSharing: 'none' } });
    const promoted = await promote();
    const [entry] = (await store.listEntries('alpha', { ids: [promoted.noteId] }, { limit: 1 })).entries;
    assert.ok(entry !== undefined);
    assert.equal(promoted.note?.['created_by_ref'], HOME);
    // sign-releases.ts signs a home original, never a version a partner contributed.
    assert.deepEqual(await store.homeOriginalsIn([{ id: entry.id, version: entry.version }]), [true]);
    const contributions = (await store.contributionsOf([{ id: entry.id, version: entry.version }])).get(`${entry.id}\u0000${entry.version}`) ?? [];
    assert.deepEqual(contributions, []);
    await store.close();
  });

  it('without an indicator, refers to its sender only where the circle neither hides members nor anonymises', async () => {
    const open = await promoteReceived({ members: [{ id: P }, { id: Q }] }, {});
    assert.deepEqual((await open.promote()).note?.['object_refs'], [P]);
    await open.store.close();
    for (const setup of [{ visibility: 'hidden' as const }, { terms: { attribution: 'anonymise' as const } }]) {
      const closed = await promoteReceived({ members: [{ id: P }, { id: Q }], ...setup }, {});
      await assert.rejects(closed.promote(), (error: { code?: string; message?: string }) => error.code === 'ENT_FLASH_INVALID' && /indicator/.test(error.message ?? ''));
      await closed.store.close();
    }
  });
  // The early check reads the circle before the note is built; a change written meanwhile (another
  // process hides the circle's members, or proposes anonymising terms) must still hold: the check is
  // taken again on the circle as stored, in the transaction that stores the note.
  it('without an indicator, is refused when the circle comes to hide members or anonymise between the check and the write', async () => {
    const changes: { readonly name: string; readonly apply: (store: ObjectStore, circle: Circle) => Promise<void> }[] = [
      { name: 'hidden', apply: (store, circle) => store.updateCircle({ ...circle, visibility: 'hidden' }, AT) },
      {
        name: 'anonymising terms',
        apply: (store) => store.addAgreement({ circleId: 'alpha', version: 2, proposedBy: HOME, proposedAt: AT.toISOString(), terms: openTerms({ attribution: 'anonymise' }) }),
      },
    ];
    for (const change of changes) {
      const { store } = await promoteReceived({ members: [{ id: P }, { id: Q }] }, {});
      const circle = await store.getCircle('alpha');
      assert.ok(circle !== undefined);
      const racing = new Proxy(store, {
        get(target, property) {
          // Bound to the store itself: its private fields are not the proxy's.
          const value = Reflect.get(target, property) as unknown;
          if (property !== 'recordedObject') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          return async (...args: Parameters<ObjectStore['recordedObject']>) => {
            await change.apply(target, circle);
            return target.recordedObject(...args);
          };
        },
      });
      const admin: Recipient = { name: 'admin', organisationId: HOME, admin: true, actsForHome: true, grants: [] };
      await assert.rejects(
        promoteFlash(flashDeps(racing, () => AT, []), admin, FLASH),
        (error: { code?: string; message?: string }) => error.code === 'ENT_FLASH_INVALID' && /indicator/.test(error.message ?? ''),
        change.name,
      );
      const notes = (await store.listEntries('alpha', { types: ['note'] }, { limit: 10 })).entries;
      assert.deepEqual(notes, [], `${change.name}: no note is stored`);
      assert.equal(await store.getMeta(`flash-promoted:${FLASH}`), undefined, `${change.name}: the flash is not recorded as promoted`);
      await store.close();
    }
  });
});

// Receiving takes the standing sending gives (flash-recipients.ts, decideCircleStanding): a flash
// interrupts the duty officers here, and a member bound by no agreement, or a circle that ended, is
// owed no such channel. Refused as any flash this node will not take (ENT_FLASH_INVALID), storing nothing.
describe('a flash is received only from a member the circle rules bind', () => {
  const sender = testOrganisation(5);
  const S = sender.id;
  const text = 'Urgent: our VPN concentrator is being exploited';

  async function arrives(setup: Setup, change?: (store: ObjectStore, circle: Circle) => Promise<void>): Promise<{ store: ObjectStore; receive: () => Promise<unknown>; flashId: string }> {
    const { store, circle } = await circleStore(setup);
    await store.pinKey({ ...sender.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: CREATED.toISOString() });
    await change?.(store, circle);
    const body = createFlashBody({ circleId: 'alpha', sender: S, text, sentAt: AT.toISOString() });
    const message = signMessage('flash', body, sender.signer);
    return { store, receive: () => receiveFlash(flashDeps(store, () => AT, []), partner(S), message), flashId: body.id };
  }

  const refusedFor = (reason: RegExp) => (error: { code?: string; message?: string }) => error.code === 'ENT_FLASH_INVALID' && reason.test(error.message ?? '');

  it('refuses a member that accepted no agreement version, storing nothing', async () => {
    const { store, receive, flashId } = await arrives({ members: [{ id: S, accepts: false }] });
    await assert.rejects(receive(), refusedFor(/accepted no valid agreement version/));
    assert.equal(await store.getFlash(flashId), undefined);
    await store.close();
  });

  it('takes the flash of a member bound by an accepted agreement version', async () => {
    const { store, receive, flashId } = await arrives({ members: [{ id: S }] });
    const receipt = (await receive()) as SignedMessage;
    assert.equal((receipt.body as Record<string, unknown>)['flash_id'], flashId);
    assert.equal((await store.getFlash(flashId))?.senderOrganisationId, S);
    await store.close();
  });

  // Deliveries that come at once (two workers, or requests of one process interleaving at the store's
  // awaits) are counted against the quota in the transaction that keeps each, not all before any.
  it('keeps no more than the hourly quota of flashes delivered at once', async () => {
    const { store } = await arrives({ members: [{ id: S }] });
    const deps = { ...flashDeps(store, () => AT, []), flashLimitPerHour: 2 };
    const flood = Array.from({ length: 5 }, (_, n) => signMessage('flash', createFlashBody({ circleId: 'alpha', sender: S, text: `Flood ${n}`, sentAt: AT.toISOString() }), sender.signer));
    const answers = await Promise.allSettled(flood.map((message) => receiveFlash(deps, partner(S), message)));
    assert.deepEqual(
      answers.map((answer) => (answer.status === 'fulfilled' ? 'kept' : (answer.reason as { code?: string }).code)),
      ['kept', 'kept', 'ENT_FLASH_RATE_LIMITED', 'ENT_FLASH_RATE_LIMITED', 'ENT_FLASH_RATE_LIMITED'],
    );
    assert.equal(await store.countReceivedFlashes(S, new Date(AT.getTime() - 3_600_000).toISOString()), 2);
    await store.close();
  });

  it('refuses any flash in a circle that has ended, even from a bound member', async () => {
    const ended = '2026-05-01T00:00:00.000Z';
    const { store, receive, flashId } = await arrives({ members: [{ id: S }] }, (store, circle) => store.updateCircle({ ...circle, validUntil: ended }, new Date(ended)));
    await assert.rejects(receive(), refusedFor(/ended/));
    assert.equal(await store.getFlash(flashId), undefined);
    await store.close();
  });
});

// A flash is the sending organisation's contribution to the circle, so rule 3a holds it as it holds
// any version: on a member's node (the home organisation is no coordinator), a newcomer the home
// organisation has not agreed to terms with since it joined is sent nothing, until it has.
describe("a flash from a member's node reaches a newcomer only once the member has agreed to terms with it", () => {
  const JOINED_LATE = '2026-03-01T00:00:00.000Z';

  async function memberNodeStore(clock: () => Date): Promise<ObjectStore> {
    const store = openSqliteObjectStore({ path: ':memory:', clock });
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
    for (const id of [P, Q, T]) await store.createOrganisation({ id, name: id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
    await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
    const circle = {
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'amber',
      validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [
        { organisationId: Q, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        { organisationId: HOME, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        { organisationId: P, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        { organisationId: T, role: 'contributor', joinedAt: JOINED_LATE, trial: false },
      ],
    } as Circle;
    await store.createCircle(circle, CREATED);
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: Q, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms() });
    for (const id of [HOME, P, Q]) await store.addAcceptance({ circleId: 'alpha', organisationId: id, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    await store.addAcceptance({ circleId: 'alpha', organisationId: T, version: 1, acceptedAt: '2026-03-02T00:00:00.000Z' });
    for (const id of [P, Q, T]) {
      await store.addPeer({
        name: `node-${id.slice(-2)}`, url: 'https://x.example/taxii2/', apiRootUrl: 'https://x.example/api/', token: 't', circleId: 'alpha', localCollectionId: 'alpha',
        remoteCollectionId: 'alpha', organisationId: id, kind: 'entente', push: false, intervalSeconds: 60, silentAfter: 3, createdAt: CREATED.toISOString(),
      });
    }
    return store;
  }

  it('is not sent to the newcomer, which is marked not eligible with the reason, while the other members get it', async () => {
    const store = await memberNodeStore(() => AT);
    const posted: Posted[] = [];
    const { deliveries } = await sendFlash(flashDeps(store, () => AT, posted), ANALYST, { circleId: 'alpha', text: 'we see a wiper on our hosts' });
    assert.deepEqual(posted.map((post) => post.to).sort(), [P, Q].sort(), 'the newcomer T gets nothing of what the home organisation never agreed to share with it');
    const newcomer = deliveries.find((delivery) => delivery.organisationId === T);
    assert.equal(newcomer?.outcome, 'not-eligible');
    assert.match(newcomer?.error ?? '', /newcomer/);
    await store.close();
  });

  it('is sent to the newcomer once the home organisation has accepted terms after it joined', async () => {
    const later = new Date('2026-06-10T00:00:00.000Z');
    const store = await memberNodeStore(() => later);
    await store.addAgreement({ circleId: 'alpha', version: 2, proposedBy: Q, proposedAt: '2026-06-02T00:00:00.000Z', terms: openTerms() });
    for (const id of [HOME, P, Q, T]) await store.addAcceptance({ circleId: 'alpha', organisationId: id, version: 2, acceptedAt: '2026-06-03T00:00:00.000Z' });
    const posted: Posted[] = [];
    await sendFlash(flashDeps(store, () => later, posted), ANALYST, { circleId: 'alpha', text: 'we see a wiper on our hosts' });
    assert.deepEqual(posted.map((post) => post.to).sort(), [P, Q, T].sort());
    await store.close();
  });
});
