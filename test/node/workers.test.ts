// `entente start --workers N`: N processes serve one port over one database. What one worker
// stores, every worker serves; date_added stays strictly increasing across them; a killed worker
// is replaced; SIGTERM stops them all; a `next` cursor one worker issued, another accepts; on
// SIGTERM a worker gives an upload still arriving the same grace as a single process, then 503.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { temporaryDirectory } from '../cli/cli-kit.ts';
import { startNodeProcess, stopNodeProcess, type NodeProcess } from './node-process.ts';

const TAXII = 'application/taxii+json;version=2.1';

/** Starts `entente start --port 0 ARGS…` on a fresh data directory, removed once the node (and with it its workers) has exited. */
async function startWorkersNode(t: { after(fn: () => Promise<void>): void }, name: string, args: readonly string[]): Promise<{ node: NodeProcess; token: string; collection: string }> {
  const data = temporaryDirectory(name);
  const started = startNodeProcess(['--port', '0', ...args], { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'warn' });
  t.after(async () => {
    await started.then((node) => stopNodeProcess(node.child, 30_000), () => undefined);
    data.remove();
  });
  const node = await started;
  const token = readFileSync(join(data.path, 'admin.token'), 'utf8').trim();
  const listed = (await (await fetch(`${node.url}/taxii2/api/collections/`, { headers: { authorization: `Bearer ${token}`, accept: TAXII } })).json()) as { collections: { id: string }[] };
  return { node, token, collection: listed.collections[0]?.id ?? assert.fail('no collection') };
}

/** The head of a TAXII POST with a body of `length` bytes, the body left to the caller. */
function postHead(collection: string, token: string, length: number): string {
  return `POST /taxii2/api/collections/${collection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${TAXII}\r\nAccept: ${TAXII}\r\nContent-Length: ${length}\r\n\r\n`;
}

/** Status and body of the one answer a raw connection got before it closed (status 0: none). */
function readOneAnswer(socket: ReturnType<typeof netConnect>): Promise<{ status: number; body: string }> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      resolve(end < 0 ? { status: 0, body: '' } : { status: Number(text.slice(9, 12)), body: text.slice(end + 4) });
    });
  });
}

describe('a node with two worker processes', () => {
  it('serves one port and one database from both workers, and stops them all on SIGTERM', async (t) => {
    const data = temporaryDirectory('workers');
    const started = startNodeProcess(['--port', '0', '--workers', '2'], { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'warn' });
    // In every outcome, and only once the node (and with it its workers) has exited: a node still
    // running would keep writing to the directory, and could create it again. A start that fails
    // has stopped its process already.
    t.after(async () => {
      await started.then((node) => stopNodeProcess(node.child), () => undefined);
      data.remove();
    });
    const node = await started;
    try {
      assert.match(node.output(), /with 2 workers/);
      assert.equal(node.output().match(/admin token written/g)?.length, 1, 'the first start happens once, not per worker');
      const token = readFileSync(join(data.path, 'admin.token'), 'utf8').trim();
      const headers = { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII };
      const collections = (await (await fetch(`${node.url}/taxii2/api/collections/`, { headers })).json()) as { collections: { id: string }[] };
      const collection = collections.collections[0]?.id ?? assert.fail('no collection');
      // Many small POSTs over fresh connections land on both workers.
      const posts = Array.from({ length: 40 }, async (_, n) => {
        const indicator = {
          type: 'indicator', spec_version: '2.1', id: `indicator--0c6f1a2b-3d4e-4f50-8a6b-${String(n).padStart(12, '0')}`,
          created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z', pattern: `[domain-name:value = 'w${n}.example.net']`,
          pattern_type: 'stix', valid_from: '2026-03-01T00:00:00Z',
        };
        const response = await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/`, { method: 'POST', headers: { ...headers, connection: 'close' }, body: JSON.stringify({ objects: [indicator] }) });
        assert.equal(response.status, 202);
      });
      await Promise.all(posts);
      const manifest = (await (await fetch(`${node.url}/taxii2/api/collections/${collection}/manifest/?match[type]=indicator&limit=1000`, { headers })).json()) as { objects: { date_added: string }[] };
      assert.equal(manifest.objects.length, 40);
      const added = manifest.objects.map((record) => record.date_added);
      assert.equal(new Set(added).size, 40, 'no two versions share a date_added across workers');
      assert.deepEqual([...added].sort(), added, 'date_added is strictly increasing in store order');
      // Both workers made the node's cursor key at once on this fresh database and use the stored
      // one: a `next` sealed by one worker opens on the other (fresh connections land on both).
      const paged: string[] = [];
      let next: string | undefined;
      for (let page = 0; page < 41; page += 1) {
        const response = await fetch(`${node.url}/taxii2/api/collections/${collection}/manifest/?match[type]=indicator&limit=1${next === undefined ? '' : `&next=${next}`}`, { headers: { ...headers, connection: 'close' } });
        assert.equal(response.status, 200, await response.clone().text());
        const body = (await response.json()) as { more: boolean; next?: string; objects?: { date_added: string }[] };
        paged.push(...(body.objects ?? []).map((record) => record.date_added));
        next = body.next;
        if (!body.more) break;
      }
      assert.deepEqual(paged, added, 'paged one at a time across workers, every version once');
    } finally {
      assert.equal(await stopNodeProcess(node.child), 0);
    }
  });

  it('on SIGTERM gives an upload still arriving --shutdown-grace, as a single process does, then answers it 503, and stops within the grace and a few seconds', async (t) => {
    // Longer than the 3 s after which a worker used to exit whatever it still received: its
    // trickling client then got no answer at all, only a closed connection.
    const graceMs = 4000;
    const { node, token, collection } = await startWorkersNode(t, 'workers-shutdown', ['--workers', '2', '--shutdown-grace', String(graceMs), '--request-timeout', '120000']);
    const socket = netConnect(Number(new URL(node.url).port), '127.0.0.1');
    const answer = readOneAnswer(socket);
    socket.write(postHead(collection, token, 100_000));
    // A byte every 50 ms: never idle, never done.
    const trickle = setInterval(() => socket.write(' '), 50);
    try {
      await delay(300);
      const stopping = performance.now();
      const exited = stopNodeProcess(node.child, 30_000);
      const { status, body } = await Promise.race([answer, delay(graceMs + 5000).then(() => assert.fail('the trickling upload was not cut'))]);
      const cutAfter = performance.now() - stopping;
      assert.equal(status, 503, `no answer after ${Math.round(cutAfter)} ms: the connection was only closed`);
      const error = JSON.parse(body) as { error_code: string; http_status: string; details: unknown };
      assert.deepEqual([error.error_code, error.http_status, error.details], ['ENT_NODE_SHUTTING_DOWN', '503', { limit_ms: graceMs }]);
      assert.ok(cutAfter >= graceMs - 100, `cut after ${Math.round(cutAfter)} ms, before the grace`);
      assert.equal(await exited, 0);
      const stoppedAfter = performance.now() - stopping;
      assert.ok(stoppedAfter < graceMs + 3000, `stopped ${Math.round(stoppedAfter)} ms after SIGTERM`);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });
});
