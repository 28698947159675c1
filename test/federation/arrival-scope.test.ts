// A partner writing into its circle's collection is judged against the node's history of the id —
// an object id has one history here, and a version planted in one collection would otherwise steer
// every node-wide reader (recall authority, the matcher, revocations, the home identity) — but told
// nothing of it (docs/federation.md, "Arrival checks", "Whose history"): every verdict read from that
// history (not-origin, rollback, content-conflict) and every store refusal (one row per id and
// version, nothing after a revocation, marking definitions never versioned) reaches it in the same
// words, naming no rule, signer, version or time; the administrator's quarantine record keeps the
// details. Marking definitions count only where the target collection holds them.
//
// Circle alpha: the home organisation and P (a plain partner, read and write on alpha and on
// 'inbox', a collection of no circle). Circle beta: the home organisation, X (an Entente partner,
// key pinned) and Q (plain). P has no grant on beta. Circle gamma: the home organisation and Y
// (an Entente partner, key pinned) — for the redacted copy of a version held whole through beta.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { ensureNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../../src/federation/node-signer.ts';
import { createReleaseSigner } from '../../src/federation/sign-releases.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { importSignedBundle } from '../../src/federation/import-signed-bundle.ts';
import { openTerms, testOrganisation } from '../../src/federation/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import type { Circle } from '../../src/policy/circle.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const X = testOrganisation(7);
const Y = testOrganisation(8);
const P = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const Q = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const AT = new Date('2026-06-01T00:00:00Z');
const EXTENSION = 'extension-definition--014e3473-d4e7-4544-b76b-4fde9209e1b4';
const TAXII = 'application/taxii+json;version=2.1';
const secrets = {
  p: 'ent_p-00000000000000000000000000000000000000',
  x: 'ent_x-00000000000000000000000000000000000000',
  y: 'ent_y-00000000000000000000000000000000000000',
  q: 'ent_q-00000000000000000000000000000000000000',
  u: 'ent_u-00000000000000000000000000000000000000',
  h: 'ent_h-00000000000000000000000000000000000000',
};
type TokenName = keyof typeof secrets;

interface Status {
  readonly success_count: number;
  readonly failure_count: number;
  readonly failures?: readonly { readonly id: string; readonly version?: string; readonly message: string }[];
}

interface World {
  readonly store: SqliteObjectStore;
  post(token: TokenName, collection: string, objects: readonly unknown[]): Promise<Status>;
  objects(token: TokenName, collection: string): Promise<StixObject[]>;
  close(): Promise<void>;
}

function circle(id: string, members: readonly string[]): Circle {
  return {
    id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'green',
    validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [HOME, ...members].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' as const : 'contributor' as const, joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
  };
}

async function world(): Promise<World> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  const created = new Date('2026-01-01T00:00:00Z');
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: created.toISOString(), modified: created.toISOString(), name: 'Home', identity_class: 'organization' }));
  await ensureNodeKey(store, created);
  for (const org of [X.id, Y.id, P, Q]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
  for (const org of [X, Y]) await store.pinKey({ ...org.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: created.toISOString() });
  for (const [id, members] of [['alpha', [P]], ['beta', [X.id, Q]], ['gamma', [Y.id]]] as const) {
    await store.createCollection({ id, title: id }, created);
    await store.createCircle(circle(id, members), created);
    await store.addAgreement({ circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms({ onwardSharing: 'none', unsignedInput: 'accept' }) });
    for (const org of members) await store.addAcceptance({ circleId: id, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  }
  await store.createCollection({ id: 'inbox', title: 'inbox (no circle)' }, created);
  const token = (name: TokenName, organisationId: string | undefined, collections: readonly string[], admin = false) =>
    store.createToken({
      name, secretHash: hashTokenSecret(secrets[name]), admin, organisationId, createdAt: created.toISOString(), revokedAt: undefined,
      grants: collections.map((collectionId) => ({ collectionId, read: true, write: true })),
    });
  await token('p', P, ['alpha', 'inbox']);
  await token('x', X.id, ['beta']);
  await token('y', Y.id, ['gamma']);
  await token('q', Q, ['beta']);
  await token('u', undefined, ['inbox']);
  await token('h', undefined, ['alpha', 'beta', 'gamma', 'inbox'], true);
  const keys = createNodeSignerProvider({ store, organisationId: HOME, clock: () => AT });
  const app: FastifyInstance = await createHttpApp({
    store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => AT, randomUuid: randomUUID,
    homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
    releaseSigner: createReleaseSigner({ store, keys, homeOrganisationId: HOME }),
  });
  const request = async (name: TokenName, method: 'GET' | 'POST', url: string, body?: unknown) => {
    const response = await app.inject({
      method, url,
      headers: { authorization: `Bearer ${secrets[name]}`, accept: TAXII, ...(body === undefined ? {} : { 'content-type': TAXII }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
    return JSON.parse(response.body) as unknown;
  };
  return {
    store,
    post: async (name, collection, objects) => (await request(name, 'POST', `/taxii2/api/collections/${collection}/objects/`, { objects })) as Status,
    objects: async (name, collection) => ((await request(name, 'GET', `/taxii2/api/collections/${collection}/objects/?match[version]=all`)) as { objects?: StixObject[] }).objects ?? [],
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

let serial = 0;
function indicator(overrides: Record<string, unknown> = {}): StixObject {
  serial += 1;
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--0a0a0a0a-1111-4000-8000-${String(serial).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', name: `probe ${serial}`, description: 'whole',
    pattern: `[ipv4-addr:value = '198.51.100.${serial % 250}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
    ...overrides,
  } as StixObject;
}

const MARCH = '2026-03-01T00:00:00.000Z';
const APRIL = '2026-04-01T00:00:00.000Z';

/** What P learns from its write: the counts and the failure messages, with the probe's id blanked out. */
function seen(status: Status, id: string): unknown {
  return { success: status.success_count, failures: (status.failures ?? []).map((failure) => failure.message.replaceAll(id, 'ID')) };
}

const worlds: World[] = [];
async function fresh(): Promise<World> {
  const made = await world();
  worlds.push(made);
  return made;
}
after(async () => {
  for (const made of worlds) await made.close();
});

describe("a partner's write is judged against the node's history of the id, and told nothing of it", () => {
  type Case = { readonly held: string; readonly seed: (w: World, v: StixObject) => Promise<unknown>; readonly probe: (v: StixObject) => StixObject; readonly reason: string };
  const generic = (v: StixObject): string => `quarantined: ${v.id} version ${String(v['modified'])} cannot be stored on this node`;
  const cases: Case[] = [
    { held: 'an X-signed version held only in beta', seed: (w, v) => w.post('x', 'beta', [signObject(v, X.signer)]), probe: (v) => ({ ...v, modified: MARCH }), reason: 'not-origin' },
    {
      held: 'a home version held only in beta, signed once when released to X',
      seed: async (w, v) => {
        await w.store.addObjects('beta', [v]);
        await w.objects('x', 'beta');
      },
      probe: (v) => ({ ...v, modified: MARCH }),
      reason: 'not-origin',
    },
    { held: 'a newer version held only in beta', seed: (w, v) => w.post('q', 'beta', [{ ...v, modified: MARCH }]), probe: (v) => v, reason: 'rollback' },
    { held: 'a newer version within alpha', seed: (w, v) => w.post('p', 'alpha', [{ ...v, modified: MARCH }]), probe: (v) => v, reason: 'rollback' },
  ];
  for (const { held, seed, probe, reason } of cases) {
    it(`refuses a version against ${held} (${reason}) in the words of any refusal, and keeps the reason for the administrator`, async () => {
      const w = await fresh();
      const seeded = indicator();
      await seed(w, seeded);
      const probed = probe(seeded);
      const status = await w.post('p', 'alpha', [probed]);
      assert.equal(status.success_count, 0);
      assert.deepEqual(status.failures?.map((failure) => failure.message), [generic(probed)]);
      assert.deepEqual((await w.store.listQuarantine({ limit: 10 })).map((record) => record.reason), [reason]);
    });
  }

  it('still names a reason about the object itself (its form, signature, the agreement): nothing held decides those', async () => {
    const w = await fresh();
    const status = await w.post('p', 'alpha', [indicator({ modified: '2030-01-01T00:00:00.000Z' })]);
    assert.equal(status.success_count, 0);
    assert.match(status.failures?.[0]?.message ?? '', /^quarantined \(future-modified\)/);
  });

  const refusals: Case[] = [
    { held: 'a revoked version held only in beta', seed: (w, v) => w.post('q', 'beta', [{ ...v, modified: MARCH, revoked: true }]), probe: (v) => ({ ...v, modified: APRIL }), reason: 'revoked' },
    { held: 'the same version with other content held only in beta', seed: (w, v) => w.post('q', 'beta', [v]), probe: (v) => ({ ...v, name: 'other content' }), reason: 'content-conflict' },
  ];
  for (const { held, seed, probe } of refusals) {
    it(`refuses what the store holds node-wide (${held}) in words that name no reason, version or time held elsewhere, and keeps the details for the administrator`, async () => {
      const w = await fresh();
      const v = indicator();
      await seed(w, v);
      const probed = probe(v);
      const status = await w.post('p', 'alpha', [probed]);
      assert.equal(status.success_count, 0);
      const messages = (status.failures ?? []).map((failure) => failure.message);
      assert.deepEqual(messages, [`quarantined: ${v.id} version ${String(probed['modified'])} cannot be stored on this node`]);
      const [record, ...more] = await w.store.listQuarantine({ limit: 10 });
      assert.equal(more.length, 0);
      assert.ok(record !== undefined);
      if (probed['modified'] === APRIL) {
        assert.equal(record.reason, 'revoked');
        assert.match(record.message, new RegExp(`revoked in version ${MARCH.replaceAll('.', '\\.')}`));
      } else {
        assert.equal(record.reason, 'content-conflict');
        assert.match(record.message, /other content/);
      }
    });
  }
});

describe("a signed file imported into a collection is judged against the node's history", () => {
  it('stops an older version of an id whose newer version another collection holds, and a rollback within the collection', async () => {
    const w = await fresh();
    const deps = { store: w.store, clock: () => AT, homeOrganisationId: HOME };
    const v = indicator();
    await w.store.addObjects('alpha', [signObject({ ...v, modified: MARCH }, X.signer)]);
    const counts = await importSignedBundle(deps, { collectionId: 'beta', from: X.id, objects: [signObject(v, X.signer)] });
    assert.deepEqual([counts.added, counts.quarantined, [...counts.reasons]], [0, 1, [['rollback', 1]]]);

    const u = indicator();
    await w.store.addObjects('beta', [signObject({ ...u, modified: MARCH }, X.signer)]);
    const again = await importSignedBundle(deps, { collectionId: 'beta', from: X.id, objects: [signObject(u, X.signer)] });
    assert.deepEqual([again.added, again.quarantined, [...again.reasons]], [0, 1, [['rollback', 1]]]);
  });
});

describe('marking definitions an arrival refers to count where the target collection holds them', () => {
  const M = 'marking-definition--0a0a0a0a-3333-4000-8000-000000000009';
  const redDefinition = { type: 'marking-definition', spec_version: '2.1', id: M, created: '2026-01-05T00:00:00.000Z', name: 'TLP:RED', definition_type: 'tlp', definition: { tlp: 'red' } };
  /** Alpha's terms now end at AMBER, accepted by P. */
  const amberAlpha = async (w: World): Promise<void> => {
    await w.store.addAgreement({ circleId: 'alpha', version: 2, proposedBy: HOME, proposedAt: '2026-01-04T00:00:00.000Z', terms: openTerms({ onwardSharing: 'none', unsignedInput: 'accept', highestTlp: 'amber' }) });
    await w.store.addAcceptance({ circleId: 'alpha', organisationId: P, version: 2, acceptedAt: '2026-01-05T00:00:00.000Z' });
  };

  it('answers as if nothing were held for a TLP definition under an unpublished id held only in beta', async () => {
    const control = await fresh();
    await amberAlpha(control);
    const c = indicator({ object_marking_refs: [M] });
    const expected = seen(await control.post('p', 'alpha', [c]), c.id);

    const w = await fresh();
    await amberAlpha(w);
    await w.store.addObjects('beta', [redDefinition as unknown as StixObject]);
    const v = indicator({ object_marking_refs: [M] });
    assert.deepEqual(seen(await w.post('p', 'alpha', [v]), v.id), expected);
  });

  it('still raises the TLP by a definition the target collection holds: above the ceiling, quarantined', async () => {
    const w = await fresh();
    await amberAlpha(w);
    await w.store.addObjects('alpha', [redDefinition as unknown as StixObject]);
    const v = indicator({ object_marking_refs: [M] });
    const status = await w.post('p', 'alpha', [v]);
    assert.equal(status.success_count, 0);
    assert.match(status.failures?.[0]?.message ?? '', /^quarantined \(outside-agreement\): TLP:RED/);
  });
});

describe('the ordinary write path names no version held elsewhere', () => {
  const marking = (created: string) => ({
    type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--0a0a0a0a-2222-4000-8000-000000000001', created,
    name: 'beta statement', definition_type: 'statement', definition: { statement: 'beta only' },
  });
  const cases: { readonly held: string; readonly seed: (w: World, v: StixObject) => Promise<unknown>; readonly probe: (v: StixObject) => Record<string, unknown>; readonly elsewhere: string }[] = [
    { held: 'a revoked version in beta', seed: (w, v) => w.post('q', 'beta', [{ ...v, modified: MARCH, revoked: true }]), probe: (v) => ({ ...v, modified: APRIL }), elsewhere: MARCH },
    { held: 'another version of a marking definition in beta', seed: (w) => w.post('q', 'beta', [marking('2026-01-05T00:00:00.000Z')]), probe: () => marking('2026-01-06T00:00:00.000Z'), elsewhere: '2026-01-05' },
    { held: 'the same version with other content in beta', seed: (w, v) => w.post('q', 'beta', [v]), probe: (v) => ({ ...v, name: 'other' }), elsewhere: 'probe' },
  ];
  for (const writer of ['u', 'p'] as const) {
    for (const { held, seed, probe, elsewhere } of cases) {
      it(`refuses ${writer === 'u' ? "a home user's" : "a partner's"} write into inbox over ${held} without naming it`, async () => {
        const w = await fresh();
        const v = indicator();
        await seed(w, v);
        const status = await w.post(writer, 'inbox', [probe(v)]);
        assert.equal(status.success_count, 0);
        const message = status.failures?.[0]?.message ?? '';
        assert.ok(message.length > 0);
        assert.ok(!message.includes(elsewhere), message);
        assert.ok(!/another version|revoked in version/.test(message), message);
      });
    }
  }
});

describe('a redacted copy of a version the node holds whole through another circle', () => {
  it('is not served whole to the readers of the collection the copy arrived through', async () => {
    const w = await fresh();
    const v = indicator({ description: 'whole: only for beta' });
    assert.equal((await w.post('x', 'beta', [signObject(v, X.signer)])).success_count, 1);
    // Y passes on a redacted form of the same version, signed by Y as derived, into gamma.
    const { description: _dropped, ...redacted } = v;
    const derived = signObject(redacted as StixObject, Y.signer, { derived: true });
    const status = await w.post('y', 'gamma', [derived]);

    for (const reader of ['y', 'h'] as const) {
      const served = (await w.objects(reader, 'gamma')).filter((object) => object.id === v.id);
      for (const object of served) {
        assert.equal(object['description'], undefined, `${reader} is served the whole version in gamma`);
        const signature = (object['extensions'] as Record<string, Record<string, unknown>> | undefined)?.[EXTENSION];
        assert.notEqual(signature?.['signer'], X.id, `${reader} is served X's signature in gamma`);
      }
    }
    // Beta keeps the whole version; the copy is that version, not a rival to it: neither stored in
    // gamma (a peer could otherwise move a version into another circle's collection by sending any
    // "derived" copy of it) nor counted a success.
    assert.equal((await w.objects('h', 'beta')).find((object) => object.id === v.id)?.['description'], 'whole: only for beta');
    assert.equal(status.success_count, 0);
    assert.deepEqual(await w.store.listQuarantine({ limit: 10 }), []);
  });

  // A "derived" copy whose content is the whole version's is a duplicate of the row the origin's copy
  // made; the copy's collection serves its own copy (entries.signature), never the origin's signature,
  // which the relaying node had signed over as derived so that the circle would not learn who else holds it.
  it("does not serve the copy's collection the origin's signature when its content is the whole version's", async () => {
    const w = await fresh();
    const v = indicator({ description: 'same content' });
    await w.post('x', 'beta', [signObject(v, X.signer)]);
    // A "derived" copy that redacted nothing: the store holds one form per id and version (X's).
    await w.post('y', 'gamma', [signObject(v, Y.signer, { derived: true })]);
    for (const reader of ['y', 'h'] as const) {
      const signers = (await w.objects(reader, 'gamma')).map((object) => (object['extensions'] as Record<string, Record<string, unknown>> | undefined)?.[EXTENSION]?.['signer']);
      assert.ok(!signers.includes(X.id), `${reader} is served X's signature in gamma`);
    }
  });
});

