import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { answerUploadPlaceRequest, isUploadPlaceRequest, openProcessUploadPlaces, UploadPlaceLedger, type UploadPlaceReply } from './upload-places.ts';

/** A worker's IPC channel whose primary is the test: what the worker sent, and a way to answer. */
function fakeChannel(): { channel: NodeJS.Process; sent: unknown[]; reply(message: UploadPlaceReply): void } {
  const emitter = new EventEmitter();
  const sent: unknown[] = [];
  const channel = Object.assign(emitter, { connected: true, send: (message: unknown) => sent.push(message) > 0 });
  return { channel: channel as unknown as NodeJS.Process, sent, reply: (message) => emitter.emit('message', message) };
}

describe('the places of uploads under way (maxUploadsPerToken)', () => {
  it('counts per token across holders, and gives back all of a holder\'s places when it goes, and only those', () => {
    const ledger = new UploadPlaceLedger<number>(2);
    assert.deepEqual(ledger.take(1, 'T'), { taken: true });
    assert.deepEqual(ledger.take(2, 'T'), { taken: true });
    assert.deepEqual(ledger.take(1, 'T'), { taken: false, reason: 'full', underWay: 2 });
    assert.deepEqual(ledger.take(1, 'U'), { taken: true }, 'another token has its own places');
    ledger.giveAll(1);
    assert.deepEqual([ledger.underWay('T'), ledger.underWay('U')], [1, 0]);
    // The worker's own give, arriving after its exit gave its places back, frees nothing of another's.
    ledger.give(1, 'T');
    assert.equal(ledger.underWay('T'), 1);
    ledger.give(2, 'T');
    assert.equal(ledger.underWay('T'), 0);
  });

  it('gives a worker that is exiting no place: its exit may have given its places back already', () => {
    const ledger = new UploadPlaceLedger<number>(2);
    const replies: UploadPlaceReply[] = [];
    answerUploadPlaceRequest(ledger, 1, { entente: 'upload-take', id: 1, tokenKey: 'T' }, { isConnected: () => false, isDead: () => false, send: (message) => replies.push(message as UploadPlaceReply) });
    assert.deepEqual([replies.length, ledger.underWay('T')], [0, 0]);
    answerUploadPlaceRequest(ledger, 1, { entente: 'upload-take', id: 2, tokenKey: 'T' }, { isConnected: () => true, isDead: () => false, send: (message) => replies.push(message as UploadPlaceReply) });
    assert.deepEqual(replies, [{ entente: 'upload-taken', id: 2, tokenKey: 'T', answer: { taken: true } }]);
  });

  it('gives no place to a worker that has exited, though its channel is still read (a take sent just before it died, read after its exit gave its places back)', () => {
    const ledger = new UploadPlaceLedger<number>(1);
    const replies: UploadPlaceReply[] = [];
    ledger.giveAll(1);
    answerUploadPlaceRequest(ledger, 1, { entente: 'upload-take', id: 1, tokenKey: 'T' }, { isConnected: () => true, isDead: () => true, send: (message) => replies.push(message as UploadPlaceReply) });
    assert.deepEqual([replies.length, ledger.underWay('T')], [0, 0], 'a place held for good by a worker that is gone');
    assert.deepEqual(ledger.take(2, 'T'), { taken: true }, 'the token can still upload through another worker');
  });

  it('has a worker take and give places through the primary over its IPC channel', async () => {
    const ledger = new UploadPlaceLedger<number>(1);
    const { channel, sent, reply } = fakeChannel();
    const places = openProcessUploadPlaces(channel) ?? assert.fail('no places over a channel');
    const primary = { isConnected: () => true, isDead: () => false, send: reply };
    const taking = places.take('T');
    const request = sent.shift();
    assert.ok(isUploadPlaceRequest(request));
    answerUploadPlaceRequest(ledger, 1, request, primary);
    assert.deepEqual(await taking, { taken: true });
    const refused = places.take('T');
    answerUploadPlaceRequest(ledger, 1, sent.shift() as never, primary);
    assert.deepEqual(await refused, { taken: false, reason: 'full', underWay: 1 });
    places.give('T');
    answerUploadPlaceRequest(ledger, 1, sent.shift() as never, primary);
    assert.equal(ledger.underWay('T'), 0);
  });

  it('refuses an upload the primary does not answer within the wait (not counted, so not let through), and gives back a place granted late', async () => {
    const { channel, sent, reply } = fakeChannel();
    const places = openProcessUploadPlaces(channel, 50) ?? assert.fail('no places over a channel');
    const started = performance.now();
    assert.deepEqual(await places.take('T'), { taken: false, reason: 'unanswered' });
    assert.ok(performance.now() - started < 1000);
    reply({ entente: 'upload-taken', id: 1, tokenKey: 'T', answer: { taken: true } });
    assert.deepEqual(sent, [{ entente: 'upload-take', id: 1, tokenKey: 'T' }, { entente: 'upload-give', tokenKey: 'T' }]);
  });

  // The write is checked by its callback: Node would raise a failed one as an 'error' event that ends
  // the process (ipc-send.ts), and the place it carried would be held for a worker that never had it.
  it('gives back a place whose grant cannot be written to the worker (it died since the check)', () => {
    const ledger = new UploadPlaceLedger<number>(1);
    const gone = { isConnected: () => true, isDead: () => false, send: (_message: unknown, _handle: undefined, written: (error: Error | null) => void) => written(new Error('write EPIPE')) };
    answerUploadPlaceRequest(ledger, 1, { entente: 'upload-take', id: 1, tokenKey: 'T' }, gone);
    assert.equal(ledger.underWay('T'), 0, 'a place held for a grant the worker never received');
    assert.deepEqual(ledger.take(2, 'T'), { taken: true });
  });

  it('refuses at once when the ask cannot be written to the primary (it is gone), without waiting for an answer', async () => {
    const emitter = new EventEmitter();
    const failing = Object.assign(emitter, {
      connected: true,
      send: (_message: unknown, _handle: undefined, _options: undefined, written: (error: Error | null) => void) => {
        setImmediate(() => written(new Error('write EPIPE')));
        return true;
      },
    });
    const places = openProcessUploadPlaces(failing as unknown as NodeJS.Process, 60_000) ?? assert.fail('no places over a channel');
    const started = performance.now();
    assert.deepEqual(await places.take('T'), { taken: false, reason: 'unanswered' });
    assert.ok(performance.now() - started < 1000, 'waited for an answer to an ask never written');
  });

  it('refuses at once when the channel to the primary is closed', async () => {
    const { channel } = fakeChannel();
    (channel as { connected: boolean }).connected = false;
    const places = openProcessUploadPlaces(channel, 60_000) ?? assert.fail('no places over a channel');
    assert.deepEqual(await places.take('T'), { taken: false, reason: 'unanswered' });
  });
});
