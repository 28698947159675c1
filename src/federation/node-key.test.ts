import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { isEntenteError } from '../errors/entente-error.ts';
import {
  assertSigner,
  checkPinnedSignature,
  createKeyDirectory,
  createNodeKeyPair,
  fingerprintOf,
  instantOf,
  isFingerprintOf,
  isKeyValidAt,
  keyIdOf,
  parsePrivateKey,
  parsePublicKey,
  signBytes,
  toPkcs8PrivateKey,
  toRawPublicKey,
  type PinnedKey,
} from './node-key.ts';
import { keyFromSeed, testOrganisation } from './test-support.ts';

// RFC 8032 §7.1, TEST 1: secret key, public key, and the signature of the empty message.
const RFC8032_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

const rfcPublic = Buffer.from(RFC8032_PUBLIC, 'hex').toString('base64url');

describe('node keys: text forms', () => {
  it('reads a raw public key as base64url (the JWK x form) and writes it back unchanged', () => {
    const parsed = parsePublicKey(rfcPublic);
    assert.ok(parsed.ok);
    assert.equal(toRawPublicKey(parsed.value), rfcPublic);
    assert.equal(rfcPublic.length, 43);
  });

  it('derives the RFC 8032 public key from the private key stored as PKCS#8 DER base64, and signs as RFC 8032 says', () => {
    const privateKey = keyFromSeed(RFC8032_SECRET);
    const stored = toPkcs8PrivateKey(privateKey);
    const parsed = parsePrivateKey(stored);
    assert.ok(parsed.ok);
    assert.equal(toRawPublicKey(parsed.value), rfcPublic);
    assert.equal(sign(null, Buffer.alloc(0), parsed.value).toString('hex'), RFC8032_SIGNATURE);
  });

  it('refuses public keys that are not exactly 32 bytes in canonical unpadded base64url, without throwing', () => {
    const raw = Buffer.from(RFC8032_PUBLIC, 'hex');
    // The last of 43 characters carries two unused bits: flipping one gives the same bytes when decoded leniently.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const strayBits = rfcPublic.slice(0, -1) + (alphabet[alphabet.indexOf(rfcPublic.at(-1) ?? 'A') ^ 1] ?? '');
    assert.deepEqual(Buffer.from(strayBits, 'base64url'), raw);
    for (const bad of [
      `${rfcPublic}=`,
      raw.toString('base64'), // standard alphabet with padding
      raw.subarray(0, 31).toString('base64url'),
      Buffer.concat([raw, Buffer.alloc(1)]).toString('base64url'),
      strayBits,
      '',
      42,
      undefined,
    ]) {
      const parsed = parsePublicKey(bad);
      assert.equal(parsed.ok, false, `accepted ${String(bad)}`);
    }
  });

  it('refuses private keys that are not Ed25519 PKCS#8 in base64, without throwing', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    for (const bad of [rsa, 'not base64!', '', Buffer.from('garbage').toString('base64'), null]) {
      assert.equal(parsePrivateKey(bad).ok, false);
    }
  });
});

describe('node keys: key ids and fingerprints', () => {
  it('names a key by the first 16 bytes of SHA-256 over the raw public key, base64url, 22 characters', () => {
    const hash = createHash('sha256').update(Buffer.from(RFC8032_PUBLIC, 'hex')).digest();
    assert.equal(keyIdOf(rfcPublic), hash.subarray(0, 16).toString('base64url'));
    assert.equal(keyIdOf(Buffer.from(RFC8032_PUBLIC, 'hex')), keyIdOf(rfcPublic));
    assert.equal(keyIdOf(rfcPublic).length, 22);
  });

  it('shows the whole SHA-256 as 16 groups of four lowercase hex digits; the key id is a prefix of the same hash', () => {
    const hash = createHash('sha256').update(Buffer.from(RFC8032_PUBLIC, 'hex')).digest('hex');
    const fingerprint = fingerprintOf(rfcPublic);
    assert.match(fingerprint, /^[0-9a-f]{4}( [0-9a-f]{4}){15}$/);
    assert.equal(fingerprint.replace(/ /g, ''), hash);
    assert.equal(Buffer.from(keyIdOf(rfcPublic), 'base64url').toString('hex'), hash.slice(0, 32));
  });

  it('matches a fingerprint typed in any case, with spaces or colons, but never a prefix or another key', () => {
    const fingerprint = fingerprintOf(rfcPublic);
    assert.equal(isFingerprintOf(rfcPublic, fingerprint), true);
    assert.equal(isFingerprintOf(rfcPublic, fingerprint.toUpperCase().replace(/ /g, ':')), true);
    assert.equal(isFingerprintOf(rfcPublic, fingerprint.replace(/ /g, '')), true);
    assert.equal(isFingerprintOf(rfcPublic, fingerprint.slice(0, 39)), false);
    assert.equal(isFingerprintOf(testOrganisation(2).pinned.publicKey, fingerprint), false);
  });

  it('throws ENT_PEER_KEY_MISMATCH for a key id or fingerprint of something that is not a 32-byte key', () => {
    assert.throws(() => keyIdOf('abc'), (error: unknown) => isEntenteError(error) && error.code === 'ENT_PEER_KEY_MISMATCH');
    assert.throws(() => fingerprintOf(new Uint8Array(31)), (error: unknown) => isEntenteError(error) && error.code === 'ENT_PEER_KEY_MISMATCH');
  });

  it('creates key pairs whose stored forms agree with each other', () => {
    const pair = createNodeKeyPair();
    assert.equal(pair.keyId, keyIdOf(pair.publicKey));
    assert.equal(toRawPublicKey(pair.publicKeyObject), pair.publicKey);
    const reread = parsePrivateKey(pair.privateKeyPkcs8);
    assert.ok(reread.ok);
    assert.equal(toRawPublicKey(reread.value), pair.publicKey);
    assert.notEqual(createNodeKeyPair().keyId, pair.keyId);
  });
});

describe('node keys: signers', () => {
  const alpha = testOrganisation(1);

  it('signs only with an Ed25519 private key whose key id is the one the signer names', () => {
    assert.doesNotThrow(() => assertSigner(alpha.signer));
    const other = testOrganisation(2);
    const refusals = [
      { ...alpha.signer, keyId: other.signer.keyId },
      { ...alpha.signer, privateKey: generateKeyPairSync('ed25519').publicKey },
      { ...alpha.signer, privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
      { ...alpha.signer, organisationId: 'alpha' },
    ];
    for (const signer of refusals) {
      assert.throws(() => signBytes(signer, Buffer.from('x')), (error: unknown) => isEntenteError(error) && error.code === 'ENT_KEY_NOT_FOUND');
    }
  });
});

describe('node keys: checking a signature against pinned keys', () => {
  const alpha = testOrganisation(1);
  const bravo = testOrganisation(2);
  const directory = createKeyDirectory([alpha.pinned, bravo.pinned]);
  const bytes = Buffer.from('ENTENTE-TEST\nhello');
  const signature = signBytes(alpha.signer, bytes);

  it('verifies with the key pinned for the signer', () => {
    assert.deepEqual(checkPinnedSignature(directory, alpha.id, alpha.signer.keyId, bytes, signature), { kind: 'verified', key: alpha.pinned });
  });

  it('knows no key that is not pinned, and no key pinned for another organisation than the signer named', () => {
    const stranger = testOrganisation(3);
    assert.equal(checkPinnedSignature(directory, stranger.id, stranger.signer.keyId, bytes, signBytes(stranger.signer, bytes)).kind, 'unknown-key');
    assert.equal(checkPinnedSignature(directory, bravo.id, alpha.signer.keyId, bytes, signature).kind, 'unknown-key');
  });

  it('refuses other bytes, another key of the same directory, and a signature not in canonical form', () => {
    assert.equal(checkPinnedSignature(directory, alpha.id, alpha.signer.keyId, Buffer.from('ENTENTE-TEST\nhellO'), signature).kind, 'bad-signature');
    assert.equal(checkPinnedSignature(directory, bravo.id, bravo.signer.keyId, bytes, signature).kind, 'bad-signature');
    assert.equal(checkPinnedSignature(directory, alpha.id, alpha.signer.keyId, bytes, `${signature}==`).kind, 'bad-signature');
  });

  it('does not use a pinned row whose key id is not the hash of its key', () => {
    const forged: PinnedKey = { ...alpha.pinned, publicKey: bravo.pinned.publicKey };
    const verdict = checkPinnedSignature(createKeyDirectory([forged]), alpha.id, alpha.signer.keyId, bytes, signBytes(bravo.signer, bytes));
    assert.equal(verdict.kind, 'unknown-key');
  });

  it('uses the key as pinned now, not as it was cached under the same key id', () => {
    const good = checkPinnedSignature(directory, alpha.id, alpha.signer.keyId, bytes, signature);
    assert.equal(good.kind, 'verified');
    const repinned = createKeyDirectory([{ ...alpha.pinned, publicKey: bravo.pinned.publicKey }]);
    assert.equal(checkPinnedSignature(repinned, alpha.id, alpha.signer.keyId, bytes, signature).kind, 'unknown-key');
  });
});

describe('node keys: validity windows', () => {
  const key: PinnedKey = { ...testOrganisation(1).pinned, validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2026-02-01T00:00:00.000Z' };
  const at = (text: string): number => instantOf(text) ?? Number.NaN;

  it('holds from validFrom until validUntil, widened by five minutes on each side', () => {
    assert.equal(isKeyValidAt(key, at('2026-01-15T00:00:00Z')), true);
    assert.equal(isKeyValidAt(key, at('2025-12-31T23:55:00Z')), true);
    assert.equal(isKeyValidAt(key, at('2025-12-31T23:54:59.999Z')), false);
    assert.equal(isKeyValidAt(key, at('2026-02-01T00:04:59.999Z')), true);
    assert.equal(isKeyValidAt(key, at('2026-02-01T00:05:00Z')), false);
  });

  it('has no end while the key is not retired, and is never valid when its window cannot be read', () => {
    const open: PinnedKey = { ...key, validUntil: undefined };
    assert.equal(isKeyValidAt(open, at('2099-01-01T00:00:00Z')), true);
    assert.equal(isKeyValidAt({ ...key, validFrom: 'yesterday' }, at('2026-01-15T00:00:00Z')), false);
    assert.equal(isKeyValidAt({ ...key, validUntil: '2026-02-30T00:00:00Z' }, at('2026-01-15T00:00:00Z')), false);
  });

  it('reads STIX timestamps to the millisecond, a leap second as the next second, and refuses impossible dates', () => {
    assert.equal(instantOf('2026-01-01T00:00:00.123456Z'), Date.UTC(2026, 0, 1, 0, 0, 0, 123));
    assert.equal(instantOf('2016-12-31T23:59:60Z'), Date.UTC(2017, 0, 1));
    assert.equal(instantOf('2026-02-30T00:00:00Z'), undefined);
    assert.equal(instantOf('2026-01-01 00:00:00Z'), undefined);
    // "60" read as a leap second only as the seconds, with or without a fraction; anywhere else it is what it is.
    assert.equal(instantOf('2016-12-31T23:59:60.5Z'), Date.UTC(2017, 0, 1, 0, 0, 0, 500));
    assert.equal(instantOf('2016-12-31T23:60:00Z'), undefined);
    assert.equal(instantOf('2060-12-31T23:59:59Z'), Date.UTC(2060, 11, 31, 23, 59, 59));
    assert.equal(instantOf('2016-12-31T23:59:60'), undefined);
    assert.equal(instantOf('2016-12-31T23:59:61Z'), undefined);
  });
});
