import { timingSafeEqual } from 'node:crypto';
import { hashTokenSecret } from '../policy/token-secret.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { TokenRecord, TokenStore } from '../store/object-store.ts';
import { parseCredentials } from './parse-credentials.ts';

/**
 * Turns an Authorization header into the Recipient the release decision works with.
 *
 * Lookups go by SHA-256 of the secret (the store holds only hashes); the secret itself is neither
 * kept nor logged. Results are cached in memory, keyed by the hash, for at most `ttlMs` (≤ 1 s) and
 * only while the store's token change marker stays the same: a token created or revoked anywhere (this
 * process, the CLI, another worker) changes the marker, so a revocation takes effect at the next
 * request, and a request that hits the cache costs one hash and one marker read instead of a lookup.
 * Unknown hashes are cached the same way so that a client hammering with a wrong secret costs one
 * store lookup per second, not one per request.
 */
export interface TokenAuthenticator {
  /** Throws ENT_AUTH_MISSING or ENT_AUTH_INVALID. */
  authenticate(authorizationHeader: string | undefined): Promise<AuthenticatedToken>;
  /** Forgets every cached lookup (call after revoking or creating tokens in-process). */
  invalidate(): void;
}

export interface AuthenticatedToken {
  readonly token: TokenRecord;
  readonly recipient: Recipient;
}

export interface TokenAuthenticatorOptions {
  readonly store: TokenStore;
  readonly homeOrganisationId: string;
  /** Cache lifetime; values above the 1 s ceiling are lowered to it. */
  readonly ttlMs?: number;
  /** Monotonic milliseconds; injectable for tests. */
  readonly now?: () => number;
}

export const MAX_TOKEN_CACHE_TTL_MS = 1000;
const MAX_CACHE_ENTRIES = 10_000;

interface CacheEntry {
  readonly expiresAt: number;
  /** The store's token change marker when the lookup was made. */
  readonly marker: string;
  readonly value: AuthenticatedToken | undefined;
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export function toRecipient(token: TokenRecord, homeOrganisationId: string): Recipient {
  return {
    name: token.name,
    organisationId: token.organisationId ?? homeOrganisationId,
    admin: token.admin,
    actsForHome: token.organisationId === undefined || token.organisationId === homeOrganisationId,
    grants: token.grants,
  };
}

export function createTokenAuthenticator(options: TokenAuthenticatorOptions): TokenAuthenticator {
  const ttlMs = Math.min(options.ttlMs ?? MAX_TOKEN_CACHE_TTL_MS, MAX_TOKEN_CACHE_TTL_MS);
  const now = options.now ?? (() => performance.now());
  const cache = new Map<string, CacheEntry>();

  async function lookUp(secretHash: string): Promise<AuthenticatedToken | undefined> {
    const at = now();
    // Read before the lookup: a revocation committed after this read changes the marker, so the
    // entry written below cannot outlive it even if the lookup saw the token still valid.
    const marker = await options.store.tokenChangeMarker();
    const cached = cache.get(secretHash);
    if (cached !== undefined && cached.expiresAt > at && cached.marker === marker) return cached.value;
    const token = await options.store.findTokenBySecretHash(secretHash);
    const value =
      token === undefined || token.revokedAt !== undefined || !sameHash(token.secretHash, secretHash)
        ? undefined
        : { token, recipient: toRecipient(token, options.homeOrganisationId) };
    if (ttlMs > 0) {
      if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
      cache.set(secretHash, { expiresAt: at + ttlMs, marker, value });
    }
    return value;
  }

  return {
    async authenticate(header) {
      const credentials = parseCredentials(header);
      if (!credentials.ok) {
        throw credentials.error === 'missing'
          ? new EntenteError('ENT_AUTH_MISSING', 'This endpoint requires a token: send Authorization: Bearer <token> (or HTTP Basic with the token as password)')
          : new EntenteError('ENT_AUTH_INVALID', 'The Authorization header is not a Bearer token or HTTP Basic credentials');
      }
      const found = await lookUp(hashTokenSecret(credentials.value));
      if (found === undefined) {
        throw new EntenteError('ENT_AUTH_INVALID', 'The token is unknown or has been revoked');
      }
      return found;
    },
    invalidate() {
      cache.clear();
    },
  };
}
