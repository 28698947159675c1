// STIX Domain Objects (STIX 2.1 section 4): one table per type.
import { CORE_COMMON, CORE_REQUIRED, NAME_DESCRIPTION } from './common-properties.ts';
import { isRecord } from './check-value.ts';
import { memberPath } from './issue-sink.ts';
import { idTypeOf } from './lexical.ts';
import { categoryOf } from './object-categories.ts';
import {
  ANY_OBJECT,
  ANY_SCO,
  BOOLEAN,
  integer,
  KILL_CHAIN_PHASES,
  ref,
  refs,
  SCO_SRO_OR_CUSTOM,
  shape,
  STRING,
  STRING_LIST,
  TIMESTAMP,
  toTypes,
  vocab,
  vocabList,
  type PropSpec,
  type Shape,
  type ShapeRule,
} from './property-spec.ts';
import { atLeastOne, exactlyOne, requires, timeOrder } from './shape-rules.ts';
import {
  ATTACK_MOTIVATION_OV,
  ATTACK_RESOURCE_LEVEL_OV,
  GROUPING_CONTEXT_OV,
  IDENTITY_CLASS_OV,
  IMPLEMENTATION_LANGUAGE_OV,
  INDICATOR_TYPE_OV,
  INDUSTRY_SECTOR_OV,
  INFRASTRUCTURE_TYPE_OV,
  MALWARE_CAPABILITIES_OV,
  MALWARE_RESULT_OV,
  MALWARE_TYPE_OV,
  OPINION_ENUM,
  PATTERN_TYPE_OV,
  PROCESSOR_ARCHITECTURE_OV,
  REGION_OV,
  REPORT_TYPE_OV,
  THREAT_ACTOR_ROLE_OV,
  THREAT_ACTOR_SOPHISTICATION_OV,
  THREAT_ACTOR_TYPE_OV,
  TOOL_TYPE_OV,
} from './vocabularies.ts';

function sdo(props: Readonly<Record<string, PropSpec>>, required: readonly string[] = [], rules: readonly ShapeRule[] = []): Shape {
  return shape({ ...CORE_COMMON, ...props }, [...CORE_REQUIRED, ...required], rules, true);
}

const SOFTWARE_REF = ref(toTypes('software'));
const OBJECT_REFS = refs(ANY_OBJECT);
const SEEN = { first_seen: TIMESTAMP, last_seen: TIMESTAMP };
const SEEN_ORDER = timeOrder('first_seen', 'last_seen');

/** ISO 3166-1 alpha-2 codes are two uppercase letters; the spec says SHOULD, so other forms only warn. */
const COUNTRY: PropSpec = {
  kind: 'syntax',
  test: (s) => s.length === 2 && s.charCodeAt(0) >= 65 && s.charCodeAt(0) <= 90 && s.charCodeAt(1) >= 65 && s.charCodeAt(1) <= 90,
  expected: 'an ISO 3166-1 alpha-2 country code like "DE"',
  severity: 'warning',
};

const MALWARE_NAME_IF_FAMILY: ShapeRule = (value, path, sink) => {
  if (value['is_family'] === true && value['name'] === undefined) {
    sink.error(memberPath(path, 'name'), 'STIX_PROPERTY_DEPENDENCY', "'name' is required when is_family is true");
  }
};

const OBSERVED_DATA_OBJECTS_DEPRECATED: ShapeRule = (value, path, sink) => {
  if (isRecord(value['objects'])) {
    sink.warn(memberPath(path, 'objects'), 'STIX_DEPRECATED', "'objects' is deprecated in STIX 2.1; put the SCOs in the bundle and list them in object_refs");
  }
};

const ONE_SCO_REQUIRED: ShapeRule = (value, path, sink) => {
  const refsValue = value['object_refs'];
  if (!Array.isArray(refsValue) || refsValue.length === 0) return;
  for (const r of refsValue) {
    if (typeof r !== 'string') continue;
    const category = categoryOf(idTypeOf(r));
    if (category === 'sco' || category === 'custom') return;
  }
  sink.error(memberPath(path, 'object_refs'), 'STIX_REF_TARGET_TYPE', 'object_refs must include at least one SCO');
};

export const SDO_SPECS: ReadonlyMap<string, Shape> = new Map([
  ['attack-pattern', sdo({ ...NAME_DESCRIPTION, aliases: STRING_LIST, kill_chain_phases: KILL_CHAIN_PHASES }, ['name'])],
  ['campaign', sdo({ ...NAME_DESCRIPTION, aliases: STRING_LIST, ...SEEN, objective: STRING }, ['name'], [SEEN_ORDER])],
  ['course-of-action', sdo({ ...NAME_DESCRIPTION }, ['name'])],
  ['grouping', sdo({ ...NAME_DESCRIPTION, context: vocab(GROUPING_CONTEXT_OV), object_refs: OBJECT_REFS }, ['context', 'object_refs'])],
  [
    'identity',
    sdo(
      {
        ...NAME_DESCRIPTION,
        roles: STRING_LIST,
        identity_class: vocab(IDENTITY_CLASS_OV),
        sectors: vocabList(INDUSTRY_SECTOR_OV),
        contact_information: STRING,
      },
      ['name'],
    ),
  ],
  ['incident', sdo({ ...NAME_DESCRIPTION, kill_chain_phases: KILL_CHAIN_PHASES }, ['name'])],
  [
    'indicator',
    sdo(
      {
        ...NAME_DESCRIPTION,
        indicator_types: vocabList(INDICATOR_TYPE_OV),
        pattern: STRING,
        pattern_type: vocab(PATTERN_TYPE_OV),
        pattern_version: STRING,
        valid_from: TIMESTAMP,
        valid_until: TIMESTAMP,
        kill_chain_phases: KILL_CHAIN_PHASES,
      },
      ['pattern', 'pattern_type', 'valid_from'],
      [timeOrder('valid_from', 'valid_until', true)],
    ),
  ],
  [
    'infrastructure',
    sdo(
      { ...NAME_DESCRIPTION, infrastructure_types: vocabList(INFRASTRUCTURE_TYPE_OV), aliases: STRING_LIST, kill_chain_phases: KILL_CHAIN_PHASES, ...SEEN },
      ['name'],
      [SEEN_ORDER],
    ),
  ],
  [
    'intrusion-set',
    sdo(
      {
        ...NAME_DESCRIPTION,
        aliases: STRING_LIST,
        ...SEEN,
        goals: STRING_LIST,
        resource_level: vocab(ATTACK_RESOURCE_LEVEL_OV),
        primary_motivation: vocab(ATTACK_MOTIVATION_OV),
        secondary_motivations: vocabList(ATTACK_MOTIVATION_OV),
      },
      ['name'],
      [SEEN_ORDER],
    ),
  ],
  [
    'location',
    sdo(
      {
        ...NAME_DESCRIPTION,
        latitude: { kind: 'number', min: -90, max: 90 },
        longitude: { kind: 'number', min: -180, max: 180 },
        precision: { kind: 'number', min: 0 },
        region: vocab(REGION_OV),
        country: COUNTRY,
        administrative_area: STRING,
        city: STRING,
        street_address: STRING,
        postal_code: STRING,
      },
      [],
      [
        atLeastOne(['region', 'country', 'latitude'], "'region', 'country', or 'latitude' with 'longitude'"),
        requires('latitude', 'longitude'),
        requires('longitude', 'latitude'),
        requires('precision', 'latitude'),
      ],
    ),
  ],
  [
    'malware',
    sdo(
      {
        ...NAME_DESCRIPTION,
        malware_types: vocabList(MALWARE_TYPE_OV),
        is_family: BOOLEAN,
        aliases: STRING_LIST,
        kill_chain_phases: KILL_CHAIN_PHASES,
        ...SEEN,
        operating_system_refs: refs(toTypes('software')),
        architecture_execution_envs: vocabList(PROCESSOR_ARCHITECTURE_OV),
        implementation_languages: vocabList(IMPLEMENTATION_LANGUAGE_OV),
        capabilities: vocabList(MALWARE_CAPABILITIES_OV),
        sample_refs: refs(toTypes('file', 'artifact')),
      },
      ['is_family'],
      [MALWARE_NAME_IF_FAMILY, SEEN_ORDER],
    ),
  ],
  [
    'malware-analysis',
    sdo(
      {
        product: STRING,
        version: STRING,
        host_vm_ref: SOFTWARE_REF,
        operating_system_ref: SOFTWARE_REF,
        installed_software_refs: refs(toTypes('software')),
        configuration_version: STRING,
        modules: STRING_LIST,
        analysis_engine_version: STRING,
        analysis_definition_version: STRING,
        submitted: TIMESTAMP,
        analysis_started: TIMESTAMP,
        analysis_ended: TIMESTAMP,
        result_name: STRING,
        result: vocab(MALWARE_RESULT_OV),
        analysis_sco_refs: refs(ANY_SCO),
        sample_ref: ref(toTypes('file', 'network-traffic', 'artifact')),
      },
      ['product'],
      [atLeastOne(['result', 'analysis_sco_refs']), timeOrder('analysis_started', 'analysis_ended')],
    ),
  ],
  ['note', sdo({ abstract: STRING, content: STRING, authors: STRING_LIST, object_refs: OBJECT_REFS }, ['content', 'object_refs'])],
  [
    'observed-data',
    sdo(
      {
        first_observed: TIMESTAMP,
        last_observed: TIMESTAMP,
        number_observed: integer(1, 999_999_999),
        objects: { kind: 'dictionary', value: null },
        object_refs: refs(SCO_SRO_OR_CUSTOM),
      },
      ['first_observed', 'last_observed', 'number_observed'],
      [exactlyOne(['objects', 'object_refs']), timeOrder('first_observed', 'last_observed'), OBSERVED_DATA_OBJECTS_DEPRECATED, ONE_SCO_REQUIRED],
    ),
  ],
  ['opinion', sdo({ explanation: STRING, authors: STRING_LIST, opinion: vocab(OPINION_ENUM), object_refs: OBJECT_REFS }, ['opinion', 'object_refs'])],
  [
    'report',
    sdo({ ...NAME_DESCRIPTION, report_types: vocabList(REPORT_TYPE_OV), published: TIMESTAMP, object_refs: OBJECT_REFS }, ['name', 'published', 'object_refs']),
  ],
  [
    'threat-actor',
    sdo(
      {
        ...NAME_DESCRIPTION,
        threat_actor_types: vocabList(THREAT_ACTOR_TYPE_OV),
        aliases: STRING_LIST,
        ...SEEN,
        roles: vocabList(THREAT_ACTOR_ROLE_OV),
        goals: STRING_LIST,
        sophistication: vocab(THREAT_ACTOR_SOPHISTICATION_OV),
        resource_level: vocab(ATTACK_RESOURCE_LEVEL_OV),
        primary_motivation: vocab(ATTACK_MOTIVATION_OV),
        secondary_motivations: vocabList(ATTACK_MOTIVATION_OV),
        personal_motivations: vocabList(ATTACK_MOTIVATION_OV),
      },
      ['name'],
      [SEEN_ORDER],
    ),
  ],
  [
    'tool',
    sdo({ ...NAME_DESCRIPTION, tool_types: vocabList(TOOL_TYPE_OV), aliases: STRING_LIST, kill_chain_phases: KILL_CHAIN_PHASES, tool_version: STRING }, ['name']),
  ],
  ['vulnerability', sdo({ ...NAME_DESCRIPTION }, ['name'])],
]);

