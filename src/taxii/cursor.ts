import { hash } from 'node:crypto';
import { err, ok, type Result } from '../errors/result.ts';

/**
 * The TAXII `next` value: an opaque keyset cursor. It carries the `dateAdded` of the last entry of
 * the previous page and a fingerprint of the query that produced it, so that a `next` handed to a
 * different query (other collection, other filters, other endpoint) is refused instead of silently
 * returning a wrong page. Integrity is not a security property here: a forged cursor that matches the
 * fingerprint only moves the caller within results they may read anyway (the release decision still
 * applies to every entry), so a plain hash is enough and no server secret is needed.
 *
 * Format: base64url(`<after>.<fingerprint>`).
 */

export interface CursorIssue {
  readonly parameter: 'next';
  readonly message: string;
}

const FINGERPRINT_LENGTH = 16;
const MAX_CURSOR_LENGTH = 128;
const DIGITS = /^\d{1,16}$/;

/** A short stable digest of everything that defines the result set except the position. */
export function fingerprintQuery(parts: readonly string[]): string {
  // One-shot hash: every page request computes one (createHash().update().digest() costs twice as much).
  return hash('sha256', parts.join('\u0000'), 'base64url').slice(0, FINGERPRINT_LENGTH);
}

export function encodeCursor(after: number, fingerprint: string): string {
  return Buffer.from(`${after}.${fingerprint}`, 'latin1').toString('base64url');
}

export function parseCursor(text: string, fingerprint: string): Result<number, CursorIssue> {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH) {
    return err({ parameter: 'next', message: 'next is not a cursor this server issued' });
  }
  const decoded = Buffer.from(text, 'base64url').toString('latin1');
  const dot = decoded.indexOf('.');
  const afterText = dot < 0 ? '' : decoded.slice(0, dot);
  if (!DIGITS.test(afterText) || Buffer.from(decoded, 'latin1').toString('base64url') !== text) {
    return err({ parameter: 'next', message: 'next is not a cursor this server issued' });
  }
  if (decoded.slice(dot + 1) !== fingerprint) {
    return err({
      parameter: 'next',
      message: 'next belongs to a different query: repeat the same filters (and endpoint) that returned it',
    });
  }
  const after = Number(afterText);
  if (!Number.isSafeInteger(after)) {
    return err({ parameter: 'next', message: 'next is not a cursor this server issued' });
  }
  return ok(after);
}
