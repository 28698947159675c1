// The STIX 2.1 cyber-observable objects and the indicator pattern for one observable item:
// `[ipv4-addr:value = '…']`, `[file:hashes.'SHA-256' = '…']`, a path as file name plus parent
// directory, a registry key with its full hive name, an AS by number. SCO ids are the deterministic
// UUIDv5 ids of STIX 2.1 §2.9. Pure.
import { scoId } from '../stix/ids.ts';
import type { JsonObject, StixObject } from '../stix/types.ts';
import { checkRegistryKey } from './item-values.ts';

export interface ObservableStix {
  /** The SCOs, the main one first (a file before its parent directory). */
  readonly scos: StixObject[];
  readonly pattern: string;
}

/** A STIX pattern string literal: backslash and quote escaped (STIX 2.1 §9.4). */
export function patternString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function sco(type: string, properties: JsonObject): StixObject {
  const id = scoId(type, properties);
  if (!id.ok) throw new Error(`no deterministic id for ${type}: ${id.error.message}`);
  return { type, spec_version: '2.1', id: id.value, ...properties };
}

function splitPath(path: string): { directory: string; name: string } {
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return { directory: path.slice(0, cut), name: path.slice(cut + 1) };
}

/**
 * SCOs and pattern for an observable of `type` (and `subtype` for files) with an already checked value.
 * Throws only on a programming error (a type checkItemValue does not accept).
 */
export function observableStix(type: string, subtype: string | undefined, value: string): ObservableStix {
  switch (type) {
    case 'ipv4-addr':
    case 'ipv6-addr':
    case 'domain-name':
    case 'url':
    case 'email-addr':
    case 'mac-addr':
      return { scos: [sco(type, { value })], pattern: `[${type}:value = ${patternString(value)}]` };
    case 'autonomous-system': {
      const number = Number(value.replace(/^AS/i, ''));
      return { scos: [sco(type, { number })], pattern: `[autonomous-system:number = ${number}]` };
    }
    case 'windows-registry-key': {
      const checked = checkRegistryKey(value);
      const key = checked.ok ? checked.value : value;
      return { scos: [sco(type, { key })], pattern: `[windows-registry-key:key = ${patternString(key)}]` };
    }
    case 'file': {
      if (subtype === 'name') return { scos: [sco('file', { name: value })], pattern: `[file:name = ${patternString(value)}]` };
      if (subtype === 'path') {
        const { directory, name } = splitPath(value);
        const folder = sco('directory', { path: directory === '' ? value.charAt(0) : directory });
        if (name === '') return { scos: [folder], pattern: `[directory:path = ${patternString(folder['path'] as string)}]` };
        const file = sco('file', { name, parent_directory_ref: folder.id });
        return {
          scos: [file, folder],
          pattern: `[file:name = ${patternString(name)} AND file:parent_directory_ref.path = ${patternString(folder['path'] as string)}]`,
        };
      }
      const algorithm = subtype ?? 'SHA-256';
      return { scos: [sco('file', { hashes: { [algorithm]: value } })], pattern: `[file:hashes.${patternString(algorithm)} = ${patternString(value)}]` };
    }
    default:
      throw new Error(`observable type ${type} has no STIX 2.1 object`);
  }
}
