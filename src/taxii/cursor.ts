import { createCipheriv, createDecipheriv, createSecretKey, hash, randomBytes, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../errors/result.ts';

/**
 * The TAXII `next` value: an opaque keyset cursor. It carries the `dateAdded` of the last entry the
 * previous page examined and a fingerprint of the query that produced it, so that a `next` handed to
 * a different query (other collection, other filters, other endpoint) is refused instead of silently
 * returning a wrong page.
 *
 * Why it is encrypted: that `dateAdded` is not always one the caller has seen. When the release
 * decision withholds more entries in a row than one request examines (releasePage in
 * taxii-route-context.ts, the 'unknown' case), the cursor points after a withheld entry, and a
 * readable cursor would tell a partner when entries hidden from it were added. So the cursor is
 * sealed with AES-256-GCM under a key only this node holds (taxii/cursor-key.ts, kept in the store's
 * node meta and shared by every worker process): the caller learns nothing from it, and cannot make
 * one this server will accept. Anything that does not decrypt and authenticate is "not a cursor this
 * server issued"; one that does but was issued for another query is refused as such.
 *
 * Format: base64url(iv | ciphertext | tag), with a random 12-byte iv, a 16-byte tag, and the
 * plaintext `<after>.<fingerprint>` (at most 33 bytes: 82 characters in all).
 *
 * Pure but for the random iv: the key is a parameter, never a module global.
 */

export interface CursorIssue {
  readonly parameter: 'next';
  readonly message: string;
}

/** The node's cursor key (32 bytes, as a KeyObject so that it never prints). */
export type CursorKey = KeyObject;

/** What binds a `next` to one query on this node: the query's fingerprint and the node's key. */
export interface QueryCursor {
  readonly fingerprint: string;
  readonly key: CursorKey;
}

export const CURSOR_KEY_BYTES = 32;
const FINGERPRINT_LENGTH = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_CURSOR_LENGTH = 128;
const DIGITS = /^\d{1,16}$/;
const ALGORITHM = 'aes-256-gcm';

const NOT_ISSUED: CursorIssue = { parameter: 'next', message: 'next is not a cursor this server issued' };
const OTHER_QUERY: CursorIssue = {
  parameter: 'next',
  message: 'next belongs to a different query: repeat the same filters (and endpoint) that returned it',
};

/** The cursor key from its 32 raw bytes; throws a RangeError for any other length. */
export function cursorKeyOf(bytes: Uint8Array): CursorKey {
  if (bytes.length !== CURSOR_KEY_BYTES) throw new RangeError(`a cursor key is ${CURSOR_KEY_BYTES} bytes, not ${bytes.length}`);
  return createSecretKey(bytes);
}

/** A short stable digest of everything that defines the result set except the position. */
export function fingerprintQuery(parts: readonly string[]): string {
  // One-shot hash: every page request computes one (createHash().update().digest() costs twice as much).
  return hash('sha256', parts.join('\u0000'), 'base64url').slice(0, FINGERPRINT_LENGTH);
}

export function encodeCursor(after: number, cursor: QueryCursor): string {
  return sealCursorText(`${after}.${cursor.fingerprint}`, cursor.key);
}

export const CURSOR_IV_BYTES = IV_BYTES;

/**
 * `<position>.<purpose>` sealed in the cursor format, for openCursor. The iv is random unless given:
 * alert event ids (api/alert-event-ids.ts) derive it from the plaintext so that an event keeps one id.
 */
export function sealCursorText(plaintext: string, key: CursorKey, iv: Uint8Array = randomBytes(IV_BYTES)): string {
  if (iv.length !== IV_BYTES) throw new RangeError(`a cursor iv is ${IV_BYTES} bytes, not ${iv.length}`);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  const sealed = cipher.update(plaintext, 'latin1');
  return Buffer.concat([iv, sealed, cipher.final(), cipher.getAuthTag()]).toString('base64url');
}

/**
 * What a cursor this node issued says: the position and the fingerprint of its query. Refuses
 * (never throws on) anything else: wrong length, not canonical base64url, another key, any byte
 * changed, the plain cursors of earlier versions.
 */
export function openCursor(text: string, key: CursorKey): Result<{ readonly after: number; readonly fingerprint: string }, CursorIssue> {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH) return err(NOT_ISSUED);
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== text) return err(NOT_ISSUED);
  let decoded: string;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    decoded = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('latin1');
  } catch {
    return err(NOT_ISSUED);
  }
  const dot = decoded.indexOf('.');
  const afterText = dot < 0 ? '' : decoded.slice(0, dot);
  const after = Number(afterText);
  if (!DIGITS.test(afterText) || !Number.isSafeInteger(after)) return err(NOT_ISSUED);
  return ok({ after, fingerprint: decoded.slice(dot + 1) });
}

export function parseCursor(text: string, cursor: QueryCursor): Result<number, CursorIssue> {
  const opened = openCursor(text, cursor.key);
  if (!opened.ok) return opened;
  if (opened.value.fingerprint !== cursor.fingerprint) return err(OTHER_QUERY);
  return ok(opened.value.after);
}
