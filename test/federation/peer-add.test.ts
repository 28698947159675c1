/**
 * Adding a peer, through /api/peers on a running node: everything the peer says is checked before
 * anything is stored, and each refusal names its problem. Two in-process nodes (real HTTP on port
 * 0, one SQLite file each): A coordinates a circle, B links A.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNodeConfig, startNode, type RunningNode } from '../../src/compose.ts';
import { createCircle, invite, proposeAgreement } from '../../src/circles/circle-operations.ts';
import { fingerprintOf } from '../../src/federation/node-key.ts';
import { rotateNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { addPeer, NODE_IDENTITY_PATH } from '../../src/federation/peer-operations.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { openTaxiiClient } from '../../src/taxii/taxii-client.ts';
import { runEntente, temporaryDirectory } from '../cli/cli-kit.ts';
import { indicatorTerms } from './two-node-kit.ts';

const READER = 'ent_b-reads-at-a-0000000000000000000000000000';
const STRANGER = 'identity--0f000000-0000-4000-8000-00000000000f';

async function start(dataDir: string, orgName: string): Promise<{ node: RunningNode; admin: string }> {
  const node = await startNode(loadNodeConfig({ dataDir, port: '0', orgName, logLevel: 'silent' }, {}), { sweepRecalls: false, syncPeers: false });
  return { node, admin: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim() };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

describe('adding a peer', () => {
  const dirs = temporaryDirectory('peer-add');
  let a: { node: RunningNode; admin: string };
  let b: { node: RunningNode; admin: string };
  let aOrg: string;
  let bOrg: string;

  async function call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token = b.admin): Promise<Answer> {
    const response = await b.node.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  }

  const link = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'cert-a', url: `${a.node.url}/taxii2/`, token: READER, circle: 'alliance', ...overrides });

  async function nothingStored(): Promise<void> {
    assert.deepEqual(await b.node.store.listPeers(), []);
    assert.equal(await b.node.store.getCircle('alliance'), undefined);
    assert.deepEqual(await b.node.store.listPinnedKeys(aOrg), []);
  }

  before(async () => {
    a = await start(join(dirs.path, 'a'), 'CERT A');
    b = await start(join(dirs.path, 'b'), 'Grid B');
    aOrg = a.node.identity.homeOrganisation.id;
    bOrg = b.node.identity.homeOrganisation.id;
    const now = new Date().toISOString();
    await a.node.store.createOrganisation({ id: bOrg, name: 'Grid B', kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: now });
    const deps = { store: a.node.store, clock: () => new Date(), homeOrganisationId: aOrg };
    await createCircle(deps, { id: 'alliance', name: 'Alliance', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' });
    await invite(deps, { organisationId: aOrg, admin: true }, 'alliance', { organisationId: bOrg, role: 'contributor', trial: false });
    await proposeAgreement(deps, { organisationId: aOrg, admin: true }, 'alliance', indicatorTerms('retain'));
    await a.node.store.createToken({ name: 'grid-b', secretHash: hashTokenSecret(READER), admin: false, grants: [{ collectionId: 'alliance', read: true, write: false }], organisationId: bOrg, createdAt: now, revokedAt: undefined });
  });

  after(async () => {
    await b?.node.close();
    await a?.node.close();
    dirs.remove();
  });

  it('is for the node administrator only', async () => {
    await b.node.store.createToken({ name: 'analyst', secretHash: hashTokenSecret('ent_analyst-at-b-000000000000000000000000000'), admin: false, grants: [], organisationId: undefined, createdAt: new Date().toISOString(), revokedAt: undefined });
    const refused = await call('POST', '/api/peers', link(), 'ent_analyst-at-b-000000000000000000000000000');
    assert.equal(refused.status, 403);
    assert.equal((await call('GET', '/api/peers', undefined, 'ent_analyst-at-b-000000000000000000000000000')).status, 403);
  });

  it('names every field at fault before asking the peer anything', async () => {
    const answer = await call('POST', '/api/peers', { name: 'Cert A', url: 'ftp://a.example/', token: READER, circle: 'alliance', interval: 'often', admin: true });
    assert.equal(answer.status, 400);
    assert.equal(answer.body['error_code'], 'ENT_HTTP_BAD_FIELD', 'an unknown field is refused first');
    const fields = await call('POST', '/api/peers', { name: 'Cert A', url: 'ftp://a.example/', token: READER, circle: 'alliance', interval: 'often' });
    assert.equal(fields.body['error_code'], 'ENT_PEER_INVALID');
    assert.match(String(fields.body['description']), /name: .*; url: .*; interval: /);
    await nothingStored();
  });

  it("refuses a peer whose organisation is not a registered partner, saying how to register it", async () => {
    const answer = await call('POST', '/api/peers', link());
    assert.equal(answer.status, 404);
    assert.equal(answer.body['error_code'], 'ENT_ORG_NOT_FOUND');
    assert.match(String(answer.body['description']), new RegExp(`entente org add NAME --kind K --id ${aOrg}`));
    await nothingStored();
    await b.node.store.createOrganisation({ id: aOrg, name: 'CERT A', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: new Date().toISOString() });
  });

  it('refuses a fingerprint that is not the peer key, and stores nothing', async () => {
    const answer = await call('POST', '/api/peers', link({ fingerprint: 'ab'.repeat(32) }));
    assert.equal(answer.status, 400);
    assert.equal(answer.body['error_code'], 'ENT_PEER_KEY_MISMATCH');
    assert.match(String(answer.body['description']), /no key the peer's node publishes has the fingerprint given/);
    await nothingStored();
  });

  it('refuses --push when the token cannot write the remote collection', async () => {
    const answer = await call('POST', '/api/peers', link({ push: true }));
    assert.equal(answer.status, 502);
    assert.equal(answer.body['error_code'], 'ENT_PEER_NO_COLLECTION');
    assert.match(String(answer.body['description']), /--push needs write access/);
    await nothingStored();
  });

  it('refuses a token the peer does not know', async () => {
    const answer = await call('POST', '/api/peers', link({ token: 'ent_not-a-token-at-a-0000000000000000000000000' }));
    assert.equal(answer.body['error_code'], 'ENT_PEER_AUTH_REFUSED');
    assert.doesNotMatch(JSON.stringify(answer.body), /ent_not-a-token/);
    await nothingStored();
  });

  it('needs the organisation of a plain TAXII server (one without an Entente node identity)', async () => {
    const plain = (options: Parameters<typeof openTaxiiClient>[0]) => {
      const client = openTaxiiClient(options);
      return { ...client, getJson: async (path: string) => (path === NODE_IDENTITY_PATH ? undefined : client.getJson(path)) };
    };
    const deps = { store: b.node.store, clock: () => new Date(), homeOrganisationId: bOrg, openClient: plain };
    await assert.rejects(addPeer(deps, link()), (error: Error & { code?: string }) => error.code === 'ENT_PEER_INVALID' && /plain TAXII server .*--organisation/.test(error.message));
    await assert.rejects(addPeer(deps, link({ organisation: STRANGER })), (error: Error & { code?: string }) => error.code === 'ENT_ORG_NOT_FOUND');
    // The circle is not here and a plain server cannot provide one.
    await assert.rejects(addPeer(deps, link({ organisation: aOrg })), (error: Error & { code?: string }) => error.code === 'ENT_CIRCLE_NOT_FOUND' && /create it first/.test(error.message));
    await nothingStored();
  });

  it('links the peer, mirrors the circle, pins the key, and answers without the token', async () => {
    const [key] = await a.node.store.listNodeKeys();
    assert.ok(key !== undefined);
    const answer = await call('POST', '/api/peers', link({ interval: '1m' }));
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.doesNotMatch(JSON.stringify(answer.body), new RegExp(READER));
    const peer = answer.body['peer'] as Record<string, unknown>;
    assert.deepEqual([peer['kind'], peer['organisation_id'], peer['remote_collection_id'], peer['interval_seconds'], peer['push']], ['entente', aOrg, 'alliance', 60, false]);
    assert.deepEqual(answer.body['pinned_keys'], [{ key_id: key.keyId, fingerprint: fingerprintOf(key.publicKey), source: 'peer-add', valid_from: key.validFrom, valid_until: null }]);
    assert.equal((answer.body['mirrored_circle'] as Record<string, unknown>)['circle_id'], 'alliance');
    const listed = await call('GET', '/api/peers');
    assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(READER));
    assert.deepEqual((listed.body['peers'] as { name: string }[]).map((listedPeer) => listedPeer.name), ['cert-a']);
    const status = await call('GET', '/api/peers/cert-a/status');
    assert.equal(status.status, 200);
    assert.deepEqual([status.body['lag_seconds'], status.body['consecutive_failures'], status.body['pull_cursor']], [null, 0, null]);
  });

  it('syncs on request, and shows the outcome in the status', async () => {
    const synced = await call('POST', '/api/peers/cert-a/sync');
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    assert.equal(synced.body['ok'], true);
    const status = await call('GET', '/api/peers/cert-a/status');
    assert.equal(status.body['consecutive_failures'], 0);
    assert.equal(typeof status.body['lag_seconds'], 'number');
    assert.equal((await call('POST', '/api/peers/nobody/sync')).status, 404);
  });

  it('shows status and removes the peer from the command line too; the circle and keys stay', async () => {
    const shown = await runEntente(['peer', 'status', 'cert-a', '--data', join(dirs.path, 'b')]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /cert-a {2}entente peer of circle alliance/);
    assert.match(shown.stdout, /consecutive failures: 0/);
    const removed = await call('DELETE', '/api/peers/cert-a');
    assert.equal(removed.status, 200);
    assert.equal((await call('DELETE', '/api/peers/cert-a')).body['error_code'], 'ENT_PEER_NOT_FOUND');
    assert.deepEqual(await b.node.store.listPeers(), []);
    assert.ok((await b.node.store.getCircle('alliance')) !== undefined);
    assert.equal((await b.node.store.listPinnedKeys(aOrg)).length, 1);
  });

  it('takes the token from --token-file or ENTENTE_PEER_TOKEN, and refuses two sources', async () => {
    const data = join(dirs.path, 'b');
    const both = await runEntente(['peer', 'add', 'x', `${a.node.url}/taxii2/`, '--circle', 'alliance', '--token', READER, '--token-file', '/nonexistent', '--data', data]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--token or --token-file, not both/);
    const none = await runEntente(['peer', 'add', 'x', `${a.node.url}/taxii2/`, '--circle', 'alliance', '--data', data]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /ENTENTE_PEER_TOKEN/);
    const fromEnv = await runEntente(['peer', 'add', 'cert-a', `${a.node.url}/taxii2/`, '--circle', 'alliance', '--data', data], { env: { ENTENTE_PEER_TOKEN: READER } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.doesNotMatch(fromEnv.stdout + fromEnv.stderr, new RegExp(READER));
    const synced = await runEntente(['sync', 'cert-a', '--data', data]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /^cert-a: circle refreshed, added 0, duplicates 0, quarantined 0$/m);
  });

  it("after A rotates its key, linking again pins the new key and ends the old one's window where A's node ends it", async () => {
    const rotation = await rotateNodeKey(a.node.store, { organisationId: aOrg, now: new Date(), overlapMs: 3_600_000 });
    const data = join(dirs.path, 'b');
    assert.equal((await call('DELETE', '/api/peers/cert-a')).status, 200);
    const linked = await runEntente(['peer', 'add', 'cert-a', `${a.node.url}/taxii2/`, '--circle', 'alliance', '--data', data], { env: { ENTENTE_PEER_TOKEN: READER } });
    assert.equal(linked.code, 0, linked.stderr);
    assert.match(linked.stdout, new RegExp(`Pinned key ${rotation.created.keyId}: .* \\(signed over by a trusted key\\)`));
    assert.match(linked.stdout, new RegExp(`Key ${rotation.previous.keyId} rotated out for ${rotation.created.keyId}: trusted until ${rotation.previousValidUntil} only`));
    const pinned = await b.node.store.listPinnedKeys(aOrg);
    assert.deepEqual(
      pinned.map((key) => [key.keyId, key.validFrom, key.validUntil, key.source]),
      [
        [rotation.previous.keyId, rotation.previous.validFrom, rotation.previousValidUntil, 'peer-add'],
        [rotation.created.keyId, rotation.created.validFrom, undefined, 'rotation'],
      ],
    );
  });
});
