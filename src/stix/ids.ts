import canonicalize from 'canonicalize';
import { v5 as uuidv5 } from 'uuid';
import { err, ok } from '../errors/result.ts';
import type { Result } from '../errors/result.ts';
import type { JsonObject, JsonValue } from './types.ts';

/** The namespace STIX 2.1 (§2.9) fixes for deterministic SCO identifiers; nothing else may use it. */
export const SCO_ID_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

/**
 * ID Contributing Properties of every STIX 2.1 Cyber-observable Object, in the spec's order (STIX 2.1
 * §6, one table per SCO; the same lists as the OASIS cti-python-stix2 library). `process` has none:
 * the spec wants a UUIDv4 for it, because no property identifies a process across hosts.
 */
export const SCO_ID_CONTRIBUTING_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  artifact: ['hashes', 'payload_bin'],
  'autonomous-system': ['number'],
  directory: ['path'],
  'domain-name': ['value'],
  'email-addr': ['value'],
  'email-message': ['from_ref', 'subject', 'body'],
  file: ['hashes', 'name', 'extensions', 'parent_directory_ref'],
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  'mac-addr': ['value'],
  mutex: ['name'],
  'network-traffic': ['start', 'end', 'src_ref', 'dst_ref', 'src_port', 'dst_port', 'protocols', 'extensions'],
  process: [],
  software: ['name', 'cpe', 'swid', 'vendor', 'version'],
  url: ['value'],
  'user-account': ['account_type', 'user_id', 'account_login'],
  'windows-registry-key': ['key', 'values'],
  'x509-certificate': ['hashes', 'serial_number'],
};

/** The SCO types the STIX 2.1 specification defines (custom SCOs cannot be recognised by type alone). */
export const SCO_TYPES: ReadonlySet<string> = new Set(Object.keys(SCO_ID_CONTRIBUTING_PROPERTIES));

export function isScoType(type: string): boolean {
  return SCO_TYPES.has(type);
}

/**
 * When `hashes` contributes to an id, only one hash is used so that two producers who know different
 * sets of hashes of the same file still agree: MD5, then SHA-1, SHA-256, SHA-512, else the first key
 * (the order cti-python-stix2 applies; insertion order decides the fallback, as it does there).
 */
const HASH_PREFERENCE = ['MD5', 'SHA-1', 'SHA-256', 'SHA-512'] as const;

function chooseOneHash(hashes: JsonObject): JsonObject | undefined {
  for (const name of HASH_PREFERENCE) {
    const value = hashes[name];
    if (value !== undefined) return Object.fromEntries([[name, value]]) as JsonObject;
  }
  const first = Object.entries(hashes)[0];
  return first === undefined ? undefined : (Object.fromEntries([first]) as JsonObject);
}

export type ScoIdProblemCode =
  | 'unknown-sco-type'
  | 'no-contributing-properties'
  | 'empty-hashes'
  | 'not-canonicalizable';

export interface ScoIdProblem {
  readonly code: ScoIdProblemCode;
  readonly message: string;
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The deterministic id of a STIX 2.1 SCO: UUIDv5 in {@link SCO_ID_NAMESPACE} over the RFC 8785 canonical
 * JSON of the object's ID Contributing Properties that are present. References among them must already
 * be full STIX ids (an upgrade from 2.0 rewrites "0"-style references first).
 *
 * Not an id but a problem when the spec gives no deterministic id: an unknown (custom) type, or none of
 * the contributing properties present — the caller then uses {@link randomStixId}, as the spec says.
 */
export function scoId(type: string, object: JsonObject): Result<string, ScoIdProblem> {
  // Own entries only: a type is the sender's text, and 'constructor' must not find Object's.
  const properties = Object.hasOwn(SCO_ID_CONTRIBUTING_PROPERTIES, type) ? SCO_ID_CONTRIBUTING_PROPERTIES[type] : undefined;
  if (properties === undefined) {
    return err({ code: 'unknown-sco-type', message: `"${type}" is not an SCO type defined by STIX 2.1; it has no ID Contributing Properties` });
  }
  const contributing: [string, JsonValue][] = [];
  for (const name of properties) {
    const value = object[name];
    if (value === undefined) continue;
    if (name === 'hashes') {
      const one = isJsonObject(value) ? chooseOneHash(value) : undefined;
      if (one === undefined) return err({ code: 'empty-hashes', message: `${type}: "hashes" is empty or not a dictionary, so it cannot contribute to the id` });
      contributing.push([name, one]);
    } else {
      contributing.push([name, value]);
    }
  }
  if (contributing.length === 0) {
    return err({
      code: 'no-contributing-properties',
      message: properties.length === 0
        ? `${type} has no ID Contributing Properties; STIX 2.1 gives it a random (UUIDv4) id`
        : `${type} has none of its ID Contributing Properties (${properties.join(', ')}); STIX 2.1 gives it a random (UUIDv4) id`,
    });
  }
  let canonical: string | undefined;
  try {
    // fromEntries, not assignment: a contributing dictionary may hold a "__proto__" key, which must stay data.
    canonical = canonicalize(Object.fromEntries(contributing));
  } catch (error: unknown) {
    // The canonicaliser refuses lone UTF-16 surrogates (they have no UTF-8 form) and non-finite numbers.
    const reason = error instanceof Error ? error.message : String(error);
    return err({ code: 'not-canonicalizable', message: `${type}: ID Contributing Properties cannot be canonicalised (RFC 8785): ${reason}` });
  }
  if (canonical === undefined) {
    return err({ code: 'not-canonicalizable', message: `${type}: ID Contributing Properties cannot be canonicalised (RFC 8785)` });
  }
  return ok(`${type}--${uuidv5(canonical, SCO_ID_NAMESPACE)}`);
}

/**
 * A STIX id with a random UUID (SDOs, SROs, meta objects, and SCOs without a deterministic id). The
 * generator is passed in so that this module stays pure; production passes `crypto.randomUUID`.
 */
export function randomStixId(type: string, randomUuid: () => string): string {
  return `${type}--${randomUuid().toLowerCase()}`;
}

/**
 * Whether `id` names `named`: their UUIDs compared in any letter case, as RFC 4122 readers compare them
 * (the validator only warns about upper-case hex, and a reference spelled so names the same object).
 */
export function namesSameId(id: string | undefined, named: string): boolean {
  return id !== undefined && id.toLowerCase() === named.toLowerCase();
}
