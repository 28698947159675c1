// A node on the internet must not let a slow client hold a connection for as long as it likes.
// Fastify sets no request timeout (its requestTimeout is 0, which also switches off Node's own of
// 5 minutes), so a client that sent its headers a line now and then, or a TAXII POST body a byte now
// and then (up to 64 MiB of it), kept its socket and what it had sent for ever: a few hundred such
// clients (slowloris) tie up a node's sockets and memory. The node now gives the headers
// `headersTimeoutMs` and the whole request `requestTimeoutMs` to arrive (node-config.ts), and
// answers a client past either 408 ENT_HTTP_REQUEST_TIMEOUT on a connection it then closes.
//
// Real sockets against a started node (compose.ts's startNode), with limits of a few hundred
// milliseconds set through the node's configuration, as an operator sets them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, Agent, type IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadNodeConfig, startNode, type RunningNode } from '../../src/compose.ts';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { configDefaults } from '../../src/node-config.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { temporaryDirectory } from '../cli/cli-kit.ts';

const HEADERS_MS = 300;
const REQUEST_MS = 800;
/**
 * How late past its limit a cut may come: the server looks at its connections every
 * min(1 s, headersTimeoutMs / 10), here every 30 ms; the rest is room for a loaded 2-core machine.
 */
const LATE_MS = 1500;

interface Exchange {
  /** Everything the server sent before the connection closed. */
  readonly text: string;
  /** From the connection's opening to its closing. */
  readonly ms: number;
}

/**
 * Opens a connection, writes each piece after its delay (while the connection is open) and resolves
 * once the server has closed it; fails the test if it is still open after `giveUpMs`.
 */
function exchange(open: () => Socket, pieces: readonly (readonly [number, string])[], giveUpMs: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let text = '';
    const socket = open();
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms; it had sent ${JSON.stringify(text)}`));
    }, giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined); // a reset after the answer is a close like any other
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ text, ms: performance.now() - started });
    });
    void (async () => {
      for (const [wait, piece] of pieces) {
        await delay(wait);
        if (socket.destroyed) return;
        socket.write(piece);
      }
    })();
  });
}

/** A line every `every` ms for `count` lines: headers that never end in time. */
const drip = (lines: number, every: number, line: (i: number) => string): [number, string][] => Array.from({ length: lines }, (_, i) => [every, line(i)]);

function assertTimedOut(answer: Exchange, limitMs: number): void {
  assert.match(answer.text, /^HTTP\/1\.1 408 Request Timeout\r\n/, `answered ${JSON.stringify(answer.text.slice(0, 80))}`);
  assert.match(answer.text, /\r\nconnection: close\r\n/i, 'the client is told the connection ends');
  const body = JSON.parse(answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4)) as { error_code: string; http_status: string; description: string; details: unknown };
  assert.equal(body.error_code, 'ENT_HTTP_REQUEST_TIMEOUT');
  assert.equal(body.http_status, '408');
  assert.deepEqual(body.details, { limit_ms: limitMs });
  assert.ok(answer.ms >= limitMs - 50, `cut after ${Math.round(answer.ms)} ms, before the ${limitMs} ms limit`);
  assert.ok(answer.ms < limitMs + LATE_MS, `cut only after ${Math.round(answer.ms)} ms`);
}

function get(url: string, path: string, agent: Agent, headers: Record<string, string> = {}): Promise<{ response: IncomingMessage; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, { agent, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ response, body, reused: request.reusedSocket }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function startSlowNode(dataDir: string, extra: Record<string, string> = {}): Promise<{ node: RunningNode; port: number; token: string }> {
  const config = loadNodeConfig({ dataDir, port: '0', orgName: 'Slow clients', logLevel: 'silent', headersTimeoutMs: String(HEADERS_MS), requestTimeoutMs: String(REQUEST_MS), ...extra }, {});
  const node = await startNode(config, { sweepRecalls: false, syncPeers: false });
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return { node, port: Number(new URL(node.url).port), token };
}

describe('slow clients of a started node (headersTimeoutMs, requestTimeoutMs)', () => {
  const data = temporaryDirectory('slow-clients');
  let node: RunningNode;
  let port: number;
  let token: string;
  let defaultCollection: string;
  before(async () => {
    ({ node, port, token } = await startSlowNode(data.path));
    const listed = await fetch(`${node.url}/taxii2/api/collections/`, { headers: { authorization: `Bearer ${token}`, accept: 'application/taxii+json;version=2.1' } });
    const { collections } = (await listed.json()) as { collections: { id: string; alias?: string }[] };
    defaultCollection = collections.find((collection) => collection.alias === 'default')?.id ?? assert.fail('no default collection');
  });
  after(async () => {
    await node?.close();
    data.remove();
  });
  const open = (): Socket => netConnect(port, '127.0.0.1');

  it('cuts a client that opens a connection and sends nothing, once the headers limit passes', async () => {
    assertTimedOut(await exchange(open, [], HEADERS_MS + LATE_MS + 1000), HEADERS_MS);
  });

  it('cuts a client that sends its headers a line at a time, though each line keeps the connection busy', async () => {
    const pieces = [[0, 'GET /healthz HTTP/1.1\r\nHost: node\r\n'] as [number, string], ...drip(40, 50, (i) => `X-Slow-${i}: y\r\n`)];
    assertTimedOut(await exchange(open, pieces, HEADERS_MS + LATE_MS + 1000), HEADERS_MS);
  });

  it('cuts a TAXII POST whose body trickles in, once the request limit passes, and closes the connection', async () => {
    const head =
      `POST /taxii2/api/collections/${defaultCollection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\n` +
      'Content-Type: application/taxii+json;version=2.1\r\nAccept: application/taxii+json;version=2.1\r\nContent-Length: 100000\r\n\r\n{"objects": [';
    // A byte every 50 ms: never idle, never done.
    const pieces = [[0, head] as [number, string], ...drip(60, 50, () => ' ')];
    assertTimedOut(await exchange(open, pieces, REQUEST_MS + LATE_MS + 1000), REQUEST_MS);
  });

  it('cuts a POST /api/drafts body that trickles in at the request limit too (before its own 5 minutes)', async () => {
    const head =
      `POST /api/drafts HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"text": "C2 `;
    assertTimedOut(await exchange(open, [[0, head], ...drip(60, 50, () => '4')], REQUEST_MS + LATE_MS + 1000), REQUEST_MS);
  });

  it('still answers bytes that are not HTTP 400 at once, and closes the connection', async () => {
    const answer = await exchange(open, [[0, 'HELLO THERE\r\n\r\n']], 2000);
    assert.match(answer.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(answer.ms < HEADERS_MS, 'not left to the headers limit');
  });

  it('answers a request that arrives in time, and another on the same connection after a pause longer than both limits', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(node.url, '/healthz', agent);
      assert.equal(first.response.statusCode, 200);
      // Idle between requests a connection is governed by the keep-alive timeout (72 s), not by the
      // request limits: they count from a request's first byte.
      await delay(REQUEST_MS + 300);
      const second = await get(node.url, '/taxii2/api/collections/', agent, { authorization: `Bearer ${token}`, accept: 'application/taxii+json;version=2.1' });
      assert.equal(second.response.statusCode, 200);
      assert.equal(second.reused, true, 'the same connection, still open');
    } finally {
      agent.destroy();
    }
  });

  /** A draft upload whose body arrives at once and whose drafting takes seconds (60,000 addresses, about 2.5 s here). */
  const slowDraftRequest = (): string => {
    const text = Array.from({ length: 60_000 }, (_, i) => `C2 45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}.`).join('\n');
    const body = JSON.stringify({ text });
    return `POST /api/drafts HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };

  it('answers a request that arrived whole in time however long it then takes to handle: the limit is on its arrival', async () => {
    const socket = open();
    try {
      const started = performance.now();
      socket.write(slowDraftRequest());
      const head = await new Promise<string>((resolve, reject) => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('\r\n\r\n')) resolve(text);
        });
        socket.on('close', () => reject(new Error(`closed after ${JSON.stringify(text.slice(0, 200))}`)));
      });
      const ms = performance.now() - started;
      assert.match(head, /^HTTP\/1\.1 201 /, `answered ${JSON.stringify(head.slice(0, 200))}`);
      // Else the test shows nothing: the handling must outlast the request limit and Node's next look.
      assert.ok(ms > REQUEST_MS + 300, `handled within ${Math.round(ms)} ms: too quick to show that the request limit spares it`);
    } finally {
      socket.destroy();
    }
  });

  it('never answers 408 in place of a request it is still handling, when the next one on the connection trickles in (pipelining)', async () => {
    // The upload arrives whole, then the next request's headers start and never end: that one missed
    // the headers limit, and the connection is closed; the upload must not be told that it did
    // ("nothing of the request was kept: send it again") while the node drafts it all the same.
    const answer = await exchange(open, [[0, slowDraftRequest()], [20, 'GET /healthz HTTP/1.1\r\nHost: node\r\n'], ...drip(40, 50, (i) => `X-Slow-${i}: y\r\n`)], REQUEST_MS + 10_000);
    assert.doesNotMatch(answer.text, /^HTTP\/1\.1 408/, 'the upload, whole and being drafted, was answered 408');
  });

  it('answers a request refused before its body came once only: its trickling body is then cut without a second answer', async () => {
    // No token: the guard refuses it at once, 401, while the body keeps coming a byte now and then.
    const head = `POST /taxii2/api/collections/${defaultCollection}/objects/ HTTP/1.1\r\nHost: node\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: 100000\r\n\r\n{"objects": [`;
    const answer = await exchange(open, [[0, head], ...drip(60, 50, () => ' ')], REQUEST_MS + LATE_MS + 1000);
    assert.match(answer.text, /^HTTP\/1\.1 401 /);
    assert.equal(answer.text.match(/HTTP\/1\.1 \d{3} /g)?.length, 1, `answered more than once: ${JSON.stringify(answer.text)}`);
  });

  /**
   * Ten indicators of 1 MB each in the default collection, once: a page of 10 MB, more than the
   * kernel's buffers take on their own (4 MB to send, 6 to receive, on Linux's loopback), so that the
   * rest waits in the node's memory. Stored directly: sent over HTTP, 10 MB on a loaded machine took
   * longer than these tests' request limit to arrive.
   */
  let bigPage: Promise<void> | undefined;
  const storeBigPage = (): Promise<void> =>
    (bigPage ??= node.store
      .addObjects(
        defaultCollection,
        Array.from({ length: 10 }, (_, i) => ({
          type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z',
          pattern: `[ipv4-addr:value = '45.77.13.${i}']`, pattern_type: 'stix', valid_from: '2026-11-01T00:00:00Z', description: 'x'.repeat(1_000_000),
        })),
      )
      .then(() => undefined));

  it('closes a connection whose client does not take the answer within the request limit, which held it and the answer for ever', async () => {
    await storeBigPage();
    // Watched from the node's side, not by the clock: under load the page may take seconds to build
    // before its answer starts (the limit counts from then), and a client that began to read at a
    // fixed time took the whole answer before the cut came.
    const accepted = new Promise<Socket>((resolve) => node.app.server.once('connection', resolve));
    const socket = open();
    let received = 0;
    let closed = false;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    const sent = performance.now();
    socket.write(`GET /taxii2/api/collections/${defaultCollection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nAccept: application/taxii+json;version=2.1\r\n\r\n`);
    socket.pause(); // reads nothing: the client that never takes its answer
    try {
      const served = await accepted;
      const cut = new Promise<void>((resolve) => served.once('close', () => resolve()));
      // The answer has started and the kernel's buffers are full: the rest waits in the node's memory.
      for (let waited = 0; !served.destroyed && served.writableLength === 0; waited += 20) {
        if (waited > 30_000) assert.fail('the answer never started, or the kernel took it all: the page is too small to show anything');
        await delay(20);
      }
      const held = served.writableLength;
      // However late the cut (a loaded machine), the client reads nothing until it has come.
      const inTime = await Promise.race([cut.then(() => true), delay(REQUEST_MS + 30_000, false, { ref: false })]);
      assert.ok(inTime, `the node still held the connection and ${held} bytes of the answer long after the request limit`);
      assert.ok(performance.now() - sent >= REQUEST_MS - 50, 'cut before the request limit');
      socket.resume();
      for (let waited = 0; !closed && waited < 10_000; waited += 50) await delay(50);
      assert.ok(closed, `the connection was still open for the client; ${received} bytes of the answer were taken once it read`);
      assert.ok(received < 10_000_000, `the whole answer came (${received} bytes): it was not cut`);
    } finally {
      socket.destroy();
    }
  });

  it('handles at most 8 requests of one connection at once: a client pipelining 40 in one write, never reading, does not have the node build 40 pages', async () => {
    await storeBigPage();
    // How many pages the node starts to build: each reads its entries' texts once.
    const store = node.store as { listEntryTexts: (...args: never[]) => unknown };
    const listEntryTexts = store.listEntryTexts;
    let built = 0;
    store.listEntryTexts = function (this: unknown, ...args: never[]) {
      built++;
      return listEntryTexts.apply(this, args);
    };
    const get = `GET /taxii2/api/collections/${defaultCollection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nAccept: application/taxii+json;version=2.1\r\n\r\n`;
    const socket = open();
    socket.on('error', () => undefined);
    try {
      socket.write(get.repeat(40));
      socket.pause(); // never reads
      await delay(REQUEST_MS / 2);
      // The others are held until earlier answers are delivered (test/node/http-limits.test.ts).
      assert.ok(built > 0 && built <= 8, `${built} pages built for one connection's pipelined requests`);
    } finally {
      store.listEntryTexts = listEntryTexts;
      socket.destroy();
    }
  });

  it('serves a client that pipelines a few requests, each answered in order', async () => {
    const health = 'GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n';
    const answer = await exchange(open, [[0, health.repeat(7) + health.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')]], 5000);
    assert.equal(answer.text.match(/HTTP\/1\.1 200 OK/g)?.length, 8, answer.text.slice(0, 300));
  });

  it('keeps the alert stream open past the request limit: the limit is on the request arriving, not on the answer', async () => {
    const agent = new Agent({ keepAlive: false });
    try {
      const opened = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = httpRequest(`${node.url}/api/alerts/stream`, { agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, resolve);
        request.on('error', reject);
        request.end();
      });
      assert.equal(opened.statusCode, 200);
      let closed = false;
      opened.on('close', () => (closed = true));
      opened.resume();
      await delay(REQUEST_MS + 400);
      assert.equal(closed, false, 'the stream was cut');
      opened.destroy();
    } finally {
      agent.destroy();
    }
  });
});

describe('slow clients of a node serving TLS', () => {
  const data = temporaryDirectory('slow-clients-tls');
  let node: RunningNode;
  let port = 0;
  // The limits reach Node's https server too, which Fastify builds from other options than http's.
  // A certificate kept for tests (test/fixtures/tls), so that the test needs no openssl.
  before(async () => {
    const fixtures = new URL('../fixtures/tls/', import.meta.url).pathname;
    ({ node, port } = await startSlowNode(join(data.path, 'node'), { tlsCert: join(fixtures, 'localhost.cert.pem'), tlsKey: join(fixtures, 'localhost.key.pem') }));
  });
  after(async () => {
    await node.close();
    data.remove();
  });

  it('cuts a client that opens a connection and never completes the TLS handshake, within the headers limit', async () => {
    // Node's HTTP limits start once the handshake is done; before it, TLS's own limit (2 minutes) held the socket.
    const silent = await exchange(() => netConnect(port, '127.0.0.1'), [], HEADERS_MS + LATE_MS + 1000);
    assert.ok(silent.ms < HEADERS_MS + LATE_MS, `closed only after ${Math.round(silent.ms)} ms`);
    // Half a ClientHello, then nothing: the handshake started and never ends.
    const started = await exchange(() => netConnect(port, '127.0.0.1'), [[0, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03']], HEADERS_MS + LATE_MS + 1000);
    assert.ok(started.ms < HEADERS_MS + LATE_MS, `closed only after ${Math.round(started.ms)} ms`);
  });

  it('cuts a client whose headers trickle in over TLS', async () => {
    const open = (): Socket => tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    const pieces = [[0, 'GET /healthz HTTP/1.1\r\nHost: node\r\n'] as [number, string], ...drip(40, 50, (i) => `X-Slow-${i}: y\r\n`)];
    assertTimedOut(await exchange(open, pieces, HEADERS_MS + LATE_MS + 1000), HEADERS_MS);
  });
});

// The limits above bound how long each connection is held, not how many there are: a client that
// opens thousands of connections, each within the limits (headers after 29 s, then 72 s of
// keep-alive; over TLS a handshake of 30 s), ran the node out of file descriptors, and with them its
// store, its log and its worker threads. The node holds at most `maxConnections` (per worker
// process); past it a new connection is closed at once, unanswered, and the others are served on.
describe('the number of connections a node holds', () => {
  it('holds 1000 by default (per worker process)', async () => {
    const data = temporaryDirectory('max-connections-default');
    try {
      const { node } = await startSlowNode(data.path);
      try {
        assert.equal(node.app.server.maxConnections, configDefaults.maxConnections);
        assert.equal(configDefaults.maxConnections, 1000);
      } finally {
        await node.close();
      }
    } finally {
      data.remove();
    }
  });

  it('holds what the maxConnections setting says (--max-connections, ENTENTE_MAX_CONNECTIONS)', async () => {
    const data = temporaryDirectory('max-connections-set');
    try {
      const { node } = await startSlowNode(data.path, { maxConnections: '50' });
      try {
        assert.equal(node.app.server.maxConnections, 50);
      } finally {
        await node.close();
      }
    } finally {
      data.remove();
    }
  });

  it('closes a connection past maxConnections at once, and takes one again when another has ended', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const app = await createHttpApp({
      store,
      logger: pino({ level: 'silent' }),
      limits: { maxBodyBytes: 1024 * 1024, maxJsonDepth: 64 },
      clock: () => new Date(),
      randomUuid: randomUUID,
      homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d',
      node: { title: 'Connections', apiRootPath: 'api' },
      maxConnections: 3,
    });
    const held: Socket[] = [];
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : assert.fail('no port');
      const connect = (): Promise<Socket> =>
        new Promise((resolve, reject) => {
          const socket = netConnect(port, '127.0.0.1', () => resolve(socket));
          socket.on('error', reject);
        });
      // Three silent connections, as a client holding them within the limits.
      for (let i = 0; i < 3; i++) held.push(await connect());
      const counted = async (): Promise<number> => new Promise((resolve, reject) => app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      for (let tries = 0; (await counted()) < 3 && tries < 100; tries++) await delay(10);
      assert.equal(await counted(), 3);
      const refused = await exchange(() => netConnect(port, '127.0.0.1'), [[0, 'GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n']], 3000);
      assert.equal(refused.text, '', 'the fourth connection was answered');
      held.shift()?.destroy();
      for (let tries = 0; (await counted()) > 2 && tries < 100; tries++) await delay(10);
      const served = await exchange(() => netConnect(port, '127.0.0.1'), [[0, 'GET /healthz HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n']], 3000);
      assert.match(served.text, /^HTTP\/1\.1 200 /, 'a connection once one had ended');
    } finally {
      for (const socket of held) socket.destroy();
      await app.close();
      await store.close();
    }
  });
});
