// An alert is raised for the readers of the collections holding the indicator version that matched
// when the batch ends; it reaches them a little later — a live stream sends it once it has read its
// token again (and after what its queue holds), a webhook once it has read the webhooks. In between,
// the version may be recalled by its source partner or leave the collections a reader reads. Then the
// alert must not go out: whatever sends it asks who it is for at that moment (NodeMatcher.audiencesNow,
// read for all the alerts sent together) and puts it to the one rule (isAlertForReader), exactly as a
// webhook retry and a resumed stream's replay do. Here the recall lands while the stream reads the
// token, or while the dispatcher reads the webhooks: the last step before each sends; and, for the
// POST's own answer, while the batch stores its sightings (when the token may be revoked, too).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { AlertJson } from '../../src/correlate/alert-bus.ts';
import type { WebhookDelivery } from '../../src/store/object-store.ts';
import { ADD_TEST, HIGH_VALUE, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator, postObservedAddress, type SseClient, type SseEvent } from './alert-test-kit.ts';
import { deliveryOf as deliveryOfWebhook, WEBHOOK_SECRET, webhookReceiver, webhookTestNode, type Hook } from './webhook-kit.ts';

const admin = { authorization: `Bearer ${secrets.admin}` };
const reader = { authorization: `Bearer ${secrets.reader}` };
const AT = '2026-11-20T10:00:00Z';

const indicatorOf = (event: SseEvent): string => (JSON.parse(event.data) as AlertJson).indicator_id;
const alertsIn = (client: SseClient): string[] => client.events.filter((e) => e.event === 'alert').map(indicatorOf);

/** What recall-receive.ts does with a recall it accepts: that version removed from the collection. */
async function recall(node: TestNode, collectionId: string, indicator: ReturnType<typeof ipIndicator>): Promise<void> {
  assert.equal(await node.store.deleteObject(collectionId, indicator.id, { versions: [{ kind: 'at', version: indicator['modified'] as string }] }), 1);
}

describe('a live alert withdrawn between being raised and being pushed on the stream', () => {
  let node: TestNode;
  let base: string;
  const recalled = ipIndicator(60, '198.51.100.60');
  /** Held in HIGH_VALUE and ADD_TEST; leaves HIGH_VALUE, the one collection the reader reads. */
  const leftOne = ipIndicator(61, '198.51.100.61');
  const kept = ipIndicator(62, '198.51.100.62');
  const keptAgain = ipIndicator(63, '198.51.100.63');
  let adminStream: SseClient;
  let readerStream: SseClient;

  /**
   * Holds every stream's next reading of its token (the step just before it sends) until `release`:
   * `reached` resolves once one is held. The node's other readers of the marker (authentication) pass.
   */
  function holdStreams(): { reached: Promise<void>; release: () => void } {
    const store = node.store as { tokenChangeMarker: typeof node.store.tokenChangeMarker };
    const original = store.tokenChangeMarker.bind(node.store);
    let reachedResolve: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (reachedResolve = resolve));
    let releaseResolve: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (releaseResolve = resolve));
    store.tokenChangeMarker = async () => {
      if (new Error().stack?.includes('alerts-routes') === true) {
        reachedResolve();
        await released;
      }
      return original();
    };
    return {
      reached,
      release: () => {
        store.tokenChangeMarker = original;
        releaseResolve();
      },
    };
  }

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.addObjects(HIGH_VALUE, [recalled, leftOne, kept, keptAgain]);
    await node.store.addObjects(ADD_TEST, [leftOne]);
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
    adminStream = await connectSse(`${base}/api/alerts/stream`, admin);
    readerStream = await connectSse(`${base}/api/alerts/stream`, reader);
    await node.app.alerting.matcher.refresh();
  });
  after(async () => {
    adminStream.close();
    readerStream.close();
    await node.close();
  });

  it('is sent to no one when its version was recalled before the push', async () => {
    const held = holdStreams();
    const answered = await postObservedAddress<AlertJson>(node, admin, '198.51.100.60', AT);
    assert.deepEqual(answered.map((a) => a.indicator_id), [recalled.id], 'raised: the version was held when the batch ended');
    await held.reached;
    await recall(node, HIGH_VALUE, recalled);
    held.release();
    // Raised after: once it comes, the stream has sent (or skipped) everything before it.
    await postObservedAddress(node, admin, '198.51.100.62', AT);
    await adminStream.waitFor((e) => e.event === 'alert' && indicatorOf(e) === kept.id);
    await readerStream.waitFor((e) => e.event === 'alert' && indicatorOf(e) === kept.id);
    assert.deepEqual(alertsIn(adminStream), [kept.id], 'the recalled indicator never reaches the administrator');
    assert.deepEqual(alertsIn(readerStream), [kept.id], 'nor the reader of its collection');
  });

  it('is not sent to a reader whose one collection no longer holds it, and still to a reader of the collection that does', async () => {
    const held = holdStreams();
    await postObservedAddress(node, admin, '198.51.100.61', AT);
    await held.reached;
    assert.equal(await node.store.deleteObject(HIGH_VALUE, leftOne.id, {}), 1);
    held.release();
    await postObservedAddress(node, admin, '198.51.100.63', AT);
    await adminStream.waitFor((e) => e.event === 'alert' && indicatorOf(e) === keptAgain.id);
    await readerStream.waitFor((e) => e.event === 'alert' && indicatorOf(e) === keptAgain.id);
    assert.deepEqual(alertsIn(adminStream), [kept.id, leftOne.id, keptAgain.id], 'ADD_TEST still holds it: the administrator reads ADD_TEST');
    assert.deepEqual(alertsIn(readerStream), [kept.id, keptAgain.id], 'the reader reads HIGH_VALUE alone');
  });

  it('ends the stream, sending nothing, when it cannot read which collections hold the indicator (the client resumes from the last id it saw)', async () => {
    const client = await connectSse(`${base}/api/alerts/stream`, admin);
    const held = holdStreams();
    await postObservedAddress(node, admin, '198.51.100.62', '2026-11-20T12:00:00Z');
    await held.reached;
    const store = node.store as { latestEntriesByCollection: typeof node.store.latestEntriesByCollection };
    const original = store.latestEntriesByCollection;
    store.latestEntriesByCollection = () => Promise.reject(new Error('database is locked'));
    try {
      held.release();
      const timedOut = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 5000).unref());
      assert.equal(await Promise.race([client.ended.then(() => 'ended' as const), timedOut]), 'ended');
    } finally {
      store.latestEntriesByCollection = original;
      client.close();
    }
    assert.deepEqual(alertsIn(client), [], 'not one alert that may have been recalled');
    assert.ok(node.logLines.some((line) => line.includes('alert stream: cannot read which collections hold the indicators of the alerts raised; stream ended')));
  });
});

describe('a live alert withdrawn between being raised and its first webhook attempt', () => {
  const kit = webhookTestNode();
  /** A receiver answering 200, registered as webhook `name`. */
  const addHook = async (name: string, collections?: string[]): Promise<Hook> => {
    const hook = await webhookReceiver();
    await kit.addHook(name, hook, collections);
    return hook;
  };

  /** Runs `between` when the dispatcher next reads the webhooks: after the alert was raised, before its first POST. */
  function whileReadingWebhooks(between: () => Promise<void>): void {
    const store = kit.node.store as { listWebhooks: typeof kit.node.store.listWebhooks };
    const original = store.listWebhooks.bind(kit.node.store);
    store.listWebhooks = async () => {
      store.listWebhooks = original;
      await between();
      return original();
    };
  }

  const deliveryOf = (webhook: string): Promise<WebhookDelivery> => deliveryOfWebhook(kit.node.store, webhook);

  it('is not POSTed when its version was recalled before the first attempt, and is logged abandoned with the reason', async () => {
    const recalled = ipIndicator(64, '198.51.100.64');
    await kit.node.store.addObjects(HIGH_VALUE, [recalled]);
    const hook = await addHook('recalled');
    whileReadingWebhooks(() => recall(kit.node, HIGH_VALUE, recalled));
    const alerts = await postObservedAddress<AlertJson>(kit.node, admin, '198.51.100.64', AT);
    assert.deepEqual(alerts, [], "recalled before the POST's answer too: not listed there either");
    // It was raised, and the webhook took it: its delivery is logged.
    const delivery = await deliveryOf('recalled');
    assert.deepEqual([delivery.outcome, delivery.attempts, delivery.status], ['abandoned', 0, undefined]);
    assert.match(delivery.error ?? '', /^alert withdrawn: no collection the webhook reads holds the indicator version that matched .* before attempt 1$/);
    assert.equal(kit.node.app.alerting.webhooks.pending, 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(hook.received, [], 'the receiver never learns of the recalled indicator');
    await kit.node.store.removeWebhook('recalled');
  });

  it('is POSTed to a webhook reading a collection that still holds it, not to one reading only the collection it left', async () => {
    const leftOne = ipIndicator(65, '198.51.100.65');
    await kit.node.store.addObjects(HIGH_VALUE, [leftOne]);
    await kit.node.store.addObjects(ADD_TEST, [leftOne]);
    await kit.node.app.alerting.matcher.refresh();
    const everything = await addHook('everything');
    const scoped = await addHook('high-value-only', [HIGH_VALUE]);
    whileReadingWebhooks(async () => {
      assert.equal(await kit.node.store.deleteObject(HIGH_VALUE, leftOne.id, {}), 1);
    });
    await postObservedAddress(kit.node, admin, '198.51.100.65', AT);
    const [toAll, toScoped] = await Promise.all([deliveryOf('everything'), deliveryOf('high-value-only')]);
    assert.deepEqual([toAll.outcome, toAll.attempts], ['delivered', 1]);
    assert.deepEqual([toScoped.outcome, toScoped.attempts], ['abandoned', 0]);
    assert.match(toScoped.error ?? '', /^alert withdrawn: no collection the webhook reads holds .* before attempt 1$/);
    assert.deepEqual(everything.received.map((a) => a.indicator_id), [leftOne.id]);
    assert.deepEqual(scoped.received, []);
    for (const name of ['everything', 'high-value-only']) await kit.node.store.removeWebhook(name);
  });
});

describe('the cost of asking again at send time', () => {
  it('is one read of the store for all the alerts a batch raises, whatever the number of streams and webhooks sending them', async () => {
    const node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    const hook = await webhookReceiver();
    try {
      const indicators = [70, 71, 72, 73, 74].map((n) => ipIndicator(n, `198.51.100.${n}`));
      await node.store.addObjects(HIGH_VALUE, indicators);
      await node.store.addWebhook({ name: 'all', url: hook.url, secret: WEBHOOK_SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
      await node.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
      const streams = [await connectSse(`${base}/api/alerts/stream`, admin), await connectSse(`${base}/api/alerts/stream`, reader), await connectSse(`${base}/api/alerts/stream`, admin)];
      await node.app.alerting.matcher.refresh();
      const store = node.store as { latestEntriesByCollection: typeof node.store.latestEntriesByCollection };
      const original = store.latestEntriesByCollection.bind(node.store);
      let reads = 0;
      store.latestEntriesByCollection = (ids) => {
        reads++;
        return original(ids);
      };
      const lines = indicators.map((_, i) => JSON.stringify({ type: 'observed-data', first_observed: AT, last_observed: AT, objects: { '0': { type: 'ipv4-addr', value: `198.51.100.${70 + i}` } } }));
      const response = await node.app.inject({ method: 'POST', url: '/api/observations', headers: { ...admin, 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
      assert.equal(response.json<{ alerts_raised: number }>().alerts_raised, 5);
      const last = indicators[4]?.id;
      for (const stream of streams) await stream.waitFor((e) => e.event === 'alert' && indicatorOf(e) === last);
      const deadline = Date.now() + 5000;
      while (hook.received.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      store.latestEntriesByCollection = original;
      assert.equal(hook.received.length, 5);
      for (const stream of streams) assert.equal(alertsIn(stream).length, 5);
      assert.equal(reads, 2, 'one read when the batch raised them, one when they were sent (3 streams, 1 webhook)');
      for (const stream of streams) stream.close();
    } finally {
      hook.server.close();
      await node.close();
    }
  });
});

describe("the POST's answer, sent once the batch's sightings are stored", () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
  });
  after(() => node.close());

  /** Runs `between` when the batch stores its sightings: after its alerts were raised, before the POST is answered. */
  function whileStoringSightings(between: () => Promise<void>): { landed: () => boolean } {
    const store = node.store as { addObjects: typeof node.store.addObjects };
    const original = store.addObjects;
    let landed = false;
    store.addObjects = async (...args) => {
      store.addObjects = original;
      await between();
      landed = true;
      return original.apply(node.store, args);
    };
    return { landed: () => landed };
  }

  it('does not list an alert whose version was recalled meanwhile', async () => {
    const recalled = ipIndicator(80, '198.51.100.80');
    const kept = ipIndicator(81, '198.51.100.81');
    await node.store.addObjects(HIGH_VALUE, [recalled, kept]);
    await node.app.alerting.matcher.refresh();
    const storing = whileStoringSightings(() => recall(node, HIGH_VALUE, recalled));
    const line = (ip: string): string => JSON.stringify({ type: 'observed-data', first_observed: AT, last_observed: AT, objects: { '0': { type: 'ipv4-addr', value: ip } } });
    const response = await node.app.inject({
      method: 'POST', url: '/api/observations',
      headers: { authorization: `Bearer ${secrets.analyst}`, 'content-type': 'application/x-ndjson' },
      payload: `${line('198.51.100.80')}\n${line('198.51.100.81')}`,
    });
    assert.equal(response.statusCode, 200, response.body);
    const answer = response.json<{ alerts_raised: number; alerts: AlertJson[] }>();
    assert.deepEqual(answer.alerts.map((a) => a.indicator_id), [kept.id]);
    assert.equal(answer.alerts_raised, 1);
    assert.ok(storing.landed(), 'the recall landed while the sightings were stored');
  });

  it('answers an error, naming no indicator, when it cannot read again which collections hold them', async () => {
    const indicator = ipIndicator(83, '198.51.100.83');
    await node.store.addObjects(HIGH_VALUE, [indicator]);
    await node.app.alerting.matcher.refresh();
    const store = node.store as { latestEntriesByCollection: typeof node.store.latestEntriesByCollection };
    const original = store.latestEntriesByCollection;
    let reads = 0;
    // The batch's own read (when the alert is raised) succeeds; the one before the answer fails.
    store.latestEntriesByCollection = (ids) => (++reads === 1 ? original.call(node.store, ids) : Promise.reject(new Error('database is locked')));
    try {
      const response = await node.app.inject({
        method: 'POST', url: '/api/observations',
        headers: { ...admin, 'content-type': 'application/x-ndjson' },
        payload: JSON.stringify({ type: 'observed-data', first_observed: AT, last_observed: AT, objects: { '0': { type: 'ipv4-addr', value: '198.51.100.83' } } }),
      });
      assert.equal(response.statusCode, 500, response.body);
      assert.ok(!response.body.includes(indicator.id), 'the indicator is not named');
      assert.equal(reads, 2);
    } finally {
      store.latestEntriesByCollection = original;
    }
  });

  it('answers 401 without one alert when the token was revoked while its observations were matched', async () => {
    const indicator = ipIndicator(82, '198.51.100.82');
    await node.store.addObjects(HIGH_VALUE, [indicator]);
    await node.app.alerting.matcher.refresh();
    const secret = 'ent_short-lived-secret-0000000000000000000';
    const { hashTokenSecret } = await import('../../src/policy/token-secret.ts');
    await node.store.createToken({ name: 'short-lived', secretHash: hashTokenSecret(secret), admin: false, grants: [{ collectionId: HIGH_VALUE, read: true, write: true }], organisationId: undefined, createdAt: new Date().toISOString(), revokedAt: undefined });
    const storing = whileStoringSightings(async () => {
      await node.store.revokeToken('short-lived', new Date());
    });
    const response = await node.app.inject({
      method: 'POST', url: '/api/observations',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/x-ndjson' },
      payload: JSON.stringify({ type: 'observed-data', first_observed: AT, last_observed: AT, objects: { '0': { type: 'ipv4-addr', value: '198.51.100.82' } } }),
    });
    assert.equal(response.statusCode, 401, response.body);
    assert.equal(response.json<{ error_code: string }>().error_code, 'ENT_AUTH_INVALID');
    assert.ok(storing.landed(), 'the revocation landed while the sightings were stored');
    assert.ok(!response.body.includes(indicator.id), 'the indicator is not named');
  });
});
