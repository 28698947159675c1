import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isTaxiiAcceptable, isTaxiiContentType } from './taxii-media-types.ts';

describe('TAXII content negotiation', () => {
  it('accepts the TAXII 2.1 media type, without version, wildcards and a missing header', () => {
    for (const accept of [
      undefined,
      '',
      'application/taxii+json;version=2.1',
      'application/taxii+json; version=2.1',
      'application/taxii+json;version="2.1"',
      'APPLICATION/TAXII+JSON;VERSION=2.1',
      'application/taxii+json',
      '*/*',
      'application/*',
      'text/html, application/taxii+json;version=2.1;q=0.5',
    ]) {
      assert.equal(isTaxiiAcceptable(accept), true, String(accept));
    }
  });

  it('refuses other versions, other types and q=0', () => {
    for (const accept of ['application/taxii+json;version=2.0', 'application/json', 'text/html', 'application/stix+json;version=2.1', 'application/taxii+json;q=0', 'garbage']) {
      assert.equal(isTaxiiAcceptable(accept), false, accept);
    }
  });

  it('accepts TAXII 2.1 bodies only', () => {
    assert.equal(isTaxiiContentType('application/taxii+json;version=2.1'), true);
    assert.equal(isTaxiiContentType('application/taxii+json'), true);
    assert.equal(isTaxiiContentType('application/taxii+json; charset=utf-8; version=2.1'), true);
    assert.equal(isTaxiiContentType('application/taxii+json;version=2.0'), false);
    assert.equal(isTaxiiContentType('application/json'), false);
    assert.equal(isTaxiiContentType(undefined), false);
  });
});
