import type { ObservedDataWithObjects } from './evaluate-pattern.ts';

type JsonRecord = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The observed-data of a STIX bundle (2.0 or 2.1), a list of objects or a single object, each paired with
 * every object of the same document by id, so that 2.1 `object_refs` and `_ref` properties resolve.
 */
export function observationsFromBundle(document: unknown): ObservedDataWithObjects[] {
  const objects: unknown[] = Array.isArray(document)
    ? document
    : isRecord(document) && Array.isArray(document['objects']) && document['type'] === 'bundle'
      ? document['objects']
      : [document];
  const objectsById = new Map<string, JsonRecord>();
  for (const object of objects) {
    if (isRecord(object) && typeof object['id'] === 'string') objectsById.set(object['id'], object);
  }
  return objects.filter((object): object is JsonRecord => isRecord(object) && object['type'] === 'observed-data').map((observedData) => ({ observedData, objectsById }));
}
