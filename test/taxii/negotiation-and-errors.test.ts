import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { API, ADD_TEST, bearer, errorOf, HIGH_VALUE, indicator, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

const objectsUrl = `${API}collections/${ADD_TEST}/objects/`;

describe('TAXII media types, limits and the error resource', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ limits: { maxBodyBytes: 64 * 1024, maxJsonDepth: 64 } });
  });
  after(() => node.close());

  const post = (payload: string, headers: Record<string, string> = {}) =>
    node.app.inject({ method: 'POST', url: objectsUrl, payload, headers: { ...bearer('analyst'), 'content-type': TAXII, ...headers } });

  it('answers with exactly application/taxii+json;version=2.1 and an X-Request-Id', async () => {
    const response = await node.app.inject({ url: API, headers: bearer('analyst') });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], TAXII);
    assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  for (const accept of ['application/taxii+json', '*/*', 'application/*', 'application/taxii+json;version=2.1']) {
    it(`accepts Accept: ${accept}`, async () => {
      const response = await node.app.inject({ url: API, headers: { ...bearer('analyst'), accept } });
      assert.equal(response.statusCode, 200);
    });
  }

  for (const accept of ['application/json', 'application/taxii+json;version=2.0', 'text/html', 'application/stix+json;version=2.1']) {
    it(`refuses Accept: ${accept} with 406`, async () => {
      const response = await node.app.inject({ url: `${API}collections/`, headers: { ...bearer('analyst'), accept } });
      assert.equal(response.statusCode, 406);
      const body = errorOf(response);
      assert.equal(body.error_code, 'ENT_HTTP_NOT_ACCEPTABLE');
      assert.equal(body.http_status, '406');
      assert.match(body.description, /application\/taxii\+json;version=2\.1/);
      assert.equal(response.headers['content-type'], TAXII);
    });
  }

  for (const contentType of ['application/json', 'application/taxii+json;version=2.0', 'text/plain', 'application/stix+json;version=2.1']) {
    it(`refuses POST with Content-Type ${contentType} with 415`, async () => {
      const response = await post(JSON.stringify({ objects: [indicator(1)] }), { 'content-type': contentType });
      assert.equal(response.statusCode, 415);
      assert.equal(errorOf(response).error_code, 'ENT_HTTP_UNSUPPORTED_MEDIA_TYPE');
      assert.match(errorOf(response).description, /Content-Type must be application\/taxii\+json;version=2\.1/);
    });
  }

  it('refuses POST without Content-Type with 415', async () => {
    const response = await node.app.inject({ method: 'POST', url: objectsUrl, headers: bearer('analyst') });
    assert.equal(response.statusCode, 415);
  });

  it('refuses a body over the configured limit with 413', async () => {
    const response = await post(JSON.stringify({ objects: [indicator(1, { description: 'x'.repeat(70 * 1024) })] }));
    assert.equal(response.statusCode, 413);
    assert.equal(errorOf(response).error_code, 'ENT_INPUT_TOO_LARGE');
    assert.match(errorOf(response).description, /larger than the configured limit/);
  });

  it('advertises the limit as max_content_length of the API root', async () => {
    const response = await node.app.inject({ url: API, headers: bearer('analyst') });
    assert.equal(response.json<{ max_content_length: number }>().max_content_length, 64 * 1024);
  });

  it('refuses malformed JSON with 400 saying where', async () => {
    const response = await post('{"objects": [ {"type": "indicator",, } ]}');
    assert.equal(response.statusCode, 400);
    const body = errorOf(response);
    assert.equal(body.error_code, 'ENT_INPUT_MALFORMED_JSON');
    assert.ok(body.description.length > 0);
    assert.equal(body.details?.['line'], 1);
  });

  it('refuses JSON nested deeper than 64 with 400', async () => {
    const deep = '['.repeat(65) + ']'.repeat(65);
    const response = await post(`{"objects": ${deep}}`);
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response).error_code, 'ENT_INPUT_TOO_DEEP');
  });

  it('accepts JSON nested exactly to the limit', async () => {
    const nested = '{"a":'.repeat(60) + '1' + '}'.repeat(60);
    const response = await post(`{"objects": [${JSON.stringify(indicator(9)).slice(0, -1)},"x_nested":${nested}}]}`);
    assert.equal(response.statusCode, 202);
  });

  it('refuses a body that is not an envelope with 400', async () => {
    for (const payload of ['[]', '"text"', '{"items": []}', '{"objects": {}}', 'null']) {
      const response = await post(payload);
      assert.equal(response.statusCode, 400, payload);
      assert.equal(errorOf(response).error_code, 'ENT_INPUT_NOT_ENVELOPE', payload);
    }
  });

  it('refuses an empty body with 400', async () => {
    const response = await post('');
    assert.equal(response.statusCode, 400);
  });

  it('turns an unknown URL into the TAXII error resource', async () => {
    const response = await node.app.inject({ url: `${API}nothing-here/`, headers: bearer('analyst') });
    assert.equal(response.statusCode, 404);
    const body = errorOf(response);
    assert.deepEqual(Object.keys(body).sort(), ['description', 'error_code', 'error_id', 'http_status', 'title']);
    assert.equal(body.error_id, response.headers['x-request-id']);
    assert.equal(body.http_status, '404');
    assert.equal(response.headers['content-type'], TAXII);
  });

  it('answers a method the resource does not have with 404 in the same shape', async () => {
    const response = await node.app.inject({ method: 'PUT', url: `${API}collections/${HIGH_VALUE}/objects/`, headers: bearer('analyst') });
    assert.equal(response.statusCode, 404);
    assert.equal(errorOf(response).error_code, 'ENT_HTTP_NOT_FOUND');
  });

  it('accepts URLs without the trailing slash', async () => {
    const response = await node.app.inject({ url: `${API}collections`, headers: bearer('analyst') });
    assert.equal(response.statusCode, 200);
  });

  it('serves /healthz without credentials', async () => {
    const response = await node.app.inject({ url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<{ status: string }>().status, 'ok');
  });
});
