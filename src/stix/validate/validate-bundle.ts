// The bundle envelope (STIX 2.1 section 8): type, id, and an optional non-empty list of objects.
import { clip, identifierProblem, isRecord, jsonTypeOf } from './check-value.ts';
import { IssueSink, itemPath, memberPath } from './issue-sink.ts';
import { checkIdentifier, IdVerdict, idHasType } from './lexical.ts';
import { validateObjectInto } from './validate-object.ts';
import { versionOf } from '../versions.ts';
import type { StixObject } from '../types.ts';

const BUNDLE_PROPERTIES = new Set(['type', 'id', 'objects']);

export function validateBundleInto(value: unknown, path: string, sink: IssueSink): void {
  if (!isRecord(value)) {
    sink.error(path, 'STIX_NOT_OBJECT', `a bundle must be a JSON object, got ${jsonTypeOf(value)}`);
    return;
  }
  const type = value['type'];
  if (type !== 'bundle') {
    sink.error(memberPath(path, 'type'), 'STIX_BUNDLE_TYPE', type === undefined ? "'type' is required and must be 'bundle'" : `type must be 'bundle', got '${clip(String(type))}'`);
  }
  const id = value['id'];
  if (id === undefined) {
    sink.error(memberPath(path, 'id'), 'STIX_REQUIRED_PROPERTY_MISSING', "'id' is required (bundle--UUID)");
  } else if (typeof id !== 'string') {
    sink.error(memberPath(path, 'id'), 'STIX_PROPERTY_WRONG_TYPE', `'id' must be a string, got ${jsonTypeOf(id)}`);
  } else {
    const verdict = checkIdentifier(id);
    if (verdict !== IdVerdict.Ok) sink.error(memberPath(path, 'id'), 'STIX_ID_INVALID', identifierProblem(verdict, id));
    else if (!idHasType(id, 'bundle')) sink.error(memberPath(path, 'id'), 'STIX_ID_TYPE_MISMATCH', "a bundle's id must start with 'bundle--'");
  }
  for (const key of Object.keys(value)) {
    if (BUNDLE_PROPERTIES.has(key)) continue;
    if (key === 'spec_version') {
      sink.warn(memberPath(path, key), 'STIX_BUNDLE_SPEC_VERSION', 'bundles have no spec_version in STIX 2.1 (each object carries its own)');
    } else {
      sink.warn(memberPath(path, key), 'STIX_PROPERTY_UNDEFINED', `'${clip(key)}' is not a bundle property`);
    }
  }
  const objects = value['objects'];
  if (objects === undefined) return;
  const objectsPath = memberPath(path, 'objects');
  if (!Array.isArray(objects)) {
    sink.error(objectsPath, 'STIX_PROPERTY_WRONG_TYPE', `objects must be a list, got ${jsonTypeOf(objects)}`);
    return;
  }
  if (objects.length === 0) {
    sink.error(objectsPath, 'STIX_EMPTY_LIST', 'objects must not be empty; omit the property instead');
    return;
  }
  // The same version of an object twice is harmless but usually a producer bug.
  const seen = new Set<string>();
  for (let i = 0; i < objects.length; i++) {
    const object: unknown = objects[i];
    validateObjectInto(object, itemPath(objectsPath, i), sink);
    if (isRecord(object) && typeof object['id'] === 'string') {
      // Keyed as the store keys versions (stix/versions.ts): two contents of one SCO are two versions.
      const versionKey = `${object['id']} ${versionOf(object as StixObject)}`;
      if (seen.has(versionKey)) {
        sink.warn(itemPath(objectsPath, i), 'STIX_BUNDLE_DUPLICATE', `${clip(object['id'])} appears more than once with the same version`);
      }
      seen.add(versionKey);
    }
  }
}
