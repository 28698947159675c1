/**
 * Sightings shared back (docs/federation.md, "Sightings shared back"): A coordinates two circles
 * with B. One agreement shares sightings as a summary, the other says nothing about them (the
 * default: they stay home). A's indicators in both fire on B's telemetry; B's sync pushes to A.
 * A sighting of the second circle's indicator never leaves B; the first circle's reaches A signed
 * by B, without the observed-data (and so without B's internal addresses), and raises the
 * indicator's effective confidence on A.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncPeer, type SyncDeps } from '../../src/federation/sync-peer.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { SIGNATURE_EXTENSION_ID } from '../../src/federation/signature-extension.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openTaxiiClient } from '../../src/taxii/taxii-client.ts';
import { runEntente, temporaryDirectory } from '../cli/cli-kit.ts';
import { acceptOnCoordinator, acceptThroughLink, entriesOf, formCircleOfTwo, indicator, indicatorTerms, startTestNode, type TestNode } from './two-node-kit.ts';

const SHARES = 'shares-sightings';
const KEEPS = 'keeps-sightings';
const SHARES_SECRET = 'ent_b-node-shares-at-a-0000000000000000000';
const KEEPS_SECRET = 'ent_b-node-keeps-at-a-00000000000000000000';
const B_ADMIN = 'ent_b-admin-for-observations-000000000000000';
/** B's own address: what a summary must never carry to A. */
const INTERNAL_IP = '10.20.30.40';

const scope = { types: ['indicator', 'sighting', 'identity', 'observed-data', 'ipv4-addr', 'network-traffic'] };

describe('sightings shared back into the indicator\'s circle', () => {
  const dirs = temporaryDirectory('sighting-share');
  let a: TestNode;
  let b: TestNode;
  let syncB: SyncDeps;
  let shared: StixObject;
  let kept: StixObject;

  async function addPeer(name: string, circleId: string, secret: string): Promise<void> {
    const tokenFile = join(dirs.path, `${name}.token`);
    writeFileSync(tokenFile, `${secret}\n`, { mode: 0o600 });
    const added = await runEntente(['peer', 'add', name, `${a.node.url}/taxii2/`, '--circle', circleId, '--token-file', tokenFile, '--push', '--data', b.dataDir]);
    assert.equal(added.code, 0, added.stderr);
    // B's node records B's acceptance only when it accepts itself (A's view does not speak for B).
    await acceptThroughLink(b, circleId);
  }

  before(async () => {
    a = await startTestNode(join(dirs.path, 'a'), 'CERT A');
    b = await startTestNode(join(dirs.path, 'b'), 'Grid B');
    await formCircleOfTwo(a, b, { circleId: SHARES, memberSecret: SHARES_SECRET, endRule: 'retain', terms: { ...indicatorTerms('retain'), scope, sighting_sharing: 'summary' } });
    // Sightings in scope, but the terms say nothing of sharing them: the default keeps them home.
    await formCircleOfTwo(a, b, { circleId: KEEPS, memberSecret: KEEPS_SECRET, endRule: 'retain', terms: { ...indicatorTerms('retain'), scope } });
    await acceptOnCoordinator(a, b, SHARES, SHARES_SECRET);
    await acceptOnCoordinator(a, b, KEEPS, KEEPS_SECRET);
    shared = { ...indicator(a.org, 'green'), pattern: "[ipv4-addr:value = '203.0.113.10']", confidence: 60 };
    kept = { ...indicator(a.org, 'green'), pattern: "[ipv4-addr:value = '203.0.113.20']", confidence: 60 };
    await a.node.store.addObjects(SHARES, [shared]);
    await a.node.store.addObjects(KEEPS, [kept]);
    syncB = { store: b.node.store, clock: () => new Date(), homeOrganisationId: b.org, openClient: openTaxiiClient, releaseSigner: b.node.releaseSigner, followStatus: { pollMs: 20, deadlineMs: 5000 } };
    await addPeer('a-shares', SHARES, SHARES_SECRET);
    await addPeer('a-keeps', KEEPS, KEEPS_SECRET);
    for (const peer of ['a-shares', 'a-keeps']) assert.equal((await syncPeer(syncB, peer)).error, undefined);
    assert.equal((await b.node.store.latestVersions([shared.id, kept.id])).size, 2, 'B pulled both indicators');
    await b.node.store.createToken({ name: 'b-admin', secretHash: hashTokenSecret(B_ADMIN), admin: true, grants: [], organisationId: b.org, createdAt: new Date().toISOString(), revokedAt: undefined });
  });

  after(async () => {
    await b?.node.close();
    await a?.node.close();
    dirs.remove();
  });

  /** One observation per indicator: a flow from B's internal host to the indicator's address. */
  async function observeOnB(): Promise<{ sightings_stored: number; sightings_shared: number }> {
    const flow = (ip: string): string =>
      JSON.stringify([
        { type: 'ipv4-addr', value: INTERNAL_IP },
        { type: 'ipv4-addr', value: ip },
      ]);
    const response = await b.node.app.inject({
      method: 'POST',
      url: '/api/observations',
      headers: { authorization: `Bearer ${B_ADMIN}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: [flow('203.0.113.10'), flow('203.0.113.20')].join('\n'),
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  }

  async function postToA(ip: string): Promise<{ indicator_id: string; confidence: number }[]> {
    const response = await a.node.app.inject({
      method: 'POST',
      url: '/api/observations',
      headers: { authorization: `Bearer ${await adminOf(a)}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: JSON.stringify({ type: 'ipv4-addr', value: ip }),
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ alerts: { indicator_id: string; confidence: number }[] }>().alerts;
  }

  const sightingsIn = async (node: TestNode, collectionId: string): Promise<Record<string, unknown>[]> =>
    (await entriesOf(node.node.store, collectionId)).filter((entry) => entry.type === 'sighting').map((entry) => JSON.parse(entry.json) as Record<string, unknown>);

  it("keeps B's home sightings of circle-only indicators in B's home sightings collection, and puts a copy only into the collection of the circle that agreed to it", async () => {
    // A's matcher is running before B's sighting arrives, as on a live node.
    await postToA('192.0.2.1');
    const outcome = await observeOnB();
    // B holds both indicators in circles' collections only: no home sighting there (unmarked, it would go
    // to the members) but one each, with its evidence, in B's home sightings collection; the circle that
    // agreed gets its copy.
    assert.equal(outcome.sightings_stored, 2);
    assert.equal(outcome.sightings_shared, 1);
    const homeSightings = b.node.identity.homeSightingsCollection.id;
    assert.deepEqual((await sightingsIn(b, homeSightings)).map((s) => s['sighting_of_ref']).sort(), [shared.id, kept.id].sort());
    assert.ok((await entriesOf(b.node.store, homeSightings)).some((entry) => entry.json.includes(INTERNAL_IP)), 'with their evidence');
    assert.deepEqual(await sightingsIn(b, KEEPS), [], 'nothing enters the collection of a circle whose terms keep sightings home');
    const [copy, ...more] = await sightingsIn(b, SHARES);
    assert.equal(more.length, 0);
    assert.equal(copy?.['sighting_of_ref'], shared.id);
    assert.equal(copy?.['created_by_ref'], b.org);
    assert.deepEqual(copy?.['where_sighted_refs'], [b.org]);
    assert.equal(copy?.['observed_data_refs'], undefined, 'a summary carries no observed-data');
    assert.deepEqual(copy?.['object_marking_refs'], [TLP2_MARKING_IDS.amber], 'the circle default (AMBER) is stricter than the GREEN indicator');
  });

  it("pushes the shared sighting to A signed by B; the kept one, its observed-data and B's internal address never leave", async () => {
    for (const peer of ['a-shares', 'a-keeps']) assert.equal((await syncPeer(syncB, peer)).error, undefined);
    const atA = [...(await entriesOf(a.node.store, SHARES)), ...(await entriesOf(a.node.store, KEEPS))];
    const sightings = atA.filter((entry) => entry.type === 'sighting').map((entry) => JSON.parse(entry.json) as Record<string, unknown>);
    assert.deepEqual(sightings.map((s) => s['sighting_of_ref']), [shared.id]);
    assert.equal((sightings[0]?.['extensions'] as Record<string, { signer?: string }> | undefined)?.[SIGNATURE_EXTENSION_ID]?.signer, b.org, 'signed by B\'s node key');
    assert.deepEqual(atA.filter((entry) => entry.type === 'observed-data'), []);
    assert.ok(!atA.some((entry) => entry.json.includes(INTERNAL_IP)), 'B\'s internal address is nowhere in A\'s store');
    // Nor anything of B's home sightings collection: every collection of A is searched for B's home sightings.
    const homeSightingIds = new Set((await sightingsIn(b, b.node.identity.homeSightingsCollection.id)).map((s) => String(s['id'])));
    for (const collection of await a.node.store.listCollections()) {
      const leaked = (await entriesOf(a.node.store, collection.id)).filter((entry) => homeSightingIds.has(entry.id) || entry.json.includes(INTERNAL_IP));
      assert.deepEqual(leaked, [], `nothing of B's home sightings in A's ${collection.id}`);
    }
    assert.ok(!sightings.some((s) => s['sighting_of_ref'] === kept.id));
    const provenance = await a.node.store.provenanceOf(atA.filter((entry) => entry.type === 'sighting').map((entry) => ({ id: entry.id, version: entry.version })));
    assert.deepEqual([...provenance.values()].flat().map((row) => row.verification), ['verified']);
  });

  it("raises the confidence of A's indicator on A's own alerts: another member saw it", async () => {
    const confidenceOf = async (ip: string): Promise<number> => {
      const alert = (await postToA(ip))[0];
      assert.ok(alert !== undefined);
      return alert.confidence;
    };
    // What the running matcher's timer does every 10 s (and a request when the last refresh is 250 ms old).
    await a.node.app.alerting.matcher.refresh();
    const corroborated = await confidenceOf('203.0.113.10');
    const alone = await confidenceOf('203.0.113.20');
    assert.ok(corroborated > alone, `B's sighting corroborates the shared indicator (${corroborated} vs ${alone})`);
  });
});

const A_ADMIN = 'ent_a-admin-for-observations-000000000000000';
async function adminOf(node: TestNode): Promise<string> {
  if ((await node.node.store.findTokenBySecretHash(hashTokenSecret(A_ADMIN))) === undefined) {
    await node.node.store.createToken({ name: 'a-admin', secretHash: hashTokenSecret(A_ADMIN), admin: true, grants: [], organisationId: node.org, createdAt: new Date().toISOString(), revokedAt: undefined });
  }
  return A_ADMIN;
}
