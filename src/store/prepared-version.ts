import type { StixObject } from '../stix/types.ts';
import { versionOf } from '../stix/versions.ts';

/**
 * A text the store keeps: a string, or its UTF-8 bytes. An import's worker thread hands its texts over
 * as bytes in memory shared with this thread, which the store binds as they are: making strings of
 * them here cost a copy and fresh memory for every byte of the input (see import-in-worker.ts).
 */
export type StoredText = string | Uint8Array;

/** The text of a StoredText. */
export function textOf(stored: StoredText): string {
  return typeof stored === 'string' ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('utf8');
}

/** What the search index holds for one version: name, description, aliases (joined by spaces). */
export interface SearchableText {
  readonly name: StoredText | null;
  readonly description: StoredText | null;
  readonly aliases: StoredText | null;
}

/**
 * One validated object version in the form the store writes it: the stored JSON text and the columns
 * and search text derived from the object. Everything here is computed from the object alone, so an
 * import can prepare versions on another thread (parse, validate, serialise) while the store writes the
 * previous batch; the store itself needs no object graph, only these strings.
 */
export interface PreparedVersion {
  readonly id: string;
  readonly type: string;
  /** versionOf(object): `modified`, else `created`, else the unversioned key. */
  readonly version: string;
  readonly specVersion: string;
  readonly revoked: boolean;
  /** JSON.stringify(object): exactly the text the store keeps. */
  readonly json: StoredText;
  /** undefined when the object has no name, description or alias. */
  readonly text: SearchableText | undefined;
}

/** `json`: JSON.stringify(object) when the caller already has it (the line it was parsed from, in that form). */
export function prepareVersion(object: StixObject, json?: string): PreparedVersion {
  const specVersion = object['spec_version'];
  return {
    id: object.id,
    type: object.type,
    version: versionOf(object),
    specVersion: typeof specVersion === 'string' ? specVersion : '2.1',
    revoked: object['revoked'] === true,
    json: json ?? JSON.stringify(object),
    text: searchableTextOf(object),
  };
}

export function searchableTextOf(object: StixObject): SearchableText | undefined {
  const name = typeof object['name'] === 'string' ? object['name'] : null;
  const description = typeof object['description'] === 'string' ? object['description'] : null;
  // No array or closure per object (a sync prepares a million of them): the string aliases of both
  // lists, joined by spaces; null when there is none.
  const aliases = joinAliases(joinAliases(null, object['aliases']), object['x_mitre_aliases']);
  if (name === null && description === null && aliases === null) return undefined;
  return { name, description, aliases };
}

function joinAliases(joined: string | null, list: unknown): string | null {
  if (!Array.isArray(list)) return joined;
  let text = joined;
  for (const alias of list) if (typeof alias === 'string') text = text === null ? alias : `${text} ${alias}`;
  return text;
}
