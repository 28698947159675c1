import type { JsonObject } from './types.ts';

/**
 * Adds the marking-definition ids a STIX value refers to (object-level `object_marking_refs` and
 * granular `marking_ref`s) to `into`: no array per value (a sync reads a million of them), and one
 * walk for every place that must know which marking definitions to load before deciding on objects.
 * Anything that is not an object, or a ref that is not a string, adds nothing.
 */
export function addMarkingRefs(value: unknown, into: Set<string>): void {
  if (!isRecord(value)) return;
  const objectLevel = value['object_marking_refs'];
  if (Array.isArray(objectLevel)) for (const ref of objectLevel) if (typeof ref === 'string') into.add(ref);
  const granular = value['granular_markings'];
  if (Array.isArray(granular)) for (const entry of granular) if (isRecord(entry) && typeof entry['marking_ref'] === 'string') into.add(entry['marking_ref']);
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
