import { err, ok, type Result } from '../errors/result.ts';
import { parseMicroTimestamp } from '../stix/micro-timestamp.ts';
import type { JsonObject, JsonValue } from '../stix/types.ts';

/**
 * The TAXII 2.1 resources a peer sends back, read as untrusted JSON values into the client's own
 * shapes (camelCase). Pure; never throws: each parseX returns the resource or the one issue that
 * makes it unusable, naming its path. Fields the client does not use are ignored; fields it uses
 * must have the type the specification gives them.
 */

export interface ResourceIssue {
  /** JSON path of the offending value (`$.collections[2].id`), `$` for the whole document. */
  readonly path: string;
  readonly message: string;
}

/** Discovery (§4.1.1). `apiRoots` and `default` are as the peer wrote them (possibly relative). */
export interface DiscoveryResource {
  readonly title: string;
  readonly default?: string;
  readonly apiRoots: readonly string[];
}

/** API root (§4.2.1). */
export interface ApiRootResource {
  readonly title: string;
  readonly description?: string;
  readonly versions: readonly string[];
  readonly maxContentLength: number;
}

/** Collection (§5.2.1). */
export interface TaxiiCollection {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly alias?: string;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  readonly mediaTypes: readonly string[];
}

export interface TaxiiStatusDetail {
  readonly id: string;
  readonly version: string;
  readonly message?: string;
}

/** Status (§4.3.1). */
export interface TaxiiStatus {
  readonly id: string;
  readonly status: 'pending' | 'complete';
  readonly requestTimestamp?: string;
  readonly totalCount: number;
  readonly successCount: number;
  readonly failureCount: number;
  readonly pendingCount: number;
  readonly successes: readonly TaxiiStatusDetail[];
  readonly failures: readonly TaxiiStatusDetail[];
  readonly pendings: readonly TaxiiStatusDetail[];
}

/** Envelope (§3.7): the objects are parsed JSON values, not yet checked as STIX. */
export interface EnvelopeResource {
  readonly more: boolean;
  readonly next?: string;
  readonly objects: readonly unknown[];
}

/** The parts of a TAXII error message (§3.6.1) the client may quote, already cut to size. */
export interface PeerErrorText {
  readonly title?: string;
  readonly description?: string;
  readonly errorCode?: string;
}

/** Longest `next` accepted: it goes back to the peer in a URL, and is stored as a cursor. */
export const MAX_NEXT_LENGTH = 2048;

type Parsed<T> = Result<T, ResourceIssue>;

function issue(path: string, message: string): { readonly ok: false; readonly error: ResourceIssue } {
  return err({ path, message });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function hasOwn(object: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** A string field; `undefined` (absent) only when optional. */
function stringField(object: JsonObject, key: string, path: string, required: boolean): Parsed<string | undefined> {
  if (!hasOwn(object, key)) return required ? issue(`${path}.${key}`, `${key} is missing`) : ok(undefined);
  const value = object[key];
  if (typeof value !== 'string') return issue(`${path}.${key}`, `${key} must be a string, not ${typeName(value)}`);
  return ok(value);
}

function booleanField(object: JsonObject, key: string, path: string, fallback: boolean | undefined): Parsed<boolean> {
  if (!hasOwn(object, key)) return fallback === undefined ? issue(`${path}.${key}`, `${key} is missing`) : ok(fallback);
  const value = object[key];
  if (typeof value !== 'boolean') return issue(`${path}.${key}`, `${key} must be true or false, not ${typeName(value)}`);
  return ok(value);
}

function countField(object: JsonObject, key: string, path: string): Parsed<number> {
  const value = object[key];
  if (!hasOwn(object, key)) return issue(`${path}.${key}`, `${key} is missing`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return issue(`${path}.${key}`, `${key} must be a whole number of 0 or more`);
  }
  return ok(value);
}

function stringList(object: JsonObject, key: string, path: string, required: boolean): Parsed<readonly string[]> {
  if (!hasOwn(object, key)) return required ? issue(`${path}.${key}`, `${key} is missing`) : ok([]);
  const value = object[key];
  if (!Array.isArray(value)) return issue(`${path}.${key}`, `${key} must be a list, not ${typeName(value)}`);
  for (let i = 0; i < value.length; i += 1) {
    if (typeof value[i] !== 'string') return issue(`${path}.${key}[${i}]`, `${key} must list strings only`);
  }
  return ok(value as string[]);
}

function notAnObject(what: string, value: unknown): { readonly ok: false; readonly error: ResourceIssue } {
  return issue('$', `the ${what} must be a JSON object, not ${typeName(value)}`);
}

/** Whether a document is an API root resource rather than discovery: only an API root has `versions`. */
export function isApiRootDocument(value: JsonValue): boolean {
  return isObject(value) && hasOwn(value, 'versions');
}

export function parseDiscoveryResource(value: JsonValue): Parsed<DiscoveryResource> {
  if (!isObject(value)) return notAnObject('discovery resource', value);
  const title = stringField(value, 'title', '$', true);
  if (!title.ok) return title;
  const fallback = stringField(value, 'default', '$', false);
  if (!fallback.ok) return fallback;
  const apiRoots = stringList(value, 'api_roots', '$', false);
  if (!apiRoots.ok) return apiRoots;
  return ok({
    title: title.value ?? '',
    ...(fallback.value === undefined ? {} : { default: fallback.value }),
    apiRoots: apiRoots.value,
  });
}

export function parseApiRootResource(value: JsonValue): Parsed<ApiRootResource> {
  if (!isObject(value)) return notAnObject('API root resource', value);
  const title = stringField(value, 'title', '$', true);
  if (!title.ok) return title;
  const description = stringField(value, 'description', '$', false);
  if (!description.ok) return description;
  const versions = stringList(value, 'versions', '$', true);
  if (!versions.ok) return versions;
  const maxContentLength = countField(value, 'max_content_length', '$');
  if (!maxContentLength.ok) return maxContentLength;
  return ok({
    title: title.value ?? '',
    ...(description.value === undefined ? {} : { description: description.value }),
    versions: versions.value,
    maxContentLength: maxContentLength.value,
  });
}

export function parseCollectionResource(value: JsonValue, path = '$'): Parsed<TaxiiCollection> {
  if (!isObject(value)) return issue(path, `a collection must be a JSON object, not ${typeName(value)}`);
  const id = stringField(value, 'id', path, true);
  if (!id.ok) return id;
  const title = stringField(value, 'title', path, true);
  if (!title.ok) return title;
  const description = stringField(value, 'description', path, false);
  if (!description.ok) return description;
  const alias = stringField(value, 'alias', path, false);
  if (!alias.ok) return alias;
  const canRead = booleanField(value, 'can_read', path, undefined);
  if (!canRead.ok) return canRead;
  const canWrite = booleanField(value, 'can_write', path, undefined);
  if (!canWrite.ok) return canWrite;
  const mediaTypes = stringList(value, 'media_types', path, false);
  if (!mediaTypes.ok) return mediaTypes;
  return ok({
    id: id.value ?? '',
    title: title.value ?? '',
    ...(description.value === undefined ? {} : { description: description.value }),
    ...(alias.value === undefined ? {} : { alias: alias.value }),
    canRead: canRead.value,
    canWrite: canWrite.value,
    mediaTypes: mediaTypes.value,
  });
}

export function parseCollectionsResource(value: JsonValue): Parsed<readonly TaxiiCollection[]> {
  if (!isObject(value)) return notAnObject('collections resource', value);
  if (!hasOwn(value, 'collections')) return ok([]);
  const list = value.collections;
  if (!Array.isArray(list)) return issue('$.collections', `collections must be a list, not ${typeName(list)}`);
  const collections: TaxiiCollection[] = [];
  for (let i = 0; i < list.length; i += 1) {
    const parsed = parseCollectionResource(list[i] as JsonValue, `$.collections[${i}]`);
    if (!parsed.ok) return parsed;
    collections.push(parsed.value);
  }
  return ok(collections);
}

export function parseEnvelopeResource(value: JsonValue): Parsed<EnvelopeResource> {
  if (!isObject(value)) return notAnObject('envelope', value);
  // `more` is optional in TAXII 2.1: absent means this is the last page.
  const more = booleanField(value, 'more', '$', false);
  if (!more.ok) return more;
  const next = stringField(value, 'next', '$', false);
  if (!next.ok) return next;
  if (next.value !== undefined && (next.value === '' || next.value.length > MAX_NEXT_LENGTH)) {
    return issue('$.next', `next must be a non-empty string of at most ${MAX_NEXT_LENGTH} characters`);
  }
  let objects: readonly unknown[] = [];
  if (hasOwn(value, 'objects')) {
    const list = value.objects;
    if (!Array.isArray(list)) return issue('$.objects', `objects must be a list, not ${typeName(list)}`);
    objects = list;
  }
  return ok({ more: more.value, ...(next.value === undefined ? {} : { next: next.value }), objects });
}

function parseDetails(object: JsonObject, key: string): Parsed<readonly TaxiiStatusDetail[]> {
  if (!hasOwn(object, key)) return ok([]);
  const list = object[key];
  if (!Array.isArray(list)) return issue(`$.${key}`, `${key} must be a list, not ${typeName(list)}`);
  const details: TaxiiStatusDetail[] = [];
  for (let i = 0; i < list.length; i += 1) {
    const path = `$.${key}[${i}]`;
    const item = list[i];
    if (!isObject(item)) return issue(path, `each of ${key} must be a JSON object`);
    const id = stringField(item, 'id', path, true);
    if (!id.ok) return id;
    const version = stringField(item, 'version', path, true);
    if (!version.ok) return version;
    const message = stringField(item, 'message', path, false);
    if (!message.ok) return message;
    details.push({ id: id.value ?? '', version: version.value ?? '', ...(message.value === undefined ? {} : { message: message.value }) });
  }
  return ok(details);
}

export function parseStatusResource(value: JsonValue): Parsed<TaxiiStatus> {
  if (!isObject(value)) return notAnObject('status resource', value);
  const id = stringField(value, 'id', '$', true);
  if (!id.ok) return id;
  const status = stringField(value, 'status', '$', true);
  if (!status.ok) return status;
  if (status.value !== 'pending' && status.value !== 'complete') {
    return issue('$.status', 'status must be "pending" or "complete"');
  }
  const requestTimestamp = stringField(value, 'request_timestamp', '$', false);
  if (!requestTimestamp.ok) return requestTimestamp;
  const counts: Record<'total_count' | 'success_count' | 'failure_count' | 'pending_count', number> = {
    total_count: 0,
    success_count: 0,
    failure_count: 0,
    pending_count: 0,
  };
  for (const key of Object.keys(counts) as (keyof typeof counts)[]) {
    const count = countField(value, key, '$');
    if (!count.ok) return count;
    counts[key] = count.value;
  }
  const successes = parseDetails(value, 'successes');
  if (!successes.ok) return successes;
  const failures = parseDetails(value, 'failures');
  if (!failures.ok) return failures;
  const pendings = parseDetails(value, 'pendings');
  if (!pendings.ok) return pendings;
  return ok({
    id: id.value ?? '',
    status: status.value,
    ...(requestTimestamp.value === undefined ? {} : { requestTimestamp: requestTimestamp.value }),
    totalCount: counts.total_count,
    successCount: counts.success_count,
    failureCount: counts.failure_count,
    pendingCount: counts.pending_count,
    successes: successes.value,
    failures: failures.value,
    pendings: pendings.value,
  });
}

/**
 * Reads the X-TAXII-Date-Added-First/Last header value. Absent is fine (an empty page has none);
 * present, it must be a timestamp, because it may become the `added_after` this node sends back and
 * stores as its cursor.
 */
export function parseDateAddedHeader(name: string, value: string | null): Parsed<string | undefined> {
  if (value === null) return ok(undefined);
  const text = value.trim();
  if (parseMicroTimestamp(text) === undefined) {
    return issue(name, `${name} is not a timestamp such as 2026-01-31T12:00:00.000000Z: ${quotePeerText(text, 60)}`);
  }
  return ok(text);
}

/**
 * The title, description and error code of a peer's TAXII error body, when it is one. Never the
 * whole body: each part is cut to a few hundred characters and stripped of control characters.
 */
export function parsePeerErrorText(value: JsonValue): PeerErrorText {
  if (!isObject(value)) return {};
  const text = (key: string, max: number): string | undefined => {
    const field = value[key];
    return typeof field === 'string' && field.trim() !== '' ? quotePeerText(field, max) : undefined;
  };
  const title = text('title', 200);
  const description = text('description', 500);
  const errorCode = text('error_code', 80);
  return {
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    ...(errorCode === undefined ? {} : { errorCode }),
  };
}

// C0 and C1 controls, and the bidirectional overrides that can make printed text lie.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/**
 * Text the peer chose, made safe to put into an error message a terminal or log will show: control
 * characters become one space, and anything beyond `max` characters is cut with an ellipsis.
 */
export function quotePeerText(text: string, max: number): string {
  const clean = text.replace(UNPRINTABLE, ' ').trim();
  if (clean.length <= max) return clean;
  return `${clean.slice(0, max)}… (${clean.length} characters)`;
}
