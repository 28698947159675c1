// What the alert stream and POST /api/observations tell a home token is bounded by its read grants,
// as the REST routes showing the same things are: a flash or recall notice reaches the tokens that
// may read its circle's collection (GET /api/flash), a silent peer the administrator (GET /api/peers),
// and a match of an indicator the caller may not read is neither stored as its sighting nor counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { startCircleApiNode, ORG, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST, HIGH_VALUE, SECRET, secrets } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator, type SseClient } from './alert-test-kit.ts';
import { flashNotice } from '../../src/api/flash-routes.ts';
import { recallNotice } from '../../src/api/recall-routes.ts';
import type { NoticeJson } from '../../src/correlate/alert-bus.ts';
import type { FlashRecord } from '../../src/store/federation-store.ts';

const bearer = (name: keyof typeof secrets): Record<string, string> => ({ authorization: `Bearer ${secrets[name]}` });

describe('notices on the alert stream follow the read grants', () => {
  let node: CircleApiNode;
  let base: string;
  const flash = (id: string, circleId: string, text: string): FlashRecord => ({
    id, circleId, direction: 'received', senderOrganisationId: ORG.bank, text, indicatorId: undefined,
    sentAt: '2026-11-23T10:00:00.000Z', signedJson: '{}', receivedAt: '2026-11-23T10:00:01.000Z', acknowledged: undefined, receipts: [],
  });
  const recall = (circleId: string): Parameters<typeof recallNotice>[0] => ({
    sender: ORG.bank, removed: 1, authority: 'coordinator',
    body: { circle_id: circleId, reason: `circle ${circleId} ended`, versions: [{ id: 'indicator--a1e00000-0000-4000-8000-000000000009', version: '2026-01-01T00:00:00.000Z' }], sent_at: '2026-11-23T10:00:00.000Z' },
  });
  const publish = (notice: Omit<NoticeJson, 'notice_id'>) => node.app.alerting.bus.publishNotice(notice);
  const now = (): string => new Date().toISOString();

  before(async () => {
    node = await startCircleApiNode([]);
    // 'open-circle' flows through HIGH_VALUE, which the reader and the analyst may read; 'inner' through
    // a collection of its own that only the administrator reads.
    for (const [id, collection] of [['open-circle', HIGH_VALUE], ['inner', 'inner']] as const) {
      const created = await node.call('admin', 'POST', '/api/circles', { id, name: id, kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z', collection_id: collection });
      assert.equal(created.statusCode, 201, created.body);
    }
    for (const record of [flash('f-inner', 'inner', 'RED: breached via 203.0.113.66'), flash('f-open', 'open-circle', 'phishing wave'), flash('f-gone', 'no-such-circle', 'orphan')]) {
      await node.store.addFlash(record);
    }
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
  });
  after(() => node.close());

  const noticesOf = (client: SseClient): NoticeJson[] => client.events.filter((e) => e.event === 'notice').map((e) => JSON.parse(e.data) as NoticeJson);
  const describeNotice = (notice: NoticeJson): string => `${notice.kind}:${String(notice.details['flash_id'] ?? notice.details['peer'] ?? notice.details['circle_id'])}`;

  it('sends flash and recall notices to the tokens that may read the circle, silent peers to the administrator; live and on resume', async () => {
    const reader = await connectSse(`${base}/api/alerts/stream`, bearer('reader'));
    const outsider = await connectSse(`${base}/api/alerts/stream`, bearer('outsider'));
    const admin = await connectSse(`${base}/api/alerts/stream`, bearer('admin'));
    try {
      // The REST routes the notices must agree with.
      const listed = await node.app.inject({ method: 'GET', url: '/api/flash', headers: { ...bearer('reader'), accept: 'application/json' } });
      assert.deepEqual(listed.json<{ flashes: { id: string }[] }>().flashes.map((f) => f.id), ['f-open']);
      assert.equal((await node.app.inject({ method: 'GET', url: '/api/flash/f-inner', headers: { ...bearer('reader'), accept: 'application/json' } })).statusCode, 404);

      const fromId = node.app.alerting.bus.nextId;
      const flashes = await node.store.listFlashes({ limit: 10 });
      const byId = (id: string): FlashRecord => flashes.find((f) => f.id === id) ?? assert.fail(id);
      await publish(flashNotice(byId('f-inner'), now()));
      await publish(recallNotice(recall('inner'), now()));
      await publish(flashNotice(byId('f-gone'), now()));
      await publish({ kind: 'peer-silent', raised_at: now(), summary: 'Peer a-link has not completed a sync', details: { peer: 'a-link', organisation_id: ORG.bank, circle_id: 'open-circle' } });
      await publish(recallNotice(recall('open-circle'), now()));
      await publish(flashNotice(byId('f-open'), now()));
      // Events come in the bus's order: once the last has arrived, every earlier one had its turn.
      const last = (client: SseClient) => client.waitFor((e) => e.event === 'notice' && (JSON.parse(e.data) as NoticeJson).details['flash_id'] === 'f-open');
      await Promise.all([last(reader), last(admin)]);

      assert.deepEqual(noticesOf(reader).map(describeNotice), ['recall:open-circle', 'flash:f-open'], 'the reader reads the open circle only');
      assert.ok(!reader.events.some((e) => e.data.includes('203.0.113.66')), 'no text of a flash the reader may not read');
      assert.deepEqual(
        noticesOf(admin).map(describeNotice),
        ['flash:f-inner', 'recall:inner', 'flash:f-gone', 'peer-silent:a-link', 'recall:open-circle', 'flash:f-open'],
        'the administrator reads every collection',
      );
      const eventIds = node.app.alerting.eventIds;
      const numbers = reader.events.map((e) => eventIds.opened(e.id ?? '') ?? assert.fail(`not an id the node showed: ${String(e.id)}`));
      assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'in the order of the bus');

      // The outsider reads no circle, so no last notice reaches it to wait for: give its stream a moment more.
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(noticesOf(outsider), []);

      // Resuming from Last-Event-ID replays through the same check.
      const resumed = await connectSse(`${base}/api/alerts/stream`, { ...bearer('reader'), 'last-event-id': eventIds.shown(fromId - 1) });
      try {
        await last(resumed);
        assert.deepEqual(noticesOf(resumed).map(describeNotice), ['recall:open-circle', 'flash:f-open']);
      } finally {
        resumed.close();
      }
    } finally {
      for (const client of [reader, outsider, admin]) client.close();
    }
  });
});

describe('sightings stored for POST /api/observations follow the caller’s read grants', () => {
  let node: CircleApiNode;
  const VISIBLE_IP = '203.0.113.10';
  const SECRET_IP = '203.0.113.66';
  const visible = ipIndicator(1, VISIBLE_IP);
  const secret = ipIndicator(2, SECRET_IP);
  const at = (hour: number, ip: string): string => {
    const t = `2026-11-2${hour < 24 ? 0 : 1}T${String(hour % 24).padStart(2, '0')}:00:00Z`;
    return JSON.stringify({ type: 'observed-data', first_observed: t, last_observed: t, objects: { '0': { type: 'ipv4-addr', value: ip } } });
  };
  const post = async (caller: 'analyst' | 'admin', lines: string[]) => {
    const response = await node.app.inject({
      method: 'POST', url: '/api/observations',
      headers: { ...bearer(caller), 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: lines.join('\n'),
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ sightings_stored: number; sightings_rejected: number; alerts_raised: number; alerts: { indicator_id: string; sighting_id: string | null }[] }>();
  };
  const sightingsOf = async (indicatorId: string, collectionId = ADD_TEST): Promise<Record<string, unknown>[]> =>
    (await node.store.listEntries(collectionId, { types: ['sighting'] }, { limit: 100 })).entries
      .map((e) => JSON.parse(e.json) as Record<string, unknown>)
      .filter((s) => s['sighting_of_ref'] === indicatorId);

  before(async () => {
    node = await startCircleApiNode([ADD_TEST]);
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(ADD_TEST, [visible]);
    await node.store.addObjects(SECRET, [secret]);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  it('neither stores nor counts a sighting of an indicator the caller may not read', async () => {
    const fromId = node.app.alerting.bus.nextId;
    const body = await post('analyst', [at(1, SECRET_IP)]);
    assert.deepEqual([body.alerts_raised, body.sightings_stored, body.sightings_rejected], [0, 0, 0]);
    // The analyst reads ADD_TEST, where sightings are stored: one of the secret indicator would name it there.
    assert.deepEqual(await sightingsOf(secret.id), []);
    // Those who may read the indicator still learn of the match, without a sighting stored for it.
    const { events } = node.app.alerting.bus.since(fromId - 1);
    assert.deepEqual(events.map((e) => [e.alert.indicator_id, e.alert.sighting_id]), [[secret.id, null]]);
  });

  it('stores and counts the matches the caller may read among those it may not', async () => {
    const body = await post('analyst', [at(2, SECRET_IP), at(2, VISIBLE_IP)]);
    assert.deepEqual([body.alerts_raised, body.sightings_stored], [1, 1]);
    assert.equal(body.alerts[0]?.indicator_id, visible.id);
    const [sighting, ...more] = await sightingsOf(visible.id);
    assert.equal(more.length, 0);
    assert.equal(sighting?.['id'], body.alerts[0]?.sighting_id);
    assert.deepEqual(await sightingsOf(secret.id), []);
  });

  it('stores and counts every match for the administrator, who reads every collection', async () => {
    const body = await post('admin', [at(3, SECRET_IP), at(3, VISIBLE_IP)]);
    assert.deepEqual([body.alerts_raised, body.sightings_stored], [2, 2]);
    // Beside the indicator, where its readers read it: not in ADD_TEST, which the analyst reads.
    assert.equal((await sightingsOf(secret.id, SECRET)).length, 1);
    assert.deepEqual(await sightingsOf(secret.id), []);
  });
});
