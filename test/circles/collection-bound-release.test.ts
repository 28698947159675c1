// What one collection releases depends on that collection alone: what a party writes into another
// collection — one the reader may not even see — neither withholds, unsigns nor reveals anything
// here. Node: the home organisation; circle alpha = home + P (a plain partner that may read and
// write alpha and 'inbox', a collection of no circle); circle beta = home + X + Q (P has no grant on
// beta). The members write with plain TAXII clients (the terms accept unsigned input).
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openTestHttpApp } from './test-http-app.ts';
import { ensureNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../../src/federation/node-signer.ts';
import { createReleaseSigner } from '../../src/federation/sign-releases.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { SIGNATURE_EXTENSION_ID } from '../../src/federation/signature-extension.ts';
import type { OnwardSharing } from '../../src/policy/agreement.ts';
import type { Circle } from '../../src/policy/circle.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const P = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const X = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const Q = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const TAXII = 'application/taxii+json;version=2.1';
const secret = (name: string): string => `ent_${name}-00000000000000000000000000000000000000`;

interface World {
  readonly store: SqliteObjectStore;
  post(token: 'p' | 'x' | 'q', collection: string, objects: readonly StixObject[]): Promise<{ success_count: number; successes?: { id: string }[]; failures?: unknown[] }>;
  /** The objects `token` reads in a collection, every version. */
  read(token: 'p' | 'x' | 'q', collection: string): Promise<StixObject[]>;
}

const opened: { app: FastifyInstance; store: SqliteObjectStore }[] = [];
afterEach(async () => {
  for (const { app, store } of opened.splice(0)) {
    await app.close();
    await store.close();
  }
});

async function world(options: { betaOnward?: OnwardSharing } = {}): Promise<World> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
  await ensureNodeKey(store, CREATED);
  for (const org of [P, X, Q]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
  const circles: [string, string[], OnwardSharing][] = [['alpha', [P], 'circles'], ['beta', [X, Q], options.betaOnward ?? 'none']];
  for (const [id, members, onwardSharing] of circles) {
    await store.createCollection({ id, title: id }, CREATED);
    const circle: Circle = {
      id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, ...members].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    };
    await store.createCircle(circle, CREATED);
    await store.addAgreement({ circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms({ onwardSharing, unsignedInput: 'accept' }) });
    for (const org of members) await store.addAcceptance({ circleId: id, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  }
  await store.createCollection({ id: 'inbox', title: 'inbox (no circle)' }, CREATED);
  const tokens: [string, string, string[]][] = [['p', P, ['alpha', 'inbox']], ['x', X, ['beta']], ['q', Q, ['beta']]];
  for (const [name, organisationId, collections] of tokens) {
    await store.createToken({
      name, secretHash: hashTokenSecret(secret(name)), admin: false, organisationId, createdAt: CREATED.toISOString(), revokedAt: undefined,
      grants: collections.map((collectionId) => ({ collectionId, read: true, write: true })),
    });
  }
  const releaseSigner = createReleaseSigner({ store, keys: createNodeSignerProvider({ store, organisationId: HOME, clock: () => AT }), homeOrganisationId: HOME });
  const app = await openTestHttpApp(store, HOME, AT, { releaseSigner });
  opened.push({ app, store });
  const headers = (token: string): Record<string, string> => ({ authorization: `Bearer ${secret(token)}`, accept: TAXII, 'content-type': TAXII });
  return {
    store,
    async post(token, collection, objects) {
      const reply = await app.inject({ method: 'POST', url: `/taxii2/api/collections/${collection}/objects/`, headers: headers(token), payload: JSON.stringify({ objects }) });
      assert.equal(reply.statusCode, 202, reply.body);
      return JSON.parse(reply.body) as { success_count: number; successes?: { id: string }[]; failures?: unknown[] };
    },
    async read(token, collection) {
      const reply = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${collection}/objects/?match[version]=all`, headers: headers(token) });
      assert.equal(reply.statusCode, 200, reply.body);
      return (JSON.parse(reply.body) as { objects?: StixObject[] }).objects ?? [];
    },
  };
}

let serial = 0;
function indicator(overrides: Record<string, unknown> = {}): StixObject {
  serial += 1;
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--0a0a0a0a-1111-4000-8000-${String(serial).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', name: `indicator ${serial}`,
    pattern: `[ipv4-addr:value = '198.51.100.${serial}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
    ...overrides,
  };
}

/** Who signed each object read (undefined: unsigned). */
function signers(objects: readonly StixObject[]): (string | undefined)[] {
  return objects.map((object) => {
    const extensions = object['extensions'] as Record<string, { signer?: string }> | undefined;
    return extensions?.[SIGNATURE_EXTENSION_ID]?.signer;
  });
}

describe('a partner gets back what it wrote into a collection, whatever another collection holds', () => {
  it('P posts into alpha a version Q sent through beta (onward sharing "none"): P reads it back, and the status lists it', async () => {
    for (const heldInBeta of [false, true]) {
      const w = await world();
      const v = indicator();
      if (heldInBeta) assert.equal((await w.post('q', 'beta', [v])).success_count, 1);
      const status = await w.post('p', 'alpha', [v]);
      assert.equal(status.success_count, 1, `held in beta: ${heldInBeta}`);
      assert.deepEqual(status.successes?.map((success) => success.id), [v.id], `held in beta: ${heldInBeta}: successes agree with success_count`);
      assert.deepEqual((await w.read('p', 'alpha')).map((object) => object.id), [v.id], `held in beta: ${heldInBeta}`);
    }
  });

  it('so does an AMBER+STRICT version: its source still reads what it sent', async () => {
    const w = await world();
    const v = indicator({ object_marking_refs: [TLP2_MARKING_IDS['amber+strict']] });
    await w.post('q', 'beta', [v]);
    await w.post('p', 'alpha', [v]);
    assert.deepEqual((await w.read('p', 'alpha')).map((object) => object.id), [v.id]);
    assert.deepEqual(signers(await w.read('p', 'alpha')), [undefined], 'what P sent comes back as P sent it, not signed by the home organisation');
  });
});

describe("the home organisation's own version in one collection stays its own whatever a partner sends elsewhere", () => {
  it('a version the home released from beta (signed) leaves beta the same, signed, after P posts the same version into alpha or inbox', async () => {
    for (const tlp of ['green', 'amber'] as const) {
      for (const into of ['alpha', 'inbox']) {
        const w = await world();
        const v = indicator({ object_marking_refs: [TLP2_MARKING_IDS[tlp]] });
        await w.store.addObjects('beta', [v]);
        const before = await w.read('x', 'beta');
        assert.deepEqual(signers(before), [HOME], `${tlp}: the home organisation signs its own version`);
        // P's unsigned copy, recorded as P's contribution the way a POST records it (whether the
        // arrival checks take an unsigned copy of a version the home signed is not the question here).
        const [outcome] = await w.store.addObjects(into, [v], undefined, P);
        assert.equal(outcome?.kind, 'added');
        assert.deepEqual(await w.read('x', 'beta'), before, `${tlp}, P's copy in ${into}: X receives the same signed bytes`);
      }
    }
  });

  it("a version a member sends through two circles is its own in each: its terms in one do not bind its sharing in the other", async () => {
    const w = await world({ betaOnward: 'circles' });
    const v = indicator({ object_marking_refs: [TLP2_MARKING_IDS.green] });
    // Q is no member of alpha; its POST into inbox (no circle: onward sharing "none") is its own too.
    await w.post('q', 'beta', [v]);
    await w.store.addObjects('inbox', [v], undefined, Q);
    assert.deepEqual((await w.read('x', 'beta')).map((object) => object.id), [v.id]);
  });

  it("a member re-posting what another partner sent through a stricter circle passes on nothing: the strictest terms the version arrived under apply (fail closed)", async () => {
    // P sent v through alpha; Q (in beta) posts the very same version into beta. The node knows v as
    // P's content: alpha's onward sharing ("none" here) binds it wherever it reappears.
    const w = await world();
    await w.store.addAgreement({ circleId: 'alpha', version: 2, proposedBy: HOME, proposedAt: '2026-01-04T00:00:00.000Z', terms: openTerms({ onwardSharing: 'none', unsignedInput: 'accept' }) });
    await w.store.addAcceptance({ circleId: 'alpha', organisationId: P, version: 2, acceptedAt: '2026-01-05T00:00:00.000Z' });
    for (const tlp of ['green', 'amber'] as const) {
      const v = indicator({ object_marking_refs: [TLP2_MARKING_IDS[tlp]] });
      assert.equal((await w.post('p', 'alpha', [v])).success_count, 1);
      assert.equal((await w.post('q', 'beta', [v])).success_count, 1);
      assert.equal((await w.read('x', 'beta')).some((object) => object.id === v.id), false, `${tlp}: X does not receive P's version through Q`);
      assert.equal((await w.read('q', 'beta')).some((object) => object.id === v.id), true, `${tlp}: Q reads back what it wrote`);
    }
  });

  it('what a partner sent stays the partner\'s when the home organisation copies it into another collection: onward-sharing terms and no home signature', async () => {
    // Through inbox (no circle): nothing allows passing it on.
    const w = await world();
    const kept = indicator({ object_marking_refs: [TLP2_MARKING_IDS.green] });
    await w.post('p', 'inbox', [kept]);
    await w.store.addObjects('beta', [kept]);
    assert.deepEqual(await w.read('x', 'beta'), []);
    // Through alpha (onward sharing "circles"): passed on at GREEN, as P sent it, never at AMBER.
    const green = indicator({ object_marking_refs: [TLP2_MARKING_IDS.green] });
    const amber = indicator({ object_marking_refs: [TLP2_MARKING_IDS.amber] });
    await w.post('p', 'alpha', [green, amber]);
    await w.store.addObjects('beta', [green, amber]);
    const released = await w.read('x', 'beta');
    assert.deepEqual(released.map((object) => object.id), [green.id]);
    assert.deepEqual(signers(released), [undefined], "P's version is not the home organisation's to sign");
  });

  it("keeps the home organisation's unreleased original its own when a partner later sends the same version elsewhere", async () => {
    // The store records that a write of the home organisation's stored the version first: P's copy in
    // inbox or alpha makes it neither second-hand nor subject to P's terms in beta.
    for (const into of ['alpha', 'inbox']) {
      const w = await world();
      const v = indicator({ object_marking_refs: [TLP2_MARKING_IDS.amber] });
      await w.store.addObjects('beta', [v]);
      await w.post('p', into, [v]);
      const released = await w.read('x', 'beta');
      assert.deepEqual(released.map((object) => object.id), [v.id], into);
      assert.deepEqual(signers(released), [HOME], `${into}: the home organisation signs its own version`);
    }
  });

  it('fails closed for a version whose row predates that record: without a kept origin signature it is taken as received', async () => {
    const w = await world();
    const v = indicator({ object_marking_refs: [TLP2_MARKING_IDS.amber] });
    await w.store.addObjects('beta', [v]);
    w.store.database.prepare('UPDATE object_versions SET home_original = NULL').run();
    await w.post('p', 'inbox', [v]);
    assert.deepEqual(await w.read('x', 'beta'), []);
  });
});

describe('marking definitions are read from the collection released', () => {
  const statement = (serialId: string, text: string): StixObject => ({
    type: 'marking-definition', spec_version: '2.1', id: `marking-definition--0a0a0a0a-2222-4000-8000-${serialId}`, created: '2026-01-05T00:00:00.000Z',
    name: text, definition_type: 'statement', definition: { statement: text },
  });

  it('a marking definition held only in beta is as unknown to a release from alpha as one held nowhere: P learns nothing of beta', async () => {
    const outcomes = [];
    for (const heldInBeta of [true, false]) {
      const w = await world();
      const marking = statement('000000000009', 'beta only');
      if (heldInBeta) assert.equal((await w.post('q', 'beta', [marking])).success_count, 1);
      const v = indicator({ object_marking_refs: [marking.id] });
      const status = await w.post('p', 'alpha', [v]);
      outcomes.push({ success: status.success_count, successes: status.successes?.length ?? 0, read: (await w.read('p', 'alpha')).map((object) => object.id) });
    }
    assert.deepEqual(outcomes[0], outcomes[1]);
    assert.deepEqual(outcomes[1]?.read, [], 'an unknown marking withholds, as it always did');
  });

  it('a marking definition the collection holds is read, wherever else it is held', async () => {
    const w = await world();
    const marking = statement('000000000010', 'shared in alpha');
    await w.store.addObjects('beta', [marking]);
    await w.store.addObjects('alpha', [marking]);
    const v = indicator({ object_marking_refs: [marking.id] });
    await w.post('p', 'alpha', [v]);
    assert.deepEqual((await w.read('p', 'alpha')).map((object) => object.id).sort(), [marking.id, v.id].sort());
  });
});
