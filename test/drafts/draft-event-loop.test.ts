// POST /api/drafts reads, extracts and tags a report off the event loop: while a large report is
// being turned into a draft, the node keeps answering everyone else (TAXII clients, alert streams,
// flashes, sync). Before, extraction and tagging ran in the request handler and held the one event
// loop for as long as they took: seconds for a dense report well within the extraction limits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
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

describe('POST /api/drafts past the time limit (ENTENTE_DRAFT_TIME_LIMIT_MS)', () => {
  let node: CircleApiNode;
  before(async () => {
    // Read when the routes are registered, as at the node's start.
    process.env['ENTENTE_DRAFT_TIME_LIMIT_MS'] = '300';
    try {
      node = await startCircleApiNode([]);
    } finally {
      delete process.env['ENTENTE_DRAFT_TIME_LIMIT_MS'];
    }
  });
  after(() => node.close());

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
