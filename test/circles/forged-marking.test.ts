// A marking definition decides who may receive what it marks, so whoever could replace it could
// widen a TLP:RED release to themselves. STIX 2.1 does not version marking definitions: the node
// keeps the first one it stores and refuses any other version of that id, from any caller and into
// any collection (the store holds one version per id and version for the whole node).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openTestHttpApp } from './test-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--eeeeeeee-0000-4000-8000-000000000000';
const PARTNER = 'identity--eeeeeeee-0000-4000-8000-00000000000a';
const NAMED = 'identity--eeeeeeee-0000-4000-8000-00000000000b';
const MARKING = 'marking-definition--f1000000-0000-4000-8000-000000000000';
const RED_INDICATOR = 'indicator--eeeeeeee-0000-4000-8000-000000000001';
const TAXII = 'application/taxii+json;version=2.1';
const PARTNER_SECRET = 'ent_p-0000000000000000000000000000000';

function recipientsMarking(created: string, organisations: string[]): StixObject {
  return {
    type: 'marking-definition', spec_version: '2.1', id: MARKING, created, name: 'named recipients',
    extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: organisations } },
  };
}

const redIndicator: StixObject = {
  type: 'indicator', spec_version: '2.1', id: RED_INDICATOR, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
  name: 'RED, for the named member only', pattern: "[ipv4-addr:value = '198.51.100.20']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
  object_marking_refs: [TLP2_MARKING_IDS.red, MARKING],
};

describe('a marking definition cannot be replaced', () => {
  let store: SqliteObjectStore;
  let app: FastifyInstance;
  const headers = { authorization: `Bearer ${PARTNER_SECRET}`, accept: TAXII, 'content-type': TAXII };
  const indicatorsSeenByPartner = async (): Promise<number> => {
    const reply = await app.inject({ method: 'GET', url: '/taxii2/api/collections/c1/objects/?match[type]=indicator', headers });
    assert.equal(reply.statusCode, 200, reply.body);
    return ((JSON.parse(reply.body) as { objects?: unknown[] }).objects ?? []).length;
  };

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    for (const id of [PARTNER, NAMED]) {
      await store.createOrganisation({ id, name: id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    }
    for (const id of ['c1', 'drop']) await store.createCollection({ id, title: id }, created);
    await store.createCircle(
      {
        id: 'c1', name: 'c1', kind: 'formal', visibility: 'open', collectionId: 'c1', defaultTlp: 'amber',
        validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, PARTNER, NAMED].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
      },
      created,
    );
    await store.addAgreement({
      circleId: 'c1', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: {
        scope: { types: ['indicator', 'marking-definition'] }, highestTlp: 'red', onwardSharing: 'none', attribution: 'keep',
        expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain',
      },
    });
    for (const id of [PARTNER, NAMED]) await store.addAcceptance({ circleId: 'c1', organisationId: id, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    // The partner reads the circle and may write only into a collection of its own.
    await store.createToken({
      name: 'partner', secretHash: hashTokenSecret(PARTNER_SECRET), admin: false, organisationId: PARTNER, createdAt: created.toISOString(), revokedAt: undefined,
      grants: [{ collectionId: 'c1', read: true, write: false }, { collectionId: 'drop', read: false, write: true }],
    });
    await store.addObjects('c1', [recipientsMarking('2026-01-05T00:00:00.000Z', [NAMED]), redIndicator]);
    app = await openTestHttpApp(store, HOME);
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  it('refuses a later version naming the partner, posted into a collection the partner may write, and keeps RED from it', async () => {
    assert.equal(await indicatorsSeenByPartner(), 0);
    const post = await app.inject({
      method: 'POST', url: '/taxii2/api/collections/drop/objects/', headers,
      payload: JSON.stringify({ objects: [recipientsMarking('2026-05-01T00:00:00.000Z', [NAMED, PARTNER])] }),
    });
    assert.equal(post.statusCode, 202, post.body);
    const status = JSON.parse(post.body) as { success_count: number; failure_count: number; failures?: { id: string; message: string }[] };
    assert.equal(status.success_count, 0);
    assert.equal(status.failure_count, 1);
    // A partner reads the store's refusal in general words (taxii/status-failures.ts): the id may be
    // held where it cannot read. The administrator reads the reason.
    assert.match(status.failures?.[0]?.message ?? '', /cannot be stored on this node/);
    assert.equal(await indicatorsSeenByPartner(), 0);
  });

  it('refuses an earlier version too, and any other version through every way in (import, sync, POST share the store)', async () => {
    for (const createdAt of ['2025-01-01T00:00:00.000Z', '2026-01-05T00:00:00.001Z']) {
      const [outcome] = await store.addObjects('drop', [recipientsMarking(createdAt, [PARTNER])]);
      assert.equal(outcome?.kind, 'rejected');
      assert.equal(outcome?.kind === 'rejected' ? outcome.code : undefined, 'ENT_MARKING_IMMUTABLE');
    }
    assert.equal(await indicatorsSeenByPartner(), 0);
  });

  it('still accepts the same definition again (idempotent), in this or another collection', async () => {
    const outcomes = await store.addObjects('drop', [recipientsMarking('2026-01-05T00:00:00.000Z', [NAMED])]);
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['added']);
    const again = await store.addObjects('c1', [recipientsMarking('2026-01-05T00:00:00.000Z', [NAMED])]);
    assert.deepEqual(again.map((outcome) => outcome.kind), ['duplicate']);
  });
});
