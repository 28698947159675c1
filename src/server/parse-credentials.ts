import { err, ok, type Result } from '../errors/result.ts';

/**
 * Reads the token secret from an Authorization header. Pure.
 *
 * `Bearer <secret>` is the native form. HTTP Basic with the secret as the password (any user name)
 * is accepted too, because common TAXII clients (taxii2-client, OpenCTI, MISP) only speak Basic.
 */

export type CredentialIssue = 'missing' | 'malformed';

const MAX_SECRET_LENGTH = 512;

export function parseCredentials(header: string | undefined): Result<string, CredentialIssue> {
  if (header === undefined || header === '') return err('missing');
  const space = header.indexOf(' ');
  if (space <= 0) return err('malformed');
  const scheme = header.slice(0, space).toLowerCase();
  const rest = header.slice(space + 1).trim();
  if (rest === '' || rest.length > MAX_SECRET_LENGTH * 2) return err('malformed');
  if (scheme === 'bearer') return ok(rest);
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return err('malformed');
    const secret = decoded.slice(colon + 1);
    return secret === '' || secret.length > MAX_SECRET_LENGTH ? err('malformed') : ok(secret);
  }
  return err('malformed');
}
