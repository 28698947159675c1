// GET /api/circles/:id/weaknesses: weakness disclosures counted for a wider circle, owners removed,
// for the members bound by its terms only.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--dddddddd-0000-4000-8000-000000000000';
const A = 'identity--dddddddd-0000-4000-8000-00000000000a';
const B = 'identity--dddddddd-0000-4000-8000-00000000000b';
const C = 'identity--dddddddd-0000-4000-8000-00000000000c';
const D = 'identity--dddddddd-0000-4000-8000-00000000000d';
const E = 'identity--dddddddd-0000-4000-8000-00000000000e';
const AT = new Date('2026-06-01T00:00:00Z');
const marking = (owner: string): StixObject => ({
  type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${owner.slice(10)}`, created: '2026-01-01T00:00:00Z',
  extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [owner], aggregate_circle_refs: ['wide'] } },
});
const disclosure = (owner: string, n: number): StixObject => ({
  type: 'vulnerability', spec_version: '2.1', id: `vulnerability--dddddddd-0000-4000-8000-00000000010${n}`, created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z',
  name: 'CVE-2026-7777 on the edge firewall', created_by_ref: owner, object_marking_refs: [`marking-definition--${owner.slice(10)}`],
  external_references: [{ source_name: 'mitre-attack', external_id: 'T1190' }],
});

describe('GET /api/circles/:id/weaknesses', () => {
  let app: FastifyInstance;
  let store: ObjectStore;
  const token = (name: string): Record<string, string> => ({ authorization: `Bearer ent_${name}-000000000000000000000000000000000` });

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    for (const collection of ['wide', 'own-b', 'own-c', 'own-d', 'own-e']) await store.createCollection({ id: collection, title: collection }, created);
    for (const org of [A, B, C, D, E]) await store.createOrganisation({ id: org, name: org, kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    await store.createCircle({
      id: 'wide', name: 'wide', kind: 'formal', visibility: 'open', collectionId: 'wide', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [
        { organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        { organisationId: A, role: 'consumer', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        { organisationId: B, role: 'consumer', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        { organisationId: D, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        { organisationId: E, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
      ],
    }, created);
    await store.addAgreement({
      circleId: 'wide', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: { scope: { types: ['indicator'] }, highestTlp: 'amber', onwardSharing: 'none', attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain' },
    });
    for (const org of [A, D, E]) await store.addAcceptance({ circleId: 'wide', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    // Two members other than the reader, bound by terms accepted with it in, disclosed the same CVE,
    // each in a collection of its own (counted by who contributed them, so each writes its own).
    await store.addObjects('own-d', [marking(D), disclosure(D, 4)], undefined, D);
    await store.addObjects('own-e', [marking(E), disclosure(E, 5)], undefined, E);
    // So did a member bound by no terms and an organisation outside the circle: what they contribute
    // reaches no member (rule 3a), and their disclosures count for none.
    await store.addObjects('own-b', [marking(B), disclosure(B, 2)], undefined, B);
    await store.addObjects('own-c', [marking(C), disclosure(C, 3)], undefined, C);
    for (const [name, org] of [['a', A], ['b', B], ['c', C]] as const) {
      await store.createToken({ name, secretHash: hashTokenSecret(`ent_${name}-000000000000000000000000000000000`), admin: false, grants: [], organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
    }
    app = await createHttpApp({
      store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => AT, randomUuid: randomUUID,
      homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
    });
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  it('gives a bound member the totals per CVE and technique, with no owner in them, counting only members whose contributions reach it', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/circles/wide/weaknesses', headers: token('a') });
    assert.equal(response.statusCode, 200);
    const body = JSON.parse(response.body) as { cves: unknown[]; techniques: unknown[] };
    assert.deepEqual(body.cves, [{ key: 'CVE-2026-7777', organisations: 2, disclosures: 2 }]);
    assert.deepEqual(body.techniques, [{ key: 'T1190', organisations: 2, disclosures: 2 }]);
    assert.equal(response.body.includes('identity--'), false);
  });

  it('is the same 404 as an unknown circle for a member that accepted no terms and for an outsider', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/api/circles/nope/weaknesses', headers: token('c') });
    for (const caller of ['b', 'c']) {
      const response = await app.inject({ method: 'GET', url: '/api/circles/wide/weaknesses', headers: token(caller) });
      assert.equal(response.statusCode, 404, caller);
      assert.equal(JSON.parse(response.body).error_code, JSON.parse(unknown.body).error_code);
    }
  });
});
