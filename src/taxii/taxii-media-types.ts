/**
 * TAXII 2.1 content negotiation (spec §1.6.8). Pure: header strings in, verdicts out.
 *
 * Accept: a TAXII endpoint serves exactly one representation, `application/taxii+json;version=2.1`.
 * We accept a media range that covers it with q > 0: `application/taxii+json` with `version=2.1` or
 * without a version (the server then answers in the latest version it supports, 2.1), and the
 * wildcards `application/*` and `*\/*` as RFC 9110 §12.5.1 defines them (curl and many HTTP libraries
 * send `*\/*`). A missing Accept header means "anything" (RFC 9110). Any other version → 406.
 *
 * Content-Type (POST): `application/taxii+json` with `version=2.1` or no version; anything else → 415.
 */

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const TAXII_VERSION = '2.1';
export const STIX_MEDIA_TYPE_PREFIX = 'application/stix+json;version=';

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly params: ReadonlyMap<string, string>;
}

function parseMediaRange(text: string): MediaRange | undefined {
  const parts = text.split(';');
  const essence = (parts[0] ?? '').trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0 || slash === essence.length - 1) return undefined;
  const params = new Map<string, string>();
  for (let i = 1; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    params.set(name, value);
  }
  return { type: essence.slice(0, slash), subtype: essence.slice(slash + 1), params };
}

function qualityOf(range: MediaRange): number {
  const q = range.params.get('q');
  if (q === undefined) return 1;
  const value = Number(q);
  return Number.isFinite(value) ? value : 0;
}

function coversTaxii21(range: MediaRange): boolean {
  if (range.type === '*' && range.subtype === '*') return true;
  if (range.type !== 'application') return false;
  if (range.subtype === '*') return true;
  if (range.subtype !== 'taxii+json') return false;
  const version = range.params.get('version');
  return version === undefined || version === TAXII_VERSION;
}

function decideAccept(header: string): boolean {
  for (const item of header.split(',')) {
    if (item.trim() === '') continue;
    const range = parseMediaRange(item);
    if (range !== undefined && qualityOf(range) > 0 && coversTaxii21(range)) return true;
  }
  return false;
}

// Clients send the same few Accept headers over and over; remembering the verdicts keeps parsing
// off the hot path. Bounded so that a client sending random headers cannot grow it.
const acceptVerdicts = new Map<string, boolean>();
const ACCEPT_CACHE_SIZE = 256;

/** Whether a request with this Accept header may receive `application/taxii+json;version=2.1`. */
export function isTaxiiAcceptable(acceptHeader: string | undefined): boolean {
  if (acceptHeader === undefined || acceptHeader.trim() === '') return true;
  const cached = acceptVerdicts.get(acceptHeader);
  if (cached !== undefined) return cached;
  const verdict = decideAccept(acceptHeader);
  if (acceptVerdicts.size >= ACCEPT_CACHE_SIZE) acceptVerdicts.clear();
  acceptVerdicts.set(acceptHeader, verdict);
  return verdict;
}

/** Whether a request body with this Content-Type is a TAXII 2.1 document. */
export function isTaxiiContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const range = parseMediaRange(contentType);
  if (range === undefined || range.type !== 'application' || range.subtype !== 'taxii+json') return false;
  const version = range.params.get('version');
  return version === undefined || version === TAXII_VERSION;
}

/** Media type of a stored STIX object for the manifest (`application/stix+json;version=2.1`). */
export function stixMediaType(specVersion: string): string {
  return STIX_MEDIA_TYPE_PREFIX + specVersion;
}
