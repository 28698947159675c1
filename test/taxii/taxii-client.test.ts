/**
 * The TAXII client a node uses to talk to its peers, run against this project's own server (a real
 * listening node) and, for the behaviours a well-behaved server never shows, against tiny node:http
 * stubs that misbehave on purpose.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EntenteError } from '../../src/errors/entente-error.ts';
import type { ErrorCode } from '../../src/errors/catalogue.ts';
import { openTaxiiClient, type CursoredPage, type TaxiiClient, type TaxiiCursor } from '../../src/taxii/taxii-client.ts';
import { ADD_TEST, HIGH_VALUE, indicator, secrets, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<EntenteError> {
  try {
    await promise;
  } catch (error: unknown) {
    assert.ok(error instanceof EntenteError, `an EntenteError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

async function collect(pages: AsyncIterable<CursoredPage>): Promise<{ ids: string[]; sizes: number[]; cursors: TaxiiCursor[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  const cursors: TaxiiCursor[] = [];
  for await (const page of pages) {
    ids.push(...page.objects.map((object) => (object as { id: string }).id));
    sizes.push(page.objects.length);
    cursors.push(page.cursor);
  }
  return { ids, sizes, cursors };
}

const ids = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => indicator(from + i).id);

interface Stub {
  readonly url: string;
  /** Requests received, as `METHOD path?query`. */
  readonly requests: string[];
  close(): Promise<void>;
}

async function startStub(handle: (request: IncomingMessage, response: ServerResponse, url: URL) => void): Promise<Stub> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    handle(request, response, new URL(request.url ?? '/', 'http://stub'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendTaxii(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': TAXII, ...headers });
  response.end(JSON.stringify(body));
}

const apiRootResource = { title: 'stub', versions: [TAXII], max_content_length: 1_000_000 };

/** A stub TAXII server whose objects endpoint is `objects`; its other resources are well formed. */
async function startTaxiiStub(objects: (response: ServerResponse, url: URL) => void): Promise<Stub> {
  return startStub((_request, response, url) => {
    if (url.pathname === '/api/') sendTaxii(response, 200, apiRootResource);
    else if (url.pathname === '/api/collections/c1/objects/') objects(response, url);
    else sendTaxii(response, 404, { title: 'Not found' });
  });
}

describe("the TAXII client against this project's own server", () => {
  let node: TestNode;
  let base: string;
  let client: TaxiiClient;
  before(async () => {
    node = await startTestNode({ empty: true });
    base = await node.app.listen({ host: '127.0.0.1', port: 0 });
    await node.store.addObjects(ADD_TEST, Array.from({ length: 250 }, (_, i) => indicator(i)));
    client = openTaxiiClient({ url: `${base}/taxii2/`, token: secrets.analyst });
  });
  after(async () => {
    // A response abandoned half read (the too-large test) makes Node's fetch open a spare connection
    // that never sends a request; a graceful close would wait for it until the headers timeout (~70 s).
    node.app.server.closeAllConnections();
    await node.close();
  });

  describe('discovery', () => {
    it('finds the API root from the discovery URL', async () => {
      assert.deepEqual(await client.discover(), {
        apiRoots: [`${base}/taxii2/api/`],
        apiRootUrl: `${base}/taxii2/api/`,
        urlKind: 'discovery',
      });
      const root = await client.apiRoot();
      assert.equal(root.title, 'Entente test node');
      assert.deepEqual(root.versions, [TAXII]);
    });

    it('takes an API root URL as it is, with or without the trailing slash', async () => {
      for (const url of [`${base}/taxii2/api/`, `${base}/taxii2/api`]) {
        const direct = openTaxiiClient({ url, token: secrets.analyst });
        assert.deepEqual(await direct.discover(), { apiRoots: [`${base}/taxii2/api/`], apiRootUrl: `${base}/taxii2/api/`, urlKind: 'api-root' });
        assert.equal((await direct.apiRoot()).title, 'Entente test node');
      }
    });

    it('lists the collections the token sees, and reads one', async () => {
      const collections = await client.collections();
      const addTest = collections.find((collection) => collection.id === ADD_TEST);
      assert.ok(addTest);
      assert.equal(addTest.canRead, true);
      assert.equal(addTest.canWrite, true);
      assert.deepEqual(await client.collection(ADD_TEST), addTest);
    });
  });

  describe('pages', () => {
    it('walks 250 objects in pages of 100, each object exactly once, ending at the newest date_added', async () => {
      const pages: CursoredPage[] = [];
      for await (const page of client.pages(ADD_TEST, { limit: 100 })) pages.push(page);
      assert.deepEqual(
        pages.map((page) => page.objects.length),
        [100, 100, 50],
      );
      const seen = pages.flatMap((page) => page.objects.map((object) => (object as { id: string }).id));
      assert.deepEqual(seen, ids(0, 250));
      assert.ok(pages[0]?.next !== undefined && pages[0].more);
      assert.deepEqual(pages[0]?.cursor, { next: pages[0]?.next });
      const last = pages[2];
      assert.ok(last?.dateAddedLast !== undefined);
      assert.deepEqual(last.cursor, { addedAfter: last.dateAddedLast }, 'the cursor after the last page is a plain added_after');
    });

    it('resumes from the cursor stored after a page, in a new client, with the objects that follow it only', async () => {
      let stored: TaxiiCursor | undefined;
      for await (const page of client.pages(ADD_TEST, { limit: 100 })) {
        stored = page.cursor;
        break;
      }
      assert.ok(stored?.next !== undefined, 'in the middle of a walk the cursor holds next');
      const fresh = openTaxiiClient({ url: `${base}/taxii2/api/`, token: secrets.analyst });
      const rest = await collect(fresh.pages(ADD_TEST, { limit: 100, cursor: stored }));
      assert.deepEqual(rest.ids, ids(100, 150));
    });

    it('resumes from the final cursor with nothing, then with exactly what was added since', async () => {
      const first = await collect(client.pages(HIGH_VALUE, { limit: 10 }));
      const cursor = first.cursors.at(-1) ?? {};
      assert.deepEqual(await collect(client.pages(HIGH_VALUE, { limit: 10, cursor })), { ids: [], sizes: [0], cursors: [cursor] });
      await node.store.addObjects(HIGH_VALUE, [indicator(5000), indicator(5001), indicator(5002)]);
      const since = await collect(client.pages(HIGH_VALUE, { limit: 2, cursor }));
      assert.deepEqual(since.ids, ids(5000, 3));
      assert.deepEqual(since.sizes, [2, 1]);
    });

    it('starts again from the added_after of a cursor whose next the server no longer accepts', async () => {
      const page1 = await client.getObjects(ADD_TEST, { limit: 100 });
      const cursor = { addedAfter: page1.dateAddedLast ?? '', next: 'bm90LWEtY3Vyc29y' };
      const rest = await collect(client.pages(ADD_TEST, { limit: 100, cursor }));
      assert.deepEqual(rest.ids, ids(100, 150));
    });

    it('passes match[type] and match[version] to the server', async () => {
      assert.equal((await client.getObjects(ADD_TEST, { limit: 5, types: ['indicator'], matchVersion: 'all' })).objects.length, 5);
      const none = await client.getObjects(ADD_TEST, { types: ['malware', 'tool'] });
      assert.deepEqual(none, { objects: [], more: false });
    });
  });

  describe('POST and status', () => {
    it('posts objects and follows the status to complete; the objects are then there', async () => {
      const posted = await client.postObjects(HIGH_VALUE, [indicator(7000), indicator(7001), indicator(7002)]);
      assert.equal(posted.totalCount, 3);
      const done = await client.followStatus(posted.id, { pollMs: 20, deadlineMs: 2000 });
      assert.equal(done.status, 'complete');
      assert.equal(done.successCount, 3);
      assert.deepEqual(done.successes.map((detail) => detail.id).sort(), ids(7000, 3));
      const read = await client.getObjects(HIGH_VALUE, { types: ['indicator'], limit: 1000 });
      const readIds = new Set(read.objects.map((object) => (object as { id: string }).id));
      for (const id of ids(7000, 3)) assert.ok(readIds.has(id), id);
    });
  });

  describe('JSON endpoints on the same origin', () => {
    it('reads a JSON endpoint, and answers undefined for one the server does not have (a plain TAXII peer)', async () => {
      const admin = openTaxiiClient({ url: `${base}/taxii2/`, token: secrets.admin });
      assert.deepEqual(await admin.getJson('/api/circles'), { circles: [] });
      assert.equal(await admin.getJson('/api/no-such-endpoint'), undefined);
    });

    it('refuses a path that would leave the origin', async () => {
      await rejectsWith(client.getJson('//elsewhere.example/api/'), 'ENT_PEER_INVALID');
      await rejectsWith(client.postJson('api/relative', {}), 'ENT_PEER_INVALID');
    });
  });

  describe('errors', () => {
    it('reports a wrong token as ENT_PEER_AUTH_REFUSED, quoting the peer but never the token', async () => {
      const token = 'ent_wrong-secret-0000000000000000000000000';
      const wrong = openTaxiiClient({ url: `${base}/taxii2/`, token });
      const error = await rejectsWith(wrong.collections(), 'ENT_PEER_AUTH_REFUSED');
      assert.match(error.message, /HTTP 401/);
      assert.equal(error.details?.peer_error_code, 'ENT_AUTH_INVALID');
      assert.ok(!JSON.stringify({ message: error.message, details: error.details, stack: error.stack }).includes(token));
    });

    it('reports an unknown collection, and one the token may not write, as ENT_PEER_NO_COLLECTION', async () => {
      const unknown = 'no-such-collection/../x?y';
      await rejectsWith(client.getObjects(unknown), 'ENT_PEER_NO_COLLECTION');
      await rejectsWith(client.collection('00000000-0000-4000-8000-000000000000'), 'ENT_PEER_NO_COLLECTION');
      const reader = openTaxiiClient({ url: `${base}/taxii2/`, token: secrets.reader });
      const error = await rejectsWith(reader.postObjects(HIGH_VALUE, [indicator(8000)]), 'ENT_PEER_NO_COLLECTION');
      assert.equal(error.details?.status, 403);
    });

    it('stops reading a page larger than maxResponseBytes', async () => {
      const small = openTaxiiClient({ url: `${base}/taxii2/`, token: secrets.analyst, maxResponseBytes: 10_000 });
      await rejectsWith(small.getObjects(ADD_TEST, { limit: 100 }), 'ENT_PEER_RESPONSE_TOO_LARGE');
    });

    it('reports a closed port as ENT_PEER_UNREACHABLE', async () => {
      const gone = await startStub(() => undefined);
      await gone.close();
      const error = await rejectsWith(openTaxiiClient({ url: `${gone.url}/taxii2/`, token: 't' }).discover(), 'ENT_PEER_UNREACHABLE');
      assert.equal(error.details?.cause_code, 'ECONNREFUSED');
    });
  });
});

describe('the TAXII client against misbehaving servers', () => {
  const stubs: Stub[] = [];
  after(() => Promise.all(stubs.map((stub) => stub.close())));
  async function stub(handle: Parameters<typeof startStub>[0]): Promise<Stub> {
    const started = await startStub(handle);
    stubs.push(started);
    return started;
  }
  async function taxiiStub(objects: Parameters<typeof startTaxiiStub>[0]): Promise<Stub> {
    const started = await startTaxiiStub(objects);
    stubs.push(started);
    return started;
  }

  /** 250 objects with date_added one microsecond apart, paged by added_after and limit only. */
  function addedAfterOnly(options: { giveNext: boolean }): (response: ServerResponse, url: URL) => void {
    const dateAdded = (i: number): string => `2026-05-01T00:00:00.${String(i + 1).padStart(6, '0')}Z`;
    const all = Array.from({ length: 250 }, (_, i) => ({ object: indicator(i), dateAdded: dateAdded(i) }));
    return (response, url) => {
      const after = url.searchParams.get('added_after');
      const limit = Math.min(Number(url.searchParams.get('limit') ?? '100'), 100);
      const rest = after === null ? all : all.filter((entry) => entry.dateAdded > after);
      const page = rest.slice(0, limit);
      const more = rest.length > page.length;
      const headers: Record<string, string> =
        page.length === 0
          ? {}
          : { 'x-taxii-date-added-first': page[0]?.dateAdded ?? '', 'x-taxii-date-added-last': page.at(-1)?.dateAdded ?? '' };
      // A next that the server then ignores: it always points at "page 2".
      sendTaxii(response, 200, { more, ...(more && options.giveNext ? { next: 'page-2' } : {}), objects: page.map((entry) => entry.object) }, headers);
    };
  }

  it('walks a server that honours only added_after, by X-TAXII-Date-Added-Last', async () => {
    const server = await taxiiStub(addedAfterOnly({ giveNext: false }));
    const client = openTaxiiClient({ url: `${server.url}/api/`, token: 't' });
    const walked = await collect(client.pages('c1', { limit: 100 }));
    assert.deepEqual(walked.ids, ids(0, 250));
    assert.deepEqual(walked.sizes, [100, 100, 50]);
    assert.deepEqual(walked.cursors, [
      { addedAfter: '2026-05-01T00:00:00.000100Z' },
      { addedAfter: '2026-05-01T00:00:00.000200Z' },
      { addedAfter: '2026-05-01T00:00:00.000250Z' },
    ]);
  });

  it('walks a server that hands out next but ignores it, each object exactly once', async () => {
    const server = await taxiiStub(addedAfterOnly({ giveNext: true }));
    const client = openTaxiiClient({ url: `${server.url}/api/`, token: 't' });
    const walked = await collect(client.pages('c1', { limit: 100 }));
    assert.deepEqual(walked.ids, ids(0, 250));
  });

  it('stops with ENT_PEER_BAD_RESPONSE when a server says more:true forever without next or a moving date', async () => {
    const noProgress = await taxiiStub((response) => sendTaxii(response, 200, { more: true, objects: [indicator(1)] }));
    const error = await rejectsWith(
      collect(openTaxiiClient({ url: `${noProgress.url}/api/`, token: 't' }).pages('c1', { limit: 10 })),
      'ENT_PEER_BAD_RESPONSE',
    );
    assert.match(error.message, /neither next nor X-TAXII-Date-Added-Last/);

    const sameDate = '2026-05-01T00:00:00.000001Z';
    const stuck = await taxiiStub((response) =>
      sendTaxii(response, 200, { more: true, objects: [indicator(1)] }, { 'x-taxii-date-added-first': sameDate, 'x-taxii-date-added-last': sameDate }),
    );
    const pagesSeen: CursoredPage[] = [];
    await rejectsWith(
      (async () => {
        for await (const page of openTaxiiClient({ url: `${stuck.url}/api/`, token: 't' }).pages('c1', { limit: 10 })) pagesSeen.push(page);
      })(),
      'ENT_PEER_BAD_RESPONSE',
    );
    assert.equal(pagesSeen.length, 1, 'the first page is handed out; the repeat is not');
  });

  it('refuses a page with more objects than the limit asked for (TAXII lets a server send fewer, never more)', async () => {
    // A page is otherwise bounded only by bytes: `[1,1,1,...]` in 64 MiB is 33 million items, each
    // a quarantine row held in memory and written in one transaction.
    const flood = await taxiiStub((response, url) => {
      const count = Number(url.searchParams.get('limit') ?? '0') + 1;
      sendTaxii(response, 200, { more: false, objects: Array.from({ length: count }, () => 1) });
    });
    const client = openTaxiiClient({ url: `${flood.url}/api/`, token: 't' });
    const error = await rejectsWith(client.getObjects('c1', { limit: 10 }), 'ENT_PEER_RESPONSE_TOO_LARGE');
    assert.match(error.message, /11 objects/);
    assert.match(error.message, /limit of 10/);
    assert.equal(error.details?.object_count, 11);
    assert.equal(error.details?.limit, 10);
    await rejectsWith(collect(client.pages('c1', { limit: 10 })), 'ENT_PEER_RESPONSE_TOO_LARGE');

    const exact = await taxiiStub((response, url) =>
      sendTaxii(response, 200, { more: false, objects: Array.from({ length: Number(url.searchParams.get('limit') ?? '0') }, (_, i) => indicator(i)) }),
    );
    assert.equal((await openTaxiiClient({ url: `${exact.url}/api/`, token: 't' }).getObjects('c1', { limit: 10 })).objects.length, 10);
  });

  it('refuses a page nested deeper than the JSON depth a node reads, before anything walks it', async () => {
    const deep = await taxiiStub((response) => {
      response.writeHead(200, { 'content-type': TAXII });
      response.end(`{"more":false,"objects":[{"type":"indicator","x":${'['.repeat(5000)}1${']'.repeat(5000)}}]}`);
    });
    const error = await rejectsWith(openTaxiiClient({ url: `${deep.url}/api/`, token: 't' }).getObjects('c1', { limit: 10 }), 'ENT_PEER_BAD_RESPONSE');
    assert.match(error.message, /nested deeper than the limit of 64 levels/);
  });

  it('stops with ENT_PEER_BAD_RESPONSE when a server sends the same object with more:true and a fresh next for ever', async () => {
    let served = 0;
    const sameDate = '2026-05-01T00:00:00.000001Z';
    const endless = await taxiiStub((response) => {
      served += 1;
      sendTaxii(response, 200, { more: true, next: `n${served}`, objects: [indicator(1)] }, { 'x-taxii-date-added-first': sameDate, 'x-taxii-date-added-last': sameDate });
    });
    const pagesSeen: CursoredPage[] = [];
    const error = await rejectsWith(
      (async () => {
        for await (const page of openTaxiiClient({ url: `${endless.url}/api/`, token: 't' }).pages('c1', { limit: 10 })) {
          pagesSeen.push(page);
          if (pagesSeen.length > 10) assert.fail('the walk goes on');
        }
      })(),
      'ENT_PEER_BAD_RESPONSE',
    );
    assert.match(error.message, /same 1 object as the page before/);
    assert.equal(pagesSeen.length, 1, 'the first page is handed out; the repeats are not');
  });

  it('reports a server that never answers as ENT_PEER_TIMEOUT', async () => {
    const silent = await stub(() => undefined);
    const started = Date.now();
    await rejectsWith(openTaxiiClient({ url: `${silent.url}/api/`, token: 't', timeoutMs: 200 }).discover(), 'ENT_PEER_TIMEOUT');
    assert.ok(Date.now() - started < 5000);
  });

  it('reports a server that stops sending the body half way as ENT_PEER_TIMEOUT', async () => {
    const slow = await stub((_request, response) => {
      response.writeHead(200, { 'content-type': TAXII });
      response.write('{"title":"stub","versions":[');
    });
    await rejectsWith(openTaxiiClient({ url: `${slow.url}/api/`, token: 't', timeoutMs: 300 }).discover(), 'ENT_PEER_TIMEOUT');
  });

  it('refuses an answer that is not TAXII (text/html), naming what came back', async () => {
    const html = await stub((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<html><body>Welcome to nginx!</body></html>');
    });
    const error = await rejectsWith(openTaxiiClient({ url: `${html.url}/taxii2/`, token: 't' }).discover(), 'ENT_PEER_BAD_RESPONSE');
    assert.match(error.message, /text\/html/);
    assert.doesNotMatch(error.message, /nginx/);
  });

  it('refuses a TAXII answer whose body is not JSON, or not the resource asked for', async () => {
    const garbled = await stub((_request, response) => {
      response.writeHead(200, { 'content-type': TAXII });
      response.end('{"title": "x", ');
    });
    await rejectsWith(openTaxiiClient({ url: `${garbled.url}/api/`, token: 't' }).discover(), 'ENT_PEER_BAD_RESPONSE');
    const wrongShape = await taxiiStub((response) => sendTaxii(response, 200, { more: 'maybe' }));
    const error = await rejectsWith(openTaxiiClient({ url: `${wrongShape.url}/api/`, token: 't' }).getObjects('c1'), 'ENT_PEER_BAD_RESPONSE');
    assert.match(error.message, /\$\.more/);
    const badHeader = await taxiiStub((response) => sendTaxii(response, 200, { objects: [] }, { 'x-taxii-date-added-last': 'yesterday' }));
    await rejectsWith(openTaxiiClient({ url: `${badHeader.url}/api/`, token: 't' }).getObjects('c1'), 'ENT_PEER_BAD_RESPONSE');
  });

  it('stops reading a body that goes on forever at maxResponseBytes', async () => {
    let written = 0;
    const endless = await stub((_request, response) => {
      response.writeHead(200, { 'content-type': TAXII });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (!response.destroyed && response.write(chunk)) written += chunk.length;
        if (!response.destroyed) response.once('drain', pump);
      };
      response.write('{"title":"');
      pump();
    });
    const client = openTaxiiClient({ url: `${endless.url}/api/`, token: 't', maxResponseBytes: 1024 * 1024 });
    const error = await rejectsWith(client.discover(), 'ENT_PEER_RESPONSE_TOO_LARGE');
    assert.equal(error.details?.limit_bytes, 1024 * 1024);
    assert.ok(written < 64 * 1024 * 1024, `the server was cut off early (${written} bytes written)`);
  });

  it('refuses a body whose declared length is over the limit without reading it', async () => {
    const declared = await stub((_request, response) => {
      response.writeHead(200, { 'content-type': TAXII, 'content-length': String(100 * 1024 * 1024) });
      response.write('{');
    });
    await rejectsWith(openTaxiiClient({ url: `${declared.url}/api/`, token: 't', maxResponseBytes: 1024 }).discover(), 'ENT_PEER_RESPONSE_TOO_LARGE');
  });

  it("quotes a peer's TAXII error title and description, cut short, never the whole body", async () => {
    const failing = await taxiiStub((response) =>
      sendTaxii(response, 500, { title: 'Database on fire', description: `Details: ${'x'.repeat(50_000)}`, http_status: '500' }),
    );
    const error = await rejectsWith(openTaxiiClient({ url: `${failing.url}/api/`, token: 't' }).getObjects('c1'), 'ENT_PEER_BAD_RESPONSE');
    assert.match(error.message, /HTTP 500: Database on fire — Details: x+…/);
    assert.ok(error.message.length < 1000, `message of ${error.message.length} characters`);
    assert.equal(error.details?.peer_title, 'Database on fire');
  });

  it('sends the token to no other origin: not to an API root discovery names elsewhere, nor through a redirect', async () => {
    const elsewhere = await stub((_request, response) => sendTaxii(response, 200, apiRootResource));
    const discovery = await stub((_request, response) =>
      sendTaxii(response, 200, { title: 'd', default: `${elsewhere.url}/api/`, api_roots: [`${elsewhere.url}/api/`] }),
    );
    const error = await rejectsWith(openTaxiiClient({ url: `${discovery.url}/taxii2/`, token: 't' }).collections(), 'ENT_PEER_BAD_RESPONSE');
    assert.match(error.message, /another origin/);

    const redirecting = await stub((_request, response) => {
      response.writeHead(302, { location: `${elsewhere.url}/api/` });
      response.end();
    });
    const redirected = await rejectsWith(openTaxiiClient({ url: `${redirecting.url}/api/`, token: 't' }).discover(), 'ENT_PEER_BAD_RESPONSE');
    assert.match(redirected.message, /redirect/);
    assert.deepEqual(elsewhere.requests, []);
  });

  it('resolves a relative API root in discovery against the discovery URL', async () => {
    const server = await stub((_request, response, url) => {
      if (url.pathname === '/taxii2/') sendTaxii(response, 200, { title: 'd', api_roots: ['/roots/one/', 'two'] });
      else sendTaxii(response, 200, apiRootResource);
    });
    const found = await openTaxiiClient({ url: `${server.url}/taxii2/`, token: 't' }).discover();
    assert.deepEqual(found, { apiRoots: [`${server.url}/roots/one/`, `${server.url}/taxii2/two/`], apiRootUrl: `${server.url}/roots/one/`, urlKind: 'discovery' });
  });

  it('follows a pending status until it is complete, and gives up at the deadline', async () => {
    let reads = 0;
    const status = (state: 'pending' | 'complete') => ({
      id: 's-1',
      status: state,
      total_count: 2,
      success_count: state === 'complete' ? 2 : 0,
      failure_count: 0,
      pending_count: state === 'complete' ? 0 : 2,
    });
    const server = await stub((_request, response, url) => {
      if (url.pathname === '/api/') sendTaxii(response, 200, apiRootResource);
      else if (url.pathname === '/api/status/s-1/') sendTaxii(response, 200, status(++reads >= 3 ? 'complete' : 'pending'));
      else if (url.pathname === '/api/status/s%202/') sendTaxii(response, 200, { ...status('pending'), id: 's 2' });
      else sendTaxii(response, 404, {});
    });
    const client = openTaxiiClient({ url: `${server.url}/api/`, token: 't' });
    const done = await client.followStatus('s-1', { pollMs: 10, deadlineMs: 5000 });
    assert.equal(done.successCount, 2);
    assert.equal(reads, 3);
    const error = await rejectsWith(client.followStatus('s 2', { pollMs: 20, deadlineMs: 100 }), 'ENT_PEER_TIMEOUT');
    assert.equal(error.details?.pending_count, 2);
  });

  it('posts JSON to the same origin, and sends a user:password token as Basic', async () => {
    const seen: { authorization?: string; contentType?: string; body: string }[] = [];
    const server = await stub((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({
          ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }),
          ...(request.headers['content-type'] === undefined ? {} : { contentType: request.headers['content-type'] }),
          body,
        });
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify({ received: JSON.parse(body) as unknown }));
      });
    });
    const client = openTaxiiClient({ url: `${server.url}/taxii2/`, token: 'alice:s3cret' });
    assert.deepEqual(await client.postJson('/api/federation/flash', { text: 'hello' }), { received: { text: 'hello' } });
    assert.deepEqual(seen, [
      { authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}`, contentType: 'application/json', body: '{"text":"hello"}' },
    ]);
  });

  it('cancels requests in flight when closed, and refuses new ones', async () => {
    const silent = await stub(() => undefined);
    const client = openTaxiiClient({ url: `${silent.url}/api/`, token: 't' });
    const pending = client.discover();
    setTimeout(() => client.close(), 50);
    const error = await rejectsWith(pending, 'ENT_PEER_UNREACHABLE');
    assert.equal(error.details?.cancelled, true);
    await rejectsWith(client.collections(), 'ENT_PEER_UNREACHABLE');
  });

  it('refuses URLs and tokens it cannot use before sending anything', () => {
    assert.throws(() => openTaxiiClient({ url: 'ftp://peer.example/taxii2/', token: 't' }), { code: 'ENT_PEER_INVALID' });
    assert.throws(() => openTaxiiClient({ url: 'https://u:p@peer.example/taxii2/', token: 't' }), { code: 'ENT_PEER_INVALID' });
    assert.throws(() => openTaxiiClient({ url: 'not a url', token: 't' }), { code: 'ENT_PEER_INVALID' });
    assert.throws(() => openTaxiiClient({ url: 'https://peer.example/taxii2/', token: 'bad\r\ntoken' }), (error: unknown) => {
      assert.ok(error instanceof EntenteError && error.code === 'ENT_PEER_INVALID');
      assert.ok(!error.message.includes('bad'));
      return true;
    });
  });
});
