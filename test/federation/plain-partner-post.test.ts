// A partner without pinned keys writes with an ordinary TAXII client. What it POSTs into a circle's
// collection still arrives under the circle's agreement: the same arrival checks as a push from an
// Entente node (scope, TLP ceiling, accepted terms), and unsigned input only where the agreement
// accepts it. A collection that belongs to no circle has no agreement to check: the ordinary write path.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { AgreementTerms } from '../../src/policy/agreement.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--0f0f0f0f-0000-4000-8000-000000000000';
const PLAIN = 'identity--0f0f0f0f-0000-4000-8000-0000000000aa';
const LATECOMER = 'identity--0f0f0f0f-0000-4000-8000-0000000000bb';
const TAXII = 'application/taxii+json;version=2.1';
const secrets = { plain: 'ent_plain-0000000000000000000000000000000000', latecomer: 'ent_latecomer-000000000000000000000000000000' };

interface StatusJson {
  success_count: number;
  failure_count: number;
  failures?: { id: string; message: string }[];
}

function object(type: 'indicator' | 'malware', n: number, marking: string): StixObject {
  const common = { spec_version: '2.1', id: `${type}--0f0f0f0f-0000-4000-8000-${String(n).padStart(12, '0')}`, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', object_marking_refs: [marking] };
  return type === 'indicator'
    ? { ...common, type, pattern: `[ipv4-addr:value = '203.0.113.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z' }
    : { ...common, type, name: `family ${n}`, is_family: true };
}

const terms = (unsignedInput: 'accept' | undefined): AgreementTerms => ({
  scope: { types: ['indicator'] }, highestTlp: 'amber', onwardSharing: 'none', attribution: 'keep',
  expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain',
  ...(unsignedInput === undefined ? {} : { unsignedInput }),
});

describe('a TAXII POST by a partner without pinned keys, into a circle', () => {
  let store: ObjectStore;
  let app: FastifyInstance;
  const post = async (token: keyof typeof secrets, collection: string, objects: StixObject[]): Promise<StatusJson> => {
    const response = await app.inject({
      method: 'POST', url: `/taxii2/api/collections/${collection}/objects/`, payload: JSON.stringify({ objects }),
      headers: { authorization: `Bearer ${secrets[token]}`, accept: TAXII, 'content-type': TAXII },
    });
    assert.equal(response.statusCode, 202, response.body);
    return JSON.parse(response.body) as StatusJson;
  };
  const stored = async (objects: StixObject[]): Promise<string[]> => [...(await store.latestVersions(objects.map((item) => item.id))).keys()].sort();
  const reasons = (status: StatusJson): string[] => (status.failures ?? []).map((failure) => /^quarantined \(([a-z-]+)\)/.exec(failure.message)?.[1] ?? failure.message).sort();

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: created.toISOString(), modified: created.toISOString(), name: 'Home', identity_class: 'organization' }));
    for (const org of [PLAIN, LATECOMER]) await store.createOrganisation({ id: org, name: org, kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    for (const [circle, unsignedInput] of [['open-input', 'accept'], ['signed-only', undefined]] as const) {
      await store.createCollection({ id: circle, title: circle }, created);
      await store.createCircle(
        {
          id: circle, name: circle, kind: 'formal', visibility: 'open', collectionId: circle, defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-06-01T00:00:00.000Z',
          members: [HOME, PLAIN, LATECOMER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' as const : 'contributor' as const, joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
        },
        created,
      );
      await store.addAgreement({ circleId: circle, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: terms(unsignedInput) });
      // The latecomer has not accepted the terms yet.
      await store.addAcceptance({ circleId: circle, organisationId: PLAIN, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    }
    await store.createCollection({ id: 'inbox', title: 'no circle' }, created);
    const grants = ['open-input', 'signed-only', 'inbox'].map((collectionId) => ({ collectionId, read: true, write: true }));
    for (const [name, org] of [['plain', PLAIN], ['latecomer', LATECOMER]] as const) {
      await store.createToken({ name, secretHash: hashTokenSecret(secrets[name]), admin: false, grants, organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
    }
    app = await createHttpApp({
      store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => new Date('2026-06-01T00:00:00Z'), randomUuid: randomUUID,
      homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
    });
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  it('stores what the agreement covers, unsigned where the agreement accepts unsigned input', async () => {
    const green = object('indicator', 1, TLP2_MARKING_IDS.green);
    const status = await post('plain', 'open-input', [green]);
    assert.deepEqual([status.success_count, status.failure_count], [1, 0]);
    assert.deepEqual(await stored([green]), [green.id]);
  });

  it('quarantines what exceeds the TLP ceiling or lies outside the scope, naming the reason, and stores neither', async () => {
    const red = object('indicator', 2, TLP2_MARKING_IDS.red);
    const malware = object('malware', 3, TLP2_MARKING_IDS.green);
    const status = await post('plain', 'open-input', [red, malware]);
    assert.equal(status.success_count, 0);
    assert.deepEqual(reasons(status), ['outside-agreement', 'outside-agreement']);
    assert.deepEqual(await stored([red, malware]), []);
  });

  it('quarantines everything from a member that has not accepted the terms', async () => {
    const green = object('indicator', 4, TLP2_MARKING_IDS.green);
    assert.deepEqual(reasons(await post('latecomer', 'open-input', [green])), ['no-agreement']);
    assert.deepEqual(await stored([green]), []);
  });

  it('quarantines unsigned input where the agreement does not accept it', async () => {
    const green = object('indicator', 5, TLP2_MARKING_IDS.green);
    assert.deepEqual(reasons(await post('plain', 'signed-only', [green])), ['unsigned']);
    assert.deepEqual(await stored([green]), []);
  });

  it('keeps the ordinary write path for a collection that belongs to no circle', async () => {
    const malware = object('malware', 6, TLP2_MARKING_IDS.red);
    const status = await post('plain', 'inbox', [malware]);
    assert.deepEqual([status.success_count, status.failure_count], [1, 0]);
  });
});
