// Three bounds of the node's HTTP server, against a started node over real sockets:
// - a client that pipelines many requests is served every answer, in order, while the node builds
//   at most 8 of them at once (it was disconnected, and the answers it was owed were lost);
// - one token has at most `maxUploadsPerToken` uploads (bodies over 64 KiB) under way: past it 429
//   ENT_HTTP_TOO_MANY_UPLOADS with Retry-After, before its body is read (one token could send as
//   many 64 MiB bodies at once as it could open connections);
// - a stop waits `shutdownGraceMs` for bodies still arriving, then answers them 503
//   ENT_NODE_SHUTTING_DOWN (a trickling upload held the stop for the whole request limit, 5 minutes),
//   and what was acknowledged before is kept.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { loadNodeConfig, startNode, type RunningNode } from '../../src/compose.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { UploadPlaceAnswer } from '../../src/server/upload-places.ts';
import { temporaryDirectory } from '../cli/cli-kit.ts';
import { startNodeProcess, stopNodeProcess } from './node-process.ts';

const TAXII = 'application/taxii+json;version=2.1';

async function startLimitedNode(dataDir: string, extra: Record<string, string>): Promise<{ node: RunningNode; port: number; token: string; collection: string }> {
  const config = loadNodeConfig({ dataDir, port: '0', orgName: 'HTTP limits', logLevel: 'silent', ...extra }, {});
  const node = await startNode(config, { sweepRecalls: false, syncPeers: false });
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const listed = await fetch(`${node.url}/taxii2/api/collections/`, { headers: { authorization: `Bearer ${token}`, accept: TAXII } });
  const { collections } = (await listed.json()) as { collections: { id: string; alias?: string }[] };
  const collection = collections.find((entry) => entry.alias === 'default')?.id ?? assert.fail('no default collection');
  return { node, port: Number(new URL(node.url).port), token, collection };
}

function indicator(description = 'x'): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${randomUUID()}`, created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z',
    pattern: "[ipv4-addr:value = '45.77.13.1']", pattern_type: 'stix', valid_from: '2026-11-01T00:00:00Z', description,
  };
}

/** The head of a TAXII POST of `body` and the body, to be written as the test likes. */
function taxiiPost(collection: string, token: string, body: string): string {
  return `POST /taxii2/api/collections/${collection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${TAXII}\r\nAccept: ${TAXII}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
}

interface RawAnswer { readonly status: number; readonly headers: string; readonly body: Buffer }

/**
 * Reads HTTP/1.1 answers off a socket as they come, keeping only `keepBodyUpTo` bytes of each body
 * (pages of megabytes are counted, not kept). Answers carry Content-Length (the node's do).
 */
function readAnswers(socket: Socket, keepBodyUpTo = 4096): { readonly answers: (RawAnswer & { readonly length: number })[]; readonly closed: Promise<void> } {
  const answers: (RawAnswer & { length: number })[] = [];
  let pending = Buffer.alloc(0);
  let body: { status: number; headers: string; left: number; length: number; kept: Buffer[] } | undefined;
  socket.on('data', (chunk: Buffer) => {
    let data = chunk;
    while (data.length > 0) {
      if (body === undefined) {
        pending = Buffer.concat([pending, data]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers = pending.subarray(0, end).toString('latin1');
        data = pending.subarray(end + 4);
        pending = Buffer.alloc(0);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
        body = { status: Number(headers.slice(9, 12)), headers, left: length, length, kept: [] };
      }
      const take = Math.min(body.left, data.length);
      if (body.kept.reduce((sum, piece) => sum + piece.length, 0) < keepBodyUpTo) body.kept.push(data.subarray(0, take));
      body.left -= take;
      data = data.subarray(take);
      if (body.left === 0) {
        answers.push({ status: body.status, headers: body.headers, length: body.length, body: Buffer.concat(body.kept) });
        body = undefined;
      }
    }
  });
  socket.on('error', () => undefined);
  return { answers, closed: new Promise((resolve) => socket.once('close', () => resolve())) };
}

async function until(condition: () => boolean, giveUpMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > giveUpMs) assert.fail(`${what} not within ${giveUpMs} ms`);
    await delay(20);
  }
}

describe('a client pipelining many requests on one connection', () => {
  const data = temporaryDirectory('pipelining');
  let node: RunningNode;
  let port: number;
  let token: string;
  let collection: string;
  before(async () => {
    // A request limit long enough for a slow reader to take 40 pages.
    ({ node, port, token, collection } = await startLimitedNode(data.path, { requestTimeoutMs: '120000' }));
    // Ten indicators of 1 MB: the page of all ten is more than the kernel's buffers take on their
    // own, so that the rest of it waits for the client to read.
    await node.store.addObjects(collection, Array.from({ length: 10 }, () => indicator('x'.repeat(1_000_000))));
  });
  after(async () => {
    await node?.close();
    data.remove();
  });

  it('gets every answer of 40 pipelined GETs, in order, reading slowly, while the node builds at most 8 at once', async () => {
    const store = node.store as { listEntryTexts: (...args: never[]) => unknown };
    const listEntryTexts = store.listEntryTexts;
    let built = 0;
    store.listEntryTexts = function (this: unknown, ...args: never[]) {
      built++;
      return listEntryTexts.apply(this, args);
    };
    // Request i asks for a page of 10 - i % 10 objects: its answer's size says which request it answers.
    const limitOf = (i: number): number => 10 - (i % 10);
    const requests = Array.from({ length: 40 }, (_, i) => `GET /taxii2/api/collections/${collection}/objects/?limit=${limitOf(i)} HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nAccept: ${TAXII}\r\n\r\n`);
    const socket = netConnect(port, '127.0.0.1');
    const { answers } = readAnswers(socket, 0);
    try {
      socket.write(requests.join(''));
      socket.pause(); // reads nothing for a while
      await delay(1500);
      assert.ok(built > 0 && built <= 8, `${built} pages built for one connection's pipelined requests while its client read nothing`);
      // Then reads, a little at a time.
      let taken = 0;
      socket.on('data', (chunk: Buffer) => {
        taken += chunk.length;
        if (taken < 4_000_000) return;
        taken = 0;
        socket.pause();
        setTimeout(() => socket.resume(), 10);
      });
      socket.resume();
      await until(() => answers.length === 40 || socket.destroyed, 60_000, 'the 40 answers');
      assert.equal(answers.length, 40, `${answers.length} answers, then the connection was closed`);
      assert.deepEqual(answers.map((answer) => answer.status), requests.map(() => 200));
      // Pages of fewer objects are smaller: in order, the sizes fall within each ten requests and repeat.
      const sizes = answers.map((answer) => answer.length);
      const firstTen = sizes.slice(0, 10);
      assert.ok(firstTen.every((size, i) => i === 0 || size < (firstTen[i - 1] ?? 0)), `answers out of order: ${firstTen.join(' ')}`);
      assert.deepEqual(sizes, [...firstTen, ...firstTen, ...firstTen, ...firstTen], 'answers out of order');
      assert.equal(built, 40);
    } finally {
      store.listEntryTexts = listEntryTexts;
      socket.destroy();
    }
  });

  it('answers what it owes a connection pipelining past 8 handled and 64 held, in order, then closes it', async () => {
    const socket = netConnect(port, '127.0.0.1');
    const { answers, closed } = readAnswers(socket);
    socket.write('GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n'.repeat(200));
    await Promise.race([closed, delay(10_000).then(() => assert.fail('the connection was kept open'))]);
    // All 200 arrive in one read: 8 handled and 64 held are owed their answers, the rest are not handled.
    assert.equal(answers.length, 8 + 64);
    assert.ok(answers.every((answer) => answer.status === 200));
  });

  it('no longer parses what a connection sends once it pipelined past 64 held: Node would hold every request until the close', async () => {
    let parsed = 0;
    const count = (): void => void parsed++;
    node.app.server.on('request', count);
    const socket = netConnect(port, '127.0.0.1');
    const { answers, closed } = readAnswers(socket, 0);
    try {
      // Pages of 1 MB, not read for a while: the answers owed take time to go.
      const request = `GET /taxii2/api/collections/${collection}/objects/?limit=1 HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nAccept: ${TAXII}\r\n\r\n`;
      socket.write(request.repeat(200));
      socket.pause();
      await delay(500);
      // Sent on meanwhile: 10,000 more requests, more than a read of the connection holds. Each one
      // parsed would be kept by Node (its request, its answer never sent) until the connection closes.
      const flood = Buffer.from(request.repeat(1000));
      for (let i = 0; i < 10; i++) socket.write(flood);
      await delay(500);
      socket.resume();
      await Promise.race([closed, delay(20_000).then(() => assert.fail('the connection was kept open'))]);
      assert.equal(answers.length, 8 + 64);
      assert.ok(parsed < 1000, `${parsed} requests parsed for a connection past its 72 owed`);
    } finally {
      node.app.server.off('request', count);
      socket.destroy();
    }
  });
});

// A connection held (not read) because its client has not taken earlier answers may have the
// next request's headers half read: Node counted the headers limit for them from their first byte,
// while the node itself kept the rest from being read, and cut the connection, losing the answers
// owed. Their limit now counts from when the connection is read again; a client that then still
// trickles them is cut as before.
describe('a request held behind answers not yet taken (headersTimeoutMs while the connection is not read)', () => {
  const data = temporaryDirectory('held-timeouts');
  let node: RunningNode;
  let port: number;
  let token: string;
  let collection: string;
  const HEADERS_MS = 300;
  before(async () => {
    // A short headers limit; a long request limit, which also bounds how long an answer may go untaken.
    ({ node, port, token, collection } = await startLimitedNode(data.path, { headersTimeoutMs: String(HEADERS_MS), requestTimeoutMs: '60000' }));
    // Pages of 10 MB: eight of them are more than the kernel's buffers take, so the ninth request is held.
    await node.store.addObjects(collection, Array.from({ length: 10 }, () => indicator('x'.repeat(1_000_000))));
  });
  after(async () => {
    await node?.close();
    data.remove();
  });
  const page = (): string => `GET /taxii2/api/collections/${collection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nAccept: ${TAXII}\r\n`;

  /** Nine GETs of the big page and the start of a tenth's headers, then reads nothing for ten times the headers limit. */
  const holdBack = async (): Promise<{ socket: Socket; answers: RawAnswer[]; closed: Promise<void> }> => {
    const socket = netConnect(port, '127.0.0.1');
    const read = readAnswers(socket, 0);
    socket.write(`${page()}\r\n`.repeat(9) + page());
    // Not reading, the client does not see a close either: a cut shows as answers missing once it reads.
    socket.pause();
    await delay(10 * HEADERS_MS);
    return { socket, ...read };
  };

  it('does not cut a connection for headers it is not reading: every answer owed is delivered, and the held request answered once whole', async () => {
    const { socket, answers } = await holdBack();
    try {
      // The rest of its headers, at once: the client had sent them; the node did not read them.
      socket.resume();
      socket.write('Connection: close\r\n\r\n');
      await until(() => answers.length === 10 || socket.destroyed, 30_000, 'the tenth answer');
      assert.deepEqual(answers.map((answer) => answer.status), Array.from({ length: 10 }, () => 200));
    } finally {
      socket.destroy();
    }
  });

  it('keeps the connection of headers that came whole before it was read again: the next request on it is answered too', async () => {
    const { socket, answers } = await holdBack();
    try {
      // Sent while the node was not reading: the first read after the pause takes them whole.
      socket.write('\r\n');
      await delay(2 * HEADERS_MS);
      socket.resume();
      await until(() => answers.length === 10 || socket.destroyed, 30_000, 'the tenth answer');
      // Past the headers limit counted from when the connection was read again: nothing cut it.
      await delay(3 * HEADERS_MS);
      socket.write(`${page()}Connection: close\r\n\r\n`);
      await until(() => answers.length === 11 || socket.destroyed, 30_000, 'the eleventh answer');
      assert.deepEqual(answers.map((answer) => answer.status), Array.from({ length: 11 }, () => 200));
    } finally {
      socket.destroy();
    }
  });

  it('still cuts those headers if they do not come within the headers limit once the connection is read again', async () => {
    const { socket, answers, closed } = await holdBack();
    try {
      // The client reads, and sends the rest of those headers a line at a time, never done.
      socket.resume();
      const drip = setInterval(() => socket.write('X-Slow: y\r\n'), 50);
      try {
        await Promise.race([closed, delay(30_000).then(() => assert.fail('the trickling headers held the connection'))]);
      } finally {
        clearInterval(drip);
      }
      assert.deepEqual(answers.map((answer) => answer.status), [...Array.from({ length: 9 }, () => 200), 408]);
    } finally {
      socket.destroy();
    }
  });
});

describe('a request held behind answers not yet taken whose body then trickles (requestTimeoutMs after a deferred headers limit)', () => {
  const data = temporaryDirectory('held-body-timeouts');
  let node: RunningNode;
  let port: number;
  let token: string;
  let collection: string;
  const HEADERS_MS = 300;
  const REQUEST_MS = 5000;
  before(async () => {
    // The request limit also bounds the answers left untaken: long enough for them to go once read.
    ({ node, port, token, collection } = await startLimitedNode(data.path, { headersTimeoutMs: String(HEADERS_MS), requestTimeoutMs: String(REQUEST_MS) }));
    await node.store.addObjects(collection, Array.from({ length: 10 }, () => indicator('x'.repeat(1_000_000))));
  });
  after(async () => {
    await node?.close();
    data.remove();
  });

  it('cuts, within the request limit from when the connection is read again, a body that trickles after headers whose limit was deferred', async () => {
    const page = `GET /taxii2/api/collections/${collection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nAccept: ${TAXII}\r\n`;
    const socket = netConnect(port, '127.0.0.1');
    const { answers, closed } = readAnswers(socket, 0);
    let drip: NodeJS.Timeout | undefined;
    try {
      socket.write(`${page}\r\n`.repeat(9) + taxiiPost(collection, token, 'x'.repeat(1000)).replace(/Content-Length[^\r]*\r\n\r\n$/, ''));
      socket.pause();
      await delay(5 * HEADERS_MS);
      // The client reads; the rest of the headers come at once (Node had given up watching that
      // request when it passed its headers limit unread), then the body a byte at a time, never whole.
      socket.resume();
      socket.write('Content-Length: 1000\r\n\r\n');
      drip = setInterval(() => socket.write('x'), 200);
      const read = performance.now();
      await Promise.race([closed, delay(6 * REQUEST_MS).then(() => assert.fail('the trickling body held the connection past the request limit'))]);
      assert.ok(performance.now() - read < 3 * REQUEST_MS, 'cut long after the request limit');
      assert.deepEqual(answers.map((answer) => answer.status), [...Array.from({ length: 9 }, () => 200), 408]);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });
});

describe('uploads under way for one token (maxUploadsPerToken)', () => {
  const data = temporaryDirectory('uploads-per-token');
  let node: RunningNode;
  let port: number;
  let token: string;
  let collection: string;
  before(async () => {
    ({ node, port, token, collection } = await startLimitedNode(data.path, { maxUploadsPerToken: '2' }));
  });
  after(async () => {
    await node?.close();
    data.remove();
  });

  it('refuses one more upload than the limit at once 429 ENT_HTTP_TOO_MANY_UPLOADS with Retry-After, without reading its body, and takes another once one is answered', async () => {
    // More than 64 KiB: smaller bodies are not counted as uploads.
    const body = JSON.stringify({ objects: [indicator('z'.repeat(70_000))] });
    const start = (): { socket: Socket; answers: RawAnswer[]; closed: Promise<void> } => {
      const socket = netConnect(port, '127.0.0.1');
      const read = readAnswers(socket);
      // Headers and a first piece of the body: an upload under way.
      socket.write(taxiiPost(collection, token, body) + body.slice(0, 10));
      return { socket, ...read };
    };
    const first = start();
    const second = start();
    await delay(300);
    const third = start();
    try {
      await until(() => third.answers.length === 1, 3000, 'an answer to the third upload');
      const [refused] = third.answers;
      assert.equal(refused?.status, 429);
      assert.match(refused.headers, /\r\nretry-after: 5\r\n/i);
      assert.match(refused.headers, /\r\nconnection: close\r\n/i);
      const error = JSON.parse(refused.body.toString('utf8')) as { error_code: string; http_status: string; details: unknown };
      assert.deepEqual([error.error_code, error.http_status, error.details], ['ENT_HTTP_TOO_MANY_UPLOADS', '429', { limit: 2 }]);
      // Its body is not read: the connection ends.
      await Promise.race([third.closed, delay(3000).then(() => assert.fail('the refused upload\'s connection was kept open to read its body'))]);
      assert.equal(first.answers.length + second.answers.length, 0, 'the uploads under way were answered');
      // The first one arrives whole and is stored; its place is free again.
      first.socket.write(body.slice(10));
      await until(() => first.answers.length === 1, 5000, 'an answer to the first upload');
      assert.equal(first.answers[0]?.status, 202);
      const fourth = start();
      try {
        fourth.socket.write(body.slice(10));
        await until(() => fourth.answers.length === 1, 5000, 'an answer to the fourth upload');
        assert.equal(fourth.answers[0]?.status, 202);
      } finally {
        fourth.socket.destroy();
      }
    } finally {
      for (const upload of [first, second, third]) upload.socket.destroy();
    }
  });

  it('does not count bodies of 64 KiB or less: four small POSTs of one token at once are all taken', async () => {
    const uploads = Array.from({ length: 4 }, () => {
      const body = JSON.stringify({ objects: [indicator()] });
      const socket = netConnect(port, '127.0.0.1');
      socket.write(taxiiPost(collection, token, body) + body.slice(0, 10));
      return { socket, body, ...readAnswers(socket) };
    });
    try {
      await delay(300);
      assert.deepEqual(uploads.map((upload) => upload.answers.length), [0, 0, 0, 0], 'a small POST was answered before its body came');
      for (const upload of uploads) upload.socket.write(upload.body.slice(10));
      await until(() => uploads.every((upload) => upload.answers.length === 1), 5000, 'an answer to every POST');
      assert.deepEqual(uploads.map((upload) => upload.answers[0]?.status), [202, 202, 202, 202]);
    } finally {
      for (const upload of uploads) upload.socket.destroy();
    }
  });

  it('takes exactly the limit (2) of 8 uploads of 200 objects sent at once on 8 connections, the others refused 429 and not stored', async () => {
    const uploads = Array.from({ length: 8 }, () => {
      const objects = Array.from({ length: 200 }, () => indicator('y'.repeat(2000)));
      const body = JSON.stringify({ objects });
      const socket = netConnect(port, '127.0.0.1');
      const read = readAnswers(socket);
      // Half the body now, the rest once every upload has started: all 8 are under way at once.
      socket.write(taxiiPost(collection, token, body) + body.slice(0, body.length / 2));
      return { socket, body, id: String(objects[0]?.['id']), ...read };
    });
    try {
      await delay(500);
      for (const upload of uploads) if (!upload.socket.destroyed) upload.socket.write(upload.body.slice(upload.body.length / 2));
      await until(() => uploads.every((upload) => upload.answers.length === 1), 20_000, 'an answer to every upload');
      const statuses = uploads.map((upload) => upload.answers[0]?.status);
      assert.deepEqual([...statuses].sort(), [202, 202, 429, 429, 429, 429, 429, 429], statuses.join(' '));
      for (const upload of uploads) {
        const stored = await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/${upload.id}/`, { headers: { authorization: `Bearer ${token}`, accept: TAXII } });
        await stored.arrayBuffer();
        assert.equal(stored.status, upload.answers[0]?.status === 202 ? 200 : 404);
      }
    } finally {
      for (const upload of uploads) upload.socket.destroy();
    }
  });

  it('keeps the connection of an upload refused 429 whose body had all come, so that the requests pipelined behind it are answered', async () => {
    // Two uploads under way: the limit.
    const big = JSON.stringify({ objects: [indicator('u'.repeat(70_000))] });
    const holders = [0, 1].map(() => {
      const socket = netConnect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(taxiiPost(collection, token, big) + big.slice(0, 10));
      return socket;
    });
    const socket = netConnect(port, '127.0.0.1');
    const { answers } = readAnswers(socket);
    try {
      await delay(300);
      // A chunked body (of undeclared length: an upload) sent whole, then a small POST behind it.
      const refused = JSON.stringify({ objects: [indicator()] });
      const behind = indicator();
      const small = JSON.stringify({ objects: [behind] });
      const chunkedHead = taxiiPost(collection, token, refused).replace(/Content-Length: \d+/, 'Transfer-Encoding: chunked');
      socket.write(`${chunkedHead}${Buffer.byteLength(refused).toString(16)}\r\n${refused}\r\n0\r\n\r\n${taxiiPost(collection, token, small)}${small}`);
      await until(() => answers.length === 2 || socket.destroyed, 5000, 'two answers');
      await delay(200);
      assert.deepEqual(answers.map((answer) => answer.status), [429, 202], 'the answer to the POST behind the refused upload was lost');
      assert.doesNotMatch(answers[0]?.headers ?? '', /\r\nconnection: close\r\n/i);
    } finally {
      socket.destroy();
      for (const holder of holders) holder.destroy();
    }
  });

  // Last: were the places lost, the token could upload no more.
  it('gives an upload its place back when its connection closes before its answer could be sent (pipelined behind an answer not yet taken)', async () => {
    // Node sends a connection's answers in order and never tells an answer queued behind another
    // that its connection closed: neither 'finish' nor 'close'. Behind the alert stream, which never
    // ends, two uploads arrive whole, are stored and answered, but their answers wait.
    const socket = netConnect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const bodies = [0, 1].map(() => JSON.stringify({ objects: [indicator('w'.repeat(70_000))] }));
    socket.write(`GET /api/alerts/stream HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\n\r\n` + bodies.map((body) => taxiiPost(collection, token, body) + body).join(''));
    await delay(1000);
    socket.destroy();
    await delay(300);
    // Two uploads at once: the limit.
    const [first, second] = await Promise.all([0, 1].map(() => fetch(`${node.url}/taxii2/api/collections/${collection}/objects/`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII }, body: JSON.stringify({ objects: [indicator('v'.repeat(70_000))] }) })));
    await Promise.all([first?.arrayBuffer(), second?.arrayBuffer()]);
    assert.deepEqual([first?.status, second?.status], [202, 202], 'the closed connection\'s uploads kept their places');
  });
});

describe('an upload whose place the count does not grant in time (a worker whose primary does not answer)', () => {
  const data = temporaryDirectory('uploads-uncounted');
  after(() => data.remove());

  it('is refused 503 ENT_HTTP_UPLOAD_UNCOUNTED with Retry-After before its body is read, not let through uncounted', async () => {
    const config = loadNodeConfig({ dataDir: data.path, port: '0', orgName: 'HTTP limits', logLevel: 'silent', maxUploadsPerToken: '2' }, {});
    // What a worker's places answer once UPLOAD_PLACE_WAIT_MS passed without the primary's word.
    const node = await startNode(config, { sweepRecalls: false, syncPeers: false, uploadPlaces: { take: () => ({ taken: false, reason: 'unanswered' }), give: () => undefined } });
    const token = readFileSync(join(data.path, 'admin.token'), 'utf8').trim();
    const socket = netConnect(Number(new URL(node.url).port), '127.0.0.1');
    try {
      const { answers, closed } = readAnswers(socket);
      const body = JSON.stringify({ objects: [indicator('z'.repeat(70_000))] });
      socket.write(taxiiPost('any', token, body) + body.slice(0, 10));
      await until(() => answers.length === 1, 3000, 'an answer to the upload');
      assert.equal(answers[0]?.status, 503);
      assert.match(answers[0].headers, /\r\nretry-after: 5\r\n/i);
      const error = JSON.parse(answers[0].body.toString('utf8')) as { error_code: string; details: unknown };
      assert.deepEqual([error.error_code, error.details], ['ENT_HTTP_UPLOAD_UNCOUNTED', { limit: 2 }]);
      await Promise.race([closed, delay(3000).then(() => assert.fail('the refused upload\'s connection was kept open to read its body'))]);
    } finally {
      socket.destroy();
      await node.close();
    }
  });
});

describe('an upload whose connection closes while its place is asked for (a worker waiting on the primary)', () => {
  const data = temporaryDirectory('uploads-granted-late');
  after(() => data.remove());

  it('gives the place back once it is granted, once: the close has come and gone, and no event is left to give it back', async () => {
    const config = loadNodeConfig({ dataDir: data.path, port: '0', orgName: 'HTTP limits', logLevel: 'silent', maxUploadsPerToken: '2' }, {});
    // The count's answer held until the test gives it, as the primary's over IPC is.
    let grant: ((answer: UploadPlaceAnswer) => void) | undefined;
    const given: string[] = [];
    const node = await startNode(config, {
      sweepRecalls: false,
      syncPeers: false,
      uploadPlaces: { take: () => new Promise<UploadPlaceAnswer>((resolve) => (grant = resolve)), give: (tokenKey) => void given.push(tokenKey) },
    });
    const token = readFileSync(join(data.path, 'admin.token'), 'utf8').trim();
    const socket = netConnect(Number(new URL(node.url).port), '127.0.0.1');
    try {
      socket.on('error', () => undefined);
      const body = JSON.stringify({ objects: [indicator('z'.repeat(70_000))] });
      socket.write(taxiiPost('any', token, body) + body.slice(0, 10));
      await until(() => grant !== undefined, 3000, 'the place asked for');
      socket.destroy();
      // The node has seen the connection close before the answer comes.
      await delay(200);
      grant?.({ taken: true });
      await until(() => given.length === 1, 3000, 'the place given back');
      await delay(100);
      assert.equal(given.length, 1, 'given back more than once');
    } finally {
      socket.destroy();
      await node.close();
    }
  });
});

// `Expect: 100-continue`: a client asks whether to send its body. Node said yes ("100 Continue")
// itself as the headers came, before the guard had looked at them, so an upload about to be refused
// was sent all the same. The node now answers it only once the guard let the request through; a
// refusal comes alone, and the body is not read.
describe('a client that sends Expect: 100-continue', () => {
  const data = temporaryDirectory('expect-continue');
  let node: RunningNode;
  let port: number;
  let token: string;
  let collection: string;
  before(async () => {
    ({ node, port, token, collection } = await startLimitedNode(data.path, { maxUploadsPerToken: '1', maxBodyBytes: String(1024 * 1024) }));
  });
  after(async () => {
    await node?.close();
    data.remove();
  });

  /** Sends `head` (with Expect: 100-continue) and no body; resolves with what came before the connection closed, or after `waitMs`. */
  const ask = (head: string, waitMs = 3000): Promise<{ text: string; closed: boolean }> =>
    new Promise((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', () => undefined);
      const giveUp = setTimeout(() => {
        socket.destroy();
        resolve({ text, closed: false });
      }, waitMs);
      socket.once('close', () => {
        clearTimeout(giveUp);
        resolve({ text, closed: true });
      });
      socket.write(head.replace('\r\n\r\n', '\r\nExpect: 100-continue\r\n\r\n'));
    });
  const assertRefusedAlone = (answer: { text: string; closed: boolean }, status: number): void => {
    assert.match(answer.text, new RegExp(`^HTTP/1\\.1 ${status} `), `answered ${JSON.stringify(answer.text.slice(0, 120))}`);
    assert.doesNotMatch(answer.text, /100 Continue/, 'the client was told to send the body of a request refused');
    assert.ok(answer.closed, 'the connection was kept, waiting for a body the client was never asked for');
  };
  const body = JSON.stringify({ objects: [indicator('e'.repeat(70_000))] });

  it('refuses without 100 Continue a request without a token (401), to no route (404), or declaring a body over the limit (413)', async () => {
    assertRefusedAlone(await ask(taxiiPost(collection, token, body).replace(/Authorization: [^\r]*\r\n/, '')), 401);
    assertRefusedAlone(await ask(taxiiPost(collection, token, body).replace('/objects/', '/nowhere/')), 404);
    assertRefusedAlone(await ask(taxiiPost(collection, token, body).replace(/Content-Length: \d+/, `Content-Length: ${2 * 1024 * 1024}`)), 413);
  });

  it('refuses without 100 Continue an upload past the limit of its token (429), and answers one it takes 100 Continue, then handles it', async () => {
    const first = netConnect(port, '127.0.0.1');
    const read = readAnswers(first);
    let interim = '';
    first.on('data', (chunk: Buffer) => (interim += chunk.toString('latin1')));
    try {
      first.write(taxiiPost(collection, token, body).replace('\r\n\r\n', '\r\nExpect: 100-continue\r\n\r\n'));
      await until(() => interim.includes('\r\n\r\n'), 3000, 'an answer to the accepted upload\'s headers');
      assert.match(interim, /^HTTP\/1\.1 100 Continue\r\n\r\n$/, 'an upload taken is told to send its body, and nothing more');
      // It is under way, the token's one: a second is refused at once, without being asked for its body.
      assertRefusedAlone(await ask(taxiiPost(collection, token, body)), 429);
      first.write(body);
      await until(() => read.answers.length === 2, 5000, 'an answer to the accepted upload');
      assert.deepEqual(read.answers.map((answer) => answer.status), [100, 202]);
    } finally {
      first.destroy();
    }
  });
});

describe('a node stopping while an upload trickles in (shutdownGraceMs)', () => {
  const data = temporaryDirectory('shutdown-grace');
  after(() => data.remove());

  it('answers the upload still arriving after the grace 503 ENT_NODE_SHUTTING_DOWN, stops long before the request limit, and keeps what it acknowledged', async () => {
    const settings = { requestTimeoutMs: '120000', shutdownGraceMs: '300' };
    const { node, port, token, collection } = await startLimitedNode(data.path, settings);
    const kept = indicator();
    const cut = indicator();
    let closing: Promise<void> | undefined;
    const socket = netConnect(port, '127.0.0.1');
    try {
      const acknowledged = await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII }, body: JSON.stringify({ objects: [kept] }) });
      assert.equal(acknowledged.status, 202);
      const body = JSON.stringify({ objects: [cut] });
      const { answers, closed } = readAnswers(socket);
      socket.write(taxiiPost(collection, token, body));
      // A byte every 50 ms: never idle, never done.
      const trickle = setInterval(() => socket.write(' '), 50);
      try {
        await delay(200);
        const started = performance.now();
        closing = node.close(); // what `entente start` does on SIGTERM
        await Promise.race([closed, delay(5000).then(() => assert.fail('the trickling upload was not cut'))]);
        const ms = performance.now() - started;
        assert.ok(ms >= 250, `cut after ${Math.round(ms)} ms, before the grace`);
        assert.equal(answers.length, 1, 'no answer to the cut upload');
        assert.equal(answers[0]?.status, 503);
        const error = JSON.parse(answers[0].body.toString('utf8')) as { error_code: string; details: unknown };
        assert.deepEqual([error.error_code, error.details], ['ENT_NODE_SHUTTING_DOWN', { limit_ms: 300 }]);
        await Promise.race([closing, delay(5000).then(() => assert.fail('the node did not stop'))]);
      } finally {
        clearInterval(trickle);
      }
    } finally {
      socket.destroy();
      await (closing ?? node.close());
    }
    const again = await startLimitedNode(data.path, settings);
    try {
      const objectAt = async (id: string): Promise<number> => (await fetch(`${again.node.url}/taxii2/api/collections/${again.collection}/objects/${id}/`, { headers: { authorization: `Bearer ${again.token}`, accept: TAXII } })).status;
      assert.equal(await objectAt(String(kept['id'])), 200, 'the acknowledged object was lost');
      assert.equal(await objectAt(String(cut['id'])), 404, 'the cut upload was stored');
    } finally {
      await again.node.close();
    }
  });

  it('does not answer 503 an upload whose body came whole after the grace while an earlier answer of its connection was still owed: it is handled, answered and kept', async () => {
    const dir = temporaryDirectory('shutdown-grace-pipelined');
    const settings = { requestTimeoutMs: '120000', shutdownGraceMs: '300' };
    const { node, port, token, collection } = await startLimitedNode(dir.path, settings);
    const posted = indicator();
    const socket = netConnect(port, '127.0.0.1');
    const store = node.store as { addObjects: (...args: never[]) => Promise<unknown> };
    const addObjects = store.addObjects;
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let closing: Promise<void> | undefined;
    try {
      // A page of 10 MB, more than the kernel's buffers take: its answer waits for the client to read.
      await node.store.addObjects(collection, Array.from({ length: 10 }, () => indicator('x'.repeat(1_000_000))));
      const { answers } = readAnswers(socket, 4096);
      const body = JSON.stringify({ objects: [posted] });
      socket.write(`GET /taxii2/api/collections/${collection}/objects/ HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer ${token}\r\nAccept: ${TAXII}\r\n\r\n` + taxiiPost(collection, token, body) + body.slice(0, 10));
      socket.pause();
      await delay(300);
      closing = node.close();
      await delay(600); // past the grace: the upload's body is still arriving
      // Its store write waits: the upload is being handled when the page's answer is taken.
      store.addObjects = async function (this: unknown, ...args: never[]) {
        await released;
        return addObjects.apply(this, args);
      };
      socket.write(body.slice(10));
      await delay(300);
      socket.resume();
      await until(() => answers.length >= 1, 10_000, 'the page');
      await delay(300);
      release();
      await until(() => answers.length === 2 || socket.destroyed, 10_000, 'an answer to the upload');
      socket.destroy();
      await closing;
      const again = await startLimitedNode(dir.path, settings);
      try {
        const stored = await fetch(`${again.node.url}/taxii2/api/collections/${again.collection}/objects/${String(posted['id'])}/`, { headers: { authorization: `Bearer ${again.token}`, accept: TAXII } });
        await stored.arrayBuffer();
        assert.deepEqual([answers[1]?.status, stored.status], [202, 200], 'the upload was answered as if cut, though it was received whole and kept');
      } finally {
        await again.node.close();
      }
    } finally {
      release();
      store.addObjects = addObjects;
      socket.destroy();
      await (closing ?? node.close());
      dir.remove();
    }
  });

  it('closes a kept-alive connection once it answers the request it was receiving when the stop began, instead of waiting for the client to close it', async () => {
    const dir = temporaryDirectory('shutdown-keep-alive');
    const { node, port, token, collection } = await startLimitedNode(dir.path, { shutdownGraceMs: '5000' });
    const socket = netConnect(port, '127.0.0.1');
    let closing: Promise<void> | undefined;
    try {
      const { answers, closed } = readAnswers(socket);
      const body = JSON.stringify({ objects: [indicator()] });
      socket.write(taxiiPost(collection, token, body) + body.slice(0, 10));
      await delay(200);
      closing = node.close();
      await delay(200);
      // Its body comes whole within the grace: handled and answered.
      socket.write(body.slice(10));
      await until(() => answers.length === 1, 5000, 'an answer to the upload');
      assert.equal(answers[0]?.status, 202);
      assert.match(answers[0].headers, /\r\nconnection: close\r\n/i);
      // The client keeps its side open: the stop must not wait for keepAliveTimeout (72 s).
      await Promise.race([closed, delay(3000).then(() => assert.fail('the connection was kept alive while the node stopped'))]);
      await Promise.race([closing, delay(3000).then(() => assert.fail('the node did not stop'))]);
    } finally {
      socket.destroy();
      await (closing ?? node.close());
      dir.remove();
    }
  });

  it('`entente start` on SIGTERM answers a trickling upload 503 after --shutdown-grace and exits, not after the request limit', async (t) => {
    const dir = temporaryDirectory('shutdown-sigterm');
    const started = startNodeProcess(['--port', '0', '--shutdown-grace', '300', '--request-timeout', '120000'], { ENTENTE_DATA: dir.path, ENTENTE_LOG_LEVEL: 'warn' });
    t.after(async () => {
      await started.then((running) => stopNodeProcess(running.child), () => undefined);
      dir.remove();
    });
    const running = await started;
    const token = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();
    const listed = await fetch(`${running.url}/taxii2/api/collections/`, { headers: { authorization: `Bearer ${token}`, accept: TAXII } });
    const { collections } = (await listed.json()) as { collections: { id: string; alias?: string }[] };
    const collection = collections.find((entry) => entry.alias === 'default')?.id ?? assert.fail('no default collection');
    const socket = netConnect(Number(new URL(running.url).port), '127.0.0.1');
    const { answers, closed } = readAnswers(socket);
    const body = JSON.stringify({ objects: [indicator()] });
    socket.write(taxiiPost(collection, token, body));
    const trickle = setInterval(() => socket.write(' '), 50);
    try {
      await delay(200);
      const stopping = performance.now();
      const exited = stopNodeProcess(running.child, 20_000);
      await Promise.race([closed, delay(5000).then(() => assert.fail('the trickling upload was not cut'))]);
      assert.equal(answers[0]?.status, 503);
      assert.equal((JSON.parse(answers[0].body.toString('utf8')) as { error_code: string }).error_code, 'ENT_NODE_SHUTTING_DOWN');
      assert.equal(await exited, 0);
      assert.ok(performance.now() - stopping < 5000, 'the node waited for the upload to trickle in');
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });
});
