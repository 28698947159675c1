// Publishing a draft that names an ATT&CK technique copies a version of it from another collection
// only when that version is the shipped public catalogue's entry and nothing more (its id, type, name
// and MITRE external id; no description, phases, markings or anything else the catalogue does not
// vouch for), and only from a collection the publisher may read. A partner's edited version with its
// own notes, marked or not, stays where it is, and the report names the technique by id; and whether
// a copy appears tells nothing of collections the publisher cannot read.
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDraftFromBytes, decideOnDraft, publishDraft, type DraftDeps, type PublishRequest } from '../../src/drafts/draft-operations.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const ALPHA = 'identity--dddddddd-0000-4000-8000-00000000000a';
const READER = 'identity--dddddddd-0000-4000-8000-00000000000c';
const MITRE = 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5';
const POWERSHELL = 'attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736'; // T1059.001 in the shipped catalogue
const SECRET = 'ALPHA INTERNAL: seen on our SCADA jump host jh-07.alpha.local; vendor not yet told.';
const NOTE = 'Weekly note\n\nThe actor ran PowerShell (T1059.001) to fetch a loader from 45.77.12.31.\n';
const RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';

/** The partner's own version of the technique: MITRE's id and creator, its notes in the description. */
const partnerVersion = (extra: Record<string, unknown> = {}): StixObject => ({
  type: 'attack-pattern', spec_version: '2.1', id: POWERSHELL, created: '2020-03-09T13:52:32.320Z', modified: '2026-05-01T00:00:00.000Z',
  created_by_ref: MITRE, name: 'PowerShell', description: SECRET, kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }], ...extra,
});

/** Nothing but what the shipped catalogue says of the technique, and a phase named after one of its tactics. */
const catalogueEntry: StixObject = {
  type: 'attack-pattern', spec_version: '2.1', id: POWERSHELL, created: '2020-03-09T13:52:32.320Z', modified: '2025-10-24T17:48:19.059Z',
  created_by_ref: MITRE, name: 'PowerShell', external_references: [{ source_name: 'mitre-attack', external_id: 'T1059.001' }],
  kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }],
};

describe('an ATT&CK object held in another collection, at publication', () => {
  let store: ObjectStore;
  let deps: DraftDeps;
  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    for (const org of [ALPHA, READER]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    const terms = { scope: { types: ['indicator', 'attack-pattern', 'report', 'ipv4-addr', 'identity', 'relationship'] }, highestTlp: 'red', onwardSharing: 'circles', attribution: 'keep',
      expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain', unsignedInput: 'accept' } as const;
    for (const [id, defaultTlp, member] of [['strict-c', 'amber+strict', ALPHA], ['green-c', 'green', READER]] as const) {
      await store.createCollection({ id, title: id }, created);
      await store.createCircle({ id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp, validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, member].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })) }, created);
      await store.addAgreement({ circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms });
      await store.addAcceptance({ circleId: id, organisationId: member, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    }
    let u = 0;
    deps = { store, clock: () => new Date('2026-11-24T09:00:00Z'), randomUuid: () => `00000000-0000-4000-8000-${(u += 1).toString(16).padStart(12, '0')}`, homeOrganisationId: HOME };
  });
  after(() => store.close());

  /** Ana's REST token: read and write on green-c only (strict-c is hidden from her). */
  const asAna: Pick<PublishRequest, 'access' | 'read'> = { access: (c) => (c === 'green-c' ? 'granted' : 'hidden'), read: (c) => c === 'green-c' };

  async function publish(scope: Pick<PublishRequest, 'access' | 'read'>): Promise<{ report: StixObject; objects: readonly StixObject[] }> {
    const draft = await createDraftFromBytes(deps, { fileName: 'note.txt', bytes: new TextEncoder().encode(NOTE) }, 'operator');
    await decideOnDraft(deps, draft.id, draft.items.map((item) => item.id), { decision: 'accept' }, 'ana', 'operator');
    return publishDraft(deps, { draftId: draft.id, collection: 'green-c', tlp: 'green', analyst: 'ana', viewer: 'operator', ...scope });
  }

  async function heldIn(collectionId: string): Promise<StixObject[]> {
    return (await store.listEntries(collectionId, {}, { limit: 1000 })).entries.map((entry) => JSON.parse(entry.json) as StixObject);
  }

  async function receivedBy(recipient: Recipient): Promise<string> {
    const gate = await openReleaseGate(store, recipient, 'green-c', new Date('2026-11-24T10:00:00Z'), { audit: false });
    const page = await store.listEntries('green-c', { versions: [{ kind: 'last' }] }, { limit: 100 });
    return JSON.stringify((await gate.release(page.entries)).released.map((entry) => entry.json));
  }

  const ana: Recipient = { name: 'ana', organisationId: HOME, admin: false, actsForHome: true, grants: [{ collectionId: 'green-c', read: true, write: true }] };
  const reader: Recipient = { name: 'reader', organisationId: READER, admin: false, actsForHome: false, grants: [{ collectionId: 'green-c', read: true, write: false }] };

  for (const [what, extra] of [['unmarked', {}], ['marked TLP:RED', { object_marking_refs: [RED] }]] as const) {
    it(`does not copy a partner's edited version (${what}) from a collection the publisher cannot read: the report names the technique by id`, async () => {
      await store.addObjects('strict-c', [partnerVersion(extra)], undefined, ALPHA);
      const out = await publish(asAna);
      assert.ok((out.report['object_refs'] as string[]).includes(POWERSHELL), 'the report names the public technique');
      assert.equal(out.objects.some((object) => object.id === POWERSHELL), false);
      assert.equal(JSON.stringify(await heldIn('green-c')).includes(SECRET), false, "nothing of the partner's notes reaches the GREEN collection");
      assert.equal((await receivedBy(ana)).includes(SECRET), false);
      assert.equal((await receivedBy(reader)).includes(SECRET), false);
    });
  }

  it("does not copy a partner's edited version even for a publisher who may read every collection", async () => {
    await store.addObjects('strict-c', [partnerVersion()], undefined, ALPHA);
    const out = await publish({});
    assert.equal(out.objects.some((object) => object.id === POWERSHELL), false);
    assert.equal(JSON.stringify(await heldIn('green-c')).includes(SECRET), false);
  });

  it('does not copy a version that only looks like the catalogue: another name, an extra property, a marking, a phase or reference of its own', async () => {
    await store.createCollection({ id: 'open', title: 'open' }, new Date('2026-01-01T00:00:00Z'));
    for (const [n, changed] of [{ name: 'PowerShell (ALPHA: jh-07)' }, { labels: ['jh-07'] }, { object_marking_refs: [RED] }, { kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'jh-07' }] },
      { external_references: [{ source_name: 'mitre-attack', external_id: 'T1059.001', url: 'https://alpha.example/jh-07' }] }].entries()) {
      await store.addObjects('open', [{ ...catalogueEntry, modified: `2026-0${n + 1}-01T00:00:00.000Z`, ...changed }], undefined, ALPHA);
      const out = await publish({});
      assert.equal(out.objects.some((object) => object.id === POWERSHELL), false, JSON.stringify(changed));
    }
  });

  it('copies the catalogue entry from a collection the publisher may read, and never from one it cannot: a copy tells nothing of hidden collections', async () => {
    await store.addObjects('strict-c', [catalogueEntry], undefined, ALPHA);
    const hidden = await publish(asAna);
    assert.equal(hidden.objects.some((object) => object.id === POWERSHELL), false, 'held only where Ana cannot read: named by id, as if the node held nothing');
    const visible = await publish({});
    assert.deepEqual(visible.objects.find((object) => object.id === POWERSHELL), catalogueEntry, 'the operator reads strict-c: the public entry is published as it is');
    const indicator = visible.objects.find((object) => object.type === 'indicator');
    assert.deepEqual(indicator?.['kill_chain_phases'], [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }], 'and the indicator takes its phase');
  });
});
