// What leaves the node for another organisation is signed (docs/federation.md, "Object signatures",
// "Derived versions"): a partner reading over TAXII receives the versions the home organisation
// originated signed with the node's key — verifiable with the key the partner reads at
// GET /api/federation/node — and the same bytes every time; a redacted version is signed by this node
// as derived; a version received signed leaves with its signature unchanged; one received unsigned
// leaves unsigned; in a hidden circle a signature by a member the recipient may not see is replaced by
// this node's derived signature; the home organisation's users receive the stored JSON untouched.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { ensureNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../../src/federation/node-signer.ts';
import { createReleaseSigner } from '../../src/federation/sign-releases.ts';
import { signObject, verifyObjectSignature } from '../../src/federation/sign-object.ts';
import { readSignatureExtension, SIGNATURE_EXTENSION_ID } from '../../src/federation/signature-extension.ts';
import { createKeyDirectory, type KeyDirectory } from '../../src/federation/node-key.ts';
import { testOrganisation } from '../../src/federation/test-support.ts';
import type { NodeIdentityDocument } from '../../src/federation/node-identity.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { Circle } from '../../src/policy/circle.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const PARTNER = testOrganisation(11);
const SIGNER = testOrganisation(12);
const PLAIN = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const OPEN = 'open-circle';
const HIDDEN = 'hidden-circle';
const TAXII = 'application/taxii+json;version=2.1';
const AT = new Date('2026-06-01T00:00:00Z');
const secrets = {
  partner: 'ent_partner-00000000000000000000000000000',
  plain: 'ent_plain-0000000000000000000000000000000',
  home: 'ent_home-00000000000000000000000000000000',
};

const common = { spec_version: '2.1', created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z' };
function indicator(n: number, extra: Record<string, unknown> = {}): StixObject {
  return {
    ...common,
    type: 'indicator',
    id: `indicator--0a0a0a0a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    name: `indicator ${n}`,
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`,
    pattern_type: 'stix',
    valid_from: '2026-02-01T00:00:00Z',
    object_marking_refs: [TLP2_MARKING_IDS.green],
    ...extra,
  } as StixObject;
}

/** Originated here: no provenance, no partner contribution. */
const originated = indicator(1, { description: 'seen by the home CERT' });
/** Its description is marked RED: a partner receives it without the description (a redaction). */
const redacted = indicator(2, { description: 'a red secret', granular_markings: [{ selectors: ['description'], marking_ref: TLP2_MARKING_IDS.red }] });
/** Received from a peer, signed by SIGNER. */
const receivedSigned = signObject(indicator(3), SIGNER.signer);
/** Received unsigned: a plain TAXII client of a partner POSTed it. */
const receivedUnsigned = indicator(4);
/** In the hidden circle: signed by SIGNER, a member the partner may not know to be there. */
const hiddenSigned = signObject(indicator(5), SIGNER.signer);
/** In the hidden circle, originated here. */
const hiddenOriginated = indicator(6);

function circle(id: string, visibility: Circle['visibility']): Circle {
  return {
    id, name: id, kind: 'formal', visibility, collectionId: id, defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [
      { organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
      { organisationId: PARTNER.id, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
      { organisationId: SIGNER.id, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
      { organisationId: PLAIN, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
    ],
  };
}

interface Envelope {
  objects?: StixObject[];
}

describe('signatures on what leaves the node', () => {
  let store: ObjectStore;
  let app: FastifyInstance;
  let directory: KeyDirectory;

  const read = async (token: keyof typeof secrets, collection: string): Promise<{ body: string; objects: StixObject[] }> => {
    const response = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${collection}/objects/`, headers: { authorization: `Bearer ${secrets[token]}`, accept: TAXII } });
    assert.equal(response.statusCode, 200, response.body);
    return { body: response.body, objects: (JSON.parse(response.body) as Envelope).objects ?? [] };
  };
  const byId = (objects: readonly StixObject[], id: string): StixObject => {
    const found = objects.find((object) => object.id === id);
    assert.ok(found, `${id} is released`);
    return found;
  };

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: created.toISOString(), modified: created.toISOString(), name: 'Home CERT', identity_class: 'organization' }));
    await ensureNodeKey(store, created);
    for (const org of [PARTNER.id, SIGNER.id, PLAIN]) {
      await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    }
    await store.pinKey({ ...SIGNER.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: created.toISOString() });
    for (const [id, visibility] of [[OPEN, 'open'], [HIDDEN, 'hidden']] as const) {
      await store.createCollection({ id, title: id }, created);
      await store.createCircle(circle(id, visibility), created);
      await store.addAgreement({
        circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
        // Unsigned input accepted: the plain partner writes with an ordinary TAXII client.
        terms: { scope: { types: ['indicator'] }, highestTlp: 'amber', onwardSharing: 'none', attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain', unsignedInput: 'accept' },
      });
      for (const org of [PARTNER.id, SIGNER.id, PLAIN]) await store.addAcceptance({ circleId: id, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    }
    await store.addObjects(OPEN, [originated, redacted]);
    await store.addObjects(HIDDEN, [hiddenOriginated]);
    for (const [collection, object] of [[OPEN, receivedSigned], [HIDDEN, hiddenSigned]] as const) {
      const signature = readSignatureExtension(object);
      assert.equal(signature.kind, 'ok');
      await store.applySyncBatch({
        collectionId: collection, peer: undefined, circleId: collection, source: 'file', contributorOrganisationId: SIGNER.id,
        accepted: [{ object, signer: SIGNER.id, keyId: SIGNER.signer.keyId, verification: 'verified', hops: [SIGNER.id] }],
        quarantined: [], receivedAt: created.toISOString(),
      });
    }
    const grants = [OPEN, HIDDEN].map((collectionId) => ({ collectionId, read: true, write: true }));
    for (const [name, org] of [['partner', PARTNER.id], ['plain', PLAIN], ['home', undefined]] as const) {
      await store.createToken({ name, secretHash: hashTokenSecret(secrets[name]), admin: false, grants, organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
    }
    const keys = createNodeSignerProvider({ store, organisationId: HOME, clock: () => AT });
    app = await createHttpApp({
      store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => AT, randomUuid: randomUUID,
      homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
      releaseSigner: createReleaseSigner({ store, keys, homeOrganisationId: HOME }),
    });
    // The plain partner's TAXII client POSTs an unsigned indicator (PLAIN has no pinned key: checked as from a plain peer, stored unverified).
    const posted = await app.inject({
      method: 'POST', url: `/taxii2/api/collections/${OPEN}/objects/`,
      headers: { authorization: `Bearer ${secrets.plain}`, accept: TAXII, 'content-type': TAXII }, payload: JSON.stringify({ objects: [receivedUnsigned] }),
    });
    assert.equal(posted.statusCode, 202, posted.body);

    // The partner learns the node's keys where any peer does.
    const identity = await app.inject({ method: 'GET', url: '/api/federation/node', headers: { authorization: `Bearer ${secrets.partner}` } });
    assert.equal(identity.statusCode, 200, identity.body);
    const document = JSON.parse(identity.body) as NodeIdentityDocument;
    assert.equal(document.organisation.id, HOME);
    assert.equal(document.software, 'entente');
    assert.equal(document.protocol, 1);
    assert.equal(document.keys.length, 1);
    assert.ok(!identity.body.includes('private'), 'the identity never carries the private key');
    directory = createKeyDirectory([
      ...document.keys.map((key) => ({ organisationId: HOME, keyId: key.key_id, publicKey: key.public_key, validFrom: key.valid_from, validUntil: key.valid_until })),
      SIGNER.pinned,
    ]);
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  it('a version the home organisation originated reaches a partner signed by it, verifiable with the published key', async () => {
    const object = byId((await read('partner', OPEN)).objects, originated.id);
    const verdict = verifyObjectSignature(object, directory);
    assert.equal(verdict.kind, 'verified', JSON.stringify(verdict));
    assert.ok(verdict.kind === 'verified');
    assert.equal(verdict.signer, HOME);
    assert.equal(verdict.derived, false);
    // Nothing else changed: without the signature it is the stored version.
    const { extensions: _signature, ...rest } = object;
    assert.deepEqual(rest, originated);
  });

  it('the same bytes leave every time, and the signature is kept', async () => {
    const first = await read('partner', OPEN);
    const second = await read('partner', OPEN);
    assert.equal(second.body, first.body);
    const [kept] = await store.signaturesIn([{ id: originated.id, version: originated['modified'] as string, variant: '' }]);
    assert.ok(kept !== undefined, 'kept in the signatures table');
    const extension = byId(first.objects, originated.id)['extensions'] as Record<string, unknown>;
    assert.deepEqual(JSON.parse(kept), extension[SIGNATURE_EXTENSION_ID]);
  });

  it('a kept signature of a version it originated comes with the listed page: the signer looks up none for it, and sends the same bytes', async () => {
    const first = byId((await read('partner', OPEN)).objects, originated.id);
    const asked: string[] = [];
    const counting = { ...store, provenanceOf: store.provenanceOf.bind(store), putSignatures: store.putSignatures.bind(store),
      signaturesIn: async (keys: Parameters<ObjectStore['signaturesIn']>[0]) => {
        asked.push(...keys.map((key) => key.id));
        return store.signaturesIn(keys);
      },
    };
    const partner = { name: 'partner', organisationId: PARTNER.id, admin: false, actsForHome: false, grants: [{ collectionId: OPEN, read: true, write: false }] };
    const signer = createReleaseSigner({ store: counting, keys: createNodeSignerProvider({ store, organisationId: HOME, clock: () => AT }), homeOrganisationId: HOME });
    const gate = await openReleaseGate(store, partner, OPEN, AT, { signer, audit: false });
    const page = await store.listEntries(OPEN, { ids: [originated.id] }, { limit: 10 });
    assert.ok(page.entries[0]?.originSignature !== undefined, 'listed with its kept signature');
    const { released } = await gate.release(page.entries, 10);
    assert.deepEqual(asked, []);
    assert.deepEqual(released.map((entry) => JSON.parse(entry.json) as unknown), [first]);
    // Listed without it (another store, an older listing): looked up, the same bytes.
    const { originSignature: _kept, ...bare } = page.entries[0];
    const again = await gate.release([bare], 10);
    assert.deepEqual(asked, [originated.id]);
    assert.deepEqual(again.released.map((entry) => JSON.parse(entry.json) as unknown), [first]);
  });

  it('the gate releases no more than the room it is given when it signs (entries waiting for signatures count)', async () => {
    const gate = await openReleaseGate(
      store,
      { name: 'partner', organisationId: PARTNER.id, admin: false, actsForHome: false, grants: [{ collectionId: OPEN, read: true, write: false }] },
      OPEN,
      AT,
      { signer: createReleaseSigner({ store, keys: createNodeSignerProvider({ store, organisationId: HOME, clock: () => AT }), homeOrganisationId: HOME }), audit: false },
    );
    const page = await store.listEntries(OPEN, {}, { limit: 100 });
    assert.ok(page.entries.length >= 3);
    const { released, consumed } = await gate.release(page.entries, 1);
    assert.equal(released.length, 1);
    assert.equal(consumed, page.entries.findIndex((entry) => entry.id === released[0]?.id) + 1, 'stops right after the entry that filled the room');
  });

  it('signing keeps pages within the limit the partner asked for, and paging still reaches everything', async () => {
    const whole = (await read('partner', OPEN)).objects.map((object) => object.id).sort();
    assert.ok(whole.length >= 3, 'enough objects to page');
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const query = next === undefined ? 'limit=2' : `limit=2&next=${encodeURIComponent(next)}`;
      const response = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${OPEN}/objects/?${query}`, headers: { authorization: `Bearer ${secrets.partner}`, accept: TAXII } });
      assert.equal(response.statusCode, 200, response.body);
      const page = JSON.parse(response.body) as Envelope & { next?: string; more?: boolean };
      assert.ok((page.objects ?? []).length <= 2, `a page of limit 2 held ${(page.objects ?? []).length}`);
      seen.push(...(page.objects ?? []).map((object) => object.id));
      next = page.more === true ? page.next : undefined;
    } while (next !== undefined);
    assert.deepEqual(seen.sort(), whole);
  });

  it('a tampered copy does not verify (the check can fail)', async () => {
    const object = byId((await read('partner', OPEN)).objects, originated.id);
    assert.equal(verifyObjectSignature({ ...object, name: 'changed' }, directory).kind, 'bad-signature');
  });

  it('a redacted version is signed by this node as derived; the redacted field is absent', async () => {
    const object = byId((await read('partner', OPEN)).objects, redacted.id);
    assert.equal(object['description'], undefined);
    const verdict = verifyObjectSignature(object, directory);
    assert.ok(verdict.kind === 'verified', JSON.stringify(verdict));
    assert.equal(verdict.signer, HOME);
    assert.equal(verdict.derived, true);
  });

  it('a version received signed leaves with its signature unchanged', async () => {
    const object = byId((await read('partner', OPEN)).objects, receivedSigned.id);
    assert.deepEqual(object, receivedSigned);
    const verdict = verifyObjectSignature(object, directory);
    assert.ok(verdict.kind === 'verified');
    assert.equal(verdict.signer, SIGNER.id);
  });

  it('a version received unsigned from a plain partner leaves unsigned', async () => {
    const object = byId((await read('partner', OPEN)).objects, receivedUnsigned.id);
    assert.deepEqual(object, receivedUnsigned);
    assert.equal(readSignatureExtension(object).kind, 'absent');
  });

  it("in a hidden circle, a member's signature the recipient may not see is replaced by this node's derived one", async () => {
    const { objects } = await read('partner', HIDDEN);
    const resigned = byId(objects, hiddenSigned.id);
    const verdict = verifyObjectSignature(resigned, directory);
    assert.ok(verdict.kind === 'verified', JSON.stringify(verdict));
    assert.equal(verdict.signer, HOME);
    assert.equal(verdict.derived, true);
    assert.ok(!JSON.stringify(resigned).includes(SIGNER.id), 'the hidden member is not named');
    assert.ok(!JSON.stringify(resigned).includes(SIGNER.signer.keyId), "nor is its key");
    const own = verifyObjectSignature(byId(objects, hiddenOriginated.id), directory);
    assert.ok(own.kind === 'verified' && own.signer === HOME && !own.derived);
  });

  it("the signer itself still receives its own signature in the hidden circle", async () => {
    const signerToken = 'ent_signer-0000000000000000000000000000000';
    await store.createToken({ name: 'signer', secretHash: hashTokenSecret(signerToken), admin: false, grants: [{ collectionId: HIDDEN, read: true, write: false }], organisationId: SIGNER.id, createdAt: AT.toISOString(), revokedAt: undefined });
    const response = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${HIDDEN}/objects/`, headers: { authorization: `Bearer ${signerToken}`, accept: TAXII } });
    assert.deepEqual(byId((JSON.parse(response.body) as Envelope).objects ?? [], hiddenSigned.id), hiddenSigned);
  });

  it("the home organisation's users receive the stored JSON, unsigned", async () => {
    const { objects } = await read('home', OPEN);
    assert.deepEqual(byId(objects, originated.id), originated);
    assert.deepEqual(byId(objects, redacted.id), redacted, 'nothing redacted for the home organisation either');
    assert.deepEqual(byId(objects, receivedSigned.id), receivedSigned);
  });

  it('search results for a partner are signed the same way', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/search?q=home', headers: { authorization: `Bearer ${secrets.partner}` } });
    assert.equal(response.statusCode, 200, response.body);
    const results = (JSON.parse(response.body) as { results: { object: StixObject }[] }).results;
    const hit = results.find((result) => result.object.id === originated.id);
    assert.ok(hit, 'found');
    assert.equal(verifyObjectSignature(hit.object, directory).kind, 'verified');
  });
});
