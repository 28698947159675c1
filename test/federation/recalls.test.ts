/**
 * Recall notices between real nodes (docs/federation.md, "Flash messages and recalls"): what the
 * coordinator's audit says a member received is recalled when the circle ends under the recall rule
 * or when the coordinator revokes an object it originated; the member's node removes the versions
 * and acknowledges; forged recalls remove nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { end } from '../../src/circles/circle-operations.ts';
import { keyIdOf, toRawPublicKey } from '../../src/federation/node-key.ts';
import { REVOCATION_REASON } from '../../src/federation/recall-revocations.ts';
import { signMessage } from '../../src/federation/signed-message.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { connectSse } from '../alerts/alert-test-kit.ts';
import { runEntente } from '../cli/cli-kit.ts';
import { cliEnv, signerOf, startAlliance, type Alliance, type AllianceNode } from './flash-alliance-kit.ts';

const TAXII = 'application/taxii+json;version=2.1';
const indicatorId = (n: number): string => `indicator--2eca0000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function indicator(n: number, overrides: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: indicatorId(n), created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
    name: `Recall test ${n}`, pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', ...overrides,
  } as StixObject;
}

describe('recalls between nodes', () => {
  let alliance: Alliance;
  let a: AllianceNode;
  let b: AllianceNode;
  let c: AllianceNode;

  /** The member pulls the coordinator's collection over TAXII (audited there) and stores it as a sync would. */
  async function pull(member: AllianceNode): Promise<StixObject[]> {
    const response = await fetch(`${a.url}/taxii2/api/collections/${alliance.circleId}/objects/?match[version]=all`, {
      headers: { accept: TAXII, authorization: `Bearer ${alliance.partnerSecret(a, member)}` },
    });
    assert.equal(response.status, 200);
    const objects = ((await response.json()) as { objects?: StixObject[] }).objects ?? [];
    await member.node.store.applySyncBatch({
      collectionId: alliance.circleId,
      peer: a.name,
      circleId: alliance.circleId,
      source: 'pull',
      contributorOrganisationId: a.organisationId,
      accepted: objects.map((object) => ({ object, signer: a.organisationId, keyId: undefined, verification: 'verified' as const, hops: [a.organisationId] })),
      quarantined: [],
      receivedAt: new Date().toISOString(),
    });
    return objects;
  }

  async function held(node: AllianceNode, id: string): Promise<string[]> {
    const page = await node.node.store.listEntries(alliance.circleId, { ids: [id], versions: [{ kind: 'all' }] }, { limit: 100 });
    return page.entries.map((entry) => entry.version);
  }

  before(async () => {
    alliance = await startAlliance(['coord-a', 'bank-b', 'grid-c'], 'recall-2026', { endRule: 'recall' });
    [a, b, c] = alliance.nodes as [AllianceNode, AllianceNode, AllianceNode];
    await a.node.store.addObjects(alliance.circleId, [indicator(1), indicator(2), indicator(3)]);
    assert.equal((await pull(b)).length, 3);
    assert.equal((await pull(c)).length, 3);
  });
  after(() => alliance.close());

  it('a creator revoking its object recalls the versions members received (not the revoked version itself)', async () => {
    const revoked = indicator(3, { modified: '2026-02-01T00:00:00.000Z', revoked: true });
    const posted = await fetch(`${a.url}/taxii2/api/collections/${alliance.circleId}/objects/`, {
      method: 'POST',
      headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${a.adminToken}` },
      body: JSON.stringify({ objects: [revoked] }),
    });
    assert.equal(posted.status, 202);
    assert.ok(a.node.recallSender !== undefined);
    const outcomes = await a.node.recallSender.tick();
    const queued = await a.node.store.listRecalls({ circleId: alliance.circleId });
    assert.deepEqual(
      queued.map((notice) => [notice.organisationId, notice.objectId, notice.version, notice.reason]).sort(),
      [
        [b.organisationId, indicatorId(3), '2026-01-01T00:00:00.000Z', REVOCATION_REASON],
        [c.organisationId, indicatorId(3), '2026-01-01T00:00:00.000Z', REVOCATION_REASON],
      ].sort(),
    );
    assert.deepEqual(outcomes.map((outcome) => outcome.outcome), ['acknowledged', 'acknowledged']);
    assert.ok(queued.every((notice) => notice.acknowledgedAt !== undefined && notice.deliveredAt !== undefined));
    assert.deepEqual(await held(b, indicatorId(3)), []);
    assert.deepEqual(await held(c, indicatorId(3)), []);
    assert.deepEqual(await held(b, indicatorId(1)), ['2026-01-01T00:00:00.000Z'], 'other objects are untouched');
    // The next pass queues nothing new for the same revocation.
    await a.node.recallSender.tick();
    assert.equal((await a.node.store.listRecalls({ circleId: alliance.circleId })).length, 2);
  });

  it('a forged recall is refused; one from a member that neither coordinates nor originated what it names is acknowledged and removes nothing', async () => {
    const body = { circle_id: alliance.circleId, reason: 'circle ended', versions: [{ id: indicatorId(1), version: '2026-01-01T00:00:00.000Z' }], sent_at: new Date().toISOString() };
    const recall = (message: unknown, token: string) =>
      fetch(`${b.url}/api/federation/recalls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(message),
      }).then(async (response) => ({ status: response.status, json: (await response.json()) as Record<string, unknown> }));
    const other = generateKeyPairSync('ed25519').privateKey;
    const forged = signMessage('recall', body, { organisationId: a.organisationId, keyId: keyIdOf(toRawPublicKey(other)), privateKey: other });
    const refusedForgery = await recall({ ...forged, key_id: (await signerOf(a)).keyId }, alliance.partnerSecret(b, a));
    assert.deepEqual([refusedForgery.status, refusedForgery.json['error_code']], [400, 'ENT_SIGNATURE_INVALID']);
    const altered = signMessage('recall', body, await signerOf(a));
    const refusedAltered = await recall({ ...altered, body: { ...altered.body, versions: [{ id: indicatorId(2), version: '2026-01-01T00:00:00.000Z' }] } }, alliance.partnerSecret(b, a));
    assert.deepEqual([refusedAltered.status, refusedAltered.json['error_code']], [400, 'ENT_SIGNATURE_INVALID']);
    const fromC = signMessage('recall', body, await signerOf(c));
    const acknowledgedMember = await recall(fromC, alliance.partnerSecret(b, c));
    // Refused only on what does not depend on what B holds: C is a member, so it is answered as
    // any recall is, and B takes back nothing C did not originate.
    assert.deepEqual([acknowledgedMember.status, acknowledgedMember.json['kind']], [200, 'recall-ack']);
    const wrongToken = await recall(fromC, alliance.partnerSecret(b, a));
    assert.equal(wrongToken.json['error_code'], 'ENT_SIGNATURE_INVALID');
    assert.deepEqual(await held(b, indicatorId(1)), ['2026-01-01T00:00:00.000Z']);
    assert.deepEqual(await held(b, indicatorId(2)), ['2026-01-01T00:00:00.000Z']);
  });

  it("even a coordinator's genuine recall never removes the member's own objects", async () => {
    await b.node.store.addObjects(alliance.circleId, [indicator(9)]);
    const own = { id: indicatorId(9), version: '2026-01-01T00:00:00.000Z' };
    const message = signMessage('recall', { circle_id: alliance.circleId, reason: 'circle ended', versions: [own], sent_at: new Date().toISOString() }, await signerOf(a));
    const response = await fetch(`${b.url}/api/federation/recalls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${alliance.partnerSecret(b, a)}` },
      body: JSON.stringify(message),
    });
    assert.equal(response.status, 200);
    // The acknowledgement confirms the notice (removed and kept, for earlier builds, always 0 and none).
    const ack = (await response.json()) as { kind: string; signer: string; body: Record<string, unknown> };
    assert.deepEqual([ack.kind, ack.signer, Object.keys(ack.body).sort(), ack.body['versions'], ack.body['removed'], ack.body['kept']], ['recall-ack', b.organisationId, ['acknowledged_at', 'circle_id', 'kept', 'recipient', 'removed', 'versions'], [own], 0, []]);
    assert.deepEqual(await held(b, indicatorId(9)), ['2026-01-01T00:00:00.000Z']);
  });

  it('the circle ends under the recall rule: notices delivered, versions gone from the members, acknowledged on the coordinator', async () => {
    const stream = await connectSse(`${b.url}/api/alerts/stream`, { authorization: `Bearer ${b.adminToken}` });
    try {
      const deps = { store: a.node.store, clock: () => new Date(), homeOrganisationId: a.organisationId };
      const ended = await end(deps, { organisationId: a.organisationId, admin: true }, alliance.circleId);
      assert.equal(ended.recalls, 4, 'indicators 1 and 2 for each member (3 was recalled already)');
      const outcomes = await a.node.recallSender?.tick();
      assert.deepEqual(outcomes?.map((outcome) => [outcome.organisationId, outcome.outcome, outcome.acknowledged]).sort(), [
        [b.organisationId, 'acknowledged', 2],
        [c.organisationId, 'acknowledged', 2],
      ].sort());
      for (const member of [b, c]) {
        for (const n of [1, 2]) assert.deepEqual(await held(member, indicatorId(n)), [], `${member.name} holds no version of indicator ${n}`);
      }
      const notices = await a.node.store.listRecalls({ circleId: alliance.circleId });
      assert.equal(notices.length, 6);
      assert.ok(notices.every((notice) => notice.deliveredAt !== undefined && notice.acknowledgedAt !== undefined));
      // What B received stays on record there: the store forgot the versions (and their provenance
      // rows), the recall kept the signed message and the provenance of what it removed.
      const [record, ...earlier] = await b.node.store.listReceivedRecalls({ circleId: alliance.circleId, limit: 10 });
      assert.ok(record !== undefined, 'the received recall is on record');
      assert.deepEqual([record.senderOrganisationId, record.authority], [a.organisationId, 'coordinator']);
      assert.match(record.reason, new RegExp(`circle ${alliance.circleId} ended`));
      assert.equal((JSON.parse(record.signedJson) as { kind: string; body: { reason: string } }).body.reason, record.reason);
      assert.deepEqual(
        record.versions.map((version) => [version.id, version.outcome, version.provenance?.signer, version.provenance?.peer, version.provenance?.verification]).sort(),
        [
          [indicatorId(1), 'removed', a.organisationId, a.name, 'verified'],
          [indicatorId(2), 'removed', a.organisationId, a.name, 'verified'],
        ].sort(),
      );
      // Before it: the recall of indicator 3 on its revocation. Those that took nothing back (the
      // member's own indicator 9, kept) leave no record.
      assert.deepEqual(
        earlier.map((recall) => recall.versions.map((version) => [version.id, version.outcome])),
        [[[indicatorId(3), 'removed']]],
      );
      const listed = await runEntente(['recalls', 'received', '--circle', alliance.circleId, '--json'], { env: cliEnv(b) });
      assert.equal(listed.code, 0, listed.stderr);
      const lines = listed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; sender: string; removed: number; kept: number; versions: { outcome: string; peer: string }[] });
      assert.deepEqual(lines.map((line) => [line.seq, line.removed, line.kept]), [[record.seq, 2, 0], [earlier[0]?.seq, 1, 0]]);
      assert.deepEqual(lines[0]?.versions.map((version) => version.peer), [a.name, a.name]);
      const table = await runEntente(['recalls', 'received'], { env: cliEnv(b) });
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, new RegExp(`^${record.seq}\\t\\S+\\t${alliance.circleId}\\t${a.organisationId}\\tcoordinator\\t2\\t0\\t0\\tcircle ${alliance.circleId} ended`, 'm'));
      assert.equal((await runEntente(['recalls', 'received', '--limit', '0'], { env: cliEnv(b) })).code, 2);
      assert.match((await runEntente(['recalls', 'received', '--circle', 'no-such-circle'], { env: cliEnv(b) })).stderr, /ENT_CIRCLE_NOT_FOUND/);
      const notice = await stream.waitFor((event) => event.event === 'notice', 2000);
      assert.equal((JSON.parse(notice.data) as { kind: string }).kind, 'recall');
    } finally {
      stream.close();
    }
    const cli = await runEntente(['circle', 'recalls', alliance.circleId], { env: cliEnv(a) });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stderr, new RegExp(`${alliance.circleId} ${b.organisationId}: 3 queued, 3 delivered, 3 acknowledged`));
    assert.equal(cli.stdout.trim().split('\n').length, 6);
  });
});
