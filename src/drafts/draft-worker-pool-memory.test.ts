import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntenteError } from '../errors/entente-error.ts';
import { DraftWorkerPool } from './draft-worker-pool.ts';

describe('a drafting thread out of heap before the body named its file (DraftWorkerPool.proposeBody)', () => {
  // 4 MiB: the thread runs out of heap while it starts, long before the body is read.
  const pool = new DraftWorkerPool({ heapMb: 4 });
  after(() => pool.close());

  it('answers ENT_EXTRACT_LIMIT_EXCEEDED naming the limit and no file, with no empty details', async () => {
    // Before, the answer carried `"details": {}` (a file to name, and none) and "the upload: drafting
    // needed …" for words.
    const body = { bytes: new Uint8Array(Buffer.from('{"text": "C2 45.77.12.3."}')), createdBy: 'ana', maxJsonDepth: 64, maxBodyBytes: 1024 * 1024 };
    await assert.rejects(pool.proposeBody(body), (error: unknown) => {
      assert.ok(error instanceof EntenteError, String(error));
      assert.equal(error.code, 'ENT_EXTRACT_LIMIT_EXCEEDED');
      assert.equal(error.message, 'the upload needed more than 4 MiB of heap before its file was read; the report was abandoned');
      assert.equal(error.details, undefined);
      return true;
    });
    assert.deepEqual(pool.stats, { started: 1, idle: 0, busy: 0, waiting: 0 }, 'the thread is not kept');
  });
});
