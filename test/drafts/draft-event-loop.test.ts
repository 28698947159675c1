// POST /api/drafts reads, extracts and tags a report off the event loop: while a large report is
// being turned into a draft, the node keeps answering everyone else (TAXII clients, alert streams,
// flashes, sync). Before, extraction and tagging ran in the request handler and held the one event
// loop for as long as they took: seconds for a dense report well within the extraction limits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { authorization, errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { expectStatus } from './draft-kit.ts';

/**
 * A report of `lines` lines, each naming a distinct address and domain: 2 × `lines` observables
 * (under the 100,000 extraction allows) and about 70 characters a line for tagging. 25,000 lines
 * took about 4 s of one thread to extract, propose and tag on a quiet machine.
 */
function denseReport(lines: number): string {
  const out = ['# Operation Overload', 'The actor used spearphishing attachments (T1566.001) and PowerShell (T1059.001).'];
  for (let i = 0; i < lines; i++) out.push(`The implant beaconed to 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} and evil${i}.example-bad.com.`);
  return out.join('\n');
}

describe('POST /api/drafts and the event loop', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode([]);
  });
  after(() => node.close());

  it('answers another request while a large report is being drafted, and never holds the loop for a second', async (t) => {
    const text = denseReport(25_000);
    // The longest the event loop went without running a timer, sampled every 20 ms while the draft is made.
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 20);
    let draftAnswered = false;
    const drafting = node.call('analyst', 'POST', '/api/drafts', { text }).then((response) => {
      draftAnswered = true;
      return response;
    });
    try {
      await delay(300);
      const asked = performance.now();
      const health = await node.call(undefined, 'GET', '/healthz');
      const healthTook = performance.now() - asked;
      const draftWasAnswered = draftAnswered;
      const draft = expectStatus(await drafting, 201).json<{ items: unknown[]; warnings: string[] }>();
      clearInterval(ticker);
      t.diagnostic(`/healthz ${Math.round(healthTook)} ms, longest gap of the event loop ${Math.round(longestGap)} ms`);
      expectStatus(health, 200);
      assert.equal(draftWasAnswered, false, '/healthz was answered only once the draft was made');
      // Generous: the loop still parses the request, stores the draft and writes its JSON, a few
      // hundred milliseconds at most on a loaded 2-core machine; extraction alone took seconds.
      assert.ok(healthTook < 1000, `/healthz took ${Math.round(healthTook)} ms while the draft was being made`);
      assert.ok(longestGap < 1000, `the event loop was held for ${Math.round(longestGap)} ms at a stretch`);
      assert.equal(draft.items.length, 5000, 'the draft is cut at MAX_ITEMS, as before');
    } finally {
      clearInterval(ticker);
      await drafting.catch(() => undefined);
    }
  });
});

describe("POST /api/drafts and a large upload's body", () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode([]);
  });
  after(() => node.close());

  it('reads the JSON body of a 60 MB upload off the event loop, and answers as before', async (t) => {
    // 45 MB of text, sent base64 (60 MB of JSON, within the 64 MiB body limit): more characters than
    // a document may yield, so the worker refuses it at once and the test measures the body alone.
    // Decoding, parsing, checking and un-base64-ing such a body held the loop for 1.5 s and more.
    const report = Buffer.alloc(45 * 1024 * 1024, 'The implant beaconed to 10.1.2.3 and evil.example-bad.com.\n');
    // Bytes, as a socket delivers them: a string would be encoded on this loop by the test's own request.
    const payload = Buffer.from(JSON.stringify({ filename: 'huge.txt', content_base64: report.toString('base64') }));
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 20);
    try {
      const response = await node.app.inject({ method: 'POST', url: '/api/drafts', headers: { authorization: authorization('analyst'), 'content-type': 'application/json' }, payload });
      clearInterval(ticker);
      t.diagnostic(`longest gap of the event loop ${Math.round(longestGap)} ms`);
      const body = errorOf(expectStatus(response, 413));
      assert.equal(body.error_code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
      assert.deepEqual([body.description, body.details], ['huge.txt: more than 33554432 characters of text', { file: 'huge.txt' }]);
      // What stays on the loop is joining the body's chunks into one buffer, as for any request: tens
      // of milliseconds on a quiet machine, a few hundred on a loaded one (the body's parse took 1.6 s
      // of a quiet one, 3 to 6 s of a loaded one).
      assert.ok(longestGap < 1000, `the event loop was held for ${Math.round(longestGap)} ms at a stretch`);
    } finally {
      clearInterval(ticker);
    }
  });

  it('answers a malformed or misshapen body exactly as before: the same codes, fields and places', async () => {
    const malformed = errorOf(expectStatus(await node.call('analyst', 'POST', '/api/drafts', '{"text": "C2 45.77.12.3",\n  oops}'), 400));
    assert.equal(malformed.error_code, 'ENT_INPUT_MALFORMED_JSON');
    assert.deepEqual(malformed.details, { line: 2, column: 3 });
    const unknown = errorOf(expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: 'C2 45.77.12.3', admin: true }), 400));
    assert.deepEqual([unknown.error_code, unknown.details], ['ENT_HTTP_BAD_FIELD', { field: 'admin' }]);
    const notBase64 = errorOf(expectStatus(await node.call('analyst', 'POST', '/api/drafts', { filename: 'r.txt', content_base64: 'not base64!' }), 400));
    assert.deepEqual([notBase64.error_code, notBase64.details], ['ENT_HTTP_BAD_FIELD', { field: 'content_base64' }]);
    const array = errorOf(expectStatus(await node.call('analyst', 'POST', '/api/drafts', '[]'), 400));
    assert.equal(array.error_code, 'ENT_INPUT_NOT_ENVELOPE');
    const none = errorOf(expectStatus(await node.call('analyst', 'POST', '/api/drafts'), 400));
    assert.deepEqual([none.error_code, none.details], ['ENT_HTTP_BAD_FIELD', { field: 'content_base64' }]);
    const deep = errorOf(expectStatus(await node.call('analyst', 'POST', '/api/drafts', `{"text": "x", "publisher_domains": ${'['.repeat(100)}${']'.repeat(100)}}`), 400));
    assert.equal(deep.error_code, 'ENT_INPUT_TOO_DEEP');
    const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: '# Small\nC2 45.77.12.3.\n', publisher_domains: ['vendor.example'] }), 201).json<{ items: { value: string }[] }>();
    assert.deepEqual(made.items.map((item) => item.value), ['45.77.12.3']);
  });
});

describe('POST /api/drafts past the time limit (ENTENTE_DRAFT_TIME_LIMIT_MS)', () => {
  let node: CircleApiNode;
  before(async () => {
    // The node's configuration (NodeConfig.draftTimeLimitMs, from ENTENTE_DRAFT_TIME_LIMIT_MS among others).
    node = await startCircleApiNode([], { draftTimeLimitMs: 300 });
  });
  after(() => node.close());

  it('takes the limit from the node configuration only: the routes read no environment variable', async () => {
    process.env['ENTENTE_DRAFT_TIME_LIMIT_MS'] = '1';
    let other: CircleApiNode | undefined;
    try {
      other = await startCircleApiNode([]);
      expectStatus(await other.call('analyst', 'POST', '/api/drafts', { text: '# Short\nC2 45.77.12.9.\n' }), 201);
    } finally {
      delete process.env['ENTENTE_DRAFT_TIME_LIMIT_MS'];
      await other?.close();
    }
  });

  it('abandons the report and answers 422 ENT_EXTRACT_TIMEOUT naming the file and the limit; no draft is stored', async () => {
    const response = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { filename: 'overload.txt', content_base64: Buffer.from(denseReport(25_000)).toString('base64') }), 422);
    const body = errorOf(response);
    assert.equal(body.error_code, 'ENT_EXTRACT_TIMEOUT');
    assert.match(body.description, /^overload\.txt: reading, extraction and tagging took longer than 300 ms/);
    assert.deepEqual(body.details, { file: 'overload.txt', limit_ms: 300 });
    const list = expectStatus(await node.call('analyst', 'GET', '/api/drafts'), 200).json<{ drafts: unknown[] }>();
    assert.deepEqual(list.drafts, []);
  });
});
