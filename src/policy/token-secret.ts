import { hash } from 'node:crypto';

/** Prefix that makes an Entente token recognisable in secret scanners and logs. */
const tokenPrefix = 'ent_';

/** Turns 32 random bytes (passed in, so this stays pure) into the secret shown once to the user. */
export function formatTokenSecret(randomBytes: Uint8Array): string {
  if (randomBytes.length < 32) throw new RangeError('a token secret needs at least 32 random bytes');
  return tokenPrefix + Buffer.from(randomBytes).toString('base64url');
}

/** The only form of a secret that is ever stored or compared. */
export function hashTokenSecret(secret: string): string {
  // The one-shot hash (Node ≥ 20.12) costs about half of createHash().update().digest(): it runs on
  // every authenticated request.
  return hash('sha256', secret, 'hex');
}
