// `entente start --workers N`: N processes serve one port over one database. What one worker
// stores, every worker serves; date_added stays strictly increasing across them; a killed worker
// is replaced; SIGTERM stops them all; a `next` cursor one worker issued, another accepts; on
// SIGTERM a worker gives an upload still arriving the same grace as a single process, then 503;
// the uploads a token has under way are bounded node-wide, not per worker.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { temporaryDirectory } from '../cli/cli-kit.ts';
import { startNodeProcess, stopNodeProcess, type NodeProcess } from './node-process.ts';

const TAXII = 'application/taxii+json;version=2.1';

/** A port free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `entente start --port PORT ARGS…` (0: any free port) on a fresh data directory, removed once the node (and with it its workers) has exited. */
async function startWorkersNode(t: { after(fn: () => Promise<void>): void }, name: string, args: readonly string[], port = '0'): Promise<{ node: NodeProcess; token: string; collection: string }> {
  const data = temporaryDirectory(name);
  const started = startNodeProcess(['--port', port, ...args], { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'warn' });
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
  return `POST /taxii2/api/collections/${collection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${TAXII}\r\nAccept: ${TAXII}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
}

/** A TAXII POST of one indicator with a body over 64 KiB (an upload), its head and the first bytes of its body written; the rest is `finish()`. */
function startUpload(port: number, collection: string, token: string): { finish(): void; answer: Promise<{ status: number; body: string }>; socket: ReturnType<typeof netConnect> } {
  const body = JSON.stringify({
    objects: [{
      type: 'indicator', spec_version: '2.1', id: `indicator--${randomUUID()}`, created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z',
      pattern: "[domain-name:value = 'upload.example.net']", pattern_type: 'stix', valid_from: '2026-03-01T00:00:00Z', description: 'u'.repeat(70_000),
    }],
  });
  const socket = netConnect(port, '127.0.0.1');
  const answer = readOneAnswer(socket);
  socket.write(postHead(collection, token, Buffer.byteLength(body)) + body.slice(0, 10));
  return {
    socket,
    answer,
    // The answer closes the connection: the client asks so, to be told when it has it all.
    finish: () => socket.end(body.slice(10)),
  };
}

/** The process ids of the node's workers (the children of its primary). */
function workerPids(node: NodeProcess): number[] {
  return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(node.child.pid)], { encoding: 'utf8' })
    .split('\n').filter((line) => line.includes('entente')).map((line) => Number(line.trim().split(' ')[0]));
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

  it('on Ctrl-C (SIGINT to every worker and the primary, which then sends them SIGTERM: two signals for each worker) gives an upload still arriving the grace, then 503, and stops promptly', async (t) => {
    // Shorter than the 3 s a worker used to go on after a signal: only the second signal, which
    // ended the worker at once, cut the upload unanswered.
    const graceMs = 1500;
    const { node, token, collection } = await startWorkersNode(t, 'workers-ctrl-c', ['--workers', '2', '--shutdown-grace', String(graceMs), '--request-timeout', '120000']);
    const socket = netConnect(Number(new URL(node.url).port), '127.0.0.1');
    const answer = readOneAnswer(socket);
    socket.write(postHead(collection, token, 100_000));
    const trickle = setInterval(() => socket.write(' '), 50);
    try {
      await delay(300);
      const workers = workerPids(node);
      assert.equal(workers.length, 2, 'two worker processes');
      const exited = once(node.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const stopping = performance.now();
      // What a terminal does on Ctrl-C: the signal to every process of the foreground group. The
      // primary's a moment after the workers', so that its SIGTERM comes once they have taken the
      // first (the two at once can be read together, the second dropped rather than acted on).
      for (const pid of workers) process.kill(pid, 'SIGINT');
      await delay(200);
      process.kill(node.child.pid ?? assert.fail('no primary pid'), 'SIGINT');
      const { status, body } = await Promise.race([answer, delay(graceMs + 5000).then(() => assert.fail('the trickling upload was not cut'))]);
      const cutAfter = performance.now() - stopping;
      assert.equal(status, 503, `no answer after ${Math.round(cutAfter)} ms: the connection was only closed (a worker ended by the second signal)`);
      assert.equal((JSON.parse(body) as { error_code: string }).error_code, 'ENT_NODE_SHUTTING_DOWN');
      assert.ok(cutAfter >= graceMs - 100, `cut after ${Math.round(cutAfter)} ms, before the grace`);
      const [code] = await Promise.race([exited, delay(graceMs + 8000).then(() => assert.fail('the node did not stop on Ctrl-C'))]);
      assert.equal(code, 0);
      const stoppedAfter = performance.now() - stopping;
      assert.ok(stoppedAfter < graceMs + 3000, `stopped ${Math.round(stoppedAfter)} ms after Ctrl-C`);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('kills a worker still running 2 s past its own bound (grace + 3 s) after SIGTERM, so that a stuck worker never holds the stop', async (t) => {
    const { node } = await startWorkersNode(t, 'workers-stuck', ['--workers', '2', '--shutdown-grace', '0']);
    const workers = workerPids(node);
    assert.equal(workers.length, 2, 'two worker processes');
    const stuck = workers[0] ?? assert.fail('no worker');
    // Stopped, it neither acts on SIGTERM nor exits: a worker stuck in a handler, as seen from outside.
    process.kill(stuck, 'SIGSTOP');
    try {
      const exited = once(node.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const stopping = performance.now();
      node.child.kill('SIGTERM');
      const [code] = await Promise.race([exited, delay(15_000).then(() => assert.fail('the stop waited for the stuck worker'))]);
      const stoppedAfter = performance.now() - stopping;
      assert.equal(code, 0);
      assert.ok(stoppedAfter >= 4900 && stoppedAfter < 8000, `stopped ${Math.round(stoppedAfter)} ms after SIGTERM, not about 5 s (0 grace + 3 s + 2 s)`);
      assert.match(node.output(), new RegExp(`worker ${stuck} still running 5000 ms after SIGTERM; killed`));
      assert.throws(() => process.kill(stuck, 0), /ESRCH/, 'the stuck worker is gone');
    } finally {
      // Never leave a stopped process behind, whatever failed.
      try {
        process.kill(stuck, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });

  it('bounds the uploads one token has under way across both workers (--max-uploads-per-token), and gives every place back', async (t) => {
    const { node, token, collection } = await startWorkersNode(t, 'workers-uploads', ['--workers', '2', '--max-uploads-per-token', '2']);
    const port = Number(new URL(node.url).port);
    // Three connections land on both workers (the primary hands them out in turn): each worker
    // counting its own let all three through.
    const uploads = [startUpload(port, collection, token), startUpload(port, collection, token), startUpload(port, collection, token)];
    try {
      const first = await Promise.race([Promise.race(uploads.map((upload, n) => upload.answer.then((answer) => ({ n, answer })))), delay(3000).then(() => undefined)]);
      assert.equal(first?.answer.status, 429, 'none of three uploads of one token was refused with a bound of 2');
      const refused = JSON.parse(first.answer.body) as { error_code: string; details: unknown };
      assert.deepEqual([refused.error_code, refused.details], ['ENT_HTTP_TOO_MANY_UPLOADS', { limit: 2 }]);
      const taken = uploads.filter((_, n) => n !== first.n);
      for (const upload of taken) upload.finish();
      assert.deepEqual((await Promise.all(taken.map((upload) => upload.answer))).map((answer) => answer.status), [202, 202]);
      // Both places are free again, whichever worker held them: two more at once are both taken.
      const again = [startUpload(port, collection, token), startUpload(port, collection, token)];
      await delay(300);
      for (const upload of again) upload.finish();
      assert.deepEqual((await Promise.all(again.map((upload) => upload.answer))).map((answer) => answer.status), [202, 202]);
    } finally {
      for (const upload of uploads) upload.socket.destroy();
    }
  });

  it('gives back the places a worker held when it dies mid-upload, so that the token is not refused for good', async (t) => {
    // A port of its own: with port 0, workers started once all others are gone listen on a new one.
    const port = await freePort();
    const { node, token, collection } = await startWorkersNode(t, 'workers-upload-death', ['--workers', '2', '--max-uploads-per-token', '2'], String(port));
    const held = [startUpload(port, collection, token), startUpload(port, collection, token)];
    try {
      await delay(500);
      // Both workers (whichever holds the two places) die without a word: they give nothing back.
      const workers = workerPids(node);
      assert.equal(workers.length, 2, 'two worker processes');
      for (const pid of workers) process.kill(pid, 'SIGKILL');
      const answers = await Promise.all(held.map((upload) => upload.answer));
      assert.deepEqual(answers.map((answer) => answer.status), [0, 0], 'the held uploads were answered');
      const replaced = (): number => node.output().match(/starting another/g)?.length ?? 0;
      while (replaced() < 2) await delay(50);
      // Served again once a replacement listens.
      const healthy = (): Promise<boolean> => fetch(`${node.url}/healthz`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(1000) }).then((response) => response.ok, () => false);
      while (!(await healthy())) await delay(100);
      const again = [startUpload(port, collection, token), startUpload(port, collection, token)];
      await delay(300);
      for (const upload of again) upload.finish();
      assert.deepEqual((await Promise.all(again.map((upload) => upload.answer))).map((answer) => answer.status), [202, 202]);
    } finally {
      for (const upload of held) upload.socket.destroy();
    }
  });
});
