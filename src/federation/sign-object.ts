// Signing STIX object versions and checking their signatures (docs/federation.md, "Object signatures").
import { withoutEntenteSignature } from '../stix/entente-signature.ts';
import canonicalize from 'canonicalize';
import { EntenteError } from '../errors/entente-error.ts';
import type { JsonObject, StixObject } from '../stix/types.ts';
import { checkPinnedSignature, signBytes, type KeyDirectory, type NodeSigner, type PinnedKey } from './node-key.ts';
import {
  readSignatureExtension,
  SIGNATURE_ALGORITHM,
  SIGNATURE_EXTENSION_ID,
  type SignatureExtension,
  type SignatureExtensionReading,
} from './signature-extension.ts';

/** What precedes the canonical JSON in the signed bytes: a domain separator, so that no other signed message can pass for an object. */
export const STIX_SIGNATURE_PREFIX = 'ENTENTE-STIX-SIGNATURE-V1\n';

/**
 * The bytes an object signature covers: STIX_SIGNATURE_PREFIX followed by the RFC 8785 canonical
 * JSON of the object without the Entente signature extension (and without `extensions` when that
 * was its only entry), UTF-8.
 */
export function objectSigningInput(object: JsonObject): Buffer {
  const canonical = canonicalize(withoutEntenteSignature(object));
  if (canonical === undefined) throw new EntenteError('ENT_OBJECT_INVALID', 'The object has no JSON form to sign');
  return Buffer.from(STIX_SIGNATURE_PREFIX + canonical, 'utf8');
}

/**
 * A copy of the object carrying the signer's signature in the Entente extension; an Entente
 * signature already there is replaced (it is not part of what is signed), other extensions are kept
 * and signed. `derived: true` when the signer redacted a version someone else originated.
 * Throws ENT_KEY_NOT_FOUND when the private key is not Ed25519 or not the key `signer.keyId` names.
 */
export function signObject<T extends StixObject>(object: T, signer: NodeSigner, options: { readonly derived?: boolean } = {}): T {
  const signature = signBytes(signer, objectSigningInput(object));
  const extension: SignatureExtension = {
    extension_type: 'property-extension',
    algorithm: SIGNATURE_ALGORITHM,
    signer: signer.organisationId,
    key_id: signer.keyId,
    signature,
    ...(options.derived === true ? { derived: true as const } : {}),
  };
  const unsigned = withoutEntenteSignature(object);
  const extensions = unsigned['extensions'];
  const others = typeof extensions === 'object' && extensions !== null && !Array.isArray(extensions) ? extensions : {};
  return Object.fromEntries([
    ...Object.entries(unsigned).filter(([key]) => key !== 'extensions'),
    ['extensions', Object.fromEntries([...Object.entries(others), [SIGNATURE_EXTENSION_ID, extension]])],
  ]) as T;
}

/** What the signature of one object version says. Only `verified` means the signer's pinned key signed these bytes. */
export type ObjectSignatureVerdict =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'unknown-key'; readonly signer: string; readonly keyId: string; readonly derived: boolean; readonly reason: string }
  | { readonly kind: 'bad-signature'; readonly signer: string; readonly keyId: string; readonly derived: boolean; readonly reason: string }
  | { readonly kind: 'verified'; readonly signer: string; readonly keyId: string; readonly derived: boolean; readonly key: PinnedKey };

/**
 * The key that signed the page an object arrived on (federation/page-voucher.ts), when that page's
 * signature verified. An object whose own signature names the same signer and the same key came,
 * byte for byte, from the holder of that key: its signature is taken as made (a bad one is caught
 * by the page's sample or by the next node that verifies it). Objects signed by anyone else, or by
 * another key of the same signer, are verified one by one.
 */
export interface VouchingKey {
  readonly signer: string;
  readonly key: PinnedKey;
}

/**
 * Checks an object's Entente signature against the keys pinned in `directory`: the key id must be
 * pinned for the organisation named as signer, and the signature must verify over
 * objectSigningInput — unless `vouched` names the signer and key, in which case the page signature
 * stands for it. Validity windows are not checked here (decideArrival does, at `modified`).
 * `reading` is readSignatureExtension(object), for a caller that read it already (a vouched page reads
 * every object's to find the ones the page covers). Never throws.
 */
export function verifyObjectSignature(
  object: StixObject,
  directory: KeyDirectory,
  vouched?: VouchingKey,
  reading: SignatureExtensionReading = readSignatureExtension(object),
): ObjectSignatureVerdict {
  if (reading.kind === 'absent') return { kind: 'unsigned' };
  if (reading.kind === 'malformed') return reading;
  const { signer, key_id: keyId, signature } = reading.extension;
  const derived = reading.extension.derived === true;
  if (vouched !== undefined && signer === vouched.signer && keyId === vouched.key.keyId) {
    // The page signature already proved that this key's holder sent exactly these bytes: checking
    // its signature over the object again would prove nothing more about the content (see VouchingKey).
    const pinned = directory.findKey(keyId);
    if (pinned !== undefined && pinned.organisationId === signer && pinned.publicKey === vouched.key.publicKey) return { kind: 'verified', signer, keyId, derived, key: pinned };
  }
  let input: Buffer;
  try {
    input = objectSigningInput(object);
  } catch (error) {
    return { kind: 'malformed', reason: `the object has no canonical JSON form (${error instanceof Error ? error.message : 'unknown error'})` };
  }
  const check = checkPinnedSignature(directory, signer, keyId, input, signature);
  if (check.kind === 'verified') return { kind: 'verified', signer, keyId, derived, key: check.key };
  return { kind: check.kind, signer, keyId, derived, reason: check.reason };
}
