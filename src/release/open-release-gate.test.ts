import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadKeyDirectory } from '../federation/load-arrival-context.ts';
import { ensureNodeKey } from '../federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../federation/node-signer.ts';
import { createReleaseSigner } from '../federation/sign-releases.ts';
import { signObject, verifyObjectSignature } from '../federation/sign-object.ts';
import { openTerms, testOrganisation } from '../federation/test-support.ts';
import type { Circle } from '../policy/circle.ts';
import type { Recipient } from '../policy/recipient.ts';
import { TLP2_MARKING_IDS } from '../policy/tlp.ts';
import { ententeSignatureOf } from '../stix/entente-signature.ts';
import type { StixObject } from '../stix/types.ts';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import type { StoredEntry } from '../store/object-store.ts';
import { openReleaseGate, type GateStore } from './open-release-gate.ts';

const HOME = 'identity--11111111-1111-4111-8111-111111111111';
const PARTNER = 'identity--22222222-2222-4222-8222-222222222222';
const AT = new Date('2026-01-01T00:00:00.000Z');

function reader(overrides: Partial<Recipient>): Recipient {
  return { name: 'reader', organisationId: HOME, admin: false, actsForHome: true, grants: [{ collectionId: 'shared', read: true, write: false }], ...overrides };
}

function entries(count: number): StoredEntry[] {
  return Array.from({ length: count }, (_, n) => ({
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type: 'indicator',
    version: '2026-01-01T00:00:00.000Z',
    specVersion: '2.1',
    dateAdded: 1000 + n,
    revoked: false,
    json: '{}',
  }));
}

/**
 * A partner gate reads the store; these cases must be settled without it, but for the one meta read
 * saying which collection is the home sightings collection (none here), whose home readers are decided
 * entry by entry (home-sightings-gate.ts).
 */
const noStore = new Proxy({} as GateStore, {
  get: (_target, method) => (method === 'getMeta' ? () => Promise.resolve(undefined) : () => Promise.reject(new Error(`the store was asked for ${String(method)}`))),
});

describe('openReleaseGate, for readers the grant settles', () => {
  it('shares every entry with a home reader holding the read grant, without reading the store or the objects', async () => {
    const gate = await openReleaseGate(noStore, reader({}), 'shared', AT);
    assert.equal(gate.sharesEveryEntry, true);
    assert.equal(gate.readsObjects, false);
    const { released, consumed } = await gate.release(entries(5), 3);
    assert.deepEqual(released.map((entry) => entry.dateAdded), [1000, 1001, 1002]);
    assert.equal(consumed, 3);
  });

  it('shares nothing with a home reader without the read grant, and says it examined every entry', async () => {
    const gate = await openReleaseGate(noStore, reader({ grants: [{ collectionId: 'other', read: true, write: true }] }), 'shared', AT);
    assert.equal(gate.sharesEveryEntry, false);
    assert.deepEqual(await gate.release(entries(4), 2), { released: [], consumed: 4 });
    assert.equal((await gate.decide(entries(1)[0] as StoredEntry)).kind, 'withhold');
  });

  it('lets administrators read every collection whole', async () => {
    const gate = await openReleaseGate(noStore, reader({ admin: true, grants: [] }), 'anything', AT);
    assert.equal(gate.sharesEveryEntry, true);
  });

  it('never shares a partner organisation every entry unread, even with a read grant', async () => {
    const store: GateStore = {
      getCircleByCollection: async () => undefined,
      getAgreementState: async () => { throw new Error('no circle, no agreement'); },
      getOrganisation: async () => undefined,
      markingDefinitions: async () => new Map(),
      listEntries: async () => ({ entries: [], more: false }),
      evidenceReferrersOf: async (_collectionId, asked) => asked.map(() => undefined),
      appendAudit: async () => undefined,
      contributionsOf: async () => new Map(),
      contributionsOfEntries: async () => new Map(),
      homeOriginalsIn: async (versions) => versions.map(() => false),
      provenanceOf: async () => new Map(),
      getMeta: async () => undefined,
      listCircles: async () => [],
    };
    const gate = await openReleaseGate(store, reader({ organisationId: PARTNER, actsForHome: false }), 'shared', AT);
    assert.equal(gate.sharesEveryEntry, false);
    // Outside a circle a partner receives nothing.
    const { released } = await gate.release(entries(2).map((entry) => ({ ...entry, json: '{"type":"indicator","id":"' + entry.id + '"}' })));
    assert.deepEqual(released, []);
  });
});

describe('openReleaseGate, marking definitions', () => {
  const MARKING = 'marking-definition--33333333-3333-4333-8333-333333333333';
  const marked = {
    type: 'indicator', spec_version: '2.1', id: 'indicator--33333333-3333-4333-8333-333333333334', created: '2025-06-01T00:00:00.000Z',
    modified: '2025-06-01T00:00:00.000Z', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2025-06-01T00:00:00Z',
    object_marking_refs: [MARKING],
  };

  /** Circle 'shared' (home and the partner), holding an indicator marked by a statement held only in 'elsewhere'. */
  async function partnerGate(publicCatalogue: ReadonlySet<string>): Promise<number> {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      const created = new Date('2025-01-01T00:00:00Z');
      await store.createOrganisation({ id: PARTNER, name: 'partner', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
      for (const id of ['shared', 'elsewhere']) await store.createCollection({ id, title: id }, created);
      await store.createCircle({
        id: 'shared', name: 'shared', kind: 'formal', visibility: 'open', collectionId: 'shared', defaultTlp: 'green', validFrom: '2025-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, PARTNER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2025-01-01T00:00:00.000Z', trial: false })),
      }, created);
      await store.addAgreement({ circleId: 'shared', version: 1, proposedBy: HOME, proposedAt: '2025-01-02T00:00:00.000Z', terms: openTerms() });
      await store.addAcceptance({ circleId: 'shared', organisationId: PARTNER, version: 1, acceptedAt: '2025-01-03T00:00:00.000Z' });
      await store.addObjects('elsewhere', [{ type: 'marking-definition', spec_version: '2.1', id: MARKING, created: '2025-01-05T00:00:00.000Z', definition_type: 'statement', definition: { statement: 'held elsewhere' } }]);
      await store.addObjects('shared', [marked]);
      const gate = await openReleaseGate(store, reader({ organisationId: PARTNER, actsForHome: false, grants: [{ collectionId: 'shared', read: true, write: false }] }), 'shared', AT, { audit: false, publicCatalogue });
      const page = await store.listEntries('shared', {}, { limit: 10 });
      return (await gate.release(page.entries)).released.length;
    } finally {
      await store.close();
    }
  }

  it('does not read a definition the collection released does not hold: what it marks is withheld', async () => {
    assert.equal(await partnerGate(new Set()), 0);
  });

  it('reads a definition of the public catalogue wherever the node holds it', async () => {
    assert.equal(await partnerGate(new Set([MARKING])), 1);
  });
});

describe('openReleaseGate under anonymising terms (TAXII reads, push, export --for)', () => {
  // A circle of three: this node (the coordinator), the partner reading, and the source, another
  // member whose node signed what it sent. Its terms anonymise: the partner must not learn who
  // produced what it receives, neither from created_by_ref nor from the signature's `signer`.
  const NODE = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
  const READER = testOrganisation(11);
  const SOURCE = testOrganisation(12);
  const C0 = '2026-01-01T00:00:00.000Z';
  const NOW = new Date('2026-06-01T00:00:00Z');
  const indicator = (n: number, extra: Record<string, unknown> = {}): StixObject => ({
    type: 'indicator', spec_version: '2.1', id: `indicator--0a0a0a0a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', name: `indicator ${n}`, pattern: `[ipv4-addr:value = '198.51.100.${n}']`,
    pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green], ...extra,
  });
  const bySource = signObject(indicator(1), SOURCE.signer);
  const bySourceNamed = signObject(indicator(2, { created_by_ref: SOURCE.id }), SOURCE.signer);
  const byReader = signObject(indicator(3), READER.signer);

  async function anonymisingNode() {
    const store = openSqliteObjectStore({ path: ':memory:' });
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: NODE, created: C0, modified: C0, name: 'Home', identity_class: 'organization' }));
    await ensureNodeKey(store, new Date(C0));
    for (const org of [READER, SOURCE]) {
      await store.createOrganisation({ id: org.id, name: org.id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: C0 });
      await store.pinKey({ ...org.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: C0 });
    }
    await store.createCollection({ id: 'c', title: 'c' }, new Date(C0));
    const circle: Circle = {
      id: 'c', name: 'c', kind: 'formal', visibility: 'open', collectionId: 'c', defaultTlp: 'amber', validFrom: C0, reviewAt: '2027-01-01T00:00:00.000Z',
      members: [NODE, READER.id, SOURCE.id].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: C0, trial: false })),
    };
    await store.createCircle(circle, new Date(C0));
    await store.addAgreement({ circleId: 'c', version: 1, proposedBy: NODE, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms({ attribution: 'anonymise' }) });
    for (const org of [READER, SOURCE]) await store.addAcceptance({ circleId: 'c', organisationId: org.id, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    for (const [org, objects] of [[SOURCE, [bySource, bySourceNamed]], [READER, [byReader]]] as const) {
      await store.applySyncBatch({
        collectionId: 'c', peer: undefined, circleId: 'c', source: 'file', contributorOrganisationId: org.id, quarantined: [], receivedAt: C0,
        accepted: objects.map((object) => ({ object, signer: org.id, keyId: org.signer.keyId, verification: 'verified' as const, hops: [org.id] })),
      });
    }
    const reader: Recipient = { name: 'partner', organisationId: READER.id, admin: false, actsForHome: false, grants: [{ collectionId: 'c', read: true, write: false }] };
    const signer = createReleaseSigner({ store, keys: createNodeSignerProvider({ store, organisationId: NODE, clock: () => NOW }), homeOrganisationId: NODE });
    return { store, reader, signer };
  }

  it('sends nothing the source signed under its own name: the node re-signs it as derived, with or without created_by_ref', async () => {
    const { store, reader, signer } = await anonymisingNode();
    try {
      const gate = await openReleaseGate(store, reader, 'c', NOW, { signer });
      const { released } = await gate.release((await store.listEntries('c', {}, { limit: 10 })).entries);
      const directory = await loadKeyDirectory(store, NODE);
      const sent = new Map(released.map((entry) => [entry.id, JSON.parse(entry.json) as StixObject]));
      for (const id of [bySource.id, bySourceNamed.id]) {
        const object = sent.get(id);
        assert.ok(object !== undefined, `${id} is released`);
        assert.equal(JSON.stringify(object).includes(SOURCE.id), false, `${id} does not name the source`);
        assert.equal(object['created_by_ref'], undefined);
        const verdict = verifyObjectSignature(object, directory);
        assert.ok(verdict.kind === 'verified', `${id} carries a signature that verifies`);
        assert.deepEqual([verdict.signer, verdict.derived], [NODE, true], `${id} is signed by this node as a derived version`);
      }
      assert.deepEqual(sent.get(byReader.id), byReader, "the partner's own version comes back as it sent it, under its own signature");
    } finally {
      await store.close();
    }
  });

  it("without a signer too, a released version carries no signature naming the source", async () => {
    const { store, reader } = await anonymisingNode();
    try {
      const gate = await openReleaseGate(store, reader, 'c', NOW, { audit: false });
      const { released } = await gate.release((await store.listEntries('c', {}, { limit: 10 })).entries);
      const sourceVersions = released.filter((entry) => entry.id !== byReader.id);
      assert.equal(sourceVersions.length, 2);
      for (const entry of sourceVersions) {
        assert.equal(entry.json.includes(SOURCE.id), false, `${entry.id} does not name the source`);
        assert.equal(ententeSignatureOf(JSON.parse(entry.json) as StixObject), undefined, `${entry.id} leaves unsigned rather than with the source's signature`);
      }
    } finally {
      await store.close();
    }
  });
});
