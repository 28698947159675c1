import type { StixObject } from './types.ts';

/**
 * The version key of a STIX object as TAXII 2.1 uses it: `modified` when present, else `created`.
 * Objects with neither (SCOs, STIX 2.1 marking definitions carry `created`) are unversioned; the
 * store gives them the fixed key below so that re-adding the same SCO is a duplicate, not a new version.
 */
export const UNVERSIONED_KEY = '1970-01-01T00:00:00.000Z';

export function versionOf(object: StixObject): string {
  const modified = object['modified'];
  if (typeof modified === 'string') return modified;
  const created = object['created'];
  if (typeof created === 'string') return created;
  return UNVERSIONED_KEY;
}
