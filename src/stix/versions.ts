import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { withoutEntenteSignature } from './entente-signature.ts';
import type { StixObject } from './types.ts';
import { SCO_TYPES } from './validate/object-categories.ts';

/**
 * The version key of a STIX object as TAXII 2.1 uses it: `modified` when present, else `created`.
 * Objects with neither, and every object of an SCO type, are unversioned: each distinct content of one
 * is a version of its own, keyed by contentVersionOf. One fixed key for all of them made two copies of
 * one SCO that differ (in markings, `defanged`, extensions) a conflict, which the store refused: a
 * refusal that told any writer that this node held that observable in some other form, wherever it was
 * held. `modified` and `created` are no SCO properties in STIX 2.1: read on an SCO, any writer could
 * give its content of an observable a date that outranks every content key.
 */
export function versionOf(object: StixObject): string {
  if (isUnversioned(object)) return contentVersionOf(object);
  const modified = object['modified'];
  // Not unversioned: `modified` or `created` is a string.
  return typeof modified === 'string' ? modified : (object['created'] as string);
}

/**
 * True for an object whose version is its content key, not a time: an object of an SCO type whatever
 * it carries, and any other object with neither `modified` nor `created` (a custom SCO).
 */
export function isUnversioned(object: StixObject): boolean {
  const type = object['type'];
  if (typeof type === 'string' && SCO_TYPES.has(type)) return true;
  return typeof object['modified'] !== 'string' && typeof object['created'] !== 'string';
}

/** What precedes the canonical JSON in the hashed bytes, so that no other digest of the object can pass for its version. */
const CONTENT_VERSION_PREFIX = 'ENTENTE-CONTENT-VERSION-V1\n';

/**
 * 59 bits of the digest, read as nanoseconds after the epoch: a key that every TAXII client and every
 * STIX timestamp check accepts (nine fractional digits), that reads as no real time (1970 to 1988),
 * and that nobody can match with another content without about 2^59 hashes — a match would make the
 * store refuse the other content, the very answer this key exists to take away.
 */
const CONTENT_VERSION_BITS = 59n;
const CONTENT_VERSION_MASK = (1n << CONTENT_VERSION_BITS) - 1n;

const contentVersions = new WeakMap<StixObject, string>();

/**
 * The version key of an unversioned object: a timestamp derived from the SHA-256 of its RFC 8785
 * canonical JSON without the Entente signature (the same content that the store and signatures
 * compare), so every node derives the same key for the same content however it was spelled or
 * signed. Computed once per parsed object: an arrival asks for it more than once.
 */
export function contentVersionOf(object: StixObject): string {
  const known = contentVersions.get(object);
  if (known !== undefined) return known;
  const canonical = canonicalize(withoutEntenteSignature(object)) ?? '';
  const digest = createHash('sha256').update(CONTENT_VERSION_PREFIX + canonical, 'utf8').digest();
  const nanoseconds = digest.readBigUInt64BE(0) & CONTENT_VERSION_MASK;
  const seconds = new Date(Number(nanoseconds / 1_000_000n)).toISOString().slice(0, 19);
  const version = `${seconds}.${(nanoseconds % 1_000_000_000n).toString().padStart(9, '0')}Z`;
  contentVersions.set(object, version);
  return version;
}
