import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ADD_TEST, bearer, errorOf, HIGH_VALUE, startTestNode, type TestNode } from './taxii-test-kit.ts';

interface SearchBody {
  count: number;
  results: { id: string; type: string; collection_id: string; name: string | null; object: { id: string } }[];
}

describe('GET /api/search', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
    await node.store.addObjects(ADD_TEST, [
      {
        type: 'malware',
        spec_version: '2.1',
        id: 'malware--33333333-3333-4333-8333-333333333333',
        created: '2026-01-01T00:00:00.000Z',
        modified: '2026-01-01T00:00:00.000Z',
        name: 'Poison Frog',
        is_family: true,
      },
    ]);
  });
  after(() => node.close());

  const search = (query: string, token: Parameters<typeof bearer>[0] = 'analyst') =>
    node.app.inject({ url: `/api/search?${query}`, headers: { authorization: bearer(token).authorization ?? '' } });

  it('finds objects by name prefix in the collections the caller can read, with their stored JSON', async () => {
    const response = await search('q=poison');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const body = response.json<SearchBody>();
    const ids = body.results.map((r) => r.id);
    assert.ok(ids.includes('malware--33333333-3333-4333-8333-333333333333'));
    assert.ok(ids.includes('malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec'));
    assert.equal(body.count, ids.length);
    for (const result of body.results) assert.equal(result.object.id, result.id);
  });

  it('searches only collections the token may read', async () => {
    const body = (await search('q=poison', 'reader')).json<SearchBody>();
    assert.ok(body.count > 0);
    assert.deepEqual([...new Set(body.results.map((r) => r.collection_id))], [HIGH_VALUE]);
    assert.equal((await search('q=frog', 'reader')).json<SearchBody>().count, 0);
    assert.equal((await search('q=frog', 'analyst')).json<SearchBody>().count, 1);
    assert.equal((await search('q=poison', 'outsider')).json<SearchBody>().count, 0);
  });

  it('filters by type and limits the number of hits', async () => {
    assert.equal((await search('q=frog&type=indicator')).json<SearchBody>().count, 0);
    assert.ok((await search('q=poison&type=malware')).json<SearchBody>().results.every((r) => r.type === 'malware'));
    assert.equal((await search('q=poison&type=malware&limit=1')).json<SearchBody>().count, 1);
  });

  it('treats FTS syntax in q as words', async () => {
    const response = await search(`q=${encodeURIComponent('poison" OR name:* NEAR(')}`);
    assert.equal(response.statusCode, 200);
  });

  for (const [query, parameter] of [
    ['', 'q'],
    ['q=', 'q'],
    ['q=%20%20', 'q'],
    ['q=***', 'q'],
    [`q=${'a'.repeat(600)}`, 'q'],
    ['q=x&limit=0', 'limit'],
    ['q=x&limit=abc', 'limit'],
    ['q=x&type=Not_A_Type', 'type'],
  ] as const) {
    it(`refuses ?${query.slice(0, 30)} with 400 naming ${parameter}`, async () => {
      const response = await search(query);
      assert.equal(response.statusCode, 400);
      assert.equal(errorOf(response).error_code, 'ENT_SEARCH_INVALID');
      assert.equal(errorOf(response).details?.['parameter'], parameter);
    });
  }

  it('requires a token', async () => {
    const response = await node.app.inject({ url: '/api/search?q=poison' });
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['content-type']), /^application\/json/);
  });
});
