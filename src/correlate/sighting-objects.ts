// The STIX objects an alert leaves behind: the SCOs of its evidence (deterministic ids, references
// rewritten to them), one observed-data holding them over the alert's first/last seen and count, and
// a sighting of the indicator by the home organisation. Pure: time and random UUIDs are passed in.
import { scoId } from '../stix/ids.ts';
import { checkIdentifier, IdVerdict } from '../stix/validate/lexical.ts';
import type { JsonObject, StixObject } from '../stix/types.ts';
import type { Alert } from './alert-aggregator.ts';
import type { JsonRecord } from './log-observation.ts';

export interface SightingContext {
  readonly homeOrganisationId: string;
  /** STIX timestamp for created/modified. */
  readonly now: string;
  readonly randomUuid: () => string;
}

export interface SightingBundle {
  readonly sighting: StixObject;
  readonly observedData: StixObject;
  /** Every object to store: SCOs, observed-data, sighting. */
  readonly objects: StixObject[];
}

/** STIX caps count and number_observed at 999,999,999. */
const maxCount = 999_999_999;

function rewriteRefs(value: unknown, key: string, ids: ReadonlyMap<string, string>): unknown {
  if (key.endsWith('_ref')) return typeof value === 'string' ? ids.get(value) : undefined;
  if (key.endsWith('_refs')) return Array.isArray(value) ? value.map((ref) => (typeof ref === 'string' ? ids.get(ref) : undefined)) : undefined;
  return value;
}

/** SCOs with STIX ids; references to SCOs that cannot be identified are dropped. */
export function identifyScos(objects: readonly Readonly<Record<string, JsonRecord>>[], randomUuid: () => string): StixObject[] {
  const ids = new Map<string, string>();
  const pending: { local: string; sco: JsonRecord }[] = [];
  objects.forEach((set, index) => {
    for (const [ref, sco] of Object.entries(set)) pending.push({ local: `${index}:${ref}`, sco });
  });
  const scope = (local: string): string => local.slice(0, local.indexOf(':') + 1);
  const out = new Map<string, StixObject>();
  // References first: an SCO's id may depend on the ids of those it refers to (network-traffic → addresses).
  for (let pass = 0; pass < 8 && pending.length > 0; pass++) {
    for (let i = 0; i < pending.length; i++) {
      const { local, sco } = pending[i] as { local: string; sco: JsonRecord };
      const prefix = scope(local);
      const localIds = new Map<string, string>();
      let ready = true;
      for (const [key, value] of Object.entries(sco)) {
        const refs = key.endsWith('_ref') ? [value] : key.endsWith('_refs') && Array.isArray(value) ? value : [];
        for (const ref of refs) {
          if (typeof ref !== 'string') continue;
          const id = ids.get(prefix + ref) ?? (ref.includes('--') ? ref : undefined);
          if (id === undefined) ready = false;
          else localIds.set(ref, id);
        }
      }
      if (!ready && pass < 7) continue;
      const copy: JsonObject = { type: String(sco['type']), spec_version: '2.1' };
      for (const [key, value] of Object.entries(sco)) {
        if (key === 'id' || key === 'type' || key === 'spec_version') continue;
        const rewritten = rewriteRefs(value, key, localIds);
        if (rewritten === undefined || (Array.isArray(rewritten) && rewritten.some((r) => r === undefined))) continue;
        copy[key] = rewritten as JsonObject[string];
      }
      const id = deterministicId(copy, sco['id'], randomUuid);
      copy['id'] = id;
      ids.set(local, id);
      out.set(id, copy as StixObject);
      pending.splice(i--, 1);
    }
  }
  return [...out.values()];
}

/** The UUIDv5 of the ID contributing properties; else the id the log gave, when valid; else a random one. */
function deterministicId(sco: JsonObject, given: unknown, randomUuid: () => string): string {
  const type = String(sco['type']);
  const computed = scoId(type, sco);
  if (computed.ok) return computed.value;
  if (typeof given === 'string' && given.startsWith(`${type}--`) && checkIdentifier(given) === IdVerdict.Ok) return given;
  return `${type}--${randomUuid()}`;
}

/**
 * `acceptSco` says which SCOs may be stored (the caller validates them); the observed-data refers only
 * to those, and when none is left the sighting is stored without observed data.
 */
export function sightingObjects(alert: Alert, context: SightingContext, acceptSco: (sco: StixObject) => boolean = () => true): SightingBundle {
  const scos = identifyScos(
    alert.evidence.map((observation) => observation.objects),
    context.randomUuid,
  ).filter(acceptSco);
  const count = Math.max(1, Math.min(maxCount, alert.count));
  const observedData: StixObject = {
    type: 'observed-data',
    spec_version: '2.1',
    id: `observed-data--${context.randomUuid()}`,
    created: context.now,
    modified: context.now,
    created_by_ref: context.homeOrganisationId,
    first_observed: alert.firstSeen,
    last_observed: alert.lastSeen,
    number_observed: count,
    object_refs: scos.map((sco) => sco.id),
  };
  const sighting: StixObject = {
    type: 'sighting',
    spec_version: '2.1',
    id: `sighting--${context.randomUuid()}`,
    created: context.now,
    modified: context.now,
    created_by_ref: context.homeOrganisationId,
    sighting_of_ref: alert.indicatorId,
    ...(scos.length > 0 ? { observed_data_refs: [observedData.id] } : {}),
    where_sighted_refs: [context.homeOrganisationId],
    count,
    first_seen: alert.firstSeen,
    last_seen: alert.lastSeen,
  };
  return { sighting, observedData, objects: scos.length > 0 ? [...scos, observedData, sighting] : [sighting] };
}

