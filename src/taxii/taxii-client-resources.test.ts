import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  isApiRootDocument,
  parseApiRootResource,
  parseCollectionsResource,
  parseDateAddedHeader,
  parseDiscoveryResource,
  parseEnvelopeResource,
  parsePeerErrorText,
  parseStatusResource,
  quotePeerText,
} from './taxii-client-resources.ts';

describe('reading the resources a peer sends', () => {
  it('tells an API root from discovery by its versions', () => {
    assert.equal(isApiRootDocument({ title: 'r', versions: ['application/taxii+json;version=2.1'], max_content_length: 1 }), true);
    assert.equal(isApiRootDocument({ title: 'd', api_roots: ['https://x/api/'] }), false);
    assert.equal(isApiRootDocument(['versions']), false);
  });

  it('reads discovery with and without api_roots', () => {
    const parsed = parseDiscoveryResource({ title: 'd', default: 'https://x/a/', api_roots: ['https://x/a/', '/b/'] });
    assert.deepEqual(parsed, { ok: true, value: { title: 'd', default: 'https://x/a/', apiRoots: ['https://x/a/', '/b/'] } });
    assert.deepEqual(parseDiscoveryResource({ title: 'd' }), { ok: true, value: { title: 'd', apiRoots: [] } });
  });

  it('names the path of a field with the wrong type', () => {
    assert.deepEqual(parseDiscoveryResource({ title: 'd', api_roots: ['ok', 3] }), {
      ok: false,
      error: { path: '$.api_roots[1]', message: 'api_roots must list strings only' },
    });
    const collections = parseCollectionsResource({ collections: [{ id: 'a', title: 't', can_read: true, can_write: 'no' }] });
    assert.equal(collections.ok, false);
    assert.equal(!collections.ok && collections.error.path, '$.collections[0].can_write');
    const root = parseApiRootResource({ title: 't', versions: [], max_content_length: -1 });
    assert.equal(!root.ok && root.error.path, '$.max_content_length');
  });

  it('reads an envelope: more defaults to false, objects to none, and the objects stay untouched values', () => {
    assert.deepEqual(parseEnvelopeResource({}), { ok: true, value: { more: false, objects: [] } });
    assert.deepEqual(parseEnvelopeResource({ more: true, next: 'abc', objects: [1, 'x', { id: 'y' }] }), {
      ok: true,
      value: { more: true, next: 'abc', objects: [1, 'x', { id: 'y' }] },
    });
    assert.equal(parseEnvelopeResource({ more: 'yes' }).ok, false);
    assert.equal(parseEnvelopeResource({ objects: {} }).ok, false);
    assert.equal(parseEnvelopeResource({ next: '' }).ok, false);
    assert.equal(parseEnvelopeResource({ next: 'x'.repeat(5000) }).ok, false);
    assert.equal(parseEnvelopeResource([]).ok, false);
  });

  it('reads a status and refuses a status word TAXII does not define', () => {
    const status = {
      id: 's1',
      status: 'complete',
      total_count: 2,
      success_count: 1,
      failure_count: 1,
      pending_count: 0,
      failures: [{ id: 'indicator--1', version: 'v', message: 'bad' }],
    };
    const parsed = parseStatusResource(status);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.failures[0]?.message, 'bad');
    assert.deepEqual(parsed.value.successes, []);
    assert.equal(parseStatusResource({ ...status, status: 'done' }).ok, false);
    assert.equal(parseStatusResource({ ...status, total_count: 1.5 }).ok, false);
  });

  it('accepts a date-added header only when it is a timestamp', () => {
    assert.deepEqual(parseDateAddedHeader('X-TAXII-Date-Added-Last', null), { ok: true, value: undefined });
    assert.deepEqual(parseDateAddedHeader('X-TAXII-Date-Added-Last', '2026-01-01T00:00:00.123456Z'), {
      ok: true,
      value: '2026-01-01T00:00:00.123456Z',
    });
    assert.equal(parseDateAddedHeader('X-TAXII-Date-Added-Last', 'yesterday').ok, false);
  });

  it('quotes a peer error body in short, printable pieces', () => {
    const text = parsePeerErrorText({ title: 'Bad\u001b[31m thing', description: 'x'.repeat(2000), error_code: 42 });
    assert.equal(text.title, 'Bad [31m thing');
    assert.ok((text.description?.length ?? 0) < 600);
    assert.equal(text.errorCode, undefined);
    assert.deepEqual(parsePeerErrorText('<html>'), {});
    assert.equal(quotePeerText('a\u202eb', 10), 'a b');
  });
});
