// Onward sharing over HTTP: what a partner sent the node through one circle is released through
// another only when the terms it arrived under say "circles", and then only at CLEAR or GREEN; its
// AMBER+STRICT and RED content is released to no other organisation at all.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { OnwardSharing } from '../../src/policy/agreement.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const HOME = 'identity--eeeeeeee-0000-4000-8000-000000000000';
const SOURCE = 'identity--eeeeeeee-0000-4000-8000-00000000000a';
const OTHER = 'identity--eeeeeeee-0000-4000-8000-00000000000b';
const TAXII = 'application/taxii+json;version=2.1';
const AT = new Date('2026-06-01T00:00:00Z');

async function scenario(onward: OnwardSharing, tlp: 'green' | 'amber' | 'amber+strict'): Promise<{ other: number; source: number; otherInFirst: number; sourceInFirst: number }> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  const created = new Date('2026-01-01T00:00:00Z');
  for (const org of [SOURCE, OTHER]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
  for (const circle of ['first', 'second']) {
    await store.createCollection({ id: circle, title: circle }, created);
    await store.createCircle({
      id: circle, name: circle, kind: 'formal', visibility: 'open', collectionId: circle, defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, SOURCE, OTHER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    }, created);
    // The members write with plain TAXII clients: the terms accept unsigned input.
    await store.addAgreement({
      circleId: circle, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: { scope: { types: ['indicator'] }, highestTlp: 'red', onwardSharing: circle === 'first' ? onward : 'none', attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain', unsignedInput: 'accept' },
    });
    for (const org of [SOURCE, OTHER]) await store.addAcceptance({ circleId: circle, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  }
  const grants = [{ collectionId: 'first', read: true, write: true }, { collectionId: 'second', read: true, write: false }];
  for (const [name, org] of [['source', SOURCE], ['other', OTHER]] as const) {
    await store.createToken({ name, secretHash: hashTokenSecret(`ent_${name}-0000000000000000000000000000000`), admin: false, grants, organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
  }
  const app = await createHttpApp({
    store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => AT, randomUuid: randomUUID,
    homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
  });
  const headers = (name: string): Record<string, string> => ({ authorization: `Bearer ent_${name}-0000000000000000000000000000000`, accept: TAXII, 'content-type': TAXII });
  const indicator = {
    type: 'indicator', spec_version: '2.1', id: 'indicator--eeeeeeee-0000-4000-8000-000000000001', created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
    name: 'shared by the source', pattern: "[ipv4-addr:value = '198.51.100.20']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS[tlp]],
  };
  // The source sends it through the first circle; the home organisation then puts the same version into the second.
  const posted = await app.inject({ method: 'POST', url: '/taxii2/api/collections/first/objects/', headers: headers('source'), payload: JSON.stringify({ objects: [indicator] }) });
  assert.equal(posted.statusCode, 202);
  await store.addObjects('second', [indicator]);
  const count = async (name: string, collection: string): Promise<number> => {
    const response = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${collection}/objects/`, headers: headers(name) });
    return ((JSON.parse(response.body) as { objects?: unknown[] }).objects ?? []).length;
  };
  const result = { other: await count('other', 'second'), source: await count('source', 'second'), otherInFirst: await count('other', 'first'), sourceInFirst: await count('source', 'first') };
  await app.close();
  await store.close();
  return result;
}

describe('onward sharing of what a partner sent through another circle', () => {
  it('"none" and "organisation": not released through another circle; still released in the circle it came through', async () => {
    for (const onward of ['none', 'organisation'] as const) {
      const seen = await scenario(onward, 'green');
      assert.equal(seen.other, 0, onward);
      assert.equal(seen.otherInFirst, 1, `${onward}: the circle it came through still shares it`);
    }
  });

  it('"circles": released through another circle at GREEN, never at AMBER', async () => {
    assert.equal((await scenario('circles', 'green')).other, 1);
    assert.equal((await scenario('circles', 'amber')).other, 0);
  });

  it('AMBER+STRICT a partner sent is passed on to nobody, not even in the circle it came through; AMBER is', async () => {
    const strict = await scenario('circles', 'amber+strict');
    assert.deepEqual([strict.otherInFirst, strict.other], [0, 0]);
    assert.equal(strict.sourceInFirst, 1, 'its source still reads what it sent');
    assert.equal((await scenario('none', 'amber')).otherInFirst, 1);
  });

  it('what an organisation sent itself is not onward sharing when it comes back to it', async () => {
    assert.equal((await scenario('none', 'green')).source, 1);
  });
});

/**
 * The source contributes A under agreement v1 of the first circle (onward "none"); v2 then allows
 * onward sharing ("circles") and both sides accept it; the source contributes B under v2; v3
 * tightens back to "none". The home organisation puts both into the second circle. Returns, after
 * each step, which of A and B the other member reads there.
 */
async function termsChangeScenario(): Promise<{ afterLoosening: string[]; afterTightening: string[] }> {
  let now = new Date('2026-01-01T00:00:00Z');
  const clock = (): Date => now;
  const store = openSqliteObjectStore({ path: ':memory:', clock });
  const created = new Date('2026-01-01T00:00:00Z');
  for (const org of [SOURCE, OTHER]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
  const terms = (onwardSharing: OnwardSharing) => ({
    scope: { types: ['indicator'] }, highestTlp: 'red' as const, onwardSharing, attribution: 'keep' as const,
    expectations: { permittedActions: 'none' as const, affectedPartyNotifications: 'may' as const, providerAttribution: 'may' as const }, endRule: 'retain' as const, unsignedInput: 'accept' as const,
  });
  const agree = async (circleId: string, version: number, onward: OnwardSharing, at: string): Promise<void> => {
    // The home organisation proposes as coordinator (so it agreed too); both members accept.
    await store.addAgreement({ circleId, version, proposedBy: HOME, proposedAt: at, terms: terms(onward) });
    for (const org of [SOURCE, OTHER]) await store.addAcceptance({ circleId, organisationId: org, version, acceptedAt: at });
  };
  for (const circle of ['first', 'second']) {
    await store.createCollection({ id: circle, title: circle }, created);
    await store.createCircle({
      id: circle, name: circle, kind: 'formal', visibility: 'open', collectionId: circle, defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, SOURCE, OTHER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    }, created);
    await agree(circle, 1, circle === 'first' ? 'none' : 'circles', '2026-01-02T00:00:00.000Z');
  }
  const grants = [{ collectionId: 'first', read: true, write: true }, { collectionId: 'second', read: true, write: false }];
  for (const [name, org] of [['source', SOURCE], ['other', OTHER]] as const) {
    await store.createToken({ name, secretHash: hashTokenSecret(`ent_${name}-0000000000000000000000000000000`), admin: false, grants, organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
  }
  const app = await createHttpApp({
    store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock, randomUuid: randomUUID,
    homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
  });
  const headers = (name: string): Record<string, string> => ({ authorization: `Bearer ent_${name}-0000000000000000000000000000000`, accept: TAXII, 'content-type': TAXII });
  const indicator = (n: number, name: string) => ({
    type: 'indicator', spec_version: '2.1', id: `indicator--eeeeeeee-0000-4000-8000-00000000010${n}`, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
    name, pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green],
  });
  const contribute = async (object: ReturnType<typeof indicator>): Promise<void> => {
    const posted = await app.inject({ method: 'POST', url: '/taxii2/api/collections/first/objects/', headers: headers('source'), payload: JSON.stringify({ objects: [object] }) });
    assert.equal(posted.statusCode, 202);
    await store.addObjects('second', [object]);
  };
  const readByOther = async (): Promise<string[]> => {
    const response = await app.inject({ method: 'GET', url: '/taxii2/api/collections/second/objects/', headers: headers('other') });
    return ((JSON.parse(response.body) as { objects?: { name: string }[] }).objects ?? []).map((object) => object.name).sort();
  };
  now = new Date('2026-02-01T00:00:00Z');
  await contribute(indicator(1, 'A, sent under "none"'));
  now = new Date('2026-03-01T00:00:00Z');
  await agree('first', 2, 'circles', now.toISOString());
  now = new Date('2026-03-02T00:00:00Z');
  await contribute(indicator(2, 'B, sent under "circles"'));
  const afterLoosening = await readByOther();
  now = new Date('2026-04-01T00:00:00Z');
  await agree('first', 3, 'none', now.toISOString());
  now = new Date('2026-04-02T00:00:00Z');
  const afterTightening = await readByOther();
  await app.close();
  await store.close();
  return { afterLoosening, afterTightening };
}

describe('onward sharing follows the terms a contribution arrived under as well as those in force now', () => {
  it('loosening the terms later does not release onward what was sent under the stricter ones; what was sent under the looser ones is', async () => {
    const { afterLoosening } = await termsChangeScenario();
    assert.deepEqual(afterLoosening, ['B, sent under "circles"']);
  });

  it('tightening the terms withholds onward what was sent before, under the looser ones, too', async () => {
    const { afterTightening } = await termsChangeScenario();
    assert.deepEqual(afterTightening, []);
  });
});
