// A node's Ed25519 keys as docs/federation.md ("Keys and signatures") describes them: key ids,
// fingerprints, the text forms they are stored and published in, pinned keys, and the one place a
// signature is checked against a pinned key. Pure computation: node:crypto, no clock, no I/O.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { EntenteError } from '../errors/entente-error.ts';
import { err, ok, type Result } from '../errors/result.ts';
import { parseMicroTimestamp } from '../stix/micro-timestamp.ts';
import { checkIdentifier, idHasType, IdVerdict } from '../stix/validate/lexical.ts';

/** A raw Ed25519 public key is 32 bytes: 43 characters of unpadded base64url. */
const RAW_PUBLIC_KEY_BYTES = 32;
/** An Ed25519 signature is 64 bytes: 86 characters of unpadded base64url. */
export const SIGNATURE_BYTES = 64;
const KEY_ID_BYTES = 16;
/** Clocks of allied nodes disagree a little; a key's window is widened by this much on each side. */
export const KEY_VALIDITY_SKEW_MS = 5 * 60 * 1000;

const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * One organisation's public key as this node pinned it (table `pinned_keys`). `publicKey` is the raw
 * 32-byte key in unpadded base64url (the JWK `x` form); the window is RFC 3339 UTC, `validUntil`
 * absent or undefined while the key has not been retired.
 */
export interface PinnedKey {
  readonly organisationId: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly validFrom: string;
  readonly validUntil?: string | undefined;
}

/** Where verification finds keys: every key pinned for an organisation, and a key by its id. */
export interface KeyDirectory {
  /**
   * In any letter case: a UUID is case-insensitive (RFC 4122, section 3) and the validator only warns
   * about upper-case hex, so `identity--C0FFEE…` names the organisation `identity--c0ffee…` to a reader.
   */
  keysOf(organisationId: string): readonly PinnedKey[];
  findKey(keyId: string): PinnedKey | undefined;
}

/** What signs on behalf of the home organisation: its identity id, the key id and the private key. */
export interface NodeSigner {
  readonly organisationId: string;
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

/** A fresh key pair in every form the node needs: the store keeps `privateKeyPkcs8`, peers get `publicKey`. */
export interface NodeKeyPair {
  readonly keyId: string;
  /** Raw 32-byte public key, unpadded base64url. */
  readonly publicKey: string;
  /** PKCS#8 DER, standard base64 (node_meta). */
  readonly privateKeyPkcs8: string;
  readonly privateKey: KeyObject;
  readonly publicKeyObject: KeyObject;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Decodes unpadded base64url, accepting only the one canonical spelling (no stray bits in the last character). */
export function decodeCanonicalBase64url(text: string, bytes: number): Buffer | undefined {
  if (!BASE64URL_PATTERN.test(text) || text.length !== Math.ceil((bytes * 4) / 3)) return undefined;
  const decoded = Buffer.from(text, 'base64url');
  if (decoded.length !== bytes || decoded.toString('base64url') !== text) return undefined;
  return decoded;
}

function rawPublicKeyBytes(publicKey: string | Uint8Array): Buffer | undefined {
  if (typeof publicKey !== 'string') return publicKey.length === RAW_PUBLIC_KEY_BYTES ? Buffer.from(publicKey) : undefined;
  return decodeCanonicalBase64url(publicKey, RAW_PUBLIC_KEY_BYTES);
}

function requireRaw(publicKey: string | Uint8Array): Buffer {
  const raw = rawPublicKeyBytes(publicKey);
  if (raw === undefined) {
    throw new EntenteError('ENT_PEER_KEY_MISMATCH', 'A public key must be 32 raw Ed25519 bytes (43 characters of unpadded base64url)');
  }
  return raw;
}

/**
 * The key id: the first 16 bytes of SHA-256 over the raw 32-byte public key, unpadded base64url
 * (22 characters). Takes the raw bytes or their base64url text; throws ENT_PEER_KEY_MISMATCH for
 * anything that is not a 32-byte key.
 */
export function keyIdOf(publicKey: string | Uint8Array): string {
  return sha256(requireRaw(publicKey)).subarray(0, KEY_ID_BYTES).toString('base64url');
}

/**
 * The fingerprint shown to humans and given to `peer add --fingerprint`: the whole SHA-256 of the
 * raw public key in lowercase hex, in 16 groups of four separated by single spaces
 * (`3b6a 27bc ce1b …`, 79 characters). The key id is a prefix of the same hash.
 */
export function fingerprintOf(publicKey: string | Uint8Array): string {
  const hex = sha256(requireRaw(publicKey)).toString('hex');
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

/**
 * Whether a fingerprint as a human typed or pasted it names this key: case, spaces and colons do
 * not matter, every one of the 64 hex digits does (no prefix matching).
 */
export function isFingerprintOf(publicKey: string | Uint8Array, fingerprint: string): boolean {
  const typed = fingerprint.toLowerCase().replace(/[\s:]/g, '');
  return /^[0-9a-f]{64}$/.test(typed) && typed === fingerprintOf(publicKey).replace(/ /g, '');
}

export function isKeyId(value: unknown): value is string {
  return typeof value === 'string' && KEY_ID_PATTERN.test(value);
}

export function isOrganisationId(value: unknown): value is string {
  return typeof value === 'string' && checkIdentifier(value) === IdVerdict.Ok && idHasType(value, 'identity');
}

/** A peer's (untrusted) raw public key, base64url, as a KeyObject; never throws. */
export function parsePublicKey(value: unknown): Result<KeyObject, string> {
  if (typeof value !== 'string') return err('a public key must be a string of unpadded base64url');
  const raw = rawPublicKeyBytes(value);
  if (raw === undefined) return err('a public key must be 32 raw Ed25519 bytes in 43 characters of unpadded base64url');
  try {
    return ok(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' }));
  } catch (error) {
    return err(`not an Ed25519 public key (${error instanceof Error ? error.message : 'unknown error'})`);
  }
}

/** The raw 32-byte public key of an Ed25519 KeyObject (public or private), unpadded base64url. */
export function toRawPublicKey(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new EntenteError('ENT_KEY_NOT_FOUND', `Not an Ed25519 key (${publicKey.asymmetricKeyType ?? publicKey.type})`);
  }
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new EntenteError('ENT_KEY_NOT_FOUND', 'The Ed25519 key has no public part');
  return x;
}

/** A private key as the store keeps it (PKCS#8 DER, standard base64) → KeyObject; never throws. */
export function parsePrivateKey(value: unknown): Result<KeyObject, string> {
  if (typeof value !== 'string' || value === '' || !BASE64_PATTERN.test(value)) {
    return err('a private key must be PKCS#8 DER in standard base64');
  }
  try {
    const key = createPrivateKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'pkcs8' });
    if (key.asymmetricKeyType !== 'ed25519') return err(`the private key is ${key.asymmetricKeyType ?? 'of no known type'}, not Ed25519`);
    return ok(key);
  } catch (error) {
    return err(`not a PKCS#8 private key (${error instanceof Error ? error.message : 'unknown error'})`);
  }
}

/** An Ed25519 private KeyObject → PKCS#8 DER, standard base64 (the store's form). */
export function toPkcs8PrivateKey(key: KeyObject): string {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new EntenteError('ENT_KEY_NOT_FOUND', 'Only an Ed25519 private key can be stored as the node key');
  }
  return key.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

/** A new Ed25519 key pair (the node's first start, `entente key rotate`). */
export function createNodeKeyPair(): NodeKeyPair {
  const { publicKey: publicKeyObject, privateKey } = generateKeyPairSync('ed25519');
  const publicKey = toRawPublicKey(publicKeyObject);
  return { keyId: keyIdOf(publicKey), publicKey, privateKeyPkcs8: toPkcs8PrivateKey(privateKey), privateKey, publicKeyObject };
}

/** A KeyDirectory over a list of pinned keys (tests, signed bundle files, a store's rows loaded once). */
export function createKeyDirectory(keys: readonly PinnedKey[]): KeyDirectory {
  const byId = new Map<string, PinnedKey>();
  const byOrganisation = new Map<string, PinnedKey[]>();
  for (const key of keys) {
    byId.set(key.keyId, key);
    const folded = key.organisationId.toLowerCase();
    const list = byOrganisation.get(folded) ?? [];
    list.push(key);
    byOrganisation.set(folded, list);
  }
  return {
    keysOf: (organisationId) => byOrganisation.get(organisationId.toLowerCase()) ?? [],
    findKey: (keyId) => byId.get(keyId),
  };
}

const SIGNER_CACHE = new WeakMap<KeyObject, string>();

/**
 * Checks that a signer's private key is an Ed25519 key whose key id is the one it claims, so a node
 * can never publish a signature under another key's id. Cached per KeyObject. Throws ENT_KEY_NOT_FOUND.
 */
export function assertSigner(signer: NodeSigner): void {
  let keyId = SIGNER_CACHE.get(signer.privateKey);
  if (keyId === undefined) {
    if (signer.privateKey.type !== 'private' || signer.privateKey.asymmetricKeyType !== 'ed25519') {
      throw new EntenteError('ENT_KEY_NOT_FOUND', 'The signing key must be an Ed25519 private key');
    }
    keyId = keyIdOf(toRawPublicKey(signer.privateKey));
    SIGNER_CACHE.set(signer.privateKey, keyId);
  }
  if (keyId !== signer.keyId) {
    throw new EntenteError('ENT_KEY_NOT_FOUND', `The private key has key id ${keyId}, not ${signer.keyId}`, { keyId: signer.keyId });
  }
  if (!isOrganisationId(signer.organisationId)) {
    throw new EntenteError('ENT_KEY_NOT_FOUND', 'The signer must be a STIX identity id (identity--<uuid>)', { organisationId: signer.organisationId });
  }
}

/** Ed25519 over the given bytes with the signer's key; unpadded base64url of the 64-byte signature. */
export function signBytes(signer: NodeSigner, bytes: Uint8Array): string {
  assertSigner(signer);
  return sign(null, bytes, signer.privateKey).toString('base64url');
}

// Pinned keys as KeyObjects, per key id. A hit is used only while the pinned text is the same, so a
// re-pinned or corrected key never verifies with a stale object. Bounded: the cache memoizes a pure function.
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, { readonly publicKey: string; readonly key: KeyObject | string }>();

/** The KeyObject of a pinned key, or why the pinned row cannot be used (bad key text, key id not its hash). */
function keyObjectOf(pinned: PinnedKey): KeyObject | string {
  const cached = keyCache.get(pinned.keyId);
  if (cached !== undefined && cached.publicKey === pinned.publicKey) return cached.key;
  const parsed = parsePublicKey(pinned.publicKey);
  let key: KeyObject | string;
  if (!parsed.ok) key = `the pinned key ${pinned.keyId} is unusable: ${parsed.error}`;
  else if (keyIdOf(pinned.publicKey) !== pinned.keyId) key = `the pinned key ${pinned.keyId} does not hash to its key id`;
  else key = parsed.value;
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(pinned.keyId, { publicKey: pinned.publicKey, key });
  return key;
}

/** The outcome of checking one signature against the directory. */
export type PinnedSignatureCheck =
  | { readonly kind: 'verified'; readonly key: PinnedKey }
  | { readonly kind: 'unknown-key'; readonly reason: string }
  | { readonly kind: 'bad-signature'; readonly reason: string };

/**
 * Checks `signature` (unpadded base64url) over `bytes` with the key `keyId`, which must be pinned for
 * `signer`: a key pinned for another organisation is as unknown as one never pinned. Never throws.
 */
export function checkPinnedSignature(
  directory: KeyDirectory,
  signer: string,
  keyId: string,
  bytes: Uint8Array,
  signature: string,
): PinnedSignatureCheck {
  const pinned = directory.findKey(keyId);
  if (pinned === undefined) return { kind: 'unknown-key', reason: `no key ${keyId} is pinned` };
  if (pinned.organisationId !== signer) {
    return { kind: 'unknown-key', reason: `key ${keyId} is pinned for ${pinned.organisationId}, not for the signer ${signer}` };
  }
  const key = keyObjectOf(pinned);
  if (typeof key === 'string') return { kind: 'unknown-key', reason: key };
  const signatureBytes = decodeCanonicalBase64url(signature, SIGNATURE_BYTES);
  if (signatureBytes === undefined) {
    return { kind: 'bad-signature', reason: 'the signature is not 64 bytes in canonical unpadded base64url' };
  }
  let valid: boolean;
  try {
    valid = verify(null, bytes, key, signatureBytes);
  } catch {
    valid = false;
  }
  return valid ? { kind: 'verified', key: pinned } : { kind: 'bad-signature', reason: `the signature does not verify with key ${keyId} of ${signer}` };
}

const LEAP_SECOND = /^(.{17})60((?:\.\d{1,9})?Z)$/;

/**
 * An RFC 3339 UTC timestamp as milliseconds since the epoch (a leap second `:60` counts as the
 * next second); undefined when the text is not one.
 */
export function instantOf(timestamp: string): number | undefined {
  // The leap-second pattern only where its seconds can be "60" (characters 17 and 18): one regular
  // expression less for every other timestamp (an arrival reads one per object).
  const leap = timestamp.charCodeAt(17) === 54 && timestamp.charCodeAt(18) === 48 ? LEAP_SECOND.exec(timestamp) : null;
  const micros = parseMicroTimestamp(leap === null ? timestamp : `${leap[1] ?? ''}59${leap[2] ?? ''}`);
  if (micros === undefined) return undefined;
  return Math.floor(micros / 1000) + (leap === null ? 0 : 1000);
}

/**
 * Whether a key was valid at an instant: from `validFrom` until `validUntil` (excluded), each end
 * widened by `skewMs` (default ±5 minutes). A window that cannot be read is never valid.
 */
export function isKeyValidAt(key: PinnedKey, at: number, skewMs: number = KEY_VALIDITY_SKEW_MS): boolean {
  const { from, until } = windowOf(key);
  if (from === undefined || at < from - skewMs) return false;
  if (key.validUntil === undefined) return true;
  return until !== undefined && at < until + skewMs;
}

// A pull asks about the same few keys once per arriving object: their window is read once per key
// object. Keyed by the object and checked against its texts, so a key object given other texts is
// read again rather than answered from a stale window.
const WINDOWS = new WeakMap<PinnedKey, { readonly validFrom: string; readonly validUntil: string | undefined; readonly from: number | undefined; readonly until: number | undefined }>();

function windowOf(key: PinnedKey): { readonly from: number | undefined; readonly until: number | undefined } {
  const known = WINDOWS.get(key);
  if (known !== undefined && known.validFrom === key.validFrom && known.validUntil === key.validUntil) return known;
  const window = {
    validFrom: key.validFrom,
    validUntil: key.validUntil,
    from: instantOf(key.validFrom),
    until: key.validUntil === undefined ? undefined : instantOf(key.validUntil),
  };
  WINDOWS.set(key, window);
  return window;
}
