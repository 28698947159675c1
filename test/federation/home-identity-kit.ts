// A node whose home organisation's identity partners may try to write: circle alpha (the home and a
// plain partner, no pinned keys), circle beta (the home and an Entente peer), both accepting unsigned
// input from plain partners and sharing sightings as a summary; `inbox`, a collection of no circle
// the plain partner and the Entente peer may write into; `elsewhere`, a collection no partner reads.
// The node holds its identity in beta only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { ensureNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../../src/federation/node-signer.ts';
import { createReleaseSigner } from '../../src/federation/sign-releases.ts';
import { SIGNATURE_EXTENSION_ID } from '../../src/federation/signature-extension.ts';
import { openTerms, testOrganisation } from '../../src/federation/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

export const HOME = 'identity--0e0e0e0e-0000-4000-8000-000000000000';
export const PLAIN = 'identity--0e0e0e0e-0000-4000-8000-0000000000aa';
export const PEER = testOrganisation(7);
export const AT = new Date('2026-06-01T00:00:00Z');
const TAXII = 'application/taxii+json;version=2.1';
const secrets = { plain: 'ent_plain-000000000000000000000000000000000', peer: 'ent_peer-0000000000000000000000000000000000' };
export type Partner = keyof typeof secrets;

export const homeIdentity = { type: 'identity', spec_version: '2.1', id: HOME, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'Home', identity_class: 'organization' };
/** A newer version of the home organisation's identity, as a partner would forge it. */
export const forged = { ...homeIdentity, modified: '2026-05-01T00:00:00.000Z', name: 'Home (contact: attacker@evil.example)', contact_information: 'attacker@evil.example' };

export interface StatusJson {
  success_count: number;
  failure_count: number;
  failures?: { id: string; version: string; message: string }[];
}

export interface HomeIdentityNode {
  readonly store: SqliteObjectStore;
  post(token: Partner, collection: string, objects: unknown[]): Promise<StatusJson>;
  /** The versions of an id that have an entry in the collection. */
  versionsIn(collection: string, id: string): Promise<string[]>;
  /** The home identity as the Entente peer reads it from beta: released, so signed by the home organisation. */
  releasedHomeIdentity(): Promise<StixObject>;
  close(): Promise<void>;
}

export async function startHomeIdentityNode(): Promise<HomeIdentityNode> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  const created = new Date('2026-01-01T00:00:00Z');
  await store.setMeta('home_organisation', JSON.stringify(homeIdentity));
  await ensureNodeKey(store, created);
  for (const org of [PLAIN, PEER.id]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
  await store.pinKey({ ...PEER.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: created.toISOString() });
  for (const [id, member] of [['alpha', PLAIN], ['beta', PEER.id]] as const) {
    await store.createCollection({ id, title: id }, created);
    await store.createCircle(
      {
        id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, member].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' as const : 'contributor' as const, joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
      },
      created,
    );
    await store.addAgreement({
      circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: openTerms({ unsignedInput: 'accept', sightingSharing: 'summary', scope: { types: ['indicator', 'sighting', 'identity', 'ipv4-addr', 'observed-data'] } }),
    });
    await store.addAcceptance({ circleId: id, organisationId: member, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  }
  await store.createCollection({ id: 'inbox', title: 'no circle' }, created);
  await store.createCollection({ id: 'elsewhere', title: 'no circle, no partner' }, created);
  await store.createToken({
    name: 'plain', secretHash: hashTokenSecret(secrets.plain), admin: false, organisationId: PLAIN, createdAt: created.toISOString(), revokedAt: undefined,
    grants: ['alpha', 'inbox'].map((collectionId) => ({ collectionId, read: true, write: true })),
  });
  await store.createToken({
    name: 'peer', secretHash: hashTokenSecret(secrets.peer), admin: false, organisationId: PEER.id, createdAt: created.toISOString(), revokedAt: undefined,
    grants: ['beta', 'inbox'].map((collectionId) => ({ collectionId, read: true, write: true })),
  });
  await store.addObjects('beta', [homeIdentity as StixObject]);
  const keys = createNodeSignerProvider({ store, organisationId: HOME, clock: () => AT });
  const app: FastifyInstance = await createHttpApp({
    store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => AT, randomUuid: randomUUID,
    homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
    releaseSigner: createReleaseSigner({ store, keys, homeOrganisationId: HOME }),
  });

  const request = (token: Partner, method: 'GET' | 'POST', url: string, objects?: unknown[]) =>
    app.inject({
      method, url,
      headers: { authorization: `Bearer ${secrets[token]}`, accept: TAXII, ...(objects === undefined ? {} : { 'content-type': TAXII }) },
      ...(objects === undefined ? {} : { payload: JSON.stringify({ objects }) }),
    });
  return {
    store,
    async post(token, collection, objects) {
      const response = await request(token, 'POST', `/taxii2/api/collections/${collection}/objects/`, objects);
      assert.equal(response.statusCode, 202, response.body);
      return JSON.parse(response.body) as StatusJson;
    },
    async versionsIn(collection, id) {
      return (await store.listEntries(collection, { ids: [id], versions: [{ kind: 'all' }] }, { limit: 50 })).entries.map((entry) => entry.version);
    },
    async releasedHomeIdentity() {
      const response = await request('peer', 'GET', `/taxii2/api/collections/beta/objects/?match[id]=${HOME}`);
      const [object] = (JSON.parse(response.body) as { objects?: StixObject[] }).objects ?? [];
      assert.ok(object !== undefined, response.body);
      assert.equal((object.extensions as Record<string, { signer?: string }> | undefined)?.[SIGNATURE_EXTENSION_ID]?.signer, HOME);
      return object;
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}
