// What the tests of alerts withdrawn before a webhook attempt share: a receiver on a local port that
// keeps every alert POSTed to it, a test node (started empty for a describe block, closed after it
// with its receivers) that registers webhooks, and waiting for a webhook's logged delivery.
import { after, before } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertJson } from '../../src/correlate/alert-bus.ts';
import type { ObjectStore, WebhookDelivery } from '../../src/store/object-store.ts';
import { startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';

export const WEBHOOK_SECRET = 'a-webhook-secret-of-32-bytes-000';

export interface Hook {
  readonly url: string;
  /** The alerts POSTed to it, in order. */
  readonly received: AlertJson[];
  readonly server: Server;
}

/**
 * A webhook receiver on a free port of 127.0.0.1. Each POST is kept, then answered with the status
 * `answer` gives for it (its number, from 1), once that has resolved: 200 unless told otherwise.
 */
export async function webhookReceiver(answer: (posts: number) => number | Promise<number> = () => 200): Promise<Hook> {
  const received: AlertJson[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push(JSON.parse(body) as AlertJson);
      const posts = received.length;
      void Promise.resolve()
        .then(() => answer(posts))
        .then(
          (status) => {
            response.statusCode = status;
            response.end();
          },
          (error: unknown) => {
            // Answered all the same, and the error left unhandled: it fails the test that ran it.
            response.statusCode = 500;
            response.end();
            throw error;
          },
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

/** The first delivery logged for the webhook, waited for up to `timeoutMs` (the node's backoff may hold a retry up to 1 s). */
export async function deliveryOf(store: Pick<ObjectStore, 'listWebhookDeliveries'>, webhook: string, timeoutMs = 5000): Promise<WebhookDelivery> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [delivery] = await store.listWebhookDeliveries({ webhook, limit: 10 });
    if (delivery !== undefined) return delivery;
    if (Date.now() > deadline) throw new Error(`no delivery logged for ${webhook}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface WebhookTestNode {
  /** The node, once the block's `before` has started it. */
  readonly node: TestNode;
  /** Registers `hook` as webhook `name` (every severity; the collections given, else all it may read); its server is closed after the block. */
  addHook(name: string, hook: Hook, collections?: readonly string[]): Promise<void>;
}

/** Call in a describe block: a test node started empty before its tests (tokens read afresh every time) and closed after them. */
export function webhookTestNode(): WebhookTestNode {
  let started: TestNode | undefined;
  const servers: Server[] = [];
  before(async () => {
    started = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
  });
  after(async () => {
    await started?.close();
    for (const server of servers) server.close();
  });
  return {
    get node(): TestNode {
      if (started === undefined) throw new Error('the node starts in the describe block\'s before hook');
      return started;
    },
    async addHook(name, hook, collections) {
      servers.push(hook.server);
      await this.node.store.addWebhook({ name, url: hook.url, secret: WEBHOOK_SECRET, minSeverity: 'low', ...(collections === undefined ? {} : { collections: [...collections] }), createdAt: new Date().toISOString() });
    },
  };
}
