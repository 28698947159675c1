// A webhook retry is sent only while the alert is still one for that webhook: between a failed
// attempt and its retry the indicator version behind the alert may be recalled by its source partner,
// or removed from the collections that held it. The retry then reads again who the alert is for
// (NodeMatcher.audiencesNow, the store as it is now) and puts it to the rule the first attempt and the
// alert stream apply (isAlertForReader); an alert withdrawn for the webhook is not POSTed again, and
// the delivery is logged as abandoned with the reason. The first attempt asks the same question
// (alert-live-withdrawn.test.ts: a recall landing between the alert being raised and its first POST).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { AlertBus, type AlertEvent, type AlertJson } from '../../src/correlate/alert-bus.ts';
import { WebhookDispatcher } from '../../src/correlate/webhook-delivery.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore, WebhookDelivery } from '../../src/store/object-store.ts';
import { ADD_TEST, HIGH_VALUE, secrets } from '../taxii/taxii-test-kit.ts';
import { ipIndicator, postObservedAddress } from './alert-test-kit.ts';
import { deliveryOf as deliveryOfWebhook, WEBHOOK_SECRET, webhookReceiver, webhookTestNode, type Hook } from './webhook-kit.ts';
const admin = { authorization: `Bearer ${secrets.admin}` };

/**
 * A receiver that answers its first POST with a 500 after running `between` (what happens to the
 * indicator before the retry: the retry is scheduled only once this answer is in), then 200.
 */
function failingOnce(between: () => Promise<void>): Promise<Hook> {
  return webhookReceiver(async (posts) => {
    if (posts !== 1) return 200;
    await between();
    return 500;
  });
}

describe('a webhook retry of an alert withdrawn since the first attempt', () => {
  const kit = webhookTestNode();
  const addHook = kit.addHook.bind(kit);
  // The node's backoff: a retry comes 0.5 to 1 s after the first attempt.
  const deliveryOf = (webhook: string): Promise<WebhookDelivery> => deliveryOfWebhook(kit.node.store, webhook, 8000);

  it('is not POSTed when the source partner recalled the version meanwhile, and is logged abandoned with the reason', async () => {
    const recalled = ipIndicator(41, '198.51.100.41');
    await kit.node.store.addObjects(HIGH_VALUE, [recalled]);
    // What recall-receive.ts does with a recall it accepts: that version removed from the collection.
    const hook = await failingOnce(async () => {
      assert.equal(await kit.node.store.deleteObject(HIGH_VALUE, recalled.id, { versions: [{ kind: 'at', version: recalled['modified'] as string }] }), 1);
    });
    await addHook('recalled', hook);
    const alerts = await postObservedAddress<AlertJson>(kit.node, admin, '198.51.100.41', '2026-11-20T10:00:00Z');
    assert.deepEqual(alerts.map((a) => a.indicator_id), [recalled.id]);
    const delivery = await deliveryOf('recalled');
    assert.deepEqual([delivery.outcome, delivery.attempts, delivery.status], ['abandoned', 1, 500]);
    assert.match(delivery.error ?? '', /^alert withdrawn: no collection the webhook reads holds the indicator version that matched .*\(recalled, removed or superseded\) before attempt 2$/);
    assert.equal(kit.node.app.alerting.webhooks.pending, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(hook.received.map((a) => a.indicator_id), [recalled.id], 'the first attempt only: no retry was POSTed');
    await kit.node.store.removeWebhook('recalled');
  });

  it('is still retried, and delivered, while a collection the webhook reads holds the version; a webhook reading only the collection it left abandons it', async () => {
    const held = ipIndicator(42, '198.51.100.42');
    await kit.node.store.addObjects(HIGH_VALUE, [held]);
    await kit.node.store.addObjects(ADD_TEST, [held]);
    await kit.node.app.alerting.matcher.refresh();
    // Both receivers fail once; the version leaves HIGH_VALUE (a DELETE there) before either retry.
    let removals = 0;
    const removeOnce = async (): Promise<void> => {
      if (removals++ === 0) assert.equal(await kit.node.store.deleteObject(HIGH_VALUE, held.id, {}), 1);
    };
    const everything = await failingOnce(removeOnce);
    const scoped = await failingOnce(removeOnce);
    await addHook('everything', everything);
    await addHook('high-value-only', scoped, [HIGH_VALUE]);
    await postObservedAddress<AlertJson>(kit.node, admin, '198.51.100.42', '2026-11-20T10:00:00Z');
    const [toAll, toScoped] = await Promise.all([deliveryOf('everything'), deliveryOf('high-value-only')]);
    assert.deepEqual([toAll.outcome, toAll.attempts, toAll.status], ['delivered', 2, 200], 'ADD_TEST still holds it: the unscoped webhook reads ADD_TEST');
    assert.deepEqual([toScoped.outcome, toScoped.attempts, toScoped.status], ['abandoned', 1, 500]);
    assert.match(toScoped.error ?? '', /^alert withdrawn: no collection the webhook reads holds/);
    assert.equal(everything.received.length, 2);
    assert.equal(scoped.received.length, 1, 'the scoped webhook got no retry');
    for (const name of ['everything', 'high-value-only']) await kit.node.store.removeWebhook(name);
  });
});

describe('the dispatcher asks who the alert is for now before each attempt', () => {
  let store: ObjectStore;
  const servers: Server[] = [];
  before(() => {
    store = openSqliteObjectStore({ path: ':memory:' });
  });
  after(async () => {
    for (const server of servers) server.close();
    await store.close();
  });

  const raised: Omit<AlertJson, 'alert_id'> = {
    indicator_id: 'indicator--a1e00000-0000-4000-8000-000000000043',
    indicator_name: 'test',
    observable: { type: 'ipv4-addr', path: 'ipv4-addr:value', value: '203.0.113.43' },
    first_seen: '2026-11-23T01:00:00.000Z',
    last_seen: '2026-11-23T01:00:00.000Z',
    count: 1,
    confidence: 90,
    severity: 'high',
    input: 'api:test',
    line: 1,
    sighting_id: null,
    raised_at: '2026-11-23T01:00:00.000Z',
  };

  /** Who the alert was for when it was raised: what the first attempt is told, unless a test says otherwise. */
  const asRaised = async (): Promise<Pick<AlertEvent, 'collections' | 'newerIn'>> => ({ collections: ['a'] });

  /**
   * One alert raised in ['a'], its first attempt failed (answered 500), the first attempt decided with
   * `first` and the retry with `audienceNow`; resolves with its logged delivery and the POSTs received.
   */
  async function retried(
    name: string,
    audienceNow: (event: AlertEvent) => Promise<Pick<AlertEvent, 'collections' | 'newerIn'>>,
    first: (event: AlertEvent) => Promise<Pick<AlertEvent, 'collections' | 'newerIn'>> = asRaised,
  ): Promise<{ delivery: WebhookDelivery; posts: number; asked: AlertEvent[] }> {
    const hook = await failingOnce(async () => undefined);
    servers.push(hook.server);
    await store.addWebhook({ name, url: hook.url, secret: WEBHOOK_SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const asked: AlertEvent[] = [];
    const bus = new AlertBus();
    const webhooks = new WebhookDispatcher({
      store, bus, clock: () => new Date(), maxAttempts: 3, baseDelayMs: 20, timeoutMs: 2000, random: () => 0,
      audienceNow: (event) => {
        asked.push(event);
        return asked.length === 1 ? first(event) : audienceNow(event);
      },
    });
    await bus.publish(raised, ['a'], undefined, undefined, '2026-01-01T00:00:00.000Z');
    const deadline = Date.now() + 5000;
    let delivery: WebhookDelivery | undefined;
    while ((delivery = (await store.listWebhookDeliveries({ webhook: name, limit: 10 }))[0]) === undefined) {
      if (Date.now() > deadline) throw new Error(`no delivery logged for ${name}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await webhooks.stop();
    await store.removeWebhook(name);
    return { delivery, posts: hook.received.length, asked };
  }

  it('retries, and delivers, an alert a collection the webhook reads still holds; the matched version is what it asks about', async () => {
    const { delivery, posts, asked } = await retried('still-held', async () => ({ collections: ['a'] }));
    assert.deepEqual([delivery.outcome, delivery.attempts, posts], ['delivered', 2, 2]);
    const question = [raised.indicator_id, '2026-01-01T00:00:00.000Z'];
    assert.deepEqual(asked.map((event) => [event.alert.indicator_id, event.version]), [question, question], 'asked before the first attempt and before the retry');
  });

  it('never POSTs an alert withdrawn before its first attempt, and logs it abandoned after no attempt', async () => {
    const { delivery, posts } = await retried('withdrawn-at-once', asRaised, async () => ({ collections: [] }));
    assert.deepEqual([delivery.outcome, delivery.attempts, delivery.status, posts], ['abandoned', 0, undefined, 0]);
    assert.equal(delivery.error, 'alert withdrawn: no collection the webhook reads holds the indicator version that matched as its latest any more (recalled, removed or superseded) before attempt 1');
  });

  it('never POSTs an alert when it cannot read, before the first attempt, which collections hold the indicator', async () => {
    const { delivery, posts } = await retried('unreadable-at-once', asRaised, async () => {
      throw new Error('database is locked');
    });
    assert.deepEqual([delivery.outcome, delivery.attempts, posts], ['abandoned', 0, 0]);
    assert.equal(delivery.error, 'cannot read which collections hold the indicator: database is locked before attempt 1');
  });

  it('abandons an alert a newer version by its creator now supersedes in a collection the webhook reads', async () => {
    const { delivery, posts } = await retried('superseded', async () => ({ collections: ['a'], newerIn: ['b'] }));
    assert.deepEqual([delivery.outcome, delivery.attempts, delivery.status, posts], ['abandoned', 1, 500, 1]);
    assert.equal(delivery.error, 'alert withdrawn: a newer version of the indicator by its creator is held in a collection the webhook reads before attempt 2');
  });

  it('abandons the retry when it cannot read which collections hold the indicator, rather than risk sending what was recalled', async () => {
    const { delivery, posts } = await retried('unreadable', async () => {
      throw new Error('database is locked');
    });
    assert.deepEqual([delivery.outcome, posts], ['abandoned', 1]);
    assert.equal(delivery.error, 'cannot read which collections hold the indicator: database is locked before attempt 2');
  });
});
