// Webhooks: the CLI stores them (never printing the secret); the dispatcher POSTs each alert signed
// with HMAC-SHA256, retries a 5xx with backoff, gives up on a dead endpoint after its attempts and
// logs every outcome, and never holds up the bus that publishes alerts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';
import { AlertBus, type AlertJson } from '../../src/correlate/alert-bus.ts';
import { WebhookDispatcher } from '../../src/correlate/webhook-delivery.ts';
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

  const dispatcher = (bus: AlertBus, maxAttempts = 4): WebhookDispatcher =>
    new WebhookDispatcher({ store, bus, clock: () => new Date(), maxAttempts, baseDelayMs: 20, reloadMs: 0, timeoutMs: 2000 });

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
});
