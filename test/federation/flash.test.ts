/**
 * Flash messages between three real nodes (docs/federation.md, "Flash messages and recalls"): each
 * started by startNode on its own SQLite file and port, peer links and pinned keys between all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { connectSse, type SseClient } from '../alerts/alert-test-kit.ts';
import { runEntente } from '../cli/cli-kit.ts';
import { signMessage, type SignedMessage } from '../../src/federation/signed-message.ts';
import { createFlashBody } from '../../src/federation/flash-message.ts';
import { keyIdOf, toRawPublicKey, type NodeSigner } from '../../src/federation/node-key.ts';
import { validateForIngest } from '../../src/store/validate-for-ingest.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { cliEnv, signerOf, startAlliance, type Alliance, type AllianceNode } from './flash-alliance-kit.ts';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const INDICATOR = 'indicator--f1a50000-0000-4000-8000-000000000001';

/** The id a stream shows for the event before the one shown as `id` (shown ids are sealed: alert-event-ids.ts). */
function eventIdBefore(node: AllianceNode, id: string | undefined): string {
  const ids = node.node.app.alerting.eventIds;
  return ids.shown((ids.opened(id ?? '') ?? assert.fail(`not an id the node showed: ${String(id)}`)) - 1);
}

async function post(node: AllianceNode, path: string, token: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${node.url}${path}`, { method: 'POST', headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function get(node: AllianceNode, path: string, token: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${node.url}${path}`, { headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

interface MemberView {
  organisation_id: string;
  state: string;
  delivered_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  error: string | null;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('flash messages between three nodes', () => {
  let alliance: Alliance;
  let a: AllianceNode;
  let b: AllianceNode;
  let c: AllianceNode;
  const streams: SseClient[] = [];

  before(async () => {
    alliance = await startAlliance(['cert-a', 'grid-b', 'water-c']);
    [a, b, c] = alliance.nodes as [AllianceNode, AllianceNode, AllianceNode];
    await a.node.store.addObjects(alliance.circleId, [
      {
        type: 'indicator', spec_version: '2.1', id: INDICATOR, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
        name: 'Gateway exploit C2', pattern: "[ipv4-addr:value = '203.0.113.9']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
      },
    ]);
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await alliance.close();
  });

  it('reaches every member within a second: stored there, on its alert stream as a notice, and a verified receipt recorded here', async () => {
    const streamB = await connectSse(`${b.url}/api/alerts/stream`, { authorization: `Bearer ${b.adminToken}` });
    const streamC = await connectSse(`${c.url}/api/alerts/stream`, { authorization: `Bearer ${c.adminToken}` });
    streams.push(streamB, streamC);
    const started = performance.now();
    const sent = await post(a, '/api/flash', a.adminToken, { circle_id: alliance.circleId, text: 'Active exploitation of gateway firmware\nBlock 203.0.113.9 now.', indicator_id: INDICATOR });
    assert.equal(sent.status, 201, JSON.stringify(sent.json));
    const flash = sent.json['flash'] as { id: string; members: MemberView[] };
    const [noticeB, noticeC] = await Promise.all([
      streamB.waitFor((event) => event.event === 'notice', 1000),
      streamC.waitFor((event) => event.event === 'notice', 1000),
    ]);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `every member had it on its stream within ${Math.round(elapsed)} ms`);
    for (const [notice, node] of [[noticeB, b], [noticeC, c]] as const) {
      const data = JSON.parse(notice.data) as { kind: string; summary: string; details: Record<string, unknown> };
      assert.equal(data.kind, 'flash');
      assert.match(data.summary, /Active exploitation of gateway firmware/);
      assert.deepEqual([data.details['flash_id'], data.details['sender'], data.details['indicator_id']], [flash.id, a.organisationId, INDICATOR]);
      const stored = await node.node.store.getFlash(flash.id);
      assert.equal(stored?.direction, 'received');
      assert.equal(stored?.text, 'Active exploitation of gateway firmware\nBlock 203.0.113.9 now.');
    }
    // The answer of POST /api/flash already holds both members' verified receipts.
    assert.deepEqual(
      flash.members.map((member) => [member.organisation_id, member.state]).sort(),
      [[b.organisationId, 'delivered'], [c.organisationId, 'delivered']].sort(),
    );
    const deliveries = sent.json['deliveries'] as { outcome: string; ms: number }[];
    assert.ok(deliveries.every((delivery) => delivery.outcome === 'delivered'));
    const receipts = (await a.node.store.getFlash(flash.id))?.receipts ?? [];
    assert.equal(receipts.filter((receipt) => receipt.deliveredAt !== undefined).length, 2);
    // Alerts and notices share one numbering: a reconnecting client gets the notice again from the ring.
    const replay = await connectSse(`${b.url}/api/alerts/stream`, { authorization: `Bearer ${b.adminToken}`, 'last-event-id': eventIdBefore(b, noticeB.id) });
    streams.push(replay);
    assert.equal((await replay.waitFor((event) => event.event === 'notice', 1000)).id, noticeB.id);
  });

  it('refuses a forged or altered flash, and one signed by another organisation than the token, storing nothing', async () => {
    const tokenOfA = alliance.partnerSecret(b, a);
    const body = createFlashBody({ circleId: alliance.circleId, sender: a.organisationId, text: 'Shut everything down', sentAt: new Date().toISOString() });
    // Forged: claims to be A's key, signed with some other key.
    const other = generateKeyPairSync('ed25519').privateKey;
    const forger: NodeSigner = { organisationId: a.organisationId, keyId: keyIdOf(toRawPublicKey(other)), privateKey: other };
    const forged = signMessage('flash', body, forger);
    const forgedAnswer = await post(b, '/api/federation/flash', tokenOfA, { ...forged, key_id: (await signerOf(a)).keyId });
    assert.equal(forgedAnswer.status, 400);
    assert.equal(forgedAnswer.json['error_code'], 'ENT_SIGNATURE_INVALID');
    const unknownKey = await post(b, '/api/federation/flash', tokenOfA, forged);
    assert.equal(unknownKey.json['error_code'], 'ENT_SIGNATURE_INVALID');
    // Altered: A's real signature, text changed on the way.
    const genuine = signMessage('flash', body, await signerOf(a));
    const altered: SignedMessage = { ...genuine, body: { ...genuine.body, text: 'Shut everything down NOW' } };
    const alteredAnswer = await post(b, '/api/federation/flash', tokenOfA, altered);
    assert.equal(alteredAnswer.status, 400);
    assert.equal(alteredAnswer.json['error_code'], 'ENT_SIGNATURE_INVALID');
    // C's genuine flash, posted with A's token.
    const fromC = signMessage('flash', createFlashBody({ circleId: alliance.circleId, sender: c.organisationId, text: body.text, sentAt: body.sent_at }), await signerOf(c));
    const wrongToken = await post(b, '/api/federation/flash', tokenOfA, fromC);
    assert.equal(wrongToken.json['error_code'], 'ENT_SIGNATURE_INVALID');
    // A genuine flash for a circle B does not share with A.
    const elsewhere = signMessage('flash', createFlashBody({ circleId: 'not-here', sender: a.organisationId, text: body.text, sentAt: body.sent_at }), await signerOf(a));
    const notShared = await post(b, '/api/federation/flash', tokenOfA, elsewhere);
    assert.equal(notShared.json['error_code'], 'ENT_FLASH_INVALID');
    assert.match(String(notShared.json['description']), /does not share/);
    // The home organisation's own token cannot deliver flashes to its node.
    assert.equal((await post(b, '/api/federation/flash', b.adminToken, genuine)).status, 403);
    assert.equal(await b.node.store.getFlash(body.id), undefined, 'nothing was stored');
    // Partners do not see the home organisation's flash routes at all.
    assert.equal((await post(b, '/api/flash', tokenOfA, { circle_id: alliance.circleId, text: 'x' })).status, 404);
  });

  it("refuses a member's message that reuses the id of another member's flash (id squatting)", async () => {
    // C saw A's flash and, before A's reaches B, sends B its own message under A's flash id.
    const genuine = createFlashBody({ circleId: alliance.circleId, sender: a.organisationId, text: 'Rotate VPN credentials', sentAt: new Date().toISOString() });
    const squatting = signMessage('flash', { ...genuine, sender: c.organisationId, text: 'Nothing to see' }, await signerOf(c));
    const refused = await post(b, '/api/federation/flash', alliance.partnerSecret(b, c), squatting);
    assert.equal(refused.status, 400);
    assert.equal(refused.json['error_code'], 'ENT_FLASH_INVALID');
    assert.match(String(refused.json['description']), /derived from the flash's content/);
    assert.equal(await b.node.store.getFlash(genuine.id), undefined);
    const accepted = await post(b, '/api/federation/flash', alliance.partnerSecret(b, a), signMessage('flash', genuine, await signerOf(a)));
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    assert.equal((await b.node.store.getFlash(genuine.id))?.senderOrganisationId, a.organisationId);
  });

  it('checks what is sent: text, circle, indicator held in the circle', async () => {
    const send = (body: Record<string, unknown>) => post(a, '/api/flash', a.adminToken, { circle_id: alliance.circleId, text: 'x', ...body });
    assert.equal((await send({ text: '' })).json['error_code'], 'ENT_FLASH_INVALID');
    assert.equal((await send({ text: 'x'.repeat(4001) })).json['error_code'], 'ENT_FLASH_INVALID');
    assert.equal((await send({ circle_id: 'no-such-circle' })).json['error_code'], 'ENT_FLASH_INVALID');
    assert.equal((await send({ indicator_id: 'indicator--nope' })).json['error_code'], 'ENT_FLASH_INVALID');
    assert.equal((await send({ indicator_id: 'indicator--f1a50000-0000-4000-8000-0000000000ff' })).json['error_code'], 'ENT_FLASH_INVALID');
    assert.equal((await send({ admin: true })).json['error_code'], 'ENT_HTTP_BAD_FIELD');
  });

  it('records a member that is down, then delivers on retry once it is back', async () => {
    const port = new URL(c.url).port;
    await c.stop();
    const sent = await runEntente(['flash', 'send', '--circle', alliance.circleId, 'Second wave expected tonight'], { env: cliEnv(a) });
    assert.equal(sent.code, 1, sent.stderr);
    assert.match(sent.stdout, /delivered to 1 of 2 members/);
    const id = /Flash ([0-9a-f-]{36}) sent/.exec(sent.stdout)?.[1] ?? '';
    const before = await runEntente(['flash', 'show', id, '--json'], { env: cliEnv(a) });
    const members = (JSON.parse(before.stdout) as { members: MemberView[] }).members;
    assert.equal(members.find((member) => member.organisation_id === c.organisationId)?.state, 'failed');
    assert.match(members.find((member) => member.organisation_id === c.organisationId)?.error ?? '', /ENT_PEER_UNREACHABLE/);
    assert.equal(members.find((member) => member.organisation_id === b.organisationId)?.state, 'delivered');

    await c.restart();
    assert.equal(new URL(c.url).port, port);
    // The running node A retries (first retry 2 s after it noticed the failure).
    const delivered = await until('C receives the flash on retry', async () => ((await c.node.store.getFlash(id)) === undefined ? undefined : true), 8000);
    assert.equal(delivered, true);
    await until('A records the receipt', async () => {
      const flash = await a.node.store.getFlash(id);
      return flash?.receipts.find((receipt) => receipt.organisationId === c.organisationId && receipt.deliveredAt !== undefined);
    });
  });

  it("an acknowledgement here flows back to the sender's node", async () => {
    const [received] = await b.node.store.listFlashes({ limit: 1 });
    assert.ok(received !== undefined && received.direction === 'received');
    const acked = await post(b, `/api/flash/${received.id}/ack`, b.adminToken, { by: 'duty officer' });
    assert.equal(acked.status, 200, JSON.stringify(acked.json));
    assert.equal(acked.json['sent_to_sender'], true);
    const shown = await get(a, `/api/flash/${received.id}`, a.adminToken);
    const member = (shown.json['members'] as MemberView[]).find((entry) => entry.organisation_id === b.organisationId);
    assert.equal(member?.state, 'acknowledged');
    assert.equal(member?.acknowledged_by, 'duty officer');
    // The CLI shows the same per member.
    const cli = await runEntente(['flash', 'show', received.id], { env: cliEnv(a) });
    assert.match(cli.stdout, new RegExp(`${b.organisationId}  acknowledged  acknowledged by duty officer`));
    // An acknowledgement of a flash the sender never sent to it is refused.
    const forged = signMessage('flash-ack', { flash_id: '00000000-0000-4000-8000-000000000000', recipient: b.organisationId, acknowledged_by: 'x', acknowledged_at: new Date().toISOString() }, await signerOf(b));
    assert.equal((await post(a, '/api/federation/flash-acks', alliance.partnerSecret(a, b), forged)).json['error_code'], 'ENT_FLASH_NOT_FOUND');
  });

  it("promotes a flash to a valid STIX note in the circle's collection, once", async () => {
    const [flash] = (await a.node.store.listFlashes({ limit: 10 })).filter((entry) => entry.indicatorId === INDICATOR);
    assert.ok(flash !== undefined);
    const promoted = await runEntente(['flash', 'promote', flash.id, '--as', 'note'], { env: cliEnv(a) });
    assert.equal(promoted.code, 0, promoted.stderr);
    const noteId = /promoted to (note--[0-9a-f-]{36})/.exec(promoted.stdout)?.[1] ?? '';
    const page = await a.node.store.listEntries(alliance.circleId, { ids: [noteId] }, { limit: 1 });
    const note = JSON.parse(page.entries[0]?.json ?? '{}') as Record<string, unknown>;
    assert.equal(validateForIngest(note).valid, true);
    assert.equal(note['abstract'], 'Active exploitation of gateway firmware');
    assert.equal(note['content'], flash.text);
    assert.deepEqual(note['object_refs'], [INDICATOR]);
    assert.deepEqual(note['object_marking_refs'], [TLP2_MARKING_IDS.amber]);
    assert.equal(note['created_by_ref'], a.organisationId);
    const again = await post(a, `/api/flash/${flash.id}/promote`, a.adminToken, {});
    assert.deepEqual([again.status, again.json['note_id'], again.json['created']], [200, noteId, false]);
  });

  it('lists flashes for the home organisation', async () => {
    const listed = await get(a, `/api/flash?circle=${alliance.circleId}`, a.adminToken);
    assert.equal(listed.status, 200);
    assert.ok((listed.json['flashes'] as unknown[]).length >= 2);
    const cli = await runEntente(['flash', 'list'], { env: cliEnv(b) });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /received .*acknowledged by duty officer/);
  });

  // Last: it spends C's hourly quota at B.
  it("takes at most 60 new flashes an hour from one member's node; a retried delivery is still answered", async () => {
    const tokenOfC = alliance.partnerSecret(b, c);
    const signer = await signerOf(c);
    const flashAt = (n: number) => createFlashBody({ circleId: alliance.circleId, sender: c.organisationId, text: `Flood ${n}`, sentAt: new Date(Date.now() + n).toISOString() });
    const received = await b.node.store.countReceivedFlashes(c.organisationId, new Date(Date.now() - 3_600_000).toISOString());
    const first = flashAt(0);
    for (let n = 0; n < 60 - received; n += 1) {
      const answer = await post(b, '/api/federation/flash', tokenOfC, signMessage('flash', n === 0 ? first : flashAt(n), signer));
      assert.equal(answer.status, 200, `flash ${n}: ${JSON.stringify(answer.json)}`);
    }
    const oneTooMany = flashAt(1000);
    const flood = await post(b, '/api/federation/flash', tokenOfC, signMessage('flash', oneTooMany, signer));
    assert.equal(flood.status, 429);
    assert.equal(flood.json['error_code'], 'ENT_FLASH_RATE_LIMITED');
    assert.equal(await b.node.store.getFlash(oneTooMany.id), undefined);
    const retried = await post(b, '/api/federation/flash', tokenOfC, signMessage('flash', first, signer));
    assert.equal(retried.status, 200, 'a flash already stored is acknowledged again, not refused');
    // Other members are not held back by C's flood.
    const fromA = await post(b, '/api/federation/flash', alliance.partnerSecret(b, a), signMessage('flash', createFlashBody({ circleId: alliance.circleId, sender: a.organisationId, text: 'Still heard', sentAt: new Date().toISOString() }), await signerOf(a)));
    assert.equal(fromA.status, 200);
  });
});
