// The object types STIX 2.1 defines, by category. Anything else with a well-formed type name is a custom object.

export const SDO_TYPES: ReadonlySet<string> = new Set([
  'attack-pattern', 'campaign', 'course-of-action', 'grouping', 'identity', 'incident', 'indicator', 'infrastructure',
  'intrusion-set', 'location', 'malware', 'malware-analysis', 'note', 'observed-data', 'opinion', 'report',
  'threat-actor', 'tool', 'vulnerability',
]);

export const SRO_TYPES: ReadonlySet<string> = new Set(['relationship', 'sighting']);

export const SCO_TYPES: ReadonlySet<string> = new Set([
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file', 'ipv4-addr',
  'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url', 'user-account',
  'windows-registry-key', 'x509-certificate',
]);

export const META_TYPES: ReadonlySet<string> = new Set(['marking-definition', 'language-content', 'extension-definition']);

/** Object type names the specification reserves for future use. */
export const RESERVED_TYPES: ReadonlySet<string> = new Set(['action']);

/**
 * Property names STIX 2.1 reserves (section 3.1): a producer must not use them, so that a later version can.
 * The OASIS schema also rejects `username`, a misspelling of `usernames`; that divergence is listed in the oracle test.
 */
export const RESERVED_PROPERTIES: ReadonlySet<string> = new Set([
  'severity', 'action', 'usernames', 'phone_numbers', 'addresses', 'first_seen_precision', 'last_seen_precision',
  'valid_from_precision', 'valid_until_precision',
]);

export type ObjectCategory = 'sdo' | 'sro' | 'sco' | 'meta' | 'bundle' | 'custom';

export function categoryOf(type: string): ObjectCategory {
  if (SDO_TYPES.has(type)) return 'sdo';
  if (SCO_TYPES.has(type)) return 'sco';
  if (SRO_TYPES.has(type)) return 'sro';
  if (META_TYPES.has(type)) return 'meta';
  if (type === 'bundle') return 'bundle';
  return 'custom';
}
