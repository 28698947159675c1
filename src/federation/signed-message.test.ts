import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { isEntenteError } from '../errors/entente-error.ts';
import { createKeyDirectory, instantOf } from './node-key.ts';
import { objectSigningInput } from './sign-object.ts';
import {
  assertMessageVerified,
  messageSigningInput,
  parseSignedMessage,
  signMessage,
  SIGNED_MESSAGE_KINDS,
  verifyMessage,
  type SignedMessage,
} from './signed-message.ts';
import { testOrganisation } from './test-support.ts';

const alpha = testOrganisation(1);
const bravo = testOrganisation(2);
const directory = createKeyDirectory([alpha.pinned, { ...bravo.pinned, validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' }]);
const flashBody = { id: 'flash-1', circle_id: 'baltic-energy', text: 'Wiper staged on grid controllers', sent_at: '2026-11-23T08:00:00.000Z' };

describe('signed messages', () => {
  it('sign "ENTENTE-<KIND>-V1\\n" + canonical JSON of kind, body, signer and key id', () => {
    const message = signMessage('flash-receipt', { flash_id: 'flash-1', z: 1, a: 2 }, alpha.signer);
    const canonical = `{"body":{"a":2,"flash_id":"flash-1","z":1},"key_id":"${alpha.signer.keyId}","kind":"flash-receipt","signer":"${alpha.id}"}`;
    assert.equal(messageSigningInput(message).toString('utf8'), `ENTENTE-FLASH-RECEIPT-V1\n${canonical}`);
    const publicKey = createPublicKey(alpha.signer.privateKey);
    assert.equal(verify(null, Buffer.from(`ENTENTE-FLASH-RECEIPT-V1\n${canonical}`), publicKey, Buffer.from(message.signature, 'base64url')), true);
  });

  it('carry exactly kind, body, signer, key_id and signature', () => {
    const message = signMessage('flash', flashBody, alpha.signer);
    assert.deepEqual(Object.keys(message).sort(), ['body', 'key_id', 'kind', 'signature', 'signer']);
    assert.equal(message.signer, alpha.id);
    assert.equal(message.key_id, alpha.signer.keyId);
  });

  it('verify against the key pinned for the signer, for every kind', () => {
    for (const kind of SIGNED_MESSAGE_KINDS) {
      const message = signMessage(kind, { n: 1 }, alpha.signer);
      assert.deepEqual(verifyMessage(message, directory), { kind: 'verified', signer: alpha.id, keyId: alpha.signer.keyId, key: alpha.pinned });
    }
  });

  it('cannot be passed off as another kind, or as an object signature', () => {
    const flash = signMessage('recall', { n: 1 }, alpha.signer);
    assert.equal(verifyMessage({ ...flash, kind: 'recall-ack' }, directory).kind, 'bad-signature');
    const asObject = { type: 'x-message', id: 'x-message--00000000-0000-4000-8000-000000000001', n: 1 };
    assert.notEqual(objectSigningInput(asObject).toString().split('\n')[0], messageSigningInput(flash).toString().split('\n')[0]);
  });

  it('refuse a changed body, another signer and an unpinned key', () => {
    const message = signMessage('flash', flashBody, alpha.signer);
    assert.equal(verifyMessage({ ...message, body: { ...flashBody, text: 'All clear' } }, directory).kind, 'bad-signature');
    assert.equal(verifyMessage({ ...message, signer: bravo.id }, directory).kind, 'unknown-key');
    assert.equal(verifyMessage(signMessage('flash', flashBody, testOrganisation(3).signer), directory).kind, 'unknown-key');
  });

  it('check the key window at a given instant when asked to', () => {
    const message = signMessage('key-rotation', { new_key_id: alpha.signer.keyId }, bravo.signer);
    assert.equal(verifyMessage(message, directory).kind, 'verified');
    assert.equal(verifyMessage(message, directory, instantOf('2026-03-01T00:00:00Z')).kind, 'verified');
    assert.equal(verifyMessage(message, directory, instantOf('2026-07-01T00:00:00Z')).kind, 'key-not-valid');
  });

  it('throw ENT_SIGNATURE_INVALID from assertMessageVerified when they do not verify', () => {
    const message = signMessage('flash', flashBody, alpha.signer);
    assert.deepEqual(assertMessageVerified(message, directory), alpha.pinned);
    assert.throws(
      () => assertMessageVerified({ ...message, body: {} }, directory),
      (error: unknown) => isEntenteError(error) && error.code === 'ENT_SIGNATURE_INVALID' && error.details?.['verdict'] === 'bad-signature',
    );
  });
});

describe('reading an untrusted signed message', () => {
  const message = signMessage('flash', flashBody, alpha.signer);

  it('reads a message that went through JSON', () => {
    const parsed = parseSignedMessage(JSON.parse(JSON.stringify(message)));
    assert.deepEqual(parsed, { ok: true, value: message });
    assert.equal(parsed.ok && verifyMessage(parsed.value, directory).kind, 'verified');
  });

  it('names every problem, with its path', () => {
    const parsed = parseSignedMessage({ kind: 'telegram', body: [], signer: 'alpha', key_id: 'x', signature: 'y', extra: 1 });
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.ok ? [] : parsed.error.map((issue) => issue.path), ['$.extra', '$.kind', '$.body', '$.signer', '$.key_id', '$.signature']);
  });

  it('refuses bodies that are not plain JSON data or are nested too deep', () => {
    let deep: Record<string, unknown> = {};
    for (let level = 0; level < 40; level += 1) deep = { next: deep };
    for (const body of [{ n: Number.NaN }, { when: new Date() }, { f: () => 1 }, { n: 1n }, deep]) {
      const parsed = parseSignedMessage({ ...message, body });
      assert.equal(parsed.ok, false);
      assert.equal(parsed.ok ? '' : parsed.error[0]?.path.startsWith('$.body'), true);
    }
  });

  it('never throws, whatever it is given', () => {
    const cyclic: Record<string, unknown> = { ...message };
    cyclic['body'] = cyclic;
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('boom'); } });
    const inputs: unknown[] = [undefined, null, 0, 'flash', [], cyclic, hostile, Object.create(null) as object];
    for (const input of inputs) {
      assert.equal(parseSignedMessage(input).ok, false);
    }
  });

  it('keeps the body as received (a signed message is verified, then read per kind by its caller)', () => {
    const parsed = parseSignedMessage({ ...message, body: { anything: ['goes', 1, null] } }) as { ok: true; value: SignedMessage };
    assert.deepEqual(parsed.value.body, { anything: ['goes', 1, null] });
    assert.equal(verifyMessage(parsed.value, directory).kind, 'bad-signature');
  });
});
