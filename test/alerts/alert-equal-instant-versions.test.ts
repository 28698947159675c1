/**
 * Two versions of an indicator whose `modified` name the same instant spelled differently
 * ('…:00.000Z' and '…:00Z') are two versions: two version keys, which the store keeps as two rows
 * with two contents. The node's matcher compiles both side by side and each alert goes to the readers
 * of the collection holding the version that matched. Before, the loader and the alert's audience
 * took an equal instant for the same version: the content compiled first (alpha's) was the only one
 * compiled, and its alerts — its name, and that it matched — went to a token that reads beta only,
 * whose own version (another pattern, put there by anyone who may write beta) never matched.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openTestHttpApp } from '../circles/test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const IND = 'indicator--cccccccc-0000-4000-8000-000000000001';
const ALPHA_IP = '198.51.100.9';
const BETA_IP = '192.0.2.1';

function indicator(modified: string, ip: string, name: string): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: IND, created: '2026-01-01T00:00:00.000Z', modified, name,
    pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green],
  };
}

interface Answer {
  readonly sightings_stored: number;
  readonly alerts: readonly { readonly indicator_name: string | null }[];
}

async function node(): Promise<SqliteObjectStore> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
  for (const id of ['default', 'alpha', 'beta']) await store.createCollection({ id, title: id }, CREATED);
  await store.setMeta('default_collection', 'default');
  for (const [collectionId, object] of [['alpha', indicator('2026-02-01T00:00:00.000Z', ALPHA_IP, 'alpha name')], ['beta', indicator('2026-02-01T00:00:00Z', BETA_IP, 'beta name')]] as const) {
    const outcomes = await store.addObjects(collectionId, [object] as never);
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['added']);
  }
  for (const reads of ['alpha', 'beta']) {
    await store.createToken({
      name: reads, secretHash: hashTokenSecret(`ent_${reads.padEnd(40, '0')}`), admin: false, organisationId: HOME, createdAt: CREATED.toISOString(), revokedAt: undefined,
      grants: [{ collectionId: 'default', read: true, write: true }, { collectionId: reads, read: true, write: false }],
    });
  }
  return store;
}

describe('versions of an indicator at the same instant spelled differently are two versions', () => {
  it("each reader is alerted on its own collection's version only", async () => {
    const store = await node();
    const app = await openTestHttpApp(store, HOME, AT);
    const post = async (token: string, ip: string): Promise<Answer> => {
      const reply = await app.inject({
        method: 'POST', url: '/api/observations', headers: { authorization: `Bearer ent_${token.padEnd(40, '0')}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
        payload: JSON.stringify({ type: 'ipv4-addr', value: ip }),
      });
      assert.equal(reply.statusCode, 200, reply.body);
      return reply.json();
    };
    try {
      const betaOnAlpha = await post('beta', ALPHA_IP);
      assert.deepEqual([betaOnAlpha.alerts, betaOnAlpha.sightings_stored], [[], 0], "beta's reader is told nothing of alpha's version");
      const betaOnBeta = await post('beta', BETA_IP);
      assert.deepEqual(betaOnBeta.alerts.map((alert) => alert.indicator_name), ['beta name'], "beta's version matches for its reader");
      const alphaOnAlpha = await post('alpha', ALPHA_IP);
      assert.deepEqual(alphaOnAlpha.alerts.map((alert) => alert.indicator_name), ['alpha name']);
      const alphaOnBeta = await post('alpha', BETA_IP);
      assert.deepEqual(alphaOnBeta.alerts, []);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
