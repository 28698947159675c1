// POST /api/observations and GET /api/alerts/stream: observations matched by the node's own matcher,
// alerts deduplicated and stored as sightings, streamed as Server-Sent Events to the home
// organisation's tokens that may read the indicator's collection; partners are told nothing exists.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { errorOf, startCircleApiNode, authorization, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST, SECRET } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator } from './alert-test-kit.ts';
import type { AlertJson } from '../../src/correlate/alert-bus.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { severityOf } from '../../src/correlate/effective-confidence.ts';
import { scoId } from '../../src/stix/ids.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { contentVersionOf } from '../../src/stix/versions.ts';

function scoIdOf(type: string, properties: Record<string, string>): string {
  const id = scoId(type, properties);
  assert.ok(id.ok);
  return id.value;
}

interface ObservationsJson {
  lines: number;
  observations: number;
  malformed: number;
  malformed_lines: { line: number; reason: string }[];
  matches?: number;
  sightings_stored: number;
  alerts_raised: number;
  alerts: AlertJson[];
}

const VISIBLE_IP = '203.0.113.10';
const WATCHER = 'ent_watcher-secret-0000000000000000000000000';
const SECRET_IP = '203.0.113.66';

describe('alerts in the running node', () => {
  let node: CircleApiNode;
  let base: string;
  before(async () => {
    node = await startCircleApiNode([ADD_TEST]);
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(ADD_TEST, [ipIndicator(1, VISIBLE_IP)]);
    await node.store.addObjects(SECRET, [ipIndicator(2, SECRET_IP)]);
    await node.app.alerting.matcher.refresh();
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
  });
  after(() => node.close());

  const post = (caller: Parameters<CircleApiNode['call']>[0], body: string, type = 'application/x-ndjson') =>
    node.app.inject({ method: 'POST', url: '/api/observations', headers: { authorization: authorization(caller as never), 'content-type': type, accept: 'application/json' }, payload: body });

  it('answers a partner token as for a route that does not exist (stream and observations)', async () => {
    const missing = await node.call('bank', 'GET', '/api/no-such-thing');
    for (const response of [await node.call('bank', 'GET', '/api/alerts/stream'), await post('bank', `{"type":"ipv4-addr","value":"${VISIBLE_IP}"}`)]) {
      assert.equal(response.statusCode, 404, response.body);
      assert.equal(errorOf(response).error_code, missing.json<{ error_code: string }>().error_code);
      const same = (body: string): unknown => ({ ...(JSON.parse(body) as object), error_id: 'x', description: 'x' });
      assert.deepEqual(same(response.body), same(missing.body));
      assert.match(errorOf(response).description, /^No resource at (GET|POST) \/api\/[a-z/]+$/);
    }
    // Even an oversized body gets the 404 first: the body of a partner is never read.
    const big = await post('bank', 'x'.repeat(70 * 1024 * 1024));
    assert.equal(big.statusCode, 404);
    assert.equal(node.app.alerting.bus.nextId, 1, 'nothing was matched for a partner');
  });

  it('refuses requests without a token', async () => {
    assert.equal((await node.call(undefined, 'GET', '/api/alerts/stream')).statusCode, 401);
  });

  it('matches NDJSON, counts malformed lines with their numbers, raises one alert per indicator, observable and window', async () => {
    const lines = [
      JSON.stringify({ type: 'ipv4-addr', value: VISIBLE_IP }),
      '{"type": "ipv4-addr", "value": ',
      JSON.stringify([{ type: 'ipv4-addr', value: '198.51.100.1' }, { type: 'domain-name', value: 'example.org' }]),
      JSON.stringify({ type: 'ipv4-addr', value: VISIBLE_IP }),
      'garbage',
      JSON.stringify({
        type: 'observed-data', id: 'observed-data--7d0f9b4c-0000-4000-8000-000000000001', first_observed: '2026-11-23T01:00:00Z', last_observed: '2026-11-23T01:00:00Z', number_observed: 3,
        objects: { '0': { type: 'ipv4-addr', value: SECRET_IP } },
      }),
    ];
    const response = await post('analyst', lines.join('\n'));
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json<ObservationsJson>();
    assert.equal(body.lines, 6);
    assert.equal(body.observations, 4);
    assert.equal(body.malformed, 2);
    assert.deepEqual(body.malformed_lines.map((m) => m.line), [2, 5]);
    assert.equal(body.matches, undefined, 'the total of matches is for administrators');
    // Two alerts were raised; the analyst is shown the one whose indicator it may read.
    assert.equal(body.alerts_raised, 1);
    assert.deepEqual(body.alerts.map((a) => a.indicator_id), [ipIndicator(1, VISIBLE_IP).id]);
    assert.equal(node.app.alerting.bus.nextId, 3);
    const visible = body.alerts.find((a) => a.indicator_id === ipIndicator(1, VISIBLE_IP).id);
    assert.equal(visible?.observable.value, VISIBLE_IP);
    assert.equal(visible?.severity, severityOf(visible?.confidence ?? -1));
    assert.ok((visible?.confidence ?? 0) > 0 && (visible?.confidence ?? 100) <= 80, 'effective confidence: stated 80, decayed with age');
    assert.equal(visible?.line, 1);
    assert.match(visible?.sighting_id ?? '', /^sighting--/);
    // One sighting: the other alert's indicator is in a collection the analyst may not read, and its
    // sighting, stored in the default collection the analyst reads, would name it (alert-grants.test.ts).
    assert.equal(body.sightings_stored, 1);
    // The sighting is stored through ingest, in the default collection.
    const stored = await node.store.listEntries(ADD_TEST, { types: ['sighting'] }, { limit: 10 });
    const sighting = stored.entries.map((e) => JSON.parse(e.json) as Record<string, unknown>).find((s) => s['id'] === visible?.sighting_id);
    assert.equal(sighting?.['sighting_of_ref'], ipIndicator(1, VISIBLE_IP).id);
    assert.deepEqual(sighting?.['where_sighted_refs'], ['identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d']);

    // Same indicator, observable and window, from a token that may read the same: counted, not raised again.
    const again = (await post('analyst', JSON.stringify({ type: 'ipv4-addr', value: VISIBLE_IP }))).json<ObservationsJson>();
    assert.deepEqual([again.alerts_raised, again.sightings_stored], [0, 0]);
    // Windows are kept per set of collections the caller may read (alert-visibility.test.ts): the
    // administrator's is its own, so a caller that may not read an indicator never suppresses its alert.
    const byAdmin = (await post('admin', JSON.stringify({ type: 'ipv4-addr', value: VISIBLE_IP }))).json<ObservationsJson>();
    assert.deepEqual([byAdmin.matches, byAdmin.alerts_raised], [1, 1]);
    const byAdminAgain = (await post('admin', JSON.stringify({ type: 'ipv4-addr', value: VISIBLE_IP }))).json<ObservationsJson>();
    assert.deepEqual([byAdminAgain.matches, byAdminAgain.alerts_raised], [1, 0]);
  });

  it('takes a JSON array body: one observation per element, numbered from 1', async () => {
    const response = await post('admin', JSON.stringify([{ type: 'ipv4-addr', value: '192.0.2.1' }, 7, { type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000001', objects: [] }]), 'application/json');
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json<ObservationsJson>();
    assert.deepEqual([body.lines, body.observations, body.malformed], [3, 1, 2]);
    assert.deepEqual(body.malformed_lines.map((m) => m.line), [2, 3]);
    const refused = await post('admin', '"just a string"', 'application/json');
    assert.equal(refused.statusCode, 400);
    assert.equal(errorOf(refused).error_code, 'ENT_OBSERVATIONS_INVALID');
  });

  it('takes in an indicator added after start (on demand, before the next batch)', async () => {
    await node.store.addObjects(ADD_TEST, [ipIndicator(3, '203.0.113.77')]);
    await new Promise((r) => setTimeout(r, 300));
    const body = (await post('analyst', JSON.stringify({ type: 'ipv4-addr', value: '203.0.113.77' }))).json<ObservationsJson>();
    assert.equal(body.alerts_raised, 1);
  });

  it('streams alerts to home tokens that may read the indicator collection; resumes from Last-Event-ID', async () => {
    const analyst = await connectSse(`${base}/api/alerts/stream`, { authorization: authorization('analyst') });
    const admin = await connectSse(`${base}/api/alerts/stream`, { authorization: authorization('admin') });
    assert.equal(analyst.status, 200);
    assert.match(String(analyst.headers['content-type']), /^text\/event-stream/);
    const body = (
      await post(
        'admin',
        [JSON.stringify({ type: 'ipv4-addr', value: SECRET_IP }), JSON.stringify({ type: 'ipv4-addr', value: VISIBLE_IP })].join('\n'),
      )
    ).json<ObservationsJson>();
    // New window? Both were raised before within this hour; post new observables in a later window instead.
    assert.equal(body.matches, 2);
    const fresh = [
      JSON.stringify({ type: 'observed-data', first_observed: '2026-11-20T05:00:00Z', last_observed: '2026-11-20T05:00:01Z', objects: { '0': { type: 'ipv4-addr', value: SECRET_IP } } }),
      JSON.stringify({ type: 'observed-data', first_observed: '2026-11-20T05:00:00Z', last_observed: '2026-11-20T05:00:01Z', objects: { '0': { type: 'ipv4-addr', value: VISIBLE_IP } } }),
    ];
    const raised = (await post('admin', fresh.join('\n'))).json<ObservationsJson>();
    assert.equal(raised.alerts_raised, 2);
    const secretId = ipIndicator(2, SECRET_IP).id;
    const visibleId = ipIndicator(1, VISIBLE_IP).id;
    await admin.waitFor((e) => e.event === 'alert' && (JSON.parse(e.data) as AlertJson).indicator_id === secretId);
    const seenByAnalyst = await analyst.waitFor((e) => e.event === 'alert' && (JSON.parse(e.data) as AlertJson).indicator_id === visibleId);
    await admin.waitFor((e) => e.event === 'alert' && (JSON.parse(e.data) as AlertJson).indicator_id === visibleId);
    assert.equal(
      analyst.events.some((e) => (JSON.parse(e.data) as AlertJson).indicator_id === secretId),
      false,
      'the analyst cannot read the collection holding that indicator',
    );
    assert.equal(seenByAnalyst.event, 'alert');
    assert.ok(admin.events.some((e) => e.id === seenByAnalyst.id), 'an alert has one id, whichever token is shown it');

    // Resume: events after the given id come again, in order.
    const [first, ...later] = admin.events;
    const resumed = await connectSse(`${base}/api/alerts/stream`, { authorization: authorization('admin'), 'last-event-id': first?.id ?? assert.fail('no event') });
    await resumed.waitFor((e) => e.id === later.at(-1)?.id);
    assert.deepEqual(resumed.events, later);
    for (const client of [analyst, admin, resumed]) client.close();
  });

  it('posts the alerts a request raises to the webhooks, without waiting for them', async () => {
    const received: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      // A slow receiver: the POST of observations must not wait for it.
      request.on('end', () => setTimeout(() => {
        received.push(body);
        response.end();
      }, 300));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await node.store.addWebhook({ name: 'soc', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, secret: 'a-webhook-secret-of-32-bytes-000', minSeverity: 'low', createdAt: new Date().toISOString() });
      const t = '2026-11-19T07:00:00Z';
      const started = performance.now();
      const body = (await post('analyst', JSON.stringify({ type: 'observed-data', first_observed: t, last_observed: t, objects: { '0': { type: 'ipv4-addr', value: VISIBLE_IP } } }))).json<ObservationsJson>();
      assert.ok(performance.now() - started < 250, 'the response did not wait for the webhook');
      assert.equal(body.alerts_raised, 1);
      const deadline = Date.now() + 5000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // A webhook, set up by an administrator, is sent every alert: it gets the bus's number, not the sealed id tokens are shown.
      const delivered = JSON.parse(received[0] ?? '{}') as AlertJson;
      assert.equal(delivered.indicator_id, body.alerts[0]?.indicator_id);
      assert.equal(node.app.alerting.eventIds.shown(Number(delivered.alert_id)), body.alerts[0]?.alert_id);
      await node.store.removeWebhook('soc');
    } finally {
      server.close();
    }
  });

  it('matches observed-data posted over TAXII into a collection (with the SCOs it refers to)', async () => {
    const fromId = node.app.alerting.bus.nextId;
    const ip = { type: 'ipv4-addr', spec_version: '2.1', id: scoIdOf('ipv4-addr', { value: VISIBLE_IP }), value: VISIBLE_IP };
    const observed = {
      type: 'observed-data', spec_version: '2.1', id: 'observed-data--a7c1b6d0-0000-4000-8000-000000000002',
      created: '2026-11-23T02:00:00.000Z', modified: '2026-11-23T02:00:00.000Z',
      first_observed: '2026-11-18T02:00:00Z', last_observed: '2026-11-18T02:00:00Z', number_observed: 4, object_refs: [ip.id],
    };
    const taxii = 'application/taxii+json;version=2.1';
    const posted = await node.app.inject({
      method: 'POST', url: `/taxii2/api/collections/${ADD_TEST}/objects/`,
      headers: { authorization: authorization('analyst'), 'content-type': taxii, accept: taxii },
      payload: JSON.stringify({ objects: [ip, observed] }),
    });
    assert.equal(posted.statusCode, 202, posted.body);
    await node.app.alerting.matcher.refresh();
    const { events } = node.app.alerting.bus.since(fromId - 1);
    assert.equal(events.length, 1);
    assert.deepEqual([events[0]?.alert.indicator_id, events[0]?.alert.count, events[0]?.alert.input], [ipIndicator(1, VISIBLE_IP).id, 4, `collection:${ADD_TEST}`]);
    // The observed-data of the sighting it stored is not matched again.
    await new Promise((r) => setTimeout(r, 5));
    await node.app.alerting.matcher.refresh();
    assert.equal(node.app.alerting.bus.nextId, fromId + 1);
  });

  it('resolves the SCOs of observed-data in the collection it came from: another content of the id held elsewhere is not read', async () => {
    const fromId = node.app.alerting.bus.nextId;
    const id = scoIdOf('ipv4-addr', { value: '198.51.100.200' });
    const real = { type: 'ipv4-addr', spec_version: '2.1', id, value: '198.51.100.200' };
    // Another collection holds a content of the same id that names the secret indicator's address,
    // ground until its content key outranks the real one (what a writer there could post, were ids not checked).
    let planted: StixObject;
    let n = 0;
    do planted = { type: 'ipv4-addr', spec_version: '2.1', id, value: SECRET_IP, x_n: n++ };
    while (contentVersionOf(planted) < contentVersionOf(real));
    await node.store.addObjects(SECRET, [planted]);
    const observed = {
      type: 'observed-data', spec_version: '2.1', id: 'observed-data--a7c1b6d0-0000-4000-8000-000000000004',
      created: '2026-11-23T04:00:00.000Z', modified: '2026-11-23T04:00:00.000Z',
      first_observed: '2026-11-17T02:00:00Z', last_observed: '2026-11-17T02:00:00Z', number_observed: 1, object_refs: [id],
    };
    await node.store.addObjects(ADD_TEST, [real, observed] as StixObject[]);
    await node.app.alerting.matcher.refresh();
    assert.equal(node.app.alerting.bus.nextId, fromId, 'no alert: the address observed is the real one, which no indicator names');
  });

  it("does not match another organisation's observed-data (a member's shared evidence is not this node's telemetry)", async () => {
    const fromId = node.app.alerting.bus.nextId;
    const ip = { type: 'ipv4-addr', spec_version: '2.1', id: scoIdOf('ipv4-addr', { value: VISIBLE_IP }), value: VISIBLE_IP };
    const theirs = {
      type: 'observed-data', spec_version: '2.1', id: 'observed-data--a7c1b6d0-0000-4000-8000-000000000003',
      created: '2026-11-23T03:00:00.000Z', modified: '2026-11-23T03:00:00.000Z', created_by_ref: 'identity--0e000000-0000-4000-8000-00000000000e',
      first_observed: '2026-11-10T02:00:00Z', last_observed: '2026-11-10T02:00:00Z', number_observed: 2, object_refs: [ip.id],
    };
    const taxii = 'application/taxii+json;version=2.1';
    const posted = await node.app.inject({
      method: 'POST', url: `/taxii2/api/collections/${ADD_TEST}/objects/`,
      headers: { authorization: authorization('analyst'), 'content-type': taxii, accept: taxii },
      payload: JSON.stringify({ objects: [ip, theirs] }),
    });
    assert.equal(posted.statusCode, 202, posted.body);
    await node.app.alerting.matcher.refresh();
    assert.equal(node.app.alerting.bus.nextId, fromId, 'no alert, so no sighting claiming this organisation saw it');
  });

  it('sends heartbeats as comments and drops a client that does not read', async () => {
    node.app.alerting.tuning.heartbeatMs = 50;
    const client = await connectSse(`${base}/api/alerts/stream`, { authorization: authorization('admin') });
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(client.comments.filter((c) => c.startsWith('heartbeat')).length >= 2, client.comments.join('|'));
    client.close();

    node.app.alerting.tuning.maxBufferedBytes = 64 * 1024;
    const slow = await connectSse(`${base}/api/alerts/stream`, { authorization: authorization('admin') }, { paused: true });
    const before = node.app.alerting.streams();
    // Flood the stream with alerts (a new window each, also from one round to the next: the same window
    // again raises nothing) until the server gives up on the paused client. The kernel takes the first
    // megabytes into its socket buffers, so one round may not be enough.
    const round = (from: number): string => {
      const payload: string[] = [];
      for (let i = from; i < from + 2000; i++) {
        const t = new Date(Date.UTC(2020, 0, 1) + i * 3600_000).toISOString();
        payload.push(JSON.stringify({ type: 'observed-data', first_observed: t, last_observed: t, objects: { '0': { type: 'ipv4-addr', value: VISIBLE_IP } } }));
      }
      return payload.join('\n');
    };
    const deadline = Date.now() + 30_000;
    for (let from = 0; node.app.alerting.streams() >= before && Date.now() < deadline; from += 2000) await post('admin', round(from));
    assert.ok(node.app.alerting.streams() < before, 'the paused client was disconnected');
    slow.close();
    node.app.alerting.tuning.heartbeatMs = 15_000;
    node.app.alerting.tuning.maxBufferedBytes = 1024 * 1024;
  });
  it('ends the stream of a token revoked meanwhile (read again at each heartbeat)', async () => {
    await node.store.createToken({ name: 'watcher', secretHash: hashTokenSecret(WATCHER), admin: false, grants: [{ collectionId: ADD_TEST, read: true, write: false }], organisationId: undefined, createdAt: new Date().toISOString(), revokedAt: undefined });
    node.app.alerting.tuning.heartbeatMs = 30;
    try {
      const client = await connectSse(`${base}/api/alerts/stream`, { authorization: `Bearer ${WATCHER}` });
      assert.equal(client.status, 200);
      await new Promise((r) => setTimeout(r, 100));
      await node.store.revokeToken('watcher', new Date());
      await Promise.race([client.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('stream still open')), 2000))]);
    } finally {
      node.app.alerting.tuning.heartbeatMs = 15_000;
    }
  });
  it('sends a token revoked meanwhile not one more alert: each event is sent under the token as it stands, not as at the last heartbeat', async () => {
    const name = 'watcher-events';
    const secret = 'ent_watcher-events-secret-000000000000000000';
    await node.store.createToken({ name, secretHash: hashTokenSecret(secret), admin: false, grants: [{ collectionId: ADD_TEST, read: true, write: false }], organisationId: undefined, createdAt: new Date().toISOString(), revokedAt: undefined });
    // The heartbeat (15 s) would read the token again long after the alert below.
    const watcher = await connectSse(`${base}/api/alerts/stream`, { authorization: `Bearer ${secret}` });
    const admin = await connectSse(`${base}/api/alerts/stream`, { authorization: authorization('admin') });
    try {
      assert.equal(watcher.status, 200);
      await node.store.revokeToken(name, new Date());
      // A window no earlier test used, so that it raises a new alert.
      const at = '2019-06-01T00:00:00.000Z';
      const raised = (await post('admin', JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value: VISIBLE_IP } } }))).json<ObservationsJson>();
      assert.equal(raised.alerts_raised, 1, 'the observation raised an alert the token could have read');
      await admin.waitFor((event) => event.event === 'alert' && (JSON.parse(event.data) as AlertJson).alert_id === raised.alerts[0]?.alert_id);
      // The admin's stream has the alert; the watcher's, handled at the same time, ends without it.
      await Promise.race([watcher.ended, new Promise((resolve) => setTimeout(resolve, 2000))]);
      assert.deepEqual(watcher.events.filter((event) => event.event === 'alert'), [], 'the revoked token was sent no alert');
      await Promise.race([watcher.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('stream still open')), 100))]);
    } finally {
      watcher.close();
      admin.close();
    }
  });
});
