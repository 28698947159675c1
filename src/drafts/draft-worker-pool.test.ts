import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EntenteError } from '../errors/entente-error.ts';
import { proposeDraftFromBytes, type DraftUpload } from './draft-operations.ts';
import { DEFAULT_DRAFT_TIME_LIMIT_MS, DraftWorkerPool } from './draft-worker-pool.ts';
import type { NewDraft } from './draft.ts';

const fixture = (name: string): Uint8Array => readFileSync(new URL(`../../test/fixtures/documents/${name}`, import.meta.url));
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const NOW = new Date('2026-11-24T12:00:00.000Z');

/** 2 × `lines` distinct observables: 25,000 lines took seconds to extract, propose and tag. */
function denseReport(lines: number): string {
  const out = ['# Dense', 'The actor used PowerShell (T1059.001).'];
  for (let i = 0; i < lines; i++) out.push(`The implant beaconed to 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} and evil${i}.example-bad.com.`);
  return out.join('\n');
}

/** What the upload proposes on this thread, or the error it throws, as plain data to compare. */
async function inline(upload: DraftUpload): Promise<NewDraft | { code: string; message: string; details: unknown }> {
  try {
    return await proposeDraftFromBytes(upload, NOW);
  } catch (error) {
    assert.ok(error instanceof EntenteError, String(error));
    return { code: error.code, message: error.message, details: error.details };
  }
}

async function inWorker(pool: DraftWorkerPool, upload: DraftUpload): Promise<NewDraft | { code: string; message: string; details: unknown }> {
  try {
    return { ...(await pool.propose(upload)), createdAt: NOW.toISOString() };
  } catch (error) {
    assert.ok(error instanceof EntenteError, String(error));
    return { code: error.code, message: error.message, details: error.details };
  }
}

describe('drafting on a worker thread (DraftWorkerPool)', () => {
  const pool = new DraftWorkerPool();
  after(() => pool.close());

  it('allows a report 60 s by default (the node sets its own: NodeConfig.draftTimeLimitMs)', () => {
    assert.equal(DEFAULT_DRAFT_TIME_LIMIT_MS, 60_000);
    assert.equal(pool.timeLimitMs, DEFAULT_DRAFT_TIME_LIMIT_MS);
  });

  it('proposes exactly what the same upload proposes on the caller’s thread: items, their order, evidence, warnings, title, text', async () => {
    const uploads: DraftUpload[] = [
      { fileName: 'C:\\reports\\lantern.pdf', bytes: fixture('report-two-columns.pdf') },
      { fileName: 'phish.eml', bytes: fixture('phishing-report.eml'), createdBy: 'ana' },
      { fileName: 'page.html', bytes: text('<html><head><title>Dusk</title></head><body><p>TLP:AMBER</p><p>The loader called 45.77.12.9 and hxxp://evil[.]example.org/x (T1566.001).</p></body></html>') },
      { fileName: 'note.txt', bytes: text('# Note\nLinks to https://vendor.example.com/blog and 203.0.113.7 and 185.220.101.47, APT29 used Cobalt Strike.\n'), publisherDomains: ['vendor.example.com'] },
      { fileName: 'dense.txt', bytes: text(denseReport(3000)) },
    ];
    for (const upload of uploads) {
      const expected = await inline(upload);
      assert.ok('items' in expected && expected.items.length > 0, `${upload.fileName} proposes items`);
      assert.deepEqual(await inWorker(pool, upload), expected, upload.fileName);
    }
    assert.equal(pool.stats.started, 1, 'one thread, kept warm between uploads');
  });

  it('refuses what the caller’s thread refuses, with the same code, message and details', async () => {
    const uploads: DraftUpload[] = [
      { fileName: 'encrypted.pdf', bytes: fixture('encrypted.pdf') },
      { fileName: 'truncated.pdf', bytes: fixture('truncated.pdf') },
      // 2 × 50,001 observables: past the 100,000 extraction allows.
      { fileName: 'feed.txt', bytes: text(denseReport(50_001)) },
    ];
    for (const upload of uploads) {
      const expected = await inline(upload);
      assert.ok('code' in expected, `${upload.fileName} is refused`);
      assert.deepEqual(await inWorker(pool, upload), expected, upload.fileName);
    }
  });

  it('reads a raw POST /api/drafts body on the thread: the draft its upload proposes, or what reading the body refuses', async () => {
    const limits = { maxJsonDepth: 64, maxBodyBytes: 64 * 1024 * 1024 };
    const report = '# Note\nC2 45.77.12.9 and evil-c2.com.\n';
    // Its own buffer, as the HTTP server's body is (a copy of the chunks received).
    const body = new Uint8Array(Buffer.from(JSON.stringify({ filename: 'reports/note.txt', content_base64: Buffer.from(report).toString('base64'), publisher_domains: ['vendor.example'] })));
    const expected = await inline({ fileName: 'reports/note.txt', bytes: text(report), createdBy: 'ana', publisherDomains: ['vendor.example'] });
    assert.deepEqual({ ...(await pool.proposeBody({ bytes: body, createdBy: 'ana', ...limits })), createdAt: NOW.toISOString() }, expected);
    assert.equal(body.byteLength, 0, 'the body was moved to the thread, not copied');

    // A body sharing its buffer (a small one from Node's pool) is copied: the rest of the buffer stays.
    const shared = Buffer.from(JSON.stringify({ text: report }));
    const pooled = shared.buffer.byteLength > shared.byteLength;
    const draft = await pool.proposeBody({ bytes: shared, createdBy: 'ana', ...limits });
    assert.deepEqual(draft.items.map((item) => item.value), ['45.77.12.9', 'evil-c2.com']);
    if (pooled) assert.equal(shared.byteLength, JSON.stringify({ text: report }).length, 'a shared buffer is left alone');

    const refusals: [string, string, unknown][] = [
      ['{"text": "x",\n oops}', 'ENT_INPUT_MALFORMED_JSON', { line: 2, column: 2 }],
      ['{"text": "x", "admin": true}', 'ENT_HTTP_BAD_FIELD', { field: 'admin' }],
      ['[]', 'ENT_INPUT_NOT_ENVELOPE', undefined],
    ];
    for (const [raw, code, details] of refusals) {
      await assert.rejects(pool.proposeBody({ bytes: Buffer.from(raw), createdBy: 'ana', ...limits }), (error: unknown) => {
        assert.ok(error instanceof EntenteError, String(error));
        assert.deepEqual([error.code, error.details], [code, details], raw);
        return true;
      });
    }
    assert.equal(pool.stats.started, 1, 'a refused body does not cost the thread');
  });

  it('abandons an upload past the time limit (ENT_EXTRACT_TIMEOUT, 422), kills its thread and drafts the next upload on a new one', async () => {
    const quick = new DraftWorkerPool({ timeLimitMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(quick.propose({ fileName: 'reports/dense.txt', bytes: text(denseReport(25_000)) }), (error: unknown) => {
        assert.ok(error instanceof EntenteError);
        assert.equal(error.code, 'ENT_EXTRACT_TIMEOUT');
        assert.equal(error.status, 422);
        assert.match(error.message, /^dense\.txt: reading, extraction and tagging took longer than 300 ms \(ENTENTE_DRAFT_TIME_LIMIT_MS\)/);
        assert.deepEqual(error.details, { file: 'dense.txt', limit_ms: 300 });
        return true;
      });
      assert.ok(Date.now() - started < 5000, 'answered at the limit, not when the thread would have finished');
      // Sent as a body, the limit counts once the body is read (the thread tells the file then), and names the file.
      const body = Buffer.from(JSON.stringify({ filename: 'reports/dense.txt', content_base64: Buffer.from(denseReport(25_000)).toString('base64') }));
      await assert.rejects(quick.proposeBody({ bytes: body, createdBy: 'ana', maxJsonDepth: 64, maxBodyBytes: 64 * 1024 * 1024 }), (error: unknown) => {
        assert.ok(error instanceof EntenteError);
        assert.deepEqual([error.code, error.details], ['ENT_EXTRACT_TIMEOUT', { file: 'dense.txt', limit_ms: 300 }]);
        return true;
      });
      assert.deepEqual(quick.stats, { started: 2, idle: 0, busy: 0, waiting: 0 }, 'the thread is not kept');
      // Within the limit of a pool that allows it: a new thread.
      const patient = new DraftWorkerPool({ timeLimitMs: 60_000 });
      try {
        const draft = await patient.propose({ fileName: 'short.txt', bytes: text('# Short\nC2 45.77.12.9.\n') });
        assert.deepEqual(draft.items.map((item) => item.value), ['45.77.12.9']);
      } finally {
        await patient.close();
      }
    } finally {
      await quick.close();
    }
  });

  it('makes uploads past its threads wait their turn, and drafts each', async () => {
    const single = new DraftWorkerPool({ maxThreads: 1 });
    try {
      const uploads = ['45.77.12.9', '45.77.12.10', '45.77.12.11'].map((address) => single.propose({ fileName: `${address}.txt`, bytes: text(`C2 ${address}.\n`) }));
      assert.equal(single.stats.waiting, 2);
      const drafts = await Promise.all(uploads);
      assert.deepEqual(drafts.map((draft) => draft.items.map((item) => item.value)), [['45.77.12.9'], ['45.77.12.10'], ['45.77.12.11']]);
      assert.deepEqual(single.stats, { started: 1, idle: 1, busy: 0, waiting: 0 });
    } finally {
      await single.close();
    }
  });

  it('refuses an upload past the uploads it lets wait (ENT_DRAFT_QUEUE_FULL, 503), keeping nothing of it, and drafts the others', async () => {
    const single = new DraftWorkerPool({ maxThreads: 1, maxWaiting: 1 });
    try {
      const first = single.propose({ fileName: 'a.txt', bytes: text('C2 45.77.12.9.\n') });
      const second = single.propose({ fileName: 'b.txt', bytes: text('C2 45.77.12.10.\n') });
      await assert.rejects(single.propose({ fileName: 'c.txt', bytes: text('C2 45.77.12.11.\n') }), (error: unknown) => {
        assert.ok(error instanceof EntenteError);
        assert.equal(error.code, 'ENT_DRAFT_QUEUE_FULL');
        assert.equal(error.status, 503);
        assert.match(error.message, /1 upload/);
        return true;
      });
      assert.equal(single.stats.waiting, 1);
      const drafts = await Promise.all([first, second]);
      assert.deepEqual(drafts.map((draft) => draft.items.map((item) => item.value)), [['45.77.12.9'], ['45.77.12.10']]);
      // Room again once the queue drains.
      assert.deepEqual((await single.propose({ fileName: 'd.txt', bytes: text('C2 45.77.12.12.\n') })).items.map((item) => item.value), ['45.77.12.12']);
    } finally {
      await single.close();
    }
  });
  it('answers uploads still waiting when the pool closes at once with 503 ENT_NODE_SHUTTING_DOWN, drafts the one in hand, and refuses later ones alike', async () => {
    const single = new DraftWorkerPool({ maxThreads: 1, maxWaiting: 2 });
    const refusedAsShuttingDown = (error: unknown): boolean => {
      assert.ok(error instanceof EntenteError, `a plain error (a 500) instead: ${String(error)}`);
      assert.deepEqual([error.code, error.status], ['ENT_NODE_SHUTTING_DOWN', 503]);
      assert.match(error.message, /shutting down/);
      return true;
    };
    const inHand = single.propose({ fileName: 'a.txt', bytes: text('C2 45.77.12.9.\n') });
    const waiting = [single.propose({ fileName: 'b.txt', bytes: text('C2 45.77.12.10.\n') }), single.propose({ fileName: 'c.txt', bytes: text('C2 45.77.12.11.\n') })];
    const settled = Promise.allSettled(waiting);
    assert.equal(single.stats.waiting, 2);
    const closing = single.close();
    // Answered now, not once the upload in hand is done: they would never get a thread.
    const [b, c] = await settled;
    for (const outcome of [b, c]) {
      assert.equal(outcome?.status, 'rejected');
      if (outcome?.status === 'rejected') refusedAsShuttingDown(outcome.reason);
    }
    assert.equal(single.stats.waiting, 0);
    assert.deepEqual((await inHand).items.map((item) => item.value), ['45.77.12.9'], 'the upload a thread had is drafted');
    await closing;
    await assert.rejects(single.propose({ fileName: 'd.txt', bytes: text('C2 45.77.12.12.\n') }), refusedAsShuttingDown);
    assert.throws(() => single.reserve(), refusedAsShuttingDown, 'an upload whose body starts to arrive is refused before it is read');
    assert.deepEqual(single.stats, { started: 1, idle: 0, busy: 0, waiting: 0 });
  });
});
