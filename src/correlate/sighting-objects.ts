// The STIX objects an alert leaves behind: the SCOs of its evidence (deterministic ids, references
// rewritten to them), one observed-data holding them over the alert's first/last seen and count, and
// a sighting of the indicator by the home organisation. Pure: time and random UUIDs are passed in.
import canonicalize from 'canonicalize';
import { parsePattern } from '../pattern/parse-pattern.ts';
import type { PathStep } from '../pattern/pattern-ast.ts';
import type { SightingShareDecision } from '../policy/decide-sighting-share.ts';
import { classifyMarking } from '../policy/classify-marking.ts';
import { stricterOf, TLP2_MARKING_IDS, tlpOfMarkingRef, type TlpLevel } from '../policy/tlp.ts';
import { addMarkingRefs } from '../stix/add-marking-refs.ts';
import { scoId, SCO_ID_CONTRIBUTING_PROPERTIES } from '../stix/ids.ts';
import { checkIdentifier, IdVerdict } from '../stix/validate/lexical.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import type { Alert } from './alert-aggregator.ts';
import type { MatchedObservable } from './bulk-matcher.ts';
import type { JsonRecord } from './log-observation.ts';

export interface SightingContext {
  readonly homeOrganisationId: string;
  /** STIX timestamp for created/modified. */
  readonly now: string;
  readonly randomUuid: () => string;
  /**
   * The indicator version that matched, as stored: the sighting and its observed-data carry its
   * markings (homeSightingMarkings). Absent or undefined: not known here, so they are marked TLP:RED.
   */
  readonly indicator?: Readonly<Record<string, unknown>> | undefined;
  /**
   * The strictest default TLP of the circles whose collections hold that version: there an indicator
   * stands at least at it (unmarked, at it), as the circle's copy of its sighting does
   * (decide-sighting-share.ts), so the home sighting is never below it either. Absent: held by none.
   */
  readonly indicatorDefaultTlp?: TlpLevel | undefined;
  /**
   * The marking-definition objects the store holds for the indicator's markings that are not official
   * TLP ids (markingDefinitionsOf): a TLP definition of its own says its level there. Absent: none known.
   */
  readonly markingDefinitions?: ReadonlyMap<string, JsonObject> | undefined;
}

export interface SightingBundle {
  readonly sighting: StixObject;
  readonly observedData: StixObject;
  /** Every object to store: SCOs, observed-data, sighting. */
  readonly objects: StixObject[];
}

/** The custom property that marks observed-data made as a sighting's evidence. */
export const SIGHTING_EVIDENCE_PROPERTY = 'x_entente_sighting_evidence';

/**
 * The least a home sighting and the observed-data of its evidence are marked, as sightingObjects
 * makes them: TLP:AMBER+STRICT, the home organisation's own. They say what the home observed on its
 * own networks (which indicators hit, when, how often, on which of its observables): for its own
 * people, no one else's to pass on. The home's readers read them under the release decision, which
 * gives a reader a sighting only with the indicator it names (policy/decide-release.ts
 * decideHomeSightingsRelease); partners receive none of them, only the copies a circle's agreement
 * allows (circleSightingObjects), marked at the level decided there (never below the indicator's).
 * The marking is there for where the objects may go besides: an export, a copy an operator makes,
 * a collection a circle could come to carry. Unmarked, they would stand at that circle's default TLP.
 * A stricter indicator makes them stricter (homeSightingMarkings): a sighting names its indicator and
 * its evidence holds the indicator's value, so neither is ever more open than the indicator.
 */
const HOME_SIGHTING_FLOOR: TlpLevel = 'amber+strict';

/**
 * The markings of the home sighting of `indicator` (the version that matched) and of its observed-data:
 * the stricter of HOME_SIGHTING_FLOOR and every official TLP marking the indicator carries
 * (object-level or granular: a granular TLP:RED on its pattern governs the value the evidence holds),
 * and the strictest default TLP of the circles holding it (`defaultTlp`: an unmarked indicator
 * stands at it there), then every other marking of the indicator as it is (a recipients or weakness
 * marking, a statement, a TLP definition of its own), as a circle's copy carries them
 * (decide-sighting-share.ts). So a sighting
 * of a TLP:RED indicator is TLP:RED, and one of an indicator marked for named recipients carries that
 * marking too: wherever the sighting goes, it reaches no one the indicator could not. `undefined` (the
 * indicator version is not known here): TLP:RED, the strictest, never the floor.
 * The observables of the evidence are not marked: their ids and version keys derive from their content
 * (one stored object per observable, which other collections may hold unmarked), and released alone
 * they name no indicator — the home sightings collection releases them only with a sighting the reader
 * may read (release/home-sightings-gate.ts), beside the indicator its readers read it anyway.
 */
export function homeSightingMarkings(
  indicator: Readonly<Record<string, unknown>> | undefined,
  defaultTlp?: TlpLevel,
  definitions: ReadonlyMap<string, JsonObject> = new Map(),
): string[] {
  if (indicator === undefined) return [TLP2_MARKING_IDS.red];
  const refs = new Set<string>();
  addMarkingRefs(indicator, refs);
  let level = defaultTlp === undefined ? HOME_SIGHTING_FLOOR : stricterOf(HOME_SIGHTING_FLOOR, defaultTlp);
  const others: string[] = [];
  for (const ref of refs) {
    // As the circle's copy reads them (decide-sighting-share.ts): a TLP definition of its own raises
    // the level as an official id does; one this node cannot read might say RED, so it is taken as RED.
    const marking = classifyMarking(ref, definitions);
    if (marking.kind === 'tlp') level = stricterOf(level, marking.level);
    else if (marking.kind === 'unknown') level = 'red';
    if (marking.kind !== 'tlp' || !marking.official) others.push(ref);
  }
  return [TLP2_MARKING_IDS[level], ...others];
}

/** The ids of the markings of `indicators` that are not official TLP ids: those whose definitions homeSightingMarkings needs. */
export function definitionsWanted(indicators: Iterable<Readonly<Record<string, unknown>> | undefined>): string[] {
  const refs = new Set<string>();
  for (const indicator of indicators) addMarkingRefs(indicator, refs);
  return [...refs].filter((ref) => tlpOfMarkingRef(ref) === undefined);
}

/**
 * The strictest default TLP among the circles (`circleDefaults`: collection id to its circle's default)
 * whose collections are `holding` the indicator version that matched: SightingContext.indicatorDefaultTlp.
 * Undefined when no circle's collection holds it.
 */
export function strictestCircleDefault(holding: Iterable<string>, circleDefaults: ReadonlyMap<string, TlpLevel>): TlpLevel | undefined {
  let level: TlpLevel | undefined;
  for (const collectionId of holding) {
    const circleDefault = circleDefaults.get(collectionId);
    if (circleDefault !== undefined) level = level === undefined ? circleDefault : stricterOf(level, circleDefault);
  }
  return level;
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

/** What an evidence SCO is not valid without, besides its ID contributing properties. */
const REQUIRED_PROPERTIES: Readonly<Record<string, readonly string[]>> = { 'email-message': ['is_multipart'] };
const ALWAYS_KEPT = ['type', 'spec_version', 'id', 'object_marking_refs'];

/**
 * What of an observed SCO the evidence keeps. An SCO of the type the pattern compared keeps the path
 * compared (the alert's path; for a pattern comparing several, the one that matched) and nothing else
 * of its content, what it is not valid without, and its markings: its ID contributing properties are
 * no exception (a match on an email's subject would share its body, one on a registry value every
 * other value of the key). When that drops or cuts down an ID contributing property, its UUIDv5 id
 * would name the whole observable (and give away what was dropped: an address's id is found by
 * trying addresses), so it gets a random (UUIDv4) id, valid STIX for any SCO (§2.9). An SCO of
 * another type keeps what identifies it (its ID contributing properties) and its markings. The rest
 * of what the telemetry, or a token posting observations, put in it (a payload, a message's other
 * headers, custom properties) is no evidence of the match, and the evidence may be shared with
 * partners as the home organisation's. An SCO with granular markings is left out: their selectors
 * may name properties dropped here, and dropping the marking would widen the rest.
 */
export function asEvidence(sco: StixObject, observable: MatchedObservable, randomUuid: () => string): StixObject | undefined {
  if (sco['granular_markings'] !== undefined) return undefined;
  // Own properties only: a type is the sender's text ('constructor' must name no list).
  const listed = (table: Readonly<Record<string, readonly string[]>>): readonly string[] => (Object.hasOwn(table, sco.type) ? (table[sco.type] ?? []) : []);
  const identifying = listed(SCO_ID_CONTRIBUTING_PROPERTIES);
  const matchedType = sco.type === observable.type;
  const kept = new Set([...ALWAYS_KEPT, ...listed(REQUIRED_PROPERTIES), ...(matchedType ? [] : identifying)]);
  const evidence: JsonObject = Object.fromEntries(Object.entries(sco).filter(([key]) => kept.has(key)));
  if (!matchedType) return evidence as StixObject;
  const [first, ...rest] = comparedSteps(observable.path) ?? [];
  if (first?.kind === 'key' && !kept.has(first.name) && Object.hasOwn(sco, first.name)) {
    const compared = projectPath(sco[first.name], rest, observable.value);
    if (compared !== undefined) evidence[first.name] = compared;
  }
  const cut = identifying.some((name) => Object.hasOwn(sco, name) && canonicalJson(sco[name]) !== canonicalJson(evidence[name]));
  if (cut) evidence['id'] = `${sco.type}--${randomUuid()}`;
  return evidence as StixObject;
}

function canonicalJson(value: JsonValue | undefined): string | undefined {
  return value === undefined ? undefined : canonicalize(value);
}

/** The steps of an alert's path (`type:steps`, as the matcher prints it); undefined when it does not parse. */
function comparedSteps(path: string): readonly PathStep[] | undefined {
  // The pattern parser is the one reader of path text (quoted keys, escapes): a path alone is read as
  // the one test of a pattern.
  const parsed = parsePattern(`[EXISTS ${path}]`);
  if (!parsed.ok || parsed.value.kind !== 'observation' || parsed.value.comparison.kind !== 'exists') return undefined;
  return parsed.value.comparison.path.steps;
}

/**
 * What of a value the path compared inside it: along each key only that key, through `[n]` element n
 * alone, through `[*]` only the elements where the rest of the path reaches the matched value (the
 * matcher compares each element; one that did not match is no evidence), the value reached whole (a
 * reference stays a reference). Siblings are what the telemetry held beside the match: a MIME part's
 * body beside its content_disposition, another part's body beside the one that matched.
 */
function projectPath(value: JsonValue | undefined, steps: readonly PathStep[], matched: string): JsonValue | undefined {
  if (value === undefined) return undefined;
  const [step, ...rest] = steps;
  if (step === undefined) return value;
  if (step.kind === 'key') {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step.name)) return undefined;
    const inner = projectPath(value[step.name], rest, matched);
    return inner === undefined ? undefined : { [step.name]: inner };
  }
  if (!Array.isArray(value)) return undefined;
  const elements = step.kind === 'index' ? value.slice(step.index, step.index + 1) : value.filter((element) => reaches(element, rest, matched));
  const projected = elements.flatMap((element) => {
    const inner = projectPath(element, rest, matched);
    return inner === undefined ? [] : [inner];
  });
  return projected.length > 0 ? projected : undefined;
}

/** Whether the path from `value` reaches the matched value (as the matcher prints it: String of a string or number). */
function reaches(value: JsonValue | undefined, steps: readonly PathStep[], matched: string): boolean {
  if (value === undefined) return false;
  const [step, ...rest] = steps;
  if (step === undefined) return (typeof value === 'string' || typeof value === 'number') && String(value) === matched;
  if (step.kind === 'key') {
    return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, step.name) && reaches(value[step.name], rest, matched);
  }
  if (!Array.isArray(value)) return false;
  return (step.kind === 'index' ? value.slice(step.index, step.index + 1) : value).some((element) => reaches(element, rest, matched));
}

/**
 * References follow an SCO whose evidence got a new id (asEvidence). An SCO whose ID contributing
 * property refers to one gets a random id in turn: the id derived from the old reference would still
 * name the observed one.
 */
function followNewIds(scos: readonly { readonly observed: string; readonly evidence: StixObject }[], randomUuid: () => string): StixObject[] {
  const renamed = new Map(scos.filter(({ observed, evidence }) => observed !== evidence.id).map(({ observed, evidence }) => [observed, evidence.id]));
  const fresh = new Set(renamed.values());
  let objects = scos.map(({ evidence }) => evidence);
  for (let changed = renamed.size > 0; changed; ) {
    changed = false;
    objects = objects.map((sco) => {
      const identifying = Object.hasOwn(SCO_ID_CONTRIBUTING_PROPERTIES, sco.type) ? (SCO_ID_CONTRIBUTING_PROPERTIES[sco.type] ?? []) : [];
      let moved = false;
      let identityMoved = false;
      const copy: JsonObject = {};
      for (const [key, value] of Object.entries(sco)) {
        const rewritten = key === 'id' ? value : renameRefs(key, value, renamed);
        if (rewritten !== value) {
          moved = true;
          if (identifying.includes(key)) identityMoved = true;
        }
        copy[key] = rewritten;
      }
      if (!moved) return sco;
      // An id already random derives from nothing.
      if (identityMoved && !fresh.has(sco.id)) {
        const id = `${sco.type}--${randomUuid()}`;
        renamed.set(sco.id, id);
        fresh.add(id);
        copy['id'] = id;
        changed = true;
      }
      return copy as StixObject;
    });
  }
  return objects;
}

/** `value` of property `key` with references to renamed ids rewritten (nested too: extensions refer); the same value when none is. */
function renameRefs(key: string, value: JsonValue, renamed: ReadonlyMap<string, string>): JsonValue {
  if (typeof value === 'string') return key.endsWith('_ref') ? (renamed.get(value) ?? value) : value;
  if (Array.isArray(value)) {
    const items = value.map((item) => (key.endsWith('_refs') && typeof item === 'string' ? (renamed.get(item) ?? item) : renameRefs(key, item, renamed)));
    return items.some((item, index) => item !== value[index]) ? items : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([inner, item]) => [inner, renameRefs(inner, item, renamed)] as const);
  return entries.some(([inner, item]) => item !== value[inner]) ? Object.fromEntries(entries) : value;
}

/**
 * `acceptSco` says which SCOs may be stored (the caller validates them); the observed-data refers only
 * to those, and when none is left the sighting is stored without observed data. Each SCO is kept as
 * evidence only (asEvidence).
 */
export function sightingObjects(alert: Alert, context: SightingContext, acceptSco: (sco: StixObject) => boolean = () => true): SightingBundle {
  const scos = followNewIds(
    identifyScos(
      alert.evidence.map((observation) => observation.objects),
      context.randomUuid,
    ).flatMap((sco) => {
      const evidence = asEvidence(sco, alert.observable, context.randomUuid);
      return evidence === undefined ? [] : [{ observed: sco.id, evidence }];
    }),
    context.randomUuid,
  ).filter((sco) => acceptSco(sco));
  const count = Math.max(1, Math.min(maxCount, alert.count));
  const markings = homeSightingMarkings(context.indicator, context.indicatorDefaultTlp, context.markingDefinitions);
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
    // Says what this observed-data is: the evidence of a sighting, not telemetry. A node matcher
    // (any worker's, or a later `entente match`) does not match it again as new observations.
    [SIGHTING_EVIDENCE_PROPERTY]: true,
    object_marking_refs: markings,
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
    object_marking_refs: markings,
  };
  return { sighting, observedData, objects: scos.length > 0 ? [...scos, observedData, sighting] : [sighting] };
}


/** How a sighting goes back into a circle: what decideSightingShare said when it shares. */
export type SightingShareForm = Extract<SightingShareDecision, { kind: 'share' }>;

/**
 * What goes into a circle's collection for one of the home organisation's sightings: a sighting of
 * its own (the stored one refers to observed-data the circle may not receive, and one version cannot
 * differ between collections), naming the home organisation where sighted only when the form allows;
 * with an observed-data of its own and the observables in it only when the form says evidence. Every
 * one of them is marked at the decided TLP and with the indicator's other markings (form.markings):
 * the evidence holds the indicator's value and the home's own observables, and an object the release
 * decision took alone, unmarked, would go where the indicator may not (at the circle's default TLP,
 * to members a recipients marking excludes).
 */
export function circleSightingObjects(bundle: SightingBundle, form: SightingShareForm, randomUuid: () => string): { sighting: StixObject; objects: StixObject[] } {
  const stored = bundle.sighting;
  const evidence = form.evidence && Array.isArray(stored['observed_data_refs']);
  const markings = [TLP2_MARKING_IDS[form.tlp], ...form.markings];
  const marked = (object: StixObject): StixObject => ({ ...object, object_marking_refs: [...new Set([...markingRefsOf(object), ...markings])] });
  // The copy's observed-data is marked as decided alone: the stored one's marking is the home's
  // (homeSightingMarkings, or none on one stored before it was marked), which the agreement's form
  // replaces for the circle's copy, as it does the sighting's.
  const { object_marking_refs: _homeMarking, ...observed } = bundle.observedData;
  const observedData: StixObject | undefined = evidence ? marked({ ...observed, id: `observed-data--${randomUuid()}` } as StixObject) : undefined;
  const sighting: StixObject = {
    type: 'sighting',
    spec_version: '2.1',
    id: `sighting--${randomUuid()}`,
    created: stored['created'] as string,
    modified: stored['modified'] as string,
    created_by_ref: stored['created_by_ref'] as string,
    sighting_of_ref: stored['sighting_of_ref'] as string,
    ...(observedData !== undefined ? { observed_data_refs: [observedData.id] } : {}),
    ...(form.whereSighted && stored['where_sighted_refs'] !== undefined ? { where_sighted_refs: stored['where_sighted_refs'] } : {}),
    count: stored['count'] as number,
    first_seen: stored['first_seen'] as string,
    last_seen: stored['last_seen'] as string,
    ...(form.labels.length > 0 ? { labels: [...form.labels] } : {}),
    object_marking_refs: markings,
  };
  if (observedData === undefined) return { sighting, objects: [sighting] };
  const observables = bundle.objects.filter((object) => object.type !== 'sighting' && object.id !== bundle.observedData.id).map(marked);
  return { sighting, objects: [...observables, observedData, sighting] };
}

function markingRefsOf(object: StixObject): string[] {
  const refs = object['object_marking_refs'];
  return Array.isArray(refs) ? refs.filter((ref): ref is string => typeof ref === 'string') : [];
}

/** The types the evidence of a sighting holds: its observed-data and the observables in it (empty without). */
export function evidenceTypesOf(bundle: SightingBundle): string[] {
  if (bundle.objects.length === 1) return [];
  return [...new Set(bundle.objects.filter((object) => object.type !== 'sighting').map((object) => object.type))];
}

/**
 * The next version of a sighting whose alert window closed with other counts than it was stored
 * with, or undefined when nothing changed. `modified` moves past the previous version even when the
 * clock did not.
 */
export function sightingWithFinalCounts(sighting: StixObject, alert: Pick<Alert, 'count' | 'firstSeen' | 'lastSeen'>, now: Date): StixObject | undefined {
  const count = Math.max(1, Math.min(maxCount, alert.count));
  if (count === sighting['count'] && alert.lastSeen === sighting['last_seen'] && alert.firstSeen === sighting['first_seen']) return undefined;
  const previous = Date.parse(String(sighting['modified']));
  const modified = new Date(Math.max(now.getTime(), previous + 1)).toISOString();
  return { ...sighting, modified, count, first_seen: alert.firstSeen, last_seen: alert.lastSeen };
}
