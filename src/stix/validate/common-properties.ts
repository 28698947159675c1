// Common properties (STIX 2.1 section 3.2), by object category. Type tables spread these into their own.
import {
  BOOLEAN,
  integer,
  KILL_CHAIN_PHASES,
  LANG,
  ref,
  refs,
  STRING,
  STRING_LIST,
  TIMESTAMP,
  toTypes,
  type PropSpec,
} from './property-spec.ts';

export const IDENTITY_REF = ref(toTypes('identity'));
export const MARKING_REFS = refs(toTypes('marking-definition'));

/** SDOs, SROs, language-content and extension-definition. `type` and `id` are checked before the table. */
export const CORE_COMMON: Readonly<Record<string, PropSpec>> = {
  type: STRING,
  spec_version: STRING,
  id: STRING,
  created_by_ref: IDENTITY_REF,
  created: TIMESTAMP,
  modified: TIMESTAMP,
  revoked: BOOLEAN,
  labels: STRING_LIST,
  confidence: integer(0, 100),
  lang: LANG,
  external_references: { kind: 'external-references' },
  object_marking_refs: MARKING_REFS,
  granular_markings: { kind: 'granular-markings' },
  extensions: { kind: 'extensions' },
};
export const CORE_REQUIRED = ['type', 'spec_version', 'id', 'created', 'modified'] as const;

export const SCO_COMMON: Readonly<Record<string, PropSpec>> = {
  type: STRING,
  spec_version: STRING,
  id: STRING,
  object_marking_refs: MARKING_REFS,
  granular_markings: { kind: 'granular-markings' },
  defanged: BOOLEAN,
  extensions: { kind: 'extensions' },
};
export const SCO_REQUIRED = ['type', 'id'] as const;

export const NAME_DESCRIPTION: Readonly<Record<string, PropSpec>> = { name: STRING, description: STRING };
export { KILL_CHAIN_PHASES };
