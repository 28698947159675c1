// The store refuses some writes for what the node holds of an id, whatever the collection: another
// content under the same id and version, a version after a revocation, a second version of a marking
// definition. What stood in the way may sit in a collection the writer cannot read, so the status
// resource (the POST's answer and GET status) gives the store's reason only to a reader who may read
// every collection holding the id: the administrator, or a home token whose grants cover them. Anyone
// else reads that the version cannot be stored on this node, and nothing of why. That a write fails
// at all is the residual (docs/federation.md, "Whose history").
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { API, ADD_TEST, bearer, indicator, QUERY_TEST, SECRET, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

interface Status {
  id: string;
  success_count: number;
  failure_count: number;
  failures?: { id: string; version: string; message: string }[];
}

const PARTNER = 'identity--5e5e5e5e-0000-4000-8000-0000000000aa';
const PARTNER_SECRET = 'ent_partner-5e5e5e5e0000000000000000000000';
/** A collection of no circle the partner may read and write: its POSTs take the ordinary write path. */
const OPEN = 'open-to-partner';
const V1 = '2026-01-01T00:00:00.000Z';
const LATER = '2026-06-01T00:00:00.000Z';

const generic = (id: string, version: string): string => `Object ${id} version ${version} cannot be stored on this node (an administrator reading this status sees the reason)`;

function marking(n: number, statement: string): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: `marking-definition--5e5e5e5e-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: V1,
    definition_type: 'statement',
    definition: { statement },
  } as StixObject;
}

describe('the status of a POST the store refused: the reason only for a reader of every collection holding the id', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true });
    await node.store.createOrganisation({ id: PARTNER, name: 'partner', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: V1 });
    await node.store.createCollection({ id: OPEN, title: 'open to the partner' }, new Date(V1));
    await node.store.createToken({
      name: 'partner',
      secretHash: hashTokenSecret(PARTNER_SECRET),
      admin: false,
      grants: [{ collectionId: OPEN, read: true, write: true }],
      organisationId: PARTNER,
      createdAt: V1,
      revokedAt: undefined,
    });
    // The analyst has no grant on SECRET, reads and writes ADD_TEST, and only writes QUERY_TEST.
    await node.store.addObjects(SECRET, [indicator(1, { name: 'held in SECRET' }), indicator(2, { revoked: true }), marking(3, 'held in SECRET')]);
    await node.store.addObjects(ADD_TEST, [indicator(4, { name: 'held in ADD_TEST' }), indicator(5, { revoked: true })]);
    await node.store.addObjects(QUERY_TEST, [indicator(6, { name: 'held in QUERY_TEST' })]);
    await node.store.addObjects(ADD_TEST, [indicator(6, { name: 'held in QUERY_TEST' })]);
  });
  after(() => node.close());

  const post = async (collectionId: string, objects: readonly StixObject[], headers: Record<string, string> = bearer('analyst')): Promise<Status> => {
    const response: LightMyRequestResponse = await node.app.inject({
      method: 'POST',
      url: `${API}collections/${collectionId}/objects/`,
      headers: { ...headers, 'content-type': TAXII },
      payload: JSON.stringify({ objects }),
    });
    assert.equal(response.statusCode, 202, response.body);
    return response.json<Status>();
  };
  const statusAs = async (statusId: string, headers: Record<string, string>): Promise<Status> => {
    const response = await node.app.inject({ url: `${API}status/${statusId}/`, headers });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<Status>();
  };
  const partner = { authorization: `Bearer ${PARTNER_SECRET}`, accept: TAXII };

  const hidden: readonly [string, StixObject][] = [
    ['another content under an id and version held only in SECRET', indicator(1, { name: 'probe' })],
    ['a version after a revocation held only in SECRET', indicator(2, { modified: LATER })],
    ['another version of a marking definition held only in SECRET', { ...marking(3, 'probe'), created: LATER }],
    ['another content under an id and version also held in a collection the token only writes', indicator(6, { name: 'probe' })],
  ];
  for (const [what, probe] of hidden) {
    it(`tells a home token that cannot read where the id is held only that the version cannot be stored: ${what}`, async () => {
      const version = String(probe['modified'] ?? probe['created']);
      const expected = [{ id: probe.id, version, message: generic(probe.id, version) }];
      const posted = await post(ADD_TEST, [probe]);
      assert.equal(posted.failure_count, 1);
      assert.deepEqual(posted.failures, expected);
      assert.deepEqual((await statusAs(posted.id, bearer('analyst'))).failures, expected, 'GET status says no more');
      const admin = await statusAs(posted.id, bearer('admin'));
      assert.notEqual(admin.failures?.[0]?.message, generic(probe.id, version), 'the administrator reads the store\'s reason');
      assert.match(admin.failures?.[0]?.message ?? '', new RegExp(probe.id));
    });
  }

  it('gives a home token the store\'s reason when every collection holding the id is one it reads', async () => {
    const conflict = await post(ADD_TEST, [indicator(4, { name: 'probe' })]);
    assert.match(conflict.failures?.[0]?.message ?? '', /already stored with different content; change "modified"/);
    assert.match((await statusAs(conflict.id, bearer('analyst'))).failures?.[0]?.message ?? '', /already stored with different content/);
    const revoked = await post(ADD_TEST, [indicator(5, { modified: LATER })]);
    assert.match(revoked.failures?.[0]?.message ?? '', /the object is revoked on this node/);
  });

  it('gives the administrator the store\'s reason wherever the id is held', async () => {
    const posted = await post(ADD_TEST, [indicator(1, { name: 'probe by the administrator' })], bearer('admin'));
    assert.match(posted.failures?.[0]?.message ?? '', /already stored with different content/);
  });

  it('keeps the validator\'s reason for everyone: it is about the object sent', async () => {
    const broken = indicator(7, { pattern: "[ipv4-addr:value = '198.51.100.1'" });
    const posted = await post(ADD_TEST, [broken]);
    assert.match(posted.failures?.[0]?.message ?? '', /^\$\.objects\[0\]\.pattern: the STIX pattern is invalid/);
  });

  it('tells a partner writing into a collection of no circle only that the version cannot be stored, even for an id held where it reads', async () => {
    await node.store.addObjects(OPEN, [indicator(8, { name: 'held in the open collection' })]);
    for (const probe of [indicator(1, { name: 'probe' }), indicator(2, { modified: LATER }), indicator(8, { name: 'probe' })]) {
      const version = String(probe['modified']);
      const posted = await post(OPEN, [probe], partner);
      assert.deepEqual(posted.failures, [{ id: probe.id, version, message: generic(probe.id, version) }], probe.id);
      assert.deepEqual((await statusAs(posted.id, partner)).failures, posted.failures);
    }
  });

  it('still tells a refusal from a success (the residual): a version conflicting with SECRET fails, a fresh id is stored', async () => {
    const held = await post(ADD_TEST, [indicator(1, { name: 'another probe' })]);
    const fresh = await post(ADD_TEST, [indicator(9, { name: 'probe' })]);
    assert.deepEqual([held.success_count, held.failure_count], [0, 1]);
    assert.deepEqual([fresh.success_count, fresh.failure_count], [1, 0]);
  });
});
