// Agreements are accepted or countered: a member records the terms it would accept instead; the
// counter binds nobody, the coordinators see every counter, a member only its own.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openTestHttpApp } from './test-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';

const HOME = 'identity--f0f0f0f0-0000-4000-8000-000000000000';
const A = 'identity--f0f0f0f0-0000-4000-8000-00000000000a';
const B = 'identity--f0f0f0f0-0000-4000-8000-00000000000b';
const OUT = 'identity--f0f0f0f0-0000-4000-8000-00000000000c';
const terms = {
  scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'anonymise',
  expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'retain',
};

describe('counter-proposals', () => {
  let app: FastifyInstance;
  let store: ObjectStore;
  const as = (name: string): Record<string, string> => ({ authorization: `Bearer ent_${name}-000000000000000000000000000000000`, 'content-type': 'application/json' });
  const post = (name: string, url: string, body: unknown) => app.inject({ method: 'POST', url, headers: as(name), payload: JSON.stringify(body) });

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    await store.createCollection({ id: 'c', title: 'c' }, created);
    for (const org of [A, B, OUT]) await store.createOrganisation({ id: org, name: org, kind: 'ngo', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    await store.createCircle({
      id: 'c', name: 'c', kind: 'formal', visibility: 'open', collectionId: 'c', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, A, B].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'consumer', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    }, created);
    for (const [name, org] of [['a', A], ['b', B], ['out', OUT]] as const) {
      await store.createToken({ name, secretHash: hashTokenSecret(`ent_${name}-000000000000000000000000000000000`), admin: false, grants: [], organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
    }
    await store.createToken({ name: 'analyst', secretHash: hashTokenSecret('ent_analyst-000000000000000000000000000000000'), admin: false, grants: [], organisationId: undefined, createdAt: created.toISOString(), revokedAt: undefined });
    await store.createToken({ name: 'admin', secretHash: hashTokenSecret('ent_admin-000000000000000000000000000000000'), admin: true, grants: [], organisationId: undefined, createdAt: created.toISOString(), revokedAt: undefined });
    app = await openTestHttpApp(store, HOME);
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  it('needs terms to counter', async () => {
    const response = await post('a', '/api/circles/c/counter', { terms });
    assert.equal(response.statusCode, 404);
    assert.equal(JSON.parse(response.body).error_code, 'ENT_AGREEMENT_NOT_FOUND');
  });

  it('records a member\'s counter, which binds nobody; coordinators see all, members their own', async () => {
    assert.equal((await post('admin', '/api/circles/c/agreements', { terms: { ...terms, highest_tlp: 'red' } })).statusCode, 201);
    const countered = await post('a', '/api/circles/c/counter', { terms, comment: 'we cannot take RED' });
    assert.equal(countered.statusCode, 201, countered.body);
    assert.equal(JSON.parse(countered.body).based_on_version, 1);
    assert.equal((await store.getAgreementState('c')).acceptances.length, 0, 'a counter is not an acceptance');
    const forAdmin = JSON.parse((await app.inject({ method: 'GET', url: '/api/circles/c/counters', headers: as('admin') })).body) as { counters: { organisation_id: string; comment: string }[] };
    assert.deepEqual(forAdmin.counters.map((c) => [c.organisation_id, c.comment]), [[A, 'we cannot take RED']]);
    const forB = JSON.parse((await app.inject({ method: 'GET', url: '/api/circles/c/counters', headers: as('b') })).body) as { counters: unknown[] };
    assert.deepEqual(forB.counters, []);
  });

  it('refuses invalid terms naming the path, a counter for another organisation, and outsiders as if the circle did not exist', async () => {
    const invalid = await post('a', '/api/circles/c/counter', { terms: { ...terms, highest_tlp: 'purple' } });
    assert.equal(invalid.statusCode, 422);
    assert.match(JSON.parse(invalid.body).description, /highest_tlp/);
    assert.equal((await post('a', '/api/circles/c/counter', { terms, organisation_id: B })).statusCode, 403);
    const outsider = await post('out', '/api/circles/c/counter', { terms });
    const unknown = await post('out', '/api/circles/nope/counter', { terms });
    assert.equal(outsider.statusCode, 404);
    assert.equal(JSON.parse(outsider.body).error_code, JSON.parse(unknown.body).error_code);
  });

  it('a home analyst (not the administrator) cannot change a circle for the home organisation', async () => {
    const invite = await post('analyst', '/api/circles/c/members', { organisation_id: OUT });
    assert.equal(invite.statusCode, 403);
    assert.equal(JSON.parse(invite.body).error_code, 'ENT_CIRCLE_FORBIDDEN');
    assert.equal((await post('analyst', '/api/circles/c/end', {})).statusCode, 403);
  });

  it('nobody counters the terms of a circle that has ended', async () => {
    assert.equal((await post('admin', '/api/circles/c/end', {})).statusCode, 200);
    const late = await post('b', '/api/circles/c/counter', { terms });
    assert.equal(late.statusCode, 409);
    assert.equal(JSON.parse(late.body).error_code, 'ENT_CIRCLE_ENDED');
  });
});
