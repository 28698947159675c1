import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntenteError } from '../errors/entente-error.ts';
import { fromPlainError, toPlainError } from './plain-error.ts';

/** What structured clone (postMessage) makes of a value: the plain form must survive it whole. */
const cloned = <T>(value: T): T => structuredClone(value);

describe('an error carried across a worker thread (toPlainError, fromPlainError)', () => {
  it('keeps an EntenteError whole: code, status, message and details', () => {
    const sent = new EntenteError('ENT_EXTRACT_TIMEOUT', 'dense.txt: took too long', { file: 'dense.txt', limit_ms: 300 });
    const received = fromPlainError(cloned(toPlainError(sent)));
    assert.ok(received instanceof EntenteError);
    assert.deepEqual([received.code, received.status, received.message, received.details], ['ENT_EXTRACT_TIMEOUT', 422, 'dense.txt: took too long', { file: 'dense.txt', limit_ms: 300 }]);
  });

  it("keeps an EntenteError's stack, where the thread threw it, for the log of a fault (a 5xx)", () => {
    // Rebuilt on the waiting thread, an EntenteError had that thread's stack (fromPlainError's own):
    // the log of an internal error said nothing of where, on the worker, it was thrown.
    const sent = new EntenteError('ENT_HTTP_INTERNAL', 'the store failed');
    const received = fromPlainError(cloned(toPlainError(sent)));
    assert.equal(received.stack, sent.stack);
  });

  it("keeps another error's message, stack and system code (ENOENT), as a plain Error", () => {
    const sent = Object.assign(new Error("ENOENT: no such file or directory, open 'feed.json'"), { code: 'ENOENT' });
    const received = fromPlainError(cloned(toPlainError(sent)));
    assert.equal(received instanceof EntenteError, false);
    assert.deepEqual([received.message, received.stack, (received as NodeJS.ErrnoException).code], [sent.message, sent.stack, 'ENOENT']);
  });

  it('turns anything else thrown into an Error with its text', () => {
    assert.equal(fromPlainError(cloned(toPlainError('worker gave up'))).message, 'worker gave up');
  });

  it('never makes an EntenteError of a code the catalogue does not hold', () => {
    const received = fromPlainError({ code: 'ENT_NOT_A_CODE', message: 'forged' });
    assert.equal(received instanceof EntenteError, false);
    assert.equal((received as NodeJS.ErrnoException).code, 'ENT_NOT_A_CODE');
  });
});
