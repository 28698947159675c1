// STIX Relationship Objects (STIX 2.1 section 5).
import { CORE_COMMON, CORE_REQUIRED } from './common-properties.ts';
import {
  BOOLEAN,
  integer,
  ref,
  refs,
  SDO_OR_CUSTOM,
  SDO_SCO_OR_CUSTOM,
  shape,
  STRING,
  syntax,
  TIMESTAMP,
  toTypes,
  type Shape,
} from './property-spec.ts';
import { timeOrder } from './shape-rules.ts';

function isRelationshipType(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false;
  }
  return true;
}

export const SRO_SPECS: ReadonlyMap<string, Shape> = new Map([
  [
    'relationship',
    shape(
      {
        ...CORE_COMMON,
        relationship_type: syntax(isRelationshipType, 'a relationship type of lowercase letters, digits and hyphens, like "uses"'),
        description: STRING,
        source_ref: ref(SDO_SCO_OR_CUSTOM),
        target_ref: ref(SDO_SCO_OR_CUSTOM),
        start_time: TIMESTAMP,
        stop_time: TIMESTAMP,
      },
      [...CORE_REQUIRED, 'relationship_type', 'source_ref', 'target_ref'],
      [timeOrder('start_time', 'stop_time', true)],
      true,
    ),
  ],
  [
    'sighting',
    shape(
      {
        ...CORE_COMMON,
        description: STRING,
        first_seen: TIMESTAMP,
        last_seen: TIMESTAMP,
        count: integer(0, 999_999_999),
        sighting_of_ref: ref(SDO_OR_CUSTOM),
        observed_data_refs: refs(toTypes('observed-data')),
        where_sighted_refs: refs(toTypes('identity', 'location')),
        summary: BOOLEAN,
      },
      [...CORE_REQUIRED, 'sighting_of_ref'],
      [timeOrder('first_seen', 'last_seen')],
      true,
    ),
  ],
]);
