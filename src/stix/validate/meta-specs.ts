// STIX Meta Objects (STIX 2.1 section 7): marking definitions (incl. TLP 1.0 and TLP 2.0), language content,
// extension definitions.
import { CORE_COMMON, CORE_REQUIRED, IDENTITY_REF, MARKING_REFS } from './common-properties.ts';
import { isRecord } from './check-value.ts';
import { memberPath } from './issue-sink.ts';
import { isLangTag } from './lexical.ts';
import {
  dictionary,
  NOT_BUNDLE_OR_LANGUAGE_CONTENT,
  ref,
  shape,
  STRING,
  STRING_LIST,
  TIMESTAMP,
  vocabList,
  type Shape,
  type ShapeRule,
} from './property-spec.ts';
import { requires } from './shape-rules.ts';
import { TLP_2_0_EXTENSION_ID } from './extensions.ts';
import { EXTENSION_TYPE_ENUM } from './vocabularies.ts';

/** The four TLP 1.0 marking definitions, which STIX 2.1 section 7.2.1.4 fixes byte for byte. */
const TLP_1_0: ReadonlyMap<string, { readonly name: string; readonly tlp: string }> = new Map([
  ['marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', { name: 'TLP:WHITE', tlp: 'white' }],
  ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', { name: 'TLP:GREEN', tlp: 'green' }],
  ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', { name: 'TLP:AMBER', tlp: 'amber' }],
  ['marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', { name: 'TLP:RED', tlp: 'red' }],
]);
const TLP_CREATED = '2017-01-20T00:00:00.000Z';
const TLP_PROPERTIES = new Set(['type', 'spec_version', 'id', 'created', 'name', 'definition_type', 'definition']);

const MARKING_DEFINITION_RULE: ShapeRule = (value, path, sink) => {
  const definitionType = value['definition_type'];
  const definition = value['definition'];
  const hasExtensions = value['extensions'] !== undefined;
  if (!hasExtensions) {
    if (definitionType === undefined) sink.error(memberPath(path, 'definition_type'), 'STIX_REQUIRED_PROPERTY_MISSING', "'definition_type' is required unless the marking is defined by an extension");
    if (definition === undefined) sink.error(memberPath(path, 'definition'), 'STIX_REQUIRED_PROPERTY_MISSING', "'definition' is required unless the marking is defined by an extension");
  }
  if (definition !== undefined && !isRecord(definition)) {
    sink.error(memberPath(path, 'definition'), 'STIX_PROPERTY_WRONG_TYPE', 'definition must be an object');
    return;
  }
  if (definitionType === 'statement') {
    if (isRecord(definition) && typeof definition['statement'] !== 'string') {
      sink.error(memberPath(memberPath(path, 'definition'), 'statement'), 'STIX_REQUIRED_PROPERTY_MISSING', "a statement marking needs definition.statement (a string)");
    }
  } else if (definitionType === 'tlp') {
    const id = value['id'];
    const tlp = typeof id === 'string' ? TLP_1_0.get(id) : undefined;
    if (tlp === undefined) {
      sink.error(memberPath(path, 'id'), 'STIX_TLP_INVALID', 'a TLP 1.0 marking must use one of the four identifiers the specification defines');
      return;
    }
    const defined = isRecord(definition) ? definition['tlp'] : undefined;
    if (value['name'] !== tlp.name || defined !== tlp.tlp || value['created'] !== TLP_CREATED || value['spec_version'] !== '2.1') {
      sink.error(path, 'STIX_TLP_INVALID', `${tlp.name} must be exactly as defined: name '${tlp.name}', definition {"tlp": "${tlp.tlp}"}, created ${TLP_CREATED}`);
    }
    for (const key of Object.keys(value)) {
      if (!TLP_PROPERTIES.has(key)) sink.error(memberPath(path, key), 'STIX_TLP_INVALID', `a TLP 1.0 marking definition must not carry '${key}'`);
    }
  }
};

/** The TLP 2.0 markings are the predefined objects from the TLP 2.0 extension definition. */
const TLP_2_0: ReadonlyMap<string, string> = new Map([
  ['marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487', 'clear'],
  ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb', 'green'],
  ['marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421', 'amber'],
  ['marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003', 'amber+strict'],
  ['marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1', 'red'],
]);

const TLP_2_0_RULE: ShapeRule = (value, path, sink) => {
  const extensions = value['extensions'];
  if (!isRecord(extensions)) return;
  const body = extensions[TLP_2_0_EXTENSION_ID];
  if (!isRecord(body)) return;
  const id = value['id'];
  const expected = typeof id === 'string' ? TLP_2_0.get(id) : undefined;
  if (expected !== undefined && body['tlp_2_0'] !== expected) {
    sink.warn(memberPath(path, 'extensions'), 'STIX_TLP_INVALID', `this is the TLP 2.0 '${expected}' marking identifier, but tlp_2_0 says '${String(body['tlp_2_0'])}'`);
  }
};

const EXTENSION_PROPERTIES_RULE: ShapeRule = (value, path, sink) => {
  const types = value['extension_types'];
  const declaresToplevel = Array.isArray(types) && types.includes('toplevel-property-extension');
  if (value['extension_properties'] !== undefined && !declaresToplevel) {
    sink.error(memberPath(path, 'extension_properties'), 'STIX_PROPERTY_CONFLICT', "'extension_properties' is only for extensions whose extension_types include toplevel-property-extension");
  }
};

const LANGUAGE_CONTENTS_RULE: ShapeRule = (value, path, sink) => {
  const contents = value['contents'];
  if (!isRecord(contents)) return;
  for (const key of Object.keys(contents)) {
    if (!isRecord(contents[key])) sink.error(memberPath(memberPath(path, 'contents'), key), 'STIX_PROPERTY_WRONG_TYPE', 'each language must map to an object of translated properties');
  }
};

export const META_SPECS: ReadonlyMap<string, Shape> = new Map([
  [
    'marking-definition',
    shape(
      {
        type: STRING,
        spec_version: STRING,
        id: STRING,
        created_by_ref: IDENTITY_REF,
        created: TIMESTAMP,
        external_references: { kind: 'external-references' },
        object_marking_refs: MARKING_REFS,
        granular_markings: { kind: 'granular-markings' },
        extensions: { kind: 'extensions' },
        name: STRING,
        definition_type: STRING,
        definition: { kind: 'any-object' },
      },
      ['type', 'spec_version', 'id', 'created'],
      [MARKING_DEFINITION_RULE, TLP_2_0_RULE],
      true,
    ),
  ],
  [
    'language-content',
    shape(
      { ...CORE_COMMON, object_ref: ref(NOT_BUNDLE_OR_LANGUAGE_CONTENT), object_modified: TIMESTAMP, contents: dictionary(null, isLangTag) },
      [...CORE_REQUIRED, 'object_ref', 'contents'],
      [LANGUAGE_CONTENTS_RULE],
      true,
    ),
  ],
  [
    'extension-definition',
    shape(
      {
        ...CORE_COMMON,
        name: STRING,
        description: STRING,
        schema: STRING,
        version: STRING,
        extension_types: vocabList(EXTENSION_TYPE_ENUM),
        extension_properties: STRING_LIST,
      },
      [...CORE_REQUIRED, 'created_by_ref', 'name', 'schema', 'version', 'extension_types'],
      [EXTENSION_PROPERTIES_RULE, requires('extension_properties', 'extension_types')],
      true,
    ),
  ],
]);
