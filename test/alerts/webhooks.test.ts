// Webhooks: the CLI stores them (never printing the secret); the dispatcher POSTs each alert signed
// with HMAC-SHA256, retries a 5xx with backoff, gives up on a dead endpoint after its attempts and
// logs every outcome, and never holds up the bus that publishes alerts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';
import { AlertBus, type AlertJson } from '../../src/correlate/alert-bus.ts';
import { WebhookDispatcher } from '../../src/correlate/webhook-delivery.ts';
import { AlertEventIds } from '../../src/api/alert-event-ids.ts';
import { cursorKeyOf } from '../../src/taxii/cursor.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore, WebhookDelivery } from '../../src/store/object-store.ts';

const SECRET = 'a-webhook-secret-of-32-bytes-000';

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A receiver on port 0 answering with the given statuses in turn (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

function alert(severity: AlertJson['severity']): Omit<AlertJson, 'alert_id'> {
  return {
    indicator_id: 'indicator--a1e00000-0000-4000-8000-000000000001',
    indicator_name: 'test',
    observable: { type: 'ipv4-addr', path: 'ipv4-addr:value', value: '203.0.113.10' },
    first_seen: '2026-11-23T01:00:00.000Z',
    last_seen: '2026-11-23T01:00:00.000Z',
    count: 1,
    confidence: severity === 'high' ? 90 : severity === 'medium' ? 50 : 10,
    severity,
    input: 'api:test',
    line: 1,
    sighting_id: null,
    raised_at: '2026-11-23T01:00:00.000Z',
  };
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('webhook delivery', () => {
  let store: ObjectStore;
  const servers: Server[] = [];
  before(() => {
    store = openSqliteObjectStore({ path: ':memory:' });
  });
  after(async () => {
    for (const server of servers) server.close();
    await store.close();
  });

  const dispatcher = (bus: AlertBus, maxAttempts = 4, baseDelayMs = 20): WebhookDispatcher =>
    new WebhookDispatcher({ store, bus, clock: () => new Date(), maxAttempts, baseDelayMs, timeoutMs: 2000, random: () => 0 });

  const deliveriesOf = async (webhook: string, n: number): Promise<WebhookDelivery[] | undefined> => {
    const rows = await store.listWebhookDeliveries({ webhook, limit: 100 });
    return rows.length >= n ? rows : undefined;
  };

  it('POSTs the alert as JSON with a signature the receiver verifies, and a timestamp', async () => {
    const hook = await receiver([200]);
    servers.push(hook.server);
    await store.addWebhook({ name: 'ok', url: hook.url, secret: SECRET, minSeverity: 'medium', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus);
    const started = performance.now();
    void bus.publish(alert('low'), ['c']);
    const published = bus.publish(alert('high'), ['c']);
    assert.ok(performance.now() - started < 20, 'publishing does not wait for the webhook');
    const event = await published;
    const [delivery] = await until(() => deliveriesOf('ok', 1));
    assert.deepEqual([delivery?.outcome, delivery?.attempts, delivery?.status, delivery?.alertId], ['delivered', 1, 200, event.alert.alert_id]);
    assert.equal(hook.received.length, 1, 'the low alert is under the minimum severity');
    const got = hook.received[0] as Received;
    assert.equal(got.headers['content-type'], 'application/json');
    const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(got.body).digest('hex')}`);
    const signature = Buffer.from(String(got.headers['x-entente-signature']));
    assert.ok(signature.length === expected.length && timingSafeEqual(signature, expected), 'signature verifies');
    assert.ok(Math.abs(Number(got.headers['x-entente-timestamp']) - Date.now() / 1000) < 5);
    const body = JSON.parse(got.body) as AlertJson & { type: string };
    assert.deepEqual([body.type, body.alert_id, body.severity, body.indicator_id], ['alert', event.alert.alert_id, 'high', alert('high').indicator_id]);
    await webhooks.stop();
    await store.removeWebhook('ok');
  });

  it('sends no alert whose matched version no collection holds any more', async () => {
    const hook = await receiver([200]);
    servers.push(hook.server);
    await store.addWebhook({ name: 'held', url: hook.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus);
    const orphan = await bus.publish(alert('high'), []);
    const held = await bus.publish(alert('high'), ['c']);
    const [delivery] = await until(() => deliveriesOf('held', 1));
    await webhooks.stop();
    assert.equal(delivery?.alertId, held.alert.alert_id);
    assert.deepEqual((await store.listWebhookDeliveries({ webhook: 'held', limit: 100 })).map((d) => d.alertId), [held.alert.alert_id]);
    assert.deepEqual(hook.received.map((r) => (JSON.parse(r.body) as AlertJson).alert_id), [held.alert.alert_id]);
    assert.notEqual(orphan.alert.alert_id, held.alert.alert_id);
    await store.removeWebhook('held');
  });

  it('retries a 500 and delivers on the next attempt', async () => {
    const hook = await receiver([500, 200]);
    servers.push(hook.server);
    await store.addWebhook({ name: 'flaky', url: hook.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus);
    void bus.publish(alert('low'), ['c']);
    const [delivery] = await until(() => deliveriesOf('flaky', 1));
    assert.deepEqual([delivery?.outcome, delivery?.attempts, delivery?.status], ['delivered', 2, 200]);
    assert.equal(hook.received.length, 2);
    assert.equal(hook.received[0]?.body, hook.received[1]?.body, 'the same body (and signature) each attempt');
    await webhooks.stop();
    await store.removeWebhook('flaky');
  });

  it('gives up on a dead endpoint after its attempts and records it', async () => {
    const hook = await receiver([200]);
    const deadUrl = hook.url;
    await new Promise<void>((resolve) => hook.server.close(() => resolve()));
    await store.addWebhook({ name: 'dead', url: deadUrl, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus, 3);
    const started = Date.now();
    void bus.publish(alert('medium'), ['c']);
    const [delivery] = await until(() => deliveriesOf('dead', 1));
    assert.deepEqual([delivery?.outcome, delivery?.attempts, delivery?.status], ['failed', 3, undefined]);
    assert.match(delivery?.error ?? '', /ECONNREFUSED/);
    // Backoff: 20 ms base, doubled, half jittered → at least 10 + 20 ms between the three attempts.
    assert.ok(Date.now() - started >= 30);
    assert.equal(webhooks.pending, 0);
    await webhooks.stop();
  });

  it('abandons the retry of a webhook removed after a failed attempt, and logs it abandoned', async () => {
    const hook = await receiver([503, 200]);
    servers.push(hook.server);
    await store.addWebhook({ name: 'compromised', url: hook.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    // The retry waits 150 ms: time to remove the webhook in between.
    const webhooks = dispatcher(bus, 4, 300);
    void bus.publish(alert('high'), ['c']);
    await until(() => (hook.received.length === 1 ? true : undefined));
    await store.removeWebhook('compromised');
    const [delivery] = await until(() => deliveriesOf('compromised', 1));
    await until(() => (webhooks.pending === 0 ? true : undefined));
    assert.deepEqual([delivery?.outcome, delivery?.attempts, delivery?.status], ['abandoned', 1, 503]);
    assert.match(delivery?.error ?? '', /webhook removed/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(hook.received.length, 1, 'the removed webhook got no retry');
    await webhooks.stop();
  });

  it('abandons the retry when the webhook was replaced with another URL under the same name', async () => {
    const old = await receiver([503]);
    const replacement = await receiver([200]);
    servers.push(old.server, replacement.server);
    await store.addWebhook({ name: 'moved', url: old.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus, 4, 300);
    void bus.publish(alert('high'), ['c']);
    await until(() => (old.received.length === 1 ? true : undefined));
    await store.removeWebhook('moved');
    await store.addWebhook({ name: 'moved', url: replacement.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const [delivery] = await until(() => deliveriesOf('moved', 1));
    await until(() => (webhooks.pending === 0 ? true : undefined));
    assert.deepEqual([delivery?.outcome, delivery?.attempts], ['abandoned', 1]);
    assert.match(delivery?.error ?? '', /URL or secret changed/);
    assert.deepEqual([old.received.length, replacement.received.length], [1, 0], 'an alert raised for the old endpoint goes to neither');
    await webhooks.stop();
    await store.removeWebhook('moved');
  });

  it('abandons the retry when the webhook was re-added with other collections, its body being shaped for the old ones', async () => {
    const hook = await receiver([503, 200]);
    servers.push(hook.server);
    await store.addWebhook({ name: 'rescoped', url: hook.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus, 4, 300);
    void bus.publish(alert('high'), ['a', 'b']);
    await until(() => (hook.received.length === 1 ? true : undefined));
    await store.removeWebhook('rescoped');
    await store.addWebhook({ name: 'rescoped', url: hook.url, secret: SECRET, minSeverity: 'low', collections: ['a'], createdAt: new Date().toISOString() });
    const [delivery] = await until(() => deliveriesOf('rescoped', 1));
    await until(() => (webhooks.pending === 0 ? true : undefined));
    assert.deepEqual([delivery?.outcome, delivery?.error], ['abandoned', 'webhook collections changed before attempt 2']);
    assert.equal(hook.received.length, 1);
    await webhooks.stop();
    await store.removeWebhook('rescoped');
  });

  it('sends no alert raised after a webhook was removed, however soon after', async () => {
    const removed = await receiver([200]);
    const kept = await receiver([200]);
    servers.push(removed.server, kept.server);
    await store.addWebhook({ name: 'removed', url: removed.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    await store.addWebhook({ name: 'kept', url: kept.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus);
    void bus.publish(alert('high'), ['c']);
    await until(() => deliveriesOf('removed', 1));
    await store.removeWebhook('removed');
    void bus.publish(alert('high'), ['c']);
    await until(() => deliveriesOf('kept', 2));
    await until(() => (webhooks.pending === 0 ? true : undefined));
    assert.equal(removed.received.length, 1);
    assert.equal(kept.received.length, 2);
    await webhooks.stop();
    await store.removeWebhook('kept');
  });

  it('sends a webhook scoped to some collections only the alerts a reader of those collections gets', async () => {
    const hook = await receiver([200]);
    const everything = await receiver([200]);
    servers.push(hook.server, everything.server);
    await store.addWebhook({ name: 'circle-a', url: hook.url, secret: SECRET, minSeverity: 'low', collections: ['a'], createdAt: new Date().toISOString() });
    await store.addWebhook({ name: 'all', url: everything.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus);
    const onlyB = await bus.publish(alert('high'), ['b']);
    const aAndB = await bus.publish(alert('high'), ['b', 'a']);
    // A newer version held in b (out of the scope) neither hides a's version from the scoped webhook nor reaches it;
    // the unscoped webhook, which reads b too, gets the newer version's alert instead.
    const supersededInB = await bus.publish(alert('high'), ['a'], undefined, ['b']);
    // A newer version held in a: the scoped webhook gets that version's alert, not this one.
    const supersededInA = await bus.publish(alert('high'), ['b'], undefined, ['a']);
    await until(() => deliveriesOf('all', 2));
    await until(() => deliveriesOf('circle-a', 2));
    await until(() => (webhooks.pending === 0 ? true : undefined));
    const ids = (received: Received[]): string[] => received.map((r) => (JSON.parse(r.body) as AlertJson).alert_id).sort();
    assert.deepEqual(ids(hook.received), [aAndB.alert.alert_id, supersededInB.alert.alert_id].sort());
    assert.deepEqual(ids(everything.received), [onlyB.alert.alert_id, aAndB.alert.alert_id].sort());
    assert.notEqual(supersededInA.alert.alert_id, aAndB.alert.alert_id);
    const scopes = (await store.listWebhooks()).filter((w) => w.name === 'all' || w.name === 'circle-a').map((w) => [w.name, w.collections]);
    assert.deepEqual(scopes, [['all', undefined], ['circle-a', ['a']]]);
    await webhooks.stop();
    await store.removeWebhook('circle-a');
    await store.removeWebhook('all');
  });

  it('shows a scoped webhook the sealed alert id a token is shown, so that its gaps do not count the alerts raised outside its scope', async () => {
    const scoped = await receiver([200]);
    const everything = await receiver([200]);
    servers.push(scoped.server, everything.server);
    const createdAt = new Date().toISOString();
    await store.addWebhook({ name: 'sealed-a', url: scoped.url, secret: SECRET, minSeverity: 'low', collections: ['a'], createdAt });
    await store.addWebhook({ name: 'numbered', url: everything.url, secret: SECRET, minSeverity: 'low', createdAt });
    const ids = new AlertEventIds(cursorKeyOf(randomBytes(32)));
    const bus = new AlertBus();
    const webhooks = new WebhookDispatcher({ store, bus, clock: () => new Date(), maxAttempts: 4, baseDelayMs: 20, timeoutMs: 2000, random: () => 0, shownId: (id) => ids.shown(Number(id)) });
    await bus.publish(alert('high'), ['a']);
    await bus.publish(alert('high'), ['b']);
    const third = await bus.publish(alert('high'), ['a']);
    await until(() => deliveriesOf('sealed-a', 2));
    await until(() => deliveriesOf('numbered', 3));
    await until(() => (webhooks.pending === 0 ? true : undefined));
    const received = scoped.received.map((r) => ({ id: (JSON.parse(r.body) as AlertJson).alert_id, delivery: r.headers['x-entente-delivery'] }));
    assert.equal(received.length, 2);
    for (const { id, delivery } of received) {
      assert.equal(Number.isNaN(Number(id)), true, `a number counts what the scope does not read: ${id}`);
      assert.equal(ids.opened(id) !== undefined, true, 'the seal of a bus number');
      assert.equal(delivery, `${id}-1`);
    }
    assert.ok(received.some(({ id }) => ids.opened(id) === Number(third.alert.alert_id)));
    // Unscoped: the administrator's view, numbered as the delivery log is.
    assert.deepEqual(everything.received.map((r) => (JSON.parse(r.body) as AlertJson).alert_id).sort(), ['', '', ''].map((_, i) => String(Number(third.alert.alert_id) - 2 + i)).sort());
    assert.deepEqual((await store.listWebhookDeliveries({ webhook: 'sealed-a', limit: 10 })).map((d) => d.alertId).sort(), [String(Number(third.alert.alert_id) - 2), third.alert.alert_id].sort());
    await webhooks.stop();
    await store.removeWebhook('sealed-a');
    await store.removeWebhook('numbered');
  });

  it('shows a scoped webhook the confidence and the input a reader of its collections is shown', async () => {
    const scoped = await receiver([200]);
    const scopedHigh = await receiver([200]);
    const everything = await receiver([200]);
    servers.push(scoped.server, scopedHigh.server, everything.server);
    const createdAt = new Date().toISOString();
    await store.addWebhook({ name: 'reads-a', url: scoped.url, secret: SECRET, minSeverity: 'low', collections: ['a'], createdAt });
    await store.addWebhook({ name: 'reads-a-high', url: scopedHigh.url, secret: SECRET, minSeverity: 'high', collections: ['a'], createdAt });
    await store.addWebhook({ name: 'reads-all', url: everything.url, secret: SECRET, minSeverity: 'high', createdAt });
    const now = Date.now();
    // Two members corroborate the indicator in b: 60 → 74 (high) for the node; a reader of a alone sees 60 (medium).
    const corroboration = (organisation: string): { organisation: string; falsePositive: boolean; seenAt: number } => ({ organisation, falsePositive: false, seenAt: now });
    const basis = {
      inputs: { statedConfidence: 60, producer: 'identity--producer', since: now, now },
      byCollection: { b: [corroboration('identity--member-1'), corroboration('identity--member-2')] },
    };
    const bus = new AlertBus();
    const webhooks = dispatcher(bus);
    await bus.publish({ ...alert('high'), confidence: 74, input: 'api:analyst' }, ['a', 'b'], basis);
    await bus.publish({ ...alert('high'), confidence: 74, input: 'collection:b' }, ['a', 'b'], basis);
    await bus.publish({ ...alert('high'), confidence: 74, input: 'collection:a' }, ['a', 'b'], basis);
    await until(() => deliveriesOf('reads-all', 3));
    await until(() => deliveriesOf('reads-a', 3));
    await until(() => (webhooks.pending === 0 ? true : undefined));
    const shown = (received: Received[]): [number, string, string][] =>
      received.map((r) => JSON.parse(r.body) as AlertJson).sort((x, y) => Number(x.alert_id) - Number(y.alert_id)).map((a) => [a.confidence, a.severity, a.input]);
    assert.deepEqual(shown(scoped.received), [[60, 'medium', 'api'], [60, 'medium', 'collection'], [60, 'medium', 'collection:a']]);
    assert.deepEqual(shown(everything.received), [[74, 'high', 'api:analyst'], [74, 'high', 'collection:b'], [74, 'high', 'collection:a']]);
    assert.equal(scopedHigh.received.length, 0, 'medium for a reader of a: under its minimum severity');
    await webhooks.stop();
    for (const name of ['reads-a', 'reads-a-high', 'reads-all']) await store.removeWebhook(name);
  });

  it('does not retry a 4xx other than 408/429', async () => {
    const hook = await receiver([404]);
    servers.push(hook.server);
    await store.addWebhook({ name: 'gone', url: hook.url, secret: SECRET, minSeverity: 'low', createdAt: new Date().toISOString() });
    const bus = new AlertBus();
    const webhooks = dispatcher(bus);
    void bus.publish(alert('low'), ['c']);
    const [delivery] = await until(() => deliveriesOf('gone', 1));
    assert.deepEqual([delivery?.outcome, delivery?.attempts, delivery?.status, delivery?.error], ['failed', 1, 404, 'HTTP 404']);
    await webhooks.stop();
  });
});

describe('entente webhook', () => {
  const data = temporaryDirectory('webhook');
  after(() => data.remove());

  it('adds, lists (without the secret) and removes webhooks', async () => {
    const keyFile = join(data.path, 'soc.key');
    writeFileSync(keyFile, `${SECRET}\n`);
    const added = await entente(data.path, ['webhook', 'add', 'soc', 'https://soc.example/hooks/entente', '--secret-file', keyFile, '--min-severity', 'medium']);
    assert.equal(added.code, 0, added.stderr);
    const twice = await entente(data.path, ['webhook', 'add', 'soc', 'https://soc.example/x', '--secret-file', keyFile]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /ENT_WEBHOOK_EXISTS/);
    const list = await entente(data.path, ['webhook', 'list', '--json']);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { name: string; url: string; min_severity: string }[]).map((h) => [h.name, h.url, h.min_severity]),
      [['soc', 'https://soc.example/hooks/entente', 'medium']],
    );
    assert.doesNotMatch(list.stdout + (await entente(data.path, ['webhook', 'list'])).stdout, new RegExp(SECRET));
    const short = join(data.path, 'short.key');
    writeFileSync(short, 'short');
    const weak = await entente(data.path, ['webhook', 'add', 'weak', 'https://soc.example/', '--secret-file', short]);
    assert.match(weak.stderr, /ENT_WEBHOOK_INVALID/);
    const ftp = await entente(data.path, ['webhook', 'add', 'ftp', 'ftp://soc.example/', '--secret-file', keyFile]);
    assert.match(ftp.stderr, /must be http or https/);
    assert.equal((await entente(data.path, ['webhook', 'remove', 'soc'])).code, 0);
    const gone = await entente(data.path, ['webhook', 'remove', 'soc']);
    assert.match(gone.stderr, /ENT_WEBHOOK_NOT_FOUND/);
    const log = await entente(data.path, ['webhook', 'deliveries', '--json']);
    assert.equal(log.code, 0, log.stderr);
  });

  it('refuses a plain http URL outside this host unless --allow-insecure-http is given', async () => {
    const keyFile = join(data.path, 'http.key');
    writeFileSync(keyFile, SECRET);
    const plain = await entente(data.path, ['webhook', 'add', 'plain', 'http://soc.example/hooks/entente', '--secret-file', keyFile]);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /ENT_WEBHOOK_INSECURE_HTTP/);
    assert.match(plain.stderr, /--allow-insecure-http/);
    for (const [name, url] of [['v4', 'http://127.0.0.1:8080/hook'], ['v4-other', 'http://127.10.0.3/hook'], ['v6', 'http://[::1]:8080/hook'], ['local', 'http://localhost/hook']]) {
      const loopback = await entente(data.path, ['webhook', 'add', name as string, url as string, '--secret-file', keyFile]);
      assert.equal(loopback.code, 0, `${url as string}: ${loopback.stderr}`);
    }
    for (const url of ['http://127.0.0.1.soc.example/', 'http://localhost.soc.example/', 'http://[::ffff:7f00:1]/', 'http://10.0.0.1/']) {
      const outside = await entente(data.path, ['webhook', 'add', 'outside', url, '--secret-file', keyFile]);
      assert.match(outside.stderr, /ENT_WEBHOOK_INSECURE_HTTP/, url);
    }
    const allowed = await entente(data.path, ['webhook', 'add', 'plain', 'http://soc.example/hooks/entente', '--secret-file', keyFile, '--allow-insecure-http']);
    assert.equal(allowed.code, 0, allowed.stderr);
    const list = await entente(data.path, ['webhook', 'list', '--json']);
    assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((h) => h.name), ['local', 'plain', 'v4', 'v4-other', 'v6']);
  });

  it('scopes a webhook to collections named by id or alias, and names a collection that does not exist', async () => {
    const keyFile = join(data.path, 'scope.key');
    writeFileSync(keyFile, SECRET);
    const unknown = await entente(data.path, ['webhook', 'add', 'scoped', 'https://soc.example/', '--secret-file', keyFile, '--collections', 'default,no-such-collection']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ENT_COLLECTION_NOT_FOUND/);
    assert.match(unknown.stderr, /"no-such-collection"/);
    const empty = await entente(data.path, ['webhook', 'add', 'scoped', 'https://soc.example/', '--secret-file', keyFile, '--collections', ' , ']);
    assert.match(empty.stderr, /ENT_WEBHOOK_INVALID/);
    const added = await entente(data.path, ['webhook', 'add', 'scoped', 'https://soc.example/', '--secret-file', keyFile, '--collections', 'default']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /alerts on indicators held in collection /);
    const list = JSON.parse((await entente(data.path, ['webhook', 'list', '--json'])).stdout) as { name: string; collections: string[] | null }[];
    const scoped = list.find((h) => h.name === 'scoped');
    assert.equal(scoped?.collections?.length, 1);
    assert.notEqual(scoped?.collections?.[0], 'default', 'stored by id, so a renamed alias changes nothing');
    assert.ok(list.filter((h) => h.name !== 'scoped').every((h) => h.collections === null), 'no scope: every collection');
    const text = (await entente(data.path, ['webhook', 'list'])).stdout;
    assert.match(text, /COLLECTIONS/);
    assert.match(text, /\tall\t/);
  });
});
