import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { isEntenteError } from '../errors/entente-error.ts';
import type { StixObject } from '../stix/types.ts';
import { validateStixObject } from '../stix/validate.ts';
import { createKeyDirectory } from './node-key.ts';
import { objectSigningInput, signObject, STIX_SIGNATURE_PREFIX, verifyObjectSignature } from './sign-object.ts';
import { readSignatureExtension, SIGNATURE_EXTENSION_ID } from './signature-extension.ts';
import { testOrganisation } from './test-support.ts';

const alpha = testOrganisation(1);
const bravo = testOrganisation(2);
const directory = createKeyDirectory([alpha.pinned, bravo.pinned]);
const OTHER_EXTENSION = 'extension-definition--aaaaaaaa-0000-4000-8000-000000000000';

function indicator(overrides: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--00000000-0000-4000-8000-0000000000a1',
    created_by_ref: alpha.id,
    created: '2026-11-01T10:00:00.000Z',
    modified: '2026-11-01T10:00:00.000Z',
    name: 'Grid controller C2',
    pattern: "[ipv4-addr:value = '203.0.113.7']",
    pattern_type: 'stix',
    valid_from: '2026-11-01T10:00:00Z',
    ...overrides,
  } as StixObject;
}

function extensionOf(object: StixObject): Record<string, unknown> {
  const extensions = object['extensions'] as Record<string, Record<string, unknown>>;
  return extensions[SIGNATURE_EXTENSION_ID] ?? {};
}

describe('signing an object version', () => {
  it('signs "ENTENTE-STIX-SIGNATURE-V1\\n" + the RFC 8785 canonical JSON of the object without its signature', () => {
    const object: StixObject = { type: 'x-probe', id: 'x-probe--00000000-0000-4000-8000-000000000001', b: [2, 1], a: 'é' };
    const signed = signObject(object, alpha.signer);
    const canonical = '{"a":"é","b":[2,1],"id":"x-probe--00000000-0000-4000-8000-000000000001","type":"x-probe"}';
    assert.equal(objectSigningInput(signed).toString('utf8'), STIX_SIGNATURE_PREFIX + canonical);
    const signature = Buffer.from(String(extensionOf(signed)['signature']), 'base64url');
    const publicKey = createPublicKey(alpha.signer.privateKey);
    assert.equal(verify(null, Buffer.from(`ENTENTE-STIX-SIGNATURE-V1\n${canonical}`, 'utf8'), publicKey, signature), true);
  });

  it('adds the extension with algorithm, signer, key id and a 64-byte signature, and leaves the input unchanged', () => {
    const object = indicator();
    const before = structuredClone(object);
    const signed = signObject(object, alpha.signer);
    assert.deepEqual(object, before);
    const extension = extensionOf(signed);
    assert.deepEqual(Object.keys(extension).sort(), ['algorithm', 'extension_type', 'key_id', 'signature', 'signer']);
    assert.equal(extension['extension_type'], 'property-extension');
    assert.equal(extension['algorithm'], 'Ed25519');
    assert.equal(extension['signer'], alpha.id);
    assert.equal(extension['key_id'], alpha.signer.keyId);
    assert.equal(Buffer.from(String(extension['signature']), 'base64url').length, 64);
    assert.deepEqual({ ...signed, extensions: undefined }, { ...object, extensions: undefined });
  });

  it('yields a valid STIX 2.1 object', () => {
    const report = validateStixObject(signObject(indicator(), alpha.signer, { derived: true }));
    assert.equal(report.valid, true, JSON.stringify(report.issues));
  });

  it('gives the same bytes every time, whatever the property order (Ed25519 is deterministic)', () => {
    const object = indicator();
    const reordered = Object.fromEntries(Object.entries(object).reverse()) as StixObject;
    assert.deepEqual(extensionOf(signObject(object, alpha.signer)), extensionOf(signObject(reordered, alpha.signer)));
  });

  it('keeps other extensions and signs them with the object', () => {
    const other = { extension_type: 'property-extension', rank: 3 };
    const signed = signObject(indicator({ extensions: { [OTHER_EXTENSION]: other } }), alpha.signer);
    assert.deepEqual((signed['extensions'] as Record<string, unknown>)[OTHER_EXTENSION], other);
    assert.equal(verifyObjectSignature(signed, directory).kind, 'verified');
    const edited = { ...signed, extensions: { ...(signed['extensions'] as Record<string, unknown>), [OTHER_EXTENSION]: { ...other, rank: 4 } } } as StixObject;
    assert.equal(verifyObjectSignature(edited, directory).kind, 'bad-signature');
  });

  it('replaces an Entente signature already there (it is not part of what is signed)', () => {
    const resigned = signObject(signObject(indicator(), alpha.signer), bravo.signer, { derived: true });
    assert.equal(extensionOf(resigned)['signer'], bravo.id);
    assert.equal(extensionOf(resigned)['derived'], true);
    assert.deepEqual(extensionOf(resigned), extensionOf(signObject(indicator(), bravo.signer, { derived: true })));
  });

  it('refuses to sign under a key id that is not the private key\'s', () => {
    assert.throws(
      () => signObject(indicator(), { ...alpha.signer, keyId: bravo.signer.keyId }),
      (error: unknown) => isEntenteError(error) && error.code === 'ENT_KEY_NOT_FOUND',
    );
  });
});

describe('verifying an object signature', () => {
  const signed = signObject(indicator(), alpha.signer);

  it('names the signer and key of a signature that verifies with a key pinned for that signer', () => {
    const verdict = verifyObjectSignature(signed, directory);
    assert.deepEqual(verdict, { kind: 'verified', signer: alpha.id, keyId: alpha.signer.keyId, derived: false, key: alpha.pinned });
  });

  it('says derived when the signer says it redacted the version', () => {
    const verdict = verifyObjectSignature(signObject(indicator(), bravo.signer, { derived: true }), directory);
    assert.equal(verdict.kind === 'verified' && verdict.derived, true);
  });

  it('tells unsigned objects from malformed signatures', () => {
    assert.deepEqual(verifyObjectSignature(indicator(), directory), { kind: 'unsigned' });
    const broken = { ...signed, extensions: { [SIGNATURE_EXTENSION_ID]: { ...extensionOf(signed), algorithm: 'none' } } } as StixObject;
    assert.equal(verifyObjectSignature(broken, directory).kind, 'malformed');
  });

  it('finds a changed property, a removed one and an added one', () => {
    for (const changed of [{ ...signed, name: 'Grid controller C3' }, { ...signed, name: undefined }, { ...signed, confidence: 90 }]) {
      const object = JSON.parse(JSON.stringify(changed)) as StixObject;
      assert.equal(verifyObjectSignature(object, directory).kind, 'bad-signature');
    }
  });

  it('knows no key that is not pinned for the organisation named as signer', () => {
    const stranger = testOrganisation(3);
    assert.equal(verifyObjectSignature(signObject(indicator(), stranger.signer), directory).kind, 'unknown-key');
    const claimed = { ...signed, extensions: { [SIGNATURE_EXTENSION_ID]: { ...extensionOf(signed), signer: bravo.id } } } as StixObject;
    assert.equal(verifyObjectSignature(claimed, directory).kind, 'unknown-key');
  });

  it('does not cover the extension itself: whether a signature is derived changes how it is accepted, not whether it verifies', () => {
    const flagged = { ...signed, extensions: { [SIGNATURE_EXTENSION_ID]: { ...extensionOf(signed), derived: true } } } as StixObject;
    const verdict = verifyObjectSignature(flagged, directory);
    assert.equal(verdict.kind === 'verified' && verdict.derived, true);
    assert.equal(readSignatureExtension(flagged).kind, 'ok');
  });
});
