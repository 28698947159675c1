import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isEntenteError } from '../errors/entente-error.ts';
import { pageBodySha256 } from '../federation/page-voucher.ts';
import { openTaxiiClient } from './taxii-client.ts';

// The client parses a page body as it arrived, in pieces (parseContainerPieces), and digests the
// pieces for the page's proof. Served here in many writes, a body must give the page the joined body
// gives, its proof the digest of the joined body, and a body the joined text refuses must be refused.

const TAXII = 'application/taxii+json;version=2.1';
const COLLECTION = '91a7b528-80eb-42ed-a74d-c6fbd5a26116';
const indicator = {
  type: 'indicator', spec_version: '2.1', id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', created: '2020-01-01T00:00:00.000Z',
  modified: '2020-01-01T00:00:00.000Z', pattern: "[file:name = 'Zürich 東京 🛰']", pattern_type: 'stix', valid_from: '2020-01-01T00:00:00Z',
};

let body = Buffer.alloc(0);
let server: Server;
let url = '';

before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/api/') {
      response.writeHead(200, { 'content-type': TAXII }).end(JSON.stringify({ title: 'pieces', versions: [TAXII], max_content_length: 1_000_000 }));
      return;
    }
    response.writeHead(200, { 'content-type': TAXII });
    // A few bytes a write, each flushed apart, so that multi-byte characters are cut between pieces.
    void (async () => {
      for (let at = 0; at < body.length; at += 5) {
        response.write(body.subarray(at, at + 5));
        if (at % 50 === 0) await sleep(1);
      }
      response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the TAXII client reads a page that arrives in many pieces', () => {
  it('to the objects of the joined body, with the proof digest of the joined body', async () => {
    body = Buffer.from(JSON.stringify({ more: false, objects: [indicator, { ...indicator, id: 'indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' }] }), 'utf8');
    const page = await openTaxiiClient({ url, token: 't' }).getObjects(COLLECTION, { pageNonce: 'n'.repeat(32) });
    assert.deepEqual(page.objects, (JSON.parse(body.toString('utf8')) as { objects: unknown[] }).objects);
    assert.equal(page.proof?.bodySha256, pageBodySha256(body));
  });

  it('refuses a body the joined text refuses: an unsafe number in a member a later one of the same name replaces', async () => {
    body = Buffer.from(`{"objects":[${JSON.stringify({ ...indicator, x_n: 1 })}],"x":1e400,"x":1}`.replace('"x_n":1', '"x_n":1e20'), 'utf8');
    await assert.rejects(openTaxiiClient({ url, token: 't' }).getObjects(COLLECTION), (error: unknown) => {
      assert.ok(isEntenteError(error), String(error));
      assert.match(error.message, /not JSON/);
      return true;
    });
  });
});
