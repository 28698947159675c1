import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntenteError } from '../errors/entente-error.ts';
import { DraftWorkerPool } from './draft-worker-pool.ts';
import type { DraftUpload } from './draft-operations.ts';
import type { DraftUploadBody } from './draft-upload-body.ts';

describe('a job the drafting pool cannot hand over to its thread (DraftWorkerPool)', () => {
  const pool = new DraftWorkerPool();
  after(() => pool.close());

  it('refuses bytes sent a second time at once, as an empty body, and keeps the thread', async () => {
    // Bytes of their own buffer are moved to the thread (transferred): once sent, they are gone here
    // (detached). Sent again, the message moving the detached buffer was dropped without a word: the
    // upload waited for the body's 30 s to pass, was refused as too slow (ENT_EXTRACT_TIMEOUT), and
    // the healthy thread was discarded.
    const body: DraftUploadBody = { bytes: new Uint8Array(Buffer.from(JSON.stringify({ text: '# Small\nC2 45.77.12.3.\n' }))), createdBy: 'ana', maxJsonDepth: 64, maxBodyBytes: 1024 * 1024 };
    const draft = await pool.proposeBody(body);
    assert.deepEqual(draft.items.map((item) => item.value), ['45.77.12.3']);
    assert.equal(body.bytes.byteLength, 0, 'the bytes were moved');
    const started = Date.now();
    await assert.rejects(pool.proposeBody(body), (error: unknown) => {
      assert.ok(error instanceof EntenteError, String(error));
      assert.equal(error.code, 'ENT_INPUT_MALFORMED_JSON');
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'answered at once, not at the end of the body\'s time');
    assert.deepEqual(pool.stats, { started: 1, idle: 1, busy: 0, waiting: 0 }, 'the thread is back, ready for the next upload');
    const next = await pool.proposeBody({ ...body, bytes: new Uint8Array(Buffer.from(JSON.stringify({ text: 'C2 45.77.12.4.' }))) });
    assert.deepEqual(next.items.map((item) => item.value), ['45.77.12.4']);
    assert.equal(pool.stats.started, 1, 'on the same thread');
  });

  it('refuses an upload postMessage cannot copy at once, and gives the thread back', async () => {
    // Thrown from the job's promise after its listeners and timer were set, the error refused the
    // upload but left the thread lent until the time limit discarded it.
    const upload = { fileName: 'r.txt', bytes: Buffer.from('C2 45.77.12.5.'), createdBy: 'ana', publisherDomains: [() => 'vendor.example'] } as unknown as DraftUpload;
    const started = Date.now();
    await assert.rejects(pool.propose(upload), { name: 'DataCloneError' });
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(pool.stats, { started: 1, idle: 1, busy: 0, waiting: 0 });
  });
});
