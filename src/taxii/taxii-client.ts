import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EntenteError, type ErrorDetails } from '../errors/entente-error.ts';
import type { ErrorCode } from '../errors/catalogue.ts';
import { DEFAULT_MAX_DEPTH, parseJson } from '../stix/parse-json.ts';
import { parseContainerPieces } from '../stix/read-container-chunks.ts';
import type { JsonValue } from '../stix/types.ts';
import type { Result } from '../errors/result.ts';
import { decideNextPage, startPageWalk, type PageWalk, type TaxiiCursor } from './decide-next-page.ts';
import {
  isApiRootDocument,
  parseApiRootResource,
  parseCollectionResource,
  parseCollectionsResource,
  parseDateAddedHeader,
  parseDiscoveryResource,
  parseEnvelopeResource,
  parsePeerErrorText,
  parseStatusResource,
  quotePeerText,
  type ApiRootResource,
  type PeerErrorText,
  type ResourceIssue,
  type TaxiiCollection,
  type TaxiiStatus,
} from './taxii-client-resources.ts';
import { isTaxiiContentType, TAXII_MEDIA_TYPE } from './taxii-media-types.ts';
import { PAGE_NONCE_HEADER, PAGE_SIGNATURE_HEADER, type ReceivedPageProof } from '../federation/page-voucher.ts';

export type { TaxiiCursor } from './decide-next-page.ts';
export type { ApiRootResource, TaxiiCollection, TaxiiStatus, TaxiiStatusDetail } from './taxii-client-resources.ts';

/**
 * The TAXII 2.1 client a node uses to talk to its peers (docs/federation.md): discovery, collections,
 * objects with pagination, POST with status, and the node's own JSON endpoints on the same origin.
 *
 * Everything the peer sends is untrusted: every failure comes out as an EntenteError with an
 * ENT_PEER_* code, and messages quote the peer only in short, cleaned excerpts. The token is sent in
 * the Authorization header and nowhere else: never in a URL, a message or the details of an error.
 * The client does not log.
 */

export interface TaxiiClientOptions {
  /** The peer's discovery URL (…/taxii2/) or one of its API root URLs (…/taxii2/api/). */
  readonly url: string;
  /** Bearer token the peer issued to this node's organisation; `user:password` is sent as Basic. */
  readonly token: string;
  /** Deadline for one request, headers and body together. Default 60 s. */
  readonly timeoutMs?: number;
  /** Largest response body read, counted as it streams in (after decompression). Default 64 MiB. */
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
}

export interface TaxiiDiscovery {
  /** Every API root the peer lists, as absolute URLs (only the one given when the URL was an API root). */
  readonly apiRoots: readonly string[];
  /** The API root this client uses: the discovery's `default`, else its first; or the URL given. */
  readonly apiRootUrl: string;
  /** Which kind of resource the URL given pointed at. */
  readonly urlKind: 'discovery' | 'api-root';
}

export interface GetObjectsOptions {
  /** The peer's own date_added string, passed back as `added_after`. */
  readonly addedAfter?: string;
  readonly next?: string;
  readonly limit?: number;
  /** `match[type]`. */
  readonly types?: readonly string[];
  /** `match[version]`: 'all', 'last', 'first' or a STIX timestamp. */
  readonly matchVersion?: string;
  /** Asks an Entente server to sign the page for this request (federation/page-voucher.ts); plain servers ignore it. */
  readonly pageNonce?: string;
}

export interface ObjectsPage {
  /** Parsed JSON values as the peer sent them: not yet checked as STIX. */
  readonly objects: readonly unknown[];
  readonly more: boolean;
  readonly next?: string;
  /** X-TAXII-Date-Added-First / -Last, as the peer wrote them. */
  readonly dateAddedFirst?: string;
  readonly dateAddedLast?: string;
  /** With a `pageNonce`: the nonce, the page signature header if any, and the digest of the body bytes received. */
  readonly proof?: ReceivedPageProof;
}

export interface CursoredPage extends ObjectsPage {
  /** Where to resume right after this page: store it with the page's objects. */
  readonly cursor: TaxiiCursor;
}

export interface PagesOptions {
  readonly cursor?: TaxiiCursor;
  readonly limit: number;
  readonly types?: readonly string[];
  readonly matchVersion?: string;
  /** A fresh nonce for each page request, to ask for signed pages (GetObjectsOptions.pageNonce). */
  readonly pageNonce?: () => string;
}

export interface FollowStatusOptions {
  /** Pause between two reads of the status. */
  readonly pollMs: number;
  /** Give up (ENT_PEER_TIMEOUT) when the status is still pending this long after the first read. */
  readonly deadlineMs: number;
}

export interface TaxiiClient {
  /** The URL given at open, normalised (with a trailing slash). */
  readonly url: string;
  discover(): Promise<TaxiiDiscovery>;
  apiRoot(): Promise<ApiRootResource>;
  collections(): Promise<readonly TaxiiCollection[]>;
  collection(collectionId: string): Promise<TaxiiCollection>;
  getObjects(collectionId: string, options?: GetObjectsOptions): Promise<ObjectsPage>;
  pages(collectionId: string, options: PagesOptions): AsyncGenerator<CursoredPage, void, undefined>;
  postObjects(collectionId: string, objects: readonly unknown[]): Promise<TaxiiStatus>;
  getStatus(statusId: string): Promise<TaxiiStatus>;
  followStatus(statusId: string, options: FollowStatusOptions): Promise<TaxiiStatus>;
  /** GET a JSON endpoint on the peer's origin (path from `/`); undefined when it answers 404. */
  getJson(path: string): Promise<unknown>;
  /** POST JSON to an endpoint on the peer's origin; the parsed answer, undefined when it has no body. */
  postJson(path: string, body: unknown): Promise<unknown>;
  /** Cancels requests in flight (they reject with ENT_PEER_UNREACHABLE) and refuses new ones. */
  close(): void;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_USER_AGENT = 'Entente (TAXII 2.1 client)';
/** Most of an error response read to quote the peer's title and description. */
const ERROR_BODY_BYTES = 256 * 1024;
const JSON_MEDIA_TYPE = 'application/json';
/**
 * Deepest JSON nesting read from a peer: the default of the server's own limit (ENTENTE_MAX_JSON_DEPTH).
 * STIX needs about 10; what reads a page (validation, canonical JSON for signatures, quarantine
 * rows) walks values recursively, and a value thousands of levels deep would overflow its stack.
 */
export const MAX_RESPONSE_JSON_DEPTH = DEFAULT_MAX_DEPTH;

// Transport failures that mean "too slow" rather than "not there".
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

type Media = 'taxii' | 'json';

interface Exchange {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly media: Media;
  /** Set when the URL is a collection's: 404 (and a peer's "may not read/write") mean ENT_PEER_NO_COLLECTION. */
  readonly collectionId?: string;
  /** Answer undefined instead of failing on 404. */
  readonly absentOn404?: boolean;
  /** Request headers beyond accept, authorization, user agent and content type. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Hash the body bytes as received (a page whose signature covers them). */
  readonly digestBody?: boolean;
}

interface Discovered {
  readonly discovery: TaxiiDiscovery;
  /** The API root resource, when the URL given was one (discovery read it already). */
  readonly apiRoot?: ApiRootResource;
}

interface Answer {
  readonly headers: Headers;
  /** Undefined for a 404 the exchange allowed, or an empty body. */
  readonly value: JsonValue | undefined;
  /** SHA-256 (hex) of the body bytes, when the exchange asked for it. */
  readonly bodySha256?: string;
}

function peerInvalid(message: string): EntenteError {
  return new EntenteError('ENT_PEER_INVALID', message);
}

function normaliseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw peerInvalid(`the peer URL ${JSON.stringify(quotePeerText(text, 200))} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw peerInvalid(`the peer URL must be http: or https:, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw peerInvalid('the peer URL must not carry credentials: give them as the token');
  if (url.search !== '' || url.hash !== '') throw peerInvalid('the peer URL must not have a query or fragment');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function authorizationFor(token: string): string {
  if (token === '') throw peerInvalid('the peer token is empty');
  // Bearer tokens (RFC 6750 token68) have no colon, so `user:password` is unambiguous.
  if (token.includes(':')) return `Basic ${Buffer.from(token, 'utf8').toString('base64')}`;
  if (!/^[\x21-\x7e]+$/.test(token)) throw peerInvalid('the peer token has characters that cannot be sent in an HTTP header');
  return `Bearer ${token}`;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw peerInvalid(`${name} must be a positive whole number`);
  return value;
}

/** `scheme://host/path` of a request, for messages: no query (it may be long), never credentials. */
function where(url: URL): string {
  return quotePeerText(`${url.origin}${url.pathname}`, 300);
}

function errorCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function deepestMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  let current: unknown = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current.message !== '') message = current.message;
    current = current.cause;
  }
  return quotePeerText(message, 200);
}

function essenceOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Drops a response without reading the rest: the request is aborted, which closes its connection. */
function abandon(response: Response, request: AbortController): void {
  request.abort();
  response.body?.cancel().catch(() => undefined);
}

/** Most of an unwanted body read to keep its connection for the next request. */
const DISCARD_BYTES = 64 * 1024;

/**
 * Drops a response the client has no use for. A short body of known length is read to its end, so
 * the connection stays usable; any other is abandoned. (Abandoning makes Node's fetch open a spare
 * connection to the peer, which costs the peer a socket until its timeout.)
 */
async function discard(response: Response, request: AbortController): Promise<void> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (!Number.isFinite(declared) || declared > DISCARD_BYTES) {
    abandon(response, request);
    return;
  }
  try {
    await readUpTo(response, request, DISCARD_BYTES);
  } catch {
    abandon(response, request);
  }
}

/** A body as it arrived: its pieces, not joined (see decodeJsonPieces). */
interface ReadBytes {
  readonly pieces: readonly Uint8Array[];
  readonly byteLength: number;
  readonly truncated: boolean;
}

/**
 * Reads a body up to `limit` bytes. Past the limit, the rest is not read: the stream is cancelled
 * (which closes the connection) and `truncated` is set, or, with `failPast`, that error is thrown.
 */
async function readUpTo(response: Response, request: AbortController, limit: number, failPast?: () => EntenteError): Promise<ReadBytes> {
  const encoded = (response.headers.get('content-encoding') ?? 'identity').trim().toLowerCase() !== 'identity';
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (failPast !== undefined && !encoded && Number.isFinite(declared) && declared > limit) {
    abandon(response, request);
    throw failPast();
  }
  if (response.body === null) return { pieces: [], byteLength: 0, truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > limit) {
      request.abort();
      reader.cancel().catch(() => undefined);
      if (failPast !== undefined) throw failPast();
      chunks.push(value.subarray(0, limit - total));
      return { pieces: chunks, byteLength: limit, truncated: true };
    }
    chunks.push(value);
    total += value.byteLength;
  }
  return { pieces: chunks, byteLength: total, truncated: false };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON value of a body. A TAXII envelope or bundle is parsed piece by piece, object by object
 * (parseContainerPieces), giving the value the whole text gives; anything else, and anything that
 * reader refuses, is parsed whole, which names the problem.
 */
function decodeJsonPieces(read: ReadBytes): Result<JsonValue, string> {
  const container = parseContainerPieces(read.pieces, { maxDepth: MAX_RESPONSE_JSON_DEPTH });
  if (container !== undefined) return { ok: true, value: container };
  let text: string;
  try {
    text = strictUtf8.decode(Buffer.concat(read.pieces, read.byteLength));
  } catch {
    return { ok: false, error: 'the body is not UTF-8 text' };
  }
  const parsed = parseJson(text, { maxDepth: MAX_RESPONSE_JSON_DEPTH });
  return parsed.ok ? parsed : { ok: false, error: parsed.error.message };
}

/** SHA-256 (hex) of a body's bytes, as pageBodySha256 gives it for the joined body. */
function bodySha256Of(read: ReadBytes): string {
  const digest = createHash('sha256');
  for (const piece of read.pieces) digest.update(piece);
  return digest.digest('hex');
}

function peerSays(text: PeerErrorText): string {
  const parts = [text.title, text.description === text.title ? undefined : text.description].filter(
    (part): part is string => part !== undefined,
  );
  return parts.length === 0 ? '' : `: ${parts.join(' — ')}`;
}

function peerDetails(text: PeerErrorText): ErrorDetails {
  return {
    ...(text.title === undefined ? {} : { peer_title: text.title }),
    ...(text.description === undefined ? {} : { peer_description: text.description }),
    ...(text.errorCode === undefined ? {} : { peer_error_code: text.errorCode }),
  };
}

// Entente's own answers when the collection exists but the token may not use it.
const COLLECTION_REFUSALS = new Set(['ENT_COLLECTION_NOT_READABLE', 'ENT_COLLECTION_NOT_WRITABLE']);

function statusCode(status: number, collectionId: string | undefined, text: PeerErrorText): ErrorCode {
  if (status === 401) return 'ENT_PEER_AUTH_REFUSED';
  if (status === 403) {
    return collectionId !== undefined && text.errorCode !== undefined && COLLECTION_REFUSALS.has(text.errorCode)
      ? 'ENT_PEER_NO_COLLECTION'
      : 'ENT_PEER_AUTH_REFUSED';
  }
  if (status === 404 && collectionId !== undefined) return 'ENT_PEER_NO_COLLECTION';
  return 'ENT_PEER_BAD_RESPONSE';
}

function collectionPath(collectionId: string): string {
  if (collectionId === '') throw peerInvalid('the collection id is empty');
  return `collections/${encodeURIComponent(collectionId)}/`;
}

function objectsQuery(options: GetObjectsOptions): string {
  const parts: string[] = [];
  const add = (name: string, value: string): void => {
    parts.push(`${name}=${encodeURIComponent(value)}`);
  };
  if (options.addedAfter !== undefined) add('added_after', options.addedAfter);
  if (options.limit !== undefined) add('limit', String(positive('limit', options.limit, 1)));
  if (options.types !== undefined && options.types.length > 0) {
    parts.push(`match[type]=${options.types.map((type) => encodeURIComponent(type)).join(',')}`);
  }
  if (options.matchVersion !== undefined) add('match[version]', options.matchVersion);
  if (options.next !== undefined) add('next', options.next);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

export function openTaxiiClient(options: TaxiiClientOptions): TaxiiClient {
  const baseUrl = normaliseUrl(options.url);
  const authorization = authorizationFor(options.token);
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
  const maxResponseBytes = positive('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const closing = new AbortController();

  let discovery: Promise<Discovered> | undefined;

  function closedError(): EntenteError {
    return new EntenteError('ENT_PEER_UNREACHABLE', `the request to ${baseUrl.origin} was cancelled: the TAXII client was closed`, {
      url: where(baseUrl),
      cancelled: true,
    });
  }

  function transportError(error: unknown, url: URL, timeout: AbortSignal): EntenteError {
    if (error instanceof EntenteError) return error;
    if (closing.signal.aborted) return closedError();
    const code = errorCodeOf(error);
    if (timeout.aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
      return new EntenteError('ENT_PEER_TIMEOUT', `${where(url)} did not answer within ${timeoutMs} ms`, {
        url: where(url),
        timeout_ms: timeoutMs,
      });
    }
    return new EntenteError(
      'ENT_PEER_UNREACHABLE',
      `could not reach ${where(url)}: ${code === undefined ? deepestMessage(error) : `${code} (${deepestMessage(error)})`}`,
      { url: where(url), ...(code === undefined ? {} : { cause_code: code }) },
      { cause: error },
    );
  }

  function badResponse(url: URL, message: string, details: ErrorDetails = {}): EntenteError {
    return new EntenteError('ENT_PEER_BAD_RESPONSE', `${where(url)} ${message}`, { url: where(url), ...details });
  }

  function resourceError(url: URL, what: string, problem: ResourceIssue): EntenteError {
    return badResponse(url, `answered with a ${what} that is not valid TAXII 2.1: ${problem.message} (at ${problem.path})`, {
      path: problem.path,
    });
  }

  async function refusal(response: Response, request: AbortController, exchange: Exchange): Promise<EntenteError> {
    let text: PeerErrorText = {};
    const contentType = response.headers.get('content-type') ?? '';
    if (essenceOf(contentType).endsWith('json')) {
      const read = await readUpTo(response, request, Math.min(ERROR_BODY_BYTES, maxResponseBytes));
      if (!read.truncated) {
        const value = decodeJsonPieces(read);
        if (value.ok) text = parsePeerErrorText(value.value);
      }
    } else {
      await discard(response, request);
    }
    const code = statusCode(response.status, exchange.collectionId, text);
    const subject =
      code === 'ENT_PEER_NO_COLLECTION' ? ` (collection ${quotePeerText(exchange.collectionId ?? '', 120)})` : '';
    return new EntenteError(code, `${where(exchange.url)}${subject} answered HTTP ${response.status}${peerSays(text)}`, {
      url: where(exchange.url),
      status: response.status,
      ...(exchange.collectionId === undefined ? {} : { collection_id: quotePeerText(exchange.collectionId, 120) }),
      ...peerDetails(text),
    });
  }

  async function send(exchange: Exchange): Promise<Answer> {
    if (closing.signal.aborted) throw closedError();
    const timeout = AbortSignal.timeout(timeoutMs);
    const request = new AbortController();
    const signal = AbortSignal.any([timeout, closing.signal, request.signal]);
    const expected = exchange.media === 'taxii' ? TAXII_MEDIA_TYPE : JSON_MEDIA_TYPE;
    const headers: Record<string, string> = { ...exchange.headers, accept: expected, authorization, 'user-agent': userAgent };
    if (exchange.body !== undefined) headers['content-type'] = expected;
    try {
      const response = await fetch(exchange.url, {
        method: exchange.method,
        headers,
        ...(exchange.body === undefined ? {} : { body: exchange.body }),
        signal,
        // A redirect could carry the token elsewhere; the operator gives the final URL instead.
        redirect: 'manual',
      });
      if (response.status >= 300 && response.status < 400) {
        await discard(response, request);
        const location = response.headers.get('location');
        throw badResponse(
          exchange.url,
          `answered with a redirect (HTTP ${response.status}${location === null ? '' : ` to ${quotePeerText(location, 200)}`}): give the peer's final URL`,
          { status: response.status },
        );
      }
      if (response.status === 404 && exchange.absentOn404 === true) {
        await discard(response, request);
        return { headers: response.headers, value: undefined };
      }
      if (response.status < 200 || response.status >= 300) throw await refusal(response, request, exchange);
      if (response.status === 204) {
        await discard(response, request);
        return { headers: response.headers, value: undefined };
      }
      const contentType = response.headers.get('content-type') ?? '';
      const fits = exchange.media === 'taxii' ? isTaxiiContentType(contentType) : essenceOf(contentType) === JSON_MEDIA_TYPE;
      if (!fits) {
        await discard(response, request);
        const got = contentType === '' ? 'no Content-Type' : `Content-Type ${quotePeerText(contentType, 100)}`;
        throw badResponse(exchange.url, `answered HTTP ${response.status} with ${got} instead of ${expected}`, {
          status: response.status,
          content_type: quotePeerText(contentType, 100),
        });
      }
      const read = await readUpTo(
        response,
        request,
        maxResponseBytes,
        () =>
          new EntenteError('ENT_PEER_RESPONSE_TOO_LARGE', `${where(exchange.url)} sent a response larger than the limit of ${maxResponseBytes} bytes`, {
            url: where(exchange.url),
            limit_bytes: maxResponseBytes,
          }),
      );
      if (read.byteLength === 0) {
        if (exchange.method === 'POST' && exchange.media === 'json') return { headers: response.headers, value: undefined };
        throw badResponse(exchange.url, `answered HTTP ${response.status} with an empty body`, { status: response.status });
      }
      const value = decodeJsonPieces(read);
      if (!value.ok) throw badResponse(exchange.url, `answered with a body that is not JSON: ${value.error}`, { status: response.status });
      return { headers: response.headers, value: value.value, ...(exchange.digestBody === true ? { bodySha256: bodySha256Of(read) } : {}) };
    } catch (error: unknown) {
      throw transportError(error, exchange.url, timeout);
    }
  }

  async function taxii(exchange: Omit<Exchange, 'media'>): Promise<Answer & { readonly value: JsonValue }> {
    const answer = await send({ ...exchange, media: 'taxii' });
    if (answer.value === undefined) throw badResponse(exchange.url, 'answered without a TAXII resource');
    return { headers: answer.headers, value: answer.value, ...(answer.bodySha256 === undefined ? {} : { bodySha256: answer.bodySha256 }) };
  }

  /** Discovery runs once; a failed one is forgotten, so that the next call tries again. */
  function discovered(): Promise<Discovered> {
    discovery ??= runDiscovery().catch((error: unknown) => {
      discovery = undefined;
      throw error;
    });
    return discovery;
  }

  function discover(): Promise<TaxiiDiscovery> {
    return discovered().then((found) => found.discovery);
  }

  async function runDiscovery(): Promise<Discovered> {
    const { value } = await taxii({ url: baseUrl, method: 'GET' });
    if (isApiRootDocument(value)) {
      const apiRoot = checkedApiRoot(baseUrl, value);
      return { discovery: { apiRoots: [baseUrl.href], apiRootUrl: baseUrl.href, urlKind: 'api-root' }, apiRoot };
    }
    const parsed = parseDiscoveryResource(value);
    if (!parsed.ok) throw resourceError(baseUrl, 'discovery resource', parsed.error);
    const resolve = (text: string): URL | undefined => {
      try {
        const url = new URL(text, baseUrl);
        if (!url.pathname.endsWith('/')) url.pathname += '/';
        return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
      } catch {
        return undefined;
      }
    };
    const apiRoots = parsed.value.apiRoots.map(resolve).filter((url): url is URL => url !== undefined);
    const chosen = parsed.value.default === undefined ? apiRoots[0] : resolve(parsed.value.default);
    if (chosen === undefined) {
      throw badResponse(baseUrl, 'answered with a discovery resource that names no usable API root: give an API root URL instead');
    }
    if (chosen.origin !== baseUrl.origin || chosen.username !== '' || chosen.password !== '') {
      // Following it would send this node's token to another server on the peer's say-so.
      throw badResponse(
        baseUrl,
        `names an API root on another origin (${quotePeerText(chosen.origin, 200)}); the token is sent only to the origin given: give that API root URL instead`,
        { api_root: quotePeerText(chosen.href, 300) },
      );
    }
    return { discovery: { apiRoots: apiRoots.map((url) => url.href), apiRootUrl: chosen.href, urlKind: 'discovery' } };
  }

  function checkedApiRoot(url: URL, value: JsonValue): ApiRootResource {
    const parsed = parseApiRootResource(value);
    if (!parsed.ok) throw resourceError(url, 'API root resource', parsed.error);
    if (!parsed.value.versions.some((version) => isTaxiiContentType(version) && /version\s*=\s*"?2\.1"?/i.test(version))) {
      throw badResponse(url, `is an API root that does not offer TAXII 2.1 (versions: ${quotePeerText(parsed.value.versions.join(', '), 200)})`);
    }
    return parsed.value;
  }

  async function apiRootUrl(path = ''): Promise<URL> {
    const found = await discover();
    return new URL(path, found.apiRootUrl);
  }

  async function getObjects(collectionId: string, query: GetObjectsOptions = {}): Promise<ObjectsPage> {
    const url = await apiRootUrl(`${collectionPath(collectionId)}objects/${objectsQuery(query)}`);
    const nonce = query.pageNonce;
    const { headers, value, bodySha256 } = await taxii({
      url,
      method: 'GET',
      collectionId,
      ...(nonce === undefined ? {} : { headers: { [PAGE_NONCE_HEADER]: nonce }, digestBody: true }),
    });
    const envelope = parseEnvelopeResource(value);
    if (!envelope.ok) throw resourceError(url, 'envelope', envelope.error);
    // TAXII lets a server send fewer objects than `limit`, never more. Only the byte limit would
    // bound the page otherwise: millions of tiny items, each decided and quarantined in memory.
    const count = envelope.value.objects.length;
    if (query.limit !== undefined && count > query.limit) {
      throw new EntenteError(
        'ENT_PEER_RESPONSE_TOO_LARGE',
        `${where(url)} answered with a page of ${count} objects, more than the limit of ${query.limit} asked for`,
        { url: where(url), object_count: count, limit: query.limit },
      );
    }
    const first = parseDateAddedHeader('X-TAXII-Date-Added-First', headers.get('x-taxii-date-added-first'));
    if (!first.ok) throw badResponse(url, `answered with a bad header: ${first.error.message}`);
    const last = parseDateAddedHeader('X-TAXII-Date-Added-Last', headers.get('x-taxii-date-added-last'));
    if (!last.ok) throw badResponse(url, `answered with a bad header: ${last.error.message}`);
    return {
      objects: envelope.value.objects,
      more: envelope.value.more,
      ...(envelope.value.next === undefined ? {} : { next: envelope.value.next }),
      ...(first.value === undefined ? {} : { dateAddedFirst: first.value }),
      ...(last.value === undefined ? {} : { dateAddedLast: last.value }),
      ...(nonce === undefined || bodySha256 === undefined ? {} : { proof: { nonce, signatureHeader: headers.get(PAGE_SIGNATURE_HEADER) ?? undefined, bodySha256 } }),
    };
  }

  async function* pages(collectionId: string, walkOptions: PagesOptions): AsyncGenerator<CursoredPage, void, undefined> {
    const filters = {
      limit: walkOptions.limit,
      ...(walkOptions.types === undefined ? {} : { types: walkOptions.types }),
      ...(walkOptions.matchVersion === undefined ? {} : { matchVersion: walkOptions.matchVersion }),
    };
    const fetchPage = (walk: PageWalk): Promise<ObjectsPage> =>
      getObjects(collectionId, {
        ...filters,
        ...(walk.addedAfter === undefined ? {} : { addedAfter: walk.addedAfter }),
        ...(walk.next === undefined || walk.addedAfterOnly ? {} : { next: walk.next }),
        ...(walkOptions.pageNonce === undefined ? {} : { pageNonce: walkOptions.pageNonce() }),
      });

    let walk: PageWalk | undefined = startPageWalk(walkOptions.cursor);
    let first = true;
    // The next page is asked for while the caller stores this one: the peer serves while this node
    // checks and writes. A page fetched ahead and never taken is simply dropped; the caller's stored
    // cursor still says where to resume.
    let ahead: { readonly walk: PageWalk; readonly page: Promise<ObjectsPage> } | undefined;
    while (walk !== undefined) {
      let page: ObjectsPage;
      try {
        const fetched = ahead !== undefined && ahead.walk === walk ? ahead.page : fetchPage(walk);
        ahead = undefined;
        page = await fetched;
      } catch (error: unknown) {
        // A stored `next` may have expired on the peer (TAXII lets servers drop them). Starting
        // again from the cursor's added_after re-reads some objects, which are duplicates, never gaps.
        const stale = first && walk.next !== undefined && error instanceof EntenteError && error.code === 'ENT_PEER_BAD_RESPONSE' && error.details?.status === 400;
        if (!stale) throw error;
        walk = { ...walk, next: undefined };
        first = false;
        continue;
      }
      first = false;
      const step = decideNextPage(walk, page);
      if (step.kind === 'stuck') {
        const url = await apiRootUrl(`${collectionPath(collectionId)}objects/`);
        throw badResponse(url, `cannot be paged: ${step.reason}`);
      }
      if (step.kind === 'refetch') {
        walk = step.following;
        continue;
      }
      if (step.following !== undefined) {
        const pending = fetchPage(step.following);
        // Observed now so that a failure of a page never taken is not an unhandled rejection.
        pending.catch(() => undefined);
        ahead = { walk: step.following, page: pending };
      }
      yield { ...page, cursor: step.cursor };
      walk = step.following;
    }
  }

  async function status(statusId: string, url: URL, answer: Answer & { readonly value: JsonValue }): Promise<TaxiiStatus> {
    const parsed = parseStatusResource(answer.value);
    if (!parsed.ok) throw resourceError(url, 'status resource', parsed.error);
    if (statusId !== '' && parsed.value.id !== statusId) {
      throw badResponse(url, `answered with status ${quotePeerText(parsed.value.id, 80)} for status ${quotePeerText(statusId, 80)}`);
    }
    return parsed.value;
  }

  async function getStatus(statusId: string): Promise<TaxiiStatus> {
    if (statusId === '') throw peerInvalid('the status id is empty');
    const url = await apiRootUrl(`status/${encodeURIComponent(statusId)}/`);
    return status(statusId, url, await taxii({ url, method: 'GET' }));
  }

  function sameOrigin(path: string): URL {
    if (!path.startsWith('/') || path.startsWith('//')) throw peerInvalid(`the path ${JSON.stringify(quotePeerText(path, 100))} must start with a single /`);
    const url = new URL(path, baseUrl.origin);
    if (url.origin !== baseUrl.origin) throw peerInvalid(`the path ${JSON.stringify(quotePeerText(path, 100))} leaves the peer's origin`);
    return url;
  }

  return {
    url: baseUrl.href,
    discover,
    async apiRoot() {
      const found = await discovered();
      // Given an API root URL, discovery already read it.
      if (found.apiRoot !== undefined) return found.apiRoot;
      const url = await apiRootUrl();
      const { value } = await taxii({ url, method: 'GET' });
      return checkedApiRoot(url, value);
    },
    async collections() {
      const url = await apiRootUrl('collections/');
      const { value } = await taxii({ url, method: 'GET' });
      const parsed = parseCollectionsResource(value);
      if (!parsed.ok) throw resourceError(url, 'collections resource', parsed.error);
      return parsed.value;
    },
    async collection(collectionId) {
      const url = await apiRootUrl(collectionPath(collectionId));
      const { value } = await taxii({ url, method: 'GET', collectionId });
      const parsed = parseCollectionResource(value);
      if (!parsed.ok) throw resourceError(url, 'collection resource', parsed.error);
      if (parsed.value.id !== collectionId) {
        throw badResponse(url, `answered with collection ${quotePeerText(parsed.value.id, 120)} for collection ${quotePeerText(collectionId, 120)}`);
      }
      return parsed.value;
    },
    getObjects,
    pages,
    async postObjects(collectionId, objects) {
      const url = await apiRootUrl(`${collectionPath(collectionId)}objects/`);
      const answer = await taxii({ url, method: 'POST', collectionId, body: JSON.stringify({ objects }) });
      return status('', url, answer);
    },
    getStatus,
    async followStatus(statusId, follow) {
      const pollMs = positive('pollMs', follow.pollMs, 1);
      const deadline = Date.now() + positive('deadlineMs', follow.deadlineMs, 1);
      for (;;) {
        const current = await getStatus(statusId);
        if (current.status === 'complete') return current;
        if (Date.now() + pollMs > deadline) {
          throw new EntenteError(
            'ENT_PEER_TIMEOUT',
            `status ${quotePeerText(statusId, 80)} at ${baseUrl.origin} is still pending after ${follow.deadlineMs} ms (${current.pendingCount} of ${current.totalCount} pending)`,
            { status_id: quotePeerText(statusId, 80), pending_count: current.pendingCount, total_count: current.totalCount },
          );
        }
        try {
          await sleep(pollMs, undefined, { signal: closing.signal });
        } catch {
          throw closedError();
        }
      }
    },
    async getJson(path) {
      const url = sameOrigin(path);
      return (await send({ url, method: 'GET', media: 'json', absentOn404: true })).value;
    },
    async postJson(path, body) {
      const url = sameOrigin(path);
      return (await send({ url, method: 'POST', media: 'json', body: JSON.stringify(body) })).value;
    },
    close() {
      closing.abort();
    },
  };
}
