// One STIX object: identify its type, check the common rules every object shares (type name, id, spec_version,
// created/modified), then walk the type's table.
import { CORE_COMMON, CORE_REQUIRED, SCO_COMMON, SCO_REQUIRED } from './common-properties.ts';
import { checkShape, clip, identifierProblem, isRecord, jsonTypeOf, type CheckContext } from './check-value.ts';
import { scoId } from '../ids.ts';
import type { JsonObject } from '../types.ts';
import { declaresToplevelExtension } from './extensions.ts';
import { IssueSink, memberPath } from './issue-sink.ts';
import {
  checkIdentifier,
  compareTimestamps,
  hasUppercaseHex,
  IdVerdict,
  idHasType,
  idTypeOf,
  isTypeName,
  timestampFractionDigits,
  uuidVersionOf,
} from './lexical.ts';
import { META_SPECS } from './meta-specs.ts';
import { categoryOf, RESERVED_TYPES, type ObjectCategory } from './object-categories.ts';
import { shape, type JsonRecord, type Shape } from './property-spec.ts';
import { SCO_SPECS } from './sco-specs.ts';
import { SDO_SPECS } from './sdo-specs.ts';
import { SRO_SPECS } from './sro-specs.ts';

const CUSTOM_CORE = shape(CORE_COMMON, CORE_REQUIRED, [], true);
const CUSTOM_SCO = shape(SCO_COMMON, SCO_REQUIRED, [], true);

export interface ObjectOptions {
  /** Keys of the enclosing deprecated observed-data `objects` dictionary (embedded SCOs refer to each other by key). */
  readonly localRefs?: ReadonlySet<string>;
  /** Set when validating `observed-data.objects` members, which must be cyber-observables. */
  readonly embedded?: boolean;
}

function shapeFor(type: string, category: ObjectCategory): Shape | undefined {
  switch (category) {
    case 'sdo':
      return SDO_SPECS.get(type);
    case 'sro':
      return SRO_SPECS.get(type);
    case 'sco':
      return SCO_SPECS.get(type);
    case 'meta':
      return META_SPECS.get(type);
    default:
      return undefined;
  }
}

/** The extension_type a custom object declares for itself (new-sdo, new-sco, new-sro), if any. */
function declaredNewType(extensions: unknown): string | undefined {
  if (!isRecord(extensions)) return undefined;
  for (const key of Object.keys(extensions)) {
    const body = extensions[key];
    if (isRecord(body)) {
      const t = body['extension_type'];
      if (t === 'new-sdo' || t === 'new-sco' || t === 'new-sro') return t;
    }
  }
  return undefined;
}

/** Checks one object and appends its issues to `sink`. Never throws for JSON input. */
export function validateObjectInto(value: unknown, path: string, sink: IssueSink, options: ObjectOptions = {}): void {
  if (!isRecord(value)) {
    sink.error(path, 'STIX_NOT_OBJECT', `a STIX object must be a JSON object, got ${jsonTypeOf(value)}`);
    return;
  }
  const type = value['type'];
  if (type === undefined) {
    sink.error(memberPath(path, 'type'), 'STIX_REQUIRED_PROPERTY_MISSING', "'type' is required");
    return;
  }
  if (typeof type !== 'string') {
    sink.error(memberPath(path, 'type'), 'STIX_PROPERTY_WRONG_TYPE', `'type' must be a string, got ${jsonTypeOf(type)}`);
    return;
  }
  if (!isTypeName(type)) {
    sink.error(
      memberPath(path, 'type'),
      'STIX_TYPE_INVALID',
      `'${clip(type)}' is not a valid object type: 3..250 lowercase ASCII letters, digits and single hyphens, starting with a letter`,
    );
    return;
  }
  if (RESERVED_TYPES.has(type)) {
    sink.error(memberPath(path, 'type'), 'STIX_TYPE_RESERVED', `'${type}' is reserved by STIX 2.1 and must not be used as an object type`);
    return;
  }
  const category = categoryOf(type);
  if (category === 'bundle') {
    sink.error(memberPath(path, 'type'), 'STIX_BUNDLE_NESTED', 'a bundle is not a STIX object and cannot appear inside another bundle or object');
    return;
  }
  let s = shapeFor(type, category);
  let core: boolean;
  if (s === undefined) {
    const declared = declaredNewType(value['extensions']);
    core = declared === 'new-sdo' || declared === 'new-sro' || (declared === undefined && (value['created'] !== undefined || value['modified'] !== undefined));
    s = core ? CUSTOM_CORE : CUSTOM_SCO;
    if (declared === undefined) {
      sink.warn(
        memberPath(path, 'type'),
        'STIX_CUSTOM_OBJECT_TYPE',
        `'${type}' is not a STIX 2.1 object type; it is accepted as a custom ${core ? 'domain' : 'cyber-observable'} object (STIX 2.1 prefers an extension-definition of type ${core ? 'new-sdo' : 'new-sco'})`,
      );
    }
  } else {
    core = category !== 'sco';
  }
  if (options.embedded === true && core) {
    sink.error(memberPath(path, 'type'), 'STIX_REF_TARGET_TYPE', `observed-data objects must hold cyber-observables, not a '${type}'`);
  }

  checkId(value, type, category, path, sink, options.embedded === true);
  checkSpecVersion(value, core, path, sink);
  if (core) checkCreatedModified(value, path, sink);
  else if (category === 'sco') checkScoVersionProperties(value, path, sink);

  const ctx: CheckContext = {
    sink,
    root: value,
    objectType: type,
    localRefs: options.localRefs ?? null,
    // A custom object's properties are its own, so the x_ prefix advice is for custom properties on STIX types only.
    customPropertiesExpected: category === 'custom' || (value['extensions'] !== undefined && declaresToplevelExtension(value['extensions'])),
  };
  checkShape(s, value, path, ctx);

  if (type === 'observed-data') checkEmbeddedObservables(value, path, sink);
}

function checkId(value: JsonRecord, type: string, category: ObjectCategory, path: string, sink: IssueSink, embedded: boolean): void {
  const id = value['id'];
  if (typeof id !== 'string') return; // absence and wrong type are reported by the table
  const idPath = memberPath(path, 'id');
  const verdict = checkIdentifier(id);
  if (verdict !== IdVerdict.Ok) {
    sink.error(idPath, 'STIX_ID_INVALID', identifierProblem(verdict, id));
    return;
  }
  if (!idHasType(id, type)) {
    sink.error(idPath, 'STIX_ID_TYPE_MISMATCH', `the identifier starts with '${idTypeOf(id)}' but the object's type is '${type}'`);
    return;
  }
  if (hasUppercaseHex(id)) sink.warn(idPath, 'STIX_ID_UPPERCASE', 'UUIDs should be written in lowercase hexadecimal');
  const version = uuidVersionOf(id);
  if (category === 'sco') {
    if (version !== 5 && version !== 4 && !embedded) {
      sink.warn(idPath, 'STIX_ID_UUID_VERSION', 'SCO identifiers should use UUIDv5 (deterministic) or UUIDv4');
    }
    // Embedded SCOs refer to each other by local keys, so their contributing references are no ids yet.
    if (version === 5 && !embedded) checkDeterministicScoId(value, type, id, idPath, sink);
  } else if (version !== 4 && category !== 'custom') {
    sink.warn(idPath, 'STIX_ID_UUID_VERSION', `${category.toUpperCase()} identifiers should use UUIDv4, this one is version ${version}`);
  }
}

/**
 * A UUIDv5 SCO id says which observable it names: STIX 2.1 §2.9 derives it from the object's ID
 * Contributing Properties in the STIX namespace. An id that another content gives would let any writer
 * file its own value under the id of someone else's observable (readers resolving references by id then
 * read the forged value), so it is an error; a random (UUIDv4) id stays valid, as the spec allows.
 */
function checkDeterministicScoId(value: JsonRecord, type: string, id: string, idPath: string, sink: IssueSink): void {
  const expected = scoId(type, value as JsonObject);
  if (expected.ok) {
    if (expected.value !== id.toLowerCase()) {
      sink.error(
        idPath,
        'STIX_SCO_ID_MISMATCH',
        `a UUIDv5 ${type} id must be the one its ID Contributing Properties give (STIX 2.1 §2.9): ${expected.value}, not ${clip(id)}; use that id, or a random (UUIDv4) one`,
      );
    }
  } else if (expected.error.code === 'no-contributing-properties' && type === 'process') {
    sink.warn(idPath, 'STIX_ID_UUID_VERSION', 'a process has no ID Contributing Properties: STIX 2.1 gives it a random (UUIDv4) id');
  } else {
    sink.error(idPath, 'STIX_SCO_ID_MISMATCH', `a UUIDv5 ${type} id must be derived from its ID Contributing Properties (STIX 2.1 §2.9), and none can be here: ${expected.error.message}; use a random (UUIDv4) id`);
  }
}

/** created and modified are no SCO properties (STIX 2.1 §6): a version of an SCO is its content, whatever date it carries. */
function checkScoVersionProperties(value: JsonRecord, path: string, sink: IssueSink): void {
  for (const name of ['created', 'modified'] as const) {
    if (value[name] !== undefined) {
      sink.warn(memberPath(path, name), 'STIX_SCO_VERSION_PROPERTY', `'${name}' is not a property of a cyber-observable object in STIX 2.1; Entente versions an SCO by its content and ignores it`);
    }
  }
}

function checkSpecVersion(value: JsonRecord, core: boolean, path: string, sink: IssueSink): void {
  const specVersion = value['spec_version'];
  if (specVersion === undefined || typeof specVersion !== 'string') return; // required/typed by the table
  if (specVersion !== '2.1') {
    sink.error(
      memberPath(path, 'spec_version'),
      'STIX_SPEC_VERSION_INVALID',
      `spec_version must be "2.1" for STIX 2.1 content, got '${clip(specVersion)}'${core ? ' (STIX 2.0 objects have no spec_version; upgrade them first)' : ''}`,
    );
  }
}

/** created/modified carry at least millisecond precision, and an object cannot be modified before it was created. */
function checkCreatedModified(value: JsonRecord, path: string, sink: IssueSink): void {
  const created = value['created'];
  const modified = value['modified'];
  const createdOk = typeof created === 'string' && checkMillis(created, memberPath(path, 'created'), 'created', sink);
  const modifiedOk = typeof modified === 'string' && checkMillis(modified, memberPath(path, 'modified'), 'modified', sink);
  if (createdOk && modifiedOk && compareTimestamps(modified, created) < 0) {
    sink.error(memberPath(path, 'modified'), 'STIX_MODIFIED_BEFORE_CREATED', `modified (${modified}) is earlier than created (${created})`);
  }
}

function checkMillis(ts: string, path: string, name: string, sink: IssueSink): boolean {
  const digits = timestampFractionDigits(ts);
  if (digits < 0) return false; // reported by the table
  if (digits < 3) {
    sink.error(path, 'STIX_TIMESTAMP_PRECISION', `${name} must be precise to the millisecond, like 2024-01-31T12:00:00.000Z`);
    return false;
  }
  return true;
}

function checkEmbeddedObservables(value: JsonRecord, path: string, sink: IssueSink): void {
  const objects = value['objects'];
  if (!isRecord(objects)) return;
  const keys = Object.keys(objects);
  const localRefs = new Set(keys);
  const objectsPath = memberPath(path, 'objects');
  for (const key of keys) {
    validateObjectInto(objects[key], memberPath(objectsPath, key), sink, { localRefs, embedded: true });
  }
}
