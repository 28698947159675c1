import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { API, bearer, errorOf, HIGH_VALUE, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

const collection = `${API}collections/${HIGH_VALUE}/`;

describe('hostile inputs', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  const get = (url: string) => node.app.inject({ url, headers: bearer('analyst') });

  it('refuses a huge match[id] list with 400 naming match[id]', async () => {
    const ids = Array.from({ length: 600 }, (_, i) => `indicator--00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`).join(',');
    const response = await get(`${collection}objects/?match[id]=${ids}`);
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response).details?.['parameter'], 'match[id]');
    assert.match(errorOf(response).description, /at most 500/);
  });

  it('serves a long but allowed match[id] list', async () => {
    const ids = Array.from({ length: 400 }, (_, i) => `indicator--00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    ids.push('indicator--cd981c25-8042-4166-8945-51178443bdac');
    const response = await get(`${collection}objects/?match[id]=${ids.join(',')}`);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<{ objects: unknown[] }>().objects.length, 1);
  });

  for (const value of ['garbage', '0', '2026-13-45T99:99:99Z', "2026-01-01T00:00:00Z' OR 1=1 --", '%00', '🙂']) {
    it(`refuses added_after=${value} with 400`, async () => {
      const response = await get(`${collection}objects/?added_after=${encodeURIComponent(value)}`);
      assert.equal(response.statusCode, 400);
      assert.equal(errorOf(response).details?.['parameter'], 'added_after');
    });
  }

  for (const id of ['..%2F..%2Fetc%2Fpasswd', '...', 'indicator--..%2F..%2F', 'indicator--6770298f-0fd8-471a-ab8c-1c658a46574e%00', '%E2%80%AEindicator--6770298f-0fd8-471a-ab8c-1c658a46574e', 'x'.repeat(250)]) {
    it(`answers 404 (never 500) for object id ${id.slice(0, 40)}`, async () => {
      const response = await get(`${collection}objects/${id}/`);
      assert.equal(response.statusCode, 404);
      assert.equal(response.headers['content-type'], TAXII);
    });
  }

  it('answers 404 for path traversal in the collection id', async () => {
    const response = await get(`${API}collections/..%2F..%2F/objects/`);
    assert.equal(response.statusCode, 404);
  });

  it('treats unicode in match[type] as invalid, not as a crash', async () => {
    const response = await get(`${collection}objects/?match[type]=${encodeURIComponent('indicatör')}`);
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response).details?.['parameter'], 'match[type]');
  });

  it('keeps unicode in stored objects intact', async () => {
    const object = {
      type: 'malware',
      spec_version: '2.1',
      id: 'malware--11111111-1111-4111-8111-111111111111',
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z',
      name: 'Ωmega 🙂 \u2028 "quoted" </script>',
      is_family: false,
    };
    const response = await node.app.inject({
      method: 'POST',
      url: `${collection}objects/`,
      headers: { ...bearer('analyst'), 'content-type': TAXII },
      payload: JSON.stringify({ objects: [object] }),
    });
    assert.equal(response.statusCode, 202);
    const back = await get(`${collection}objects/${object.id}/`);
    assert.equal(back.json<{ objects: { name: string }[] }>().objects[0]?.name, object.name);
  });

  it('refuses a body with proto-poisoning keys only as far as validation says, never polluting prototypes', async () => {
    const payload = '{"objects":[{"type":"indicator","id":"indicator--22222222-2222-4222-8222-222222222222","__proto__":{"polluted":true}}]}';
    await node.app.inject({ method: 'POST', url: `${collection}objects/`, headers: { ...bearer('analyst'), 'content-type': TAXII }, payload });
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('does not reveal internals on an unexpected failure', async () => {
    const response = await get(`${collection}objects/?limit=${'9'.repeat(9)}`);
    assert.equal(response.statusCode, 200);
  });
});
