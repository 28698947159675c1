import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { API, ADD_TEST, basic, bearer, HIGH_VALUE, indicator, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

describe('a real listening server', () => {
  let node: TestNode;
  let base: string;
  before(async () => {
    node = await startTestNode();
    base = await node.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => node.close());

  it('serves discovery with absolute API root URLs for the address it is reached at', async () => {
    const response = await fetch(`${base}/taxii2/`, { headers: basic('analyst', 'taxii2client') });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), TAXII);
    const body = (await response.json()) as { api_roots: string[] };
    assert.deepEqual(body.api_roots, [`${base}${API}`]);
  });

  it('does a full client round trip: POST, status, GET, pagination', async () => {
    const post = await request(`${base}${API}collections/${ADD_TEST}/objects/`, {
      method: 'POST',
      headers: { ...bearer('analyst'), 'content-type': TAXII },
      body: JSON.stringify({ objects: Array.from({ length: 25 }, (_, i) => indicator(900 + i)) }),
    });
    assert.equal(post.statusCode, 202);
    const status = (await post.body.json()) as { id: string; success_count: number };
    assert.equal(status.success_count, 25);

    const statusAgain = await request(`${base}${API}status/${status.id}/`, { headers: bearer('analyst') });
    assert.equal(statusAgain.statusCode, 200);
    await statusAgain.body.dump();

    let next: string | undefined;
    let count = 0;
    do {
      const page = await request(`${base}${API}collections/${ADD_TEST}/objects/?limit=10${next === undefined ? '' : `&next=${next}`}`, {
        headers: bearer('analyst'),
      });
      assert.equal(page.statusCode, 200);
      assert.ok(page.headers['x-taxii-date-added-first']);
      const body = (await page.body.json()) as { more: boolean; next?: string; objects: unknown[] };
      count += body.objects.length;
      next = body.more ? body.next : undefined;
    } while (next !== undefined);
    assert.equal(count, 25);
  });

  it('answers 401 with challenges over the wire', async () => {
    const response = await fetch(`${base}${API}collections/${HIGH_VALUE}/objects/`, { headers: { accept: TAXII } });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.match(response.headers.get('www-authenticate') ?? '', /Basic/);
    assert.ok(response.headers.get('x-request-id'));
  });

  it('closes a body over the limit with 413 before reading it all', async () => {
    const small = await startTestNode({ empty: true, limits: { maxBodyBytes: 1024, maxJsonDepth: 64 } });
    try {
      const url = await small.app.listen({ host: '127.0.0.1', port: 0 });
      const response = await request(`${url}${API}collections/${ADD_TEST}/objects/`, {
        method: 'POST',
        headers: { ...bearer('analyst'), 'content-type': TAXII },
        body: JSON.stringify({ objects: [indicator(1, { description: 'x'.repeat(4096) })] }),
      });
      assert.equal(response.statusCode, 413);
      const body = (await response.body.json()) as { error_code: string; http_status: string };
      assert.equal(body.error_code, 'ENT_INPUT_TOO_LARGE');
      assert.equal(body.http_status, '413');
    } finally {
      await small.close();
    }
  });
});
