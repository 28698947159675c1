// Who is shown an alert, and what of it (security review of the alert matching path):
// - an alert is about the version of the indicator that matched: a token that may read an older
//   version only gets no alert (nor sighting) from a newer version held in a collection it may not read;
// - once a version is deleted from a collection, that collection's readers stop getting alerts on it;
// - a token that may not read an indicator does not, by posting first, suppress for the hour the alert
//   and sighting of a token that may (and the other way round);
// - the name of the token whose POST raised an alert is shown to administrators only;
// - once a version is deleted from every collection, the matcher's next refresh stops matching it: no
//   alert on a POST, none to the webhooks (which are not sent an alert no collection holds at all);
//   an older version still held matches again;
// - the collection whose observed-data raised an alert is named to those who may read it only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertFor } from '../../src/api/alerts-routes.ts';
import type { AlertJson } from '../../src/correlate/alert-bus.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import { ADD_TEST, HIGH_VALUE, SECRET, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator } from './alert-test-kit.ts';

type Caller = keyof typeof secrets;
const bearer = (name: Caller): Record<string, string> => ({ authorization: `Bearer ${secrets[name]}` });
const TAXII = 'application/taxii+json;version=2.1';

interface Answer {
  readonly sightings_stored: number;
  readonly alerts_raised: number;
  readonly alerts: { readonly indicator_id: string; readonly indicator_name: string | null; readonly input: string; readonly sighting_id: string | null }[];
}

function line(ip: string, at: string): string {
  return JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value: ip } } });
}

async function post(node: TestNode, caller: Caller, ip: string, at: string): Promise<Answer> {
  const response = await node.app.inject({
    method: 'POST', url: '/api/observations',
    headers: { ...bearer(caller), 'content-type': 'application/x-ndjson', accept: 'application/json' },
    payload: line(ip, at),
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<Answer>();
}

async function sightingsOf(node: TestNode, indicatorId: string, collectionId = ADD_TEST): Promise<Record<string, unknown>[]> {
  return (await node.store.listEntries(collectionId, { types: ['sighting'], versions: [{ kind: 'all' }] }, { limit: 1000 })).entries
    .map((e) => JSON.parse(e.json) as Record<string, unknown>)
    .filter((s) => s['sighting_of_ref'] === indicatorId);
}

describe('an alert goes to those who may read the version of the indicator that matched', () => {
  let node: TestNode;
  // Version 1 in HIGH_VALUE (the reader and the analyst may read it); version 2 in SECRET only
  // (administrator): another name, another address, another confidence.
  const v1 = ipIndicator(11, '198.51.100.1', { name: 'Generic scanner', confidence: 20 });
  const v2 = ipIndicator(11, '198.51.100.99', { modified: '2026-06-01T00:00:00.000Z', name: 'Operation hidden: C2', confidence: 95 });
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(HIGH_VALUE, [v1]);
    await node.store.addObjects(SECRET, [v2]);
  });
  after(() => node.close());

  it('gives a reader of the older version only neither the alert nor a sighting of the newer one', async () => {
    const fromId = node.app.alerting.bus.nextId;
    const byAnalyst = await post(node, 'analyst', '198.51.100.99', '2026-11-20T10:00:00Z');
    assert.deepEqual([byAnalyst.alerts_raised, byAnalyst.sightings_stored], [0, 0]);
    assert.ok(!JSON.stringify(byAnalyst).includes('Operation hidden'));
    // The analyst reads ADD_TEST, where sightings go: none names the indicator for its match of version 2.
    assert.deepEqual(await sightingsOf(node, v1.id), []);
    // The event is there for those who may read SECRET, and only them.
    const { events } = node.app.alerting.bus.since(fromId - 1);
    assert.deepEqual(events.map((e) => [e.alert.indicator_name, [...e.collections]]), [['Operation hidden: C2', [SECRET]]]);
    const byReader = await post(node, 'reader', '198.51.100.99', '2026-11-20T11:00:00Z');
    assert.equal(byReader.alerts_raised, 0);
  });

  it('gives the administrator, who reads SECRET, the alert and its sighting', async () => {
    const byAdmin = await post(node, 'admin', '198.51.100.99', '2026-11-20T12:00:00Z');
    assert.deepEqual([byAdmin.alerts_raised, byAdmin.sightings_stored, byAdmin.alerts[0]?.indicator_name], [1, 1, 'Operation hidden: C2']);
  });

  it('gives the reader the alert once its collection holds the version that matched', async () => {
    await node.store.addObjects(HIGH_VALUE, [v2]);
    await node.app.alerting.matcher.refresh();
    const byReader = await post(node, 'reader', '198.51.100.99', '2026-11-20T13:00:00Z');
    assert.deepEqual(byReader.alerts.map((a) => a.indicator_name), ['Operation hidden: C2']);
  });
});

describe('a version deleted from a collection no longer reaches its readers', () => {
  let node: TestNode;
  const indicator = ipIndicator(12, '198.51.100.2', { name: 'Now held in SECRET only' });
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.addObjects(HIGH_VALUE, [indicator]);
    await node.store.addObjects(SECRET, [indicator]);
  });
  after(() => node.close());

  it('stops the alerts of the reader at once after a DELETE', async () => {
    assert.equal((await post(node, 'reader', '198.51.100.2', '2026-11-20T10:00:00Z')).alerts_raised, 1);
    const deleted = await node.app.inject({ method: 'DELETE', url: `/taxii2/api/collections/${HIGH_VALUE}/objects/${indicator.id}/`, headers: { ...bearer('admin'), accept: TAXII } });
    assert.equal(deleted.statusCode, 200, deleted.body);
    // No refresh in between: the next POST comes within the matcher's 250 ms.
    const later = await post(node, 'reader', '198.51.100.2', '2026-11-20T12:00:00Z');
    assert.equal(later.alerts_raised, 0, 'no alert on an indicator held only in SECRET now');
    // The administrator still gets it: SECRET holds it.
    assert.equal((await post(node, 'admin', '198.51.100.2', '2026-11-20T13:00:00Z')).alerts_raised, 1);
  });

  it('stops them after a refresh of the matcher too', async () => {
    await node.app.alerting.matcher.refresh();
    assert.equal((await post(node, 'reader', '198.51.100.2', '2026-11-20T14:00:00Z')).alerts_raised, 0);
  });
});

describe('a token that may not read an indicator does not suppress the alert of one that may', () => {
  let node: TestNode;
  const first = ipIndicator(13, '198.51.100.13', { name: 'secret first' });
  const second = ipIndicator(14, '198.51.100.14', { name: 'secret second' });
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(SECRET, [first, second]);
  });
  after(() => node.close());

  it('the reader first, then the administrator: the administrator gets the alert and the sighting', async () => {
    const byReader = await post(node, 'reader', '198.51.100.13', '2026-11-20T10:00:00Z');
    assert.deepEqual([byReader.alerts_raised, byReader.sightings_stored], [0, 0]);
    const byAdmin = await post(node, 'admin', '198.51.100.13', '2026-11-20T10:20:00Z');
    assert.deepEqual([byAdmin.alerts_raised, byAdmin.sightings_stored], [1, 1]);
    // Beside the indicator, in SECRET.
    assert.equal((await sightingsOf(node, first.id, SECRET)).length, 1);
  });

  it('the administrator first, then the reader: one alert and one sighting, the reader shown nothing', async () => {
    const byAdmin = await post(node, 'admin', '198.51.100.14', '2026-11-20T10:00:00Z');
    assert.deepEqual([byAdmin.alerts_raised, byAdmin.sightings_stored], [1, 1]);
    const byReader = await post(node, 'reader', '198.51.100.14', '2026-11-20T10:20:00Z');
    assert.deepEqual([byReader.alerts_raised, byReader.sightings_stored], [0, 0]);
    assert.equal((await sightingsOf(node, second.id, SECRET)).length, 1);
    // Callers that may read the same share a window, as before.
    const again = await post(node, 'admin', '198.51.100.14', '2026-11-20T10:40:00Z');
    assert.equal(again.alerts_raised, 0);
  });
});

describe('the name of the token that raised an alert', () => {
  let node: TestNode;
  let base: string;
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.addObjects(HIGH_VALUE, [ipIndicator(15, '198.51.100.15')]);
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
  });
  after(() => node.close());

  it('is shown to administrators only, on the stream and in the POST’s answer', async () => {
    const admin = await connectSse(`${base}/api/alerts/stream`, bearer('admin'));
    const reader = await connectSse(`${base}/api/alerts/stream`, bearer('reader'));
    try {
      const byAnalyst = await post(node, 'analyst', '198.51.100.15', '2026-11-20T10:00:00Z');
      assert.deepEqual(byAnalyst.alerts.map((a) => a.input), ['api']);
      const isAlert = (e: { event: string }): boolean => e.event === 'alert';
      const [seenByAdmin, seenByReader] = await Promise.all([admin.waitFor(isAlert), reader.waitFor(isAlert)]);
      assert.equal((JSON.parse(seenByAdmin.data) as { input: string }).input, 'api:analyst');
      assert.equal((JSON.parse(seenByReader.data) as { input: string }).input, 'api');
      assert.ok(!seenByReader.data.includes('analyst'));
      const byAdmin = await post(node, 'admin', '198.51.100.15', '2026-11-20T11:00:00Z');
      assert.deepEqual(byAdmin.alerts.map((a) => a.input), ['api:admin']);
    } finally {
      admin.close();
      reader.close();
    }
  });
});

describe('an indicator deleted from its only collection raises no more alerts after the next refresh', () => {
  let node: TestNode;
  let hook: Server;
  const received: AlertJson[] = [];
  const gone = ipIndicator(16, '198.51.100.16', { name: 'Deleted soon' });
  const kept = ipIndicator(17, '198.51.100.17', { name: 'Kept' });
  const deliveredFor = async (indicatorId: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!received.some((a) => a.indicator_id === indicatorId)) {
      if (Date.now() > deadline) throw new Error(`no webhook delivery for ${indicatorId}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  before(async () => {
    hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push(JSON.parse(body) as AlertJson);
        response.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.addObjects(HIGH_VALUE, [gone, kept]);
    await node.store.addWebhook({ name: 'soc', url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`, secret: 'a-webhook-secret-of-32-bytes-000', minSeverity: 'low', createdAt: new Date().toISOString() });
  });
  after(async () => {
    await node.close();
    hook.close();
  });

  it('raises the alert, and delivers it, while the collection holds the indicator', async () => {
    assert.equal((await post(node, 'admin', '198.51.100.16', '2026-11-20T10:00:00Z')).alerts_raised, 1);
    await deliveredFor(gone.id);
  });

  it('neither answers a POST with it nor sends it to the webhook once deleted', async () => {
    const deleted = await node.app.inject({ method: 'DELETE', url: `/taxii2/api/collections/${HIGH_VALUE}/objects/${gone.id}/`, headers: { ...bearer('admin'), accept: TAXII } });
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.equal(await node.store.deletionCount(HIGH_VALUE), 1);
    await node.app.alerting.matcher.refresh();
    assert.equal(node.app.alerting.matcher.indicators, 1, 'the matcher was rebuilt without the deleted indicator');
    const fromId = node.app.alerting.bus.nextId;
    const later = await post(node, 'admin', '198.51.100.16', '2026-11-20T12:00:00Z');
    assert.equal(later.alerts_raised, 0);
    assert.deepEqual(node.app.alerting.bus.since(fromId - 1).events, [], 'nothing published for anyone');
    // An alert on the indicator still held is delivered; the deleted one was delivered once, before.
    assert.equal((await post(node, 'admin', '198.51.100.17', '2026-11-20T12:00:00Z')).alerts_raised, 1);
    await deliveredFor(kept.id);
    assert.equal(received.filter((a) => a.indicator_id === gone.id).length, 1);
  });
});

describe('a newer version deleted: the older one still held matches again after the next refresh', () => {
  let node: TestNode;
  const v1 = ipIndicator(18, '198.51.100.18', { name: 'Older, readable' });
  const v2 = ipIndicator(18, '198.51.100.180', { modified: '2026-06-01T00:00:00.000Z', name: 'Newer, deleted' });
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.addObjects(HIGH_VALUE, [v1]);
    await node.store.addObjects(SECRET, [v2]);
  });
  after(() => node.close());

  it('gives a reader of both collections the alert of the older version', async () => {
    assert.equal((await post(node, 'admin', '198.51.100.18', '2026-11-20T10:00:00Z')).alerts_raised, 0, 'the newer version is the newest the administrator reads');
    assert.equal(await node.store.deleteObject(SECRET, v2.id, {}), 1);
    await node.app.alerting.matcher.refresh();
    const byAdmin = await post(node, 'admin', '198.51.100.18', '2026-11-20T12:00:00Z');
    assert.deepEqual(byAdmin.alerts.map((a) => a.indicator_name), ['Older, readable']);
    // The reader, who may not read SECRET, was given the older version's alerts all along (alert-confidence.test.ts).
    const byReader = await post(node, 'reader', '198.51.100.18', '2026-11-20T12:00:00Z');
    assert.deepEqual(byReader.alerts.map((a) => a.indicator_name), ['Older, readable']);
  });
});

describe('the collection whose observed-data raised an alert', () => {
  const recipient = (admin: boolean, readable: readonly string[]): Recipient => ({
    name: 't', organisationId: 'identity--00000000-0000-4000-8000-000000000001', admin, actsForHome: true,
    grants: readable.map((collectionId) => ({ collectionId, read: true, write: false })),
  });
  const raised = { input: `collection:${SECRET}` } as AlertJson;

  it('is named to administrators and to tokens that may read it, to no other token', () => {
    assert.equal(alertFor(recipient(true, []), raised).input, `collection:${SECRET}`);
    assert.equal(alertFor(recipient(false, [SECRET]), raised).input, `collection:${SECRET}`);
    assert.equal(alertFor(recipient(false, [HIGH_VALUE]), raised).input, 'collection');
    assert.equal(alertFor({ ...recipient(false, []), grants: [{ collectionId: SECRET, read: false, write: true }] }, raised).input, 'collection');
  });
});
