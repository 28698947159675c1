// JSON lines of observables. A line holds one of: a STIX bundle (each observed-data in it is an
// observation of the SCOs it refers to), an observed-data with embedded `objects` (STIX 2.0 style), a
// single SCO, or an array of SCOs. An observed-data gives its own first/last_observed and count; bare
// SCOs are observed when the line is read.
import { isRecord, toStixTimestamp, type JsonRecord } from './log-observation.ts';

export interface JsonlResult {
  readonly firstObserved: string;
  readonly lastObserved: string;
  readonly count: number;
  readonly objects: Readonly<Record<string, JsonRecord>>;
}

function observedDataResult(data: JsonRecord, objects: Readonly<Record<string, JsonRecord>>): JsonlResult | string {
  const first = toStixTimestamp(data['first_observed']);
  const last = data['last_observed'] === undefined ? first : toStixTimestamp(data['last_observed']);
  if (first === undefined || last === undefined) return 'observed-data without a valid first_observed/last_observed';
  const number = data['number_observed'];
  const count = typeof number === 'number' && Number.isSafeInteger(number) && number >= 1 ? number : 1;
  return { firstObserved: first, lastObserved: last, count, objects };
}

function scoSet(items: readonly unknown[]): Record<string, JsonRecord> | string {
  const objects: Record<string, JsonRecord> = {};
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!isRecord(item) || typeof item['type'] !== 'string') return `item ${i} is not a STIX object with a type`;
    objects[typeof item['id'] === 'string' ? item['id'] : String(i)] = item;
  }
  return objects;
}

/** The observations of one parsed JSON line; a reason when it holds none of the accepted shapes. */
export function jsonlObservations(value: unknown, now: () => string): JsonlResult[] | string {
  if (Array.isArray(value)) {
    const objects = scoSet(value);
    if (typeof objects === 'string') return objects;
    const at = now();
    return [{ firstObserved: at, lastObserved: at, count: 1, objects }];
  }
  if (!isRecord(value) || typeof value['type'] !== 'string') return 'not a STIX object, bundle or array of SCOs';
  if (value['type'] === 'bundle') {
    const items = Array.isArray(value['objects']) ? value['objects'] : [];
    const byId = new Map<string, JsonRecord>();
    for (const item of items) if (isRecord(item) && typeof item['id'] === 'string') byId.set(item['id'], item);
    const out: JsonlResult[] = [];
    for (const item of items) {
      if (!isRecord(item) || item['type'] !== 'observed-data') continue;
      const refs = Array.isArray(item['object_refs']) ? item['object_refs'] : [];
      // Every object of the bundle stays resolvable, so `_ref` properties reach SCOs not listed directly.
      const objects: Record<string, JsonRecord> = {};
      for (const ref of refs) if (typeof ref === 'string' && byId.has(ref)) objects[ref] = byId.get(ref) as JsonRecord;
      for (const [id, object] of byId) if (!(id in objects) && isScoLike(object)) objects[id] = object;
      const result = isRecord(item['objects']) ? observedDataResult(item, item['objects'] as Record<string, JsonRecord>) : observedDataResult(item, objects);
      if (typeof result === 'string') return result;
      out.push(result);
    }
    if (out.length === 0) return 'a bundle without observed-data';
    return out;
  }
  if (value['type'] === 'observed-data') {
    const embedded = value['objects'];
    if (isRecord(embedded)) {
      for (const key in embedded) {
        const object = embedded[key];
        if (!isRecord(object) || typeof object['type'] !== 'string') return `objects.${key} is not a STIX object`;
      }
      const result = observedDataResult(value, embedded as Record<string, JsonRecord>);
      return typeof result === 'string' ? result : [result];
    }
    return 'an observed-data whose object_refs point outside its line (put it in a bundle with its SCOs)';
  }
  const at = now();
  return [{ firstObserved: at, lastObserved: at, count: 1, objects: { '0': value } }];
}

/** SCOs have no `created`; SDOs and SROs do. */
function isScoLike(object: JsonRecord): boolean {
  return !('created' in object);
}
