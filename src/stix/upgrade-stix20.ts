import { err, ok } from '../errors/result.ts';
import type { Result } from '../errors/result.ts';
import { tlpOfMarkingRef, tlpRank } from '../policy/tlp.ts';
import { randomStixId, scoId, SCO_ID_CONTRIBUTING_PROPERTIES } from './ids.ts';
import type { JsonObject, JsonValue } from './types.ts';

/**
 * STIX 2.0 → 2.1, object by object, following the changes STIX 2.1 made (and what MITRE did when it
 * moved ATT&CK to 2.1). Where a 2.0 object has no faithful 2.1 form, the result is a problem naming
 * the property, never a quietly different object.
 */

export interface UpgradeProblem {
  readonly code: 'ENT_OBJECT_INVALID';
  /** JSONPath inside the 2.0 object (`$.objects.0.name`). */
  readonly path: string;
  readonly message: string;
  readonly objectId?: string;
}

export interface UpgradedObject {
  /** The 2.1 form of the object. */
  readonly object: JsonObject;
  /**
   * SCOs taken out of a 2.0 `observed-data.objects`, each a top-level 2.1 object that `object.object_refs`
   * points to. Empty for every other type.
   */
  readonly observables: JsonObject[];
}

export interface UpgradeOptions {
  /**
   * UUIDs for SCOs that have no deterministic id (process, custom SCO types, or none of the ID
   * Contributing Properties present), for which STIX 2.1 prescribes UUIDv4. Production passes
   * `crypto.randomUUID`; tests pass a counter.
   */
  readonly randomUuid: () => string;
}

/** STIX 2.1 §7.2.1 / §12: the four TLP 1.0 marking definitions, with the fixed ids 2.0 already used. */
export const TLP_MARKING_DEFINITIONS: Readonly<Record<string, JsonObject>> = Object.fromEntries(
  ([
    ['white', '613f2e26-407d-48c7-9eca-b8e91df99dc9'],
    ['green', '34098fce-860f-48ae-8e50-ebd3cc5e41da'],
    ['amber', 'f88d31f6-486f-44da-b317-01333bde0b82'],
    ['red', '5e57c739-391a-4eb3-b6be-7d15ca92d5ed'],
  ] as const).map(([colour, uuid]) => [
    `marking-definition--${uuid}`,
    {
      type: 'marking-definition',
      spec_version: '2.1',
      id: `marking-definition--${uuid}`,
      created: '2017-01-20T00:00:00.000Z',
      definition_type: 'tlp',
      name: `TLP:${colour.toUpperCase()}`,
      definition: { tlp: colour },
    },
  ]),
);

/**
 * 2.0 put an object's kind in `labels` (a suggested vocabulary); 2.1 gives these types a `*_types`
 * property with the 2.1 vocabulary and leaves `labels` free-form. Values in the 2.1 vocabulary move;
 * others stay in `labels`, where their meaning is unchanged. (2.1 only added terms to these lists.)
 */
const TYPE_VOCABULARIES: Readonly<Record<string, { property: string; values: ReadonlySet<string> }>> = {
  indicator: {
    property: 'indicator_types',
    values: new Set(['anomalous-activity', 'anonymization', 'benign', 'compromised', 'malicious-activity', 'attribution', 'unknown']),
  },
  malware: {
    property: 'malware_types',
    values: new Set([
      'adware', 'backdoor', 'bot', 'bootkit', 'ddos', 'downloader', 'dropper', 'exploit-kit', 'keylogger', 'ransomware',
      'remote-access-trojan', 'resource-exploitation', 'rogue-security-software', 'rootkit', 'screen-capture', 'spyware',
      'trojan', 'unknown', 'virus', 'webshell', 'wiper', 'worm',
    ]),
  },
  'threat-actor': {
    property: 'threat_actor_types',
    values: new Set([
      'activist', 'competitor', 'crime-syndicate', 'criminal', 'hacker', 'insider-accidental', 'insider-disgruntled',
      'nation-state', 'sensationalist', 'spy', 'terrorist', 'unknown',
    ]),
  },
  tool: {
    property: 'tool_types',
    values: new Set([
      'denial-of-service', 'exploitation', 'information-gathering', 'network-capture', 'credential-exploitation',
      'remote-access', 'vulnerability-scanning', 'unknown',
    ]),
  },
  report: {
    property: 'report_types',
    values: new Set([
      'attack-pattern', 'campaign', 'identity', 'indicator', 'intrusion-set', 'malware', 'observed-data', 'threat-actor',
      'threat-report', 'tool', 'vulnerability',
    ]),
  },
};

/** 2.0 SCO properties that 2.1 renamed, per SCO type (STIX 2.1 §6: ctime/mtime/atime and friends). */
const RENAMED_SCO_PROPERTIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  file: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  directory: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  process: { created: 'created_time', binary_ref: 'image_ref' },
  'windows-registry-key': { modified: 'modified_time' },
  'user-account': { password_last_changed: 'credential_last_changed' },
};

/** 2.0 SCO properties 2.1 dropped without a place to put their value faithfully. */
const REMOVED_SCO_PROPERTIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  file: {
    is_encrypted: 'STIX 2.1 moved encryption to the artifact object',
    encryption_algorithm: 'STIX 2.1 moved encryption to the artifact object',
    decryption_key: 'STIX 2.1 moved encryption to the artifact object',
  },
  process: {
    name: 'STIX 2.1 has no process name (only command_line, which also needs the arguments, quoted as the platform does)',
    arguments: 'STIX 2.1 has no process arguments (only command_line, whose quoting 2.0 does not record)',
  },
};

const REMOVED_EXTENSION_PROPERTIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'archive-ext': { version: 'STIX 2.1 removed archive-ext.version' },
  'raster-image-ext': { image_compression_algorithm: 'STIX 2.1 removed raster-image-ext.image_compression_algorithm' },
};

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A copy with `spec_version` placed after `type`, as 2.1 producers write it; other keys keep their order. */
function withSpecVersion(object: JsonObject): JsonObject {
  const entries = Object.entries(object).filter(([key]) => key !== 'spec_version');
  const typeAt = entries.findIndex(([key]) => key === 'type');
  entries.splice(typeAt + 1, 0, ['spec_version', '2.1']);
  // fromEntries defines data properties, so an untrusted "__proto__" key stays a key.
  return structuredClone(Object.fromEntries(entries) as JsonObject);
}

function problem(object: JsonObject, path: string, message: string): UpgradeProblem {
  const id = object['id'];
  return { code: 'ENT_OBJECT_INVALID', path, message: typeof id === 'string' ? `${id}: ${message}` : message, ...(typeof id === 'string' ? { objectId: id } : {}) };
}

/**
 * Upgrades one STIX 2.0 object to 2.1. Objects already declaring `spec_version: "2.1"` come back
 * unchanged. The input is never modified.
 */
export function upgradeStix20Object(input: JsonObject, options: UpgradeOptions): Result<UpgradedObject, UpgradeProblem[]> {
  const type = input['type'];
  if (typeof type !== 'string') return err([problem(input, '$.type', 'a STIX object needs a string "type"')]);
  if (typeof input['id'] !== 'string') return err([problem(input, '$.id', 'a STIX object needs a string "id"')]);
  if (type === 'bundle') return err([problem(input, '$.type', 'a bundle is a container, not an object: read its objects first')]);
  if (input['spec_version'] === '2.1') return ok({ object: input, observables: [] });
  if (input['spec_version'] !== undefined && input['spec_version'] !== '2.0') {
    return err([problem(input, '$.spec_version', `spec_version ${JSON.stringify(input['spec_version'])} is neither 2.0 nor 2.1`)]);
  }
  const object = withSpecVersion(input);

  const moved = moveLabelsToTypes(input, object, type);
  if (moved.length > 0) return err(moved);
  switch (type) {
    case 'indicator':
      if (object['pattern_type'] === undefined) object['pattern_type'] = 'stix';
      // The pattern was written against the 2.0 object model (file:created, process:name, …), which
      // 2.1 renamed in places: say so rather than let a matcher read it as a 2.1 pattern.
      if (object['pattern_version'] === undefined) object['pattern_version'] = '2.0';
      return ok({ object, observables: [] });
    case 'malware':
      // 2.0 malware objects describe families (ATT&CK's do); 2.1 made the distinction required.
      if (object['is_family'] === undefined) object['is_family'] = true;
      return ok({ object, observables: [] });
    case 'threat-actor':
    case 'tool':
    case 'report':
      return ok({ object, observables: [] });
    case 'marking-definition':
      return upgradeMarkingDefinition(input, object);
    case 'observed-data':
      return upgradeObservedData(input, object, options);
    default:
      return ok({ object, observables: [] });
  }
}

/**
 * Moves the 2.0 `labels` values of the 2.1 vocabulary to the type's `*_types`, and the granular
 * markings with them: a selector of `labels.[i]` follows element i to where it now is, so that a
 * marked label neither loses its marking nor passes it to the label that takes its index.
 */
function moveLabelsToTypes(input: JsonObject, object: JsonObject, type: string): UpgradeProblem[] {
  const vocabulary = ownEntry(TYPE_VOCABULARIES, type);
  const labels = object['labels'];
  if (vocabulary === undefined || !Array.isArray(labels)) return [];
  const existing = object[vocabulary.property];
  const types: JsonValue[] = Array.isArray(existing) ? [...existing] : [];
  const kept: JsonValue[] = [];
  // Where each element of labels went: a selector path, or undefined for a label dropped.
  const destinations: (string | undefined)[] = [];
  for (const label of labels) {
    if (typeof label === 'string' && vocabulary.values.has(label)) {
      let at = types.indexOf(label);
      if (at === -1) at = types.push(label) - 1;
      destinations.push(`${vocabulary.property}.[${at}]`);
    } else if (label !== type) {
      destinations.push(`labels.[${kept.length}]`);
      kept.push(label);
    } else {
      // A label equal to the object's own type ("malware" on a malware) says nothing: MITRE dropped it,
      // and a marking on it marks nothing that is left.
      destinations.push(undefined);
    }
  }
  if (types.length > 0) object[vocabulary.property] = types;
  if (kept.length > 0) object['labels'] = kept;
  else delete object['labels'];
  const whole = [...new Set([...(kept.length > 0 ? ['labels'] : []), ...destinations.filter((d): d is string => d !== undefined && !d.startsWith('labels.'))])];
  return relocateSelectors(input, object, 'labels', (rest, where) => {
    if (rest === '') return whole;
    const match = /^\.\[(\d+)\](.*)$/.exec(rest);
    const index = match === null ? undefined : Number(match[1]);
    if (match === null || index === undefined || index >= labels.length) return `the selector "labels${rest}" selects no element of labels (${where})`;
    const destination = destinations[index];
    return destination === undefined ? [] : [`${destination}${match[2] ?? ''}`];
  });
}

/**
 * Rewrites the selectors of `object.granular_markings` that select `property` or inside it. `follow`
 * gets the rest of the selector after the property name ('' for the property itself, `.[2]`, `.a.b`)
 * and returns the selectors that now select the same values ([] if the upgrade removed them), or a
 * message when a selector selects nothing. A marking left without selectors is dropped with them.
 */
function relocateSelectors(
  input: JsonObject,
  object: JsonObject,
  property: string,
  follow: (rest: string, where: string) => string[] | string,
): UpgradeProblem[] {
  const granular = object['granular_markings'];
  if (!Array.isArray(granular)) return [];
  const problems: UpgradeProblem[] = [];
  const relocated: JsonValue[] = [];
  granular.forEach((marking, index) => {
    if (!isObject(marking) || !Array.isArray(marking['selectors'])) {
      relocated.push(marking);
      return;
    }
    const selectors: JsonValue[] = [];
    let touched = false;
    marking['selectors'].forEach((selector, at) => {
      if (typeof selector !== 'string' || (selector !== property && !selector.startsWith(`${property}.`))) {
        selectors.push(selector);
        return;
      }
      touched = true;
      const followed = follow(selector.slice(property.length), `granular_markings[${index}]`);
      if (typeof followed === 'string') problems.push(problem(input, `$.granular_markings[${index}].selectors[${at}]`, followed));
      else for (const next of followed) if (!selectors.includes(next)) selectors.push(next);
    });
    if (!touched) relocated.push(marking);
    else if (selectors.length > 0) relocated.push({ ...marking, selectors });
  });
  if (relocated.length > 0) object['granular_markings'] = relocated;
  else delete object['granular_markings'];
  return problems;
}

function upgradeMarkingDefinition(input: JsonObject, object: JsonObject): Result<UpgradedObject, UpgradeProblem[]> {
  if (input['definition_type'] !== 'tlp') return ok({ object, observables: [] });
  const id = input['id'] as string;
  const canonical = ownEntry(TLP_MARKING_DEFINITIONS, id);
  const definition = input['definition'];
  const colour = isObject(definition) ? definition['tlp'] : undefined;
  if (canonical === undefined) {
    return err([problem(input, '$.id', 'a TLP marking definition must be one of the four with fixed ids (STIX 2.0 §4.1.5, 2.1 §7.2.1.4); this one would not be recognised as TLP')]);
  }
  const canonicalDefinition = canonical['definition'];
  if (!isObject(canonicalDefinition) || canonicalDefinition['tlp'] !== colour) {
    return err([problem(input, '$.definition.tlp', `the fixed id ${id} is TLP:${String(isObject(canonicalDefinition) ? canonicalDefinition['tlp'] : '').toUpperCase()}, but the definition says ${JSON.stringify(colour)}`)]);
  }
  // The spec's own object (with its 2.1 name) replaces the copy: TLP definitions are not anyone's to vary.
  return ok({ object: structuredClone(canonical), observables: [] });
}

function upgradeObservedData(input: JsonObject, object: JsonObject, options: UpgradeOptions): Result<UpgradedObject, UpgradeProblem[]> {
  const embedded = input['objects'];
  if (embedded === undefined) return ok({ object, observables: [] });
  if (!isObject(embedded) || Object.keys(embedded).length === 0) {
    return err([problem(input, '$.objects', 'STIX 2.0 observed-data.objects must be a non-empty dictionary of cyber observables')]);
  }
  const problems: UpgradeProblem[] = [];
  const keys = Object.keys(embedded);

  // Properties renamed and refused first; references still use the 2.0 local keys ("0", "1", …).
  const converted = new Map<string, JsonObject>();
  for (const key of keys) {
    const sco = embedded[key];
    const path = `$.objects.${key}`;
    if (!isObject(sco) || typeof sco['type'] !== 'string') {
      problems.push(problem(input, path, 'an embedded cyber observable must be an object with a string "type"'));
      continue;
    }
    const result = convertScoProperties(input, sco, path);
    if (!result.ok) problems.push(...result.error);
    else converted.set(key, result.value);
  }
  if (problems.length > 0) return err(problems);

  // Ids next. A deterministic id can depend on another SCO's id (file.parent_directory_ref,
  // email-message.from_ref, network-traffic.src_ref/dst_ref, refs inside contributing extensions),
  // so ids are computed depth-first along references inside contributing properties only.
  const ids = new Map<string, string>();
  /** Keys whose id is derived from their content (UUIDv5), not random. */
  const derived = new Set<string>();
  /** Keys each observable's identifying properties refer to: its id is derived from theirs. */
  const identifyingRefs = new Map<string, string[]>();
  const visiting = new Set<string>();
  const resolve = (key: string, path: string): string | undefined => {
    const known = ids.get(key);
    if (known !== undefined) return known;
    const sco = converted.get(key);
    if (sco === undefined) {
      problems.push(problem(input, path, `refers to "${key}", which is not a key of observed-data.objects`));
      return undefined;
    }
    if (visiting.has(key)) {
      problems.push(problem(input, path, `the identifying properties of objects.${key} refer back to it, so no deterministic id exists`));
      return undefined;
    }
    visiting.add(key);
    const type = sco['type'] as string;
    const contributing = contributingProperties(type);
    const partial: JsonObject = {};
    const refs: string[] = [];
    identifyingRefs.set(key, refs);
    for (const name of contributing) {
      const value = sco[name];
      if (value === undefined) continue;
      const before = problems.length;
      const rewritten = rewriteRefs(value, `$.objects.${key}.${name}`, name, (ref, refPath) => {
        refs.push(ref);
        return resolve(ref, refPath);
      });
      if (rewritten === undefined) {
        if (problems.length === before) problems.push(problem(input, `$.objects.${key}.${name}`, 'a reference is not a string'));
        visiting.delete(key);
        return undefined;
      }
      Object.defineProperty(partial, name, { value: rewritten, enumerable: true, writable: true, configurable: true });
    }
    visiting.delete(key);
    const deterministic = scoId(type, partial);
    let id: string;
    if (deterministic.ok) {
      id = deterministic.value;
      derived.add(key);
    } else if (deterministic.error.code === 'no-contributing-properties' || deterministic.error.code === 'unknown-sco-type') {
      id = randomStixId(type, options.randomUuid);
    } else {
      problems.push(problem(input, `$.objects.${key}`, deterministic.error.message));
      return undefined;
    }
    ids.set(key, id);
    return id;
  };
  for (const key of keys) resolve(key, `$.objects.${key}`);
  if (problems.length > 0) return err(problems);

  // Markings: once out of the observed-data, the SCOs must stay at least as restricted as they were.
  const markings = splitMarkings(input, keys);
  if (!markings.ok) return err(markings.error);
  const split = markings.value;

  // A derived id is as sensitive as what it is derived from: the identifying properties, or the whole
  // observable, and the ids of the observables they refer to. Whoever sees the id can test guesses
  // of the value against it (an IPv4 /16 in a fraction of a second), so the marking covers the SCO as a
  // whole, and every reference to it carries the marking too. A random id reveals nothing.
  const idMarkings = new Map<string, string[]>();
  const markingsOfId = (key: string): string[] => {
    const known = idMarkings.get(key);
    if (known !== undefined) return known;
    const found: string[] = [];
    const own = split.get(key);
    if (derived.has(key) && own !== undefined) {
      const contributing = contributingProperties(converted.get(key)?.['type'] as string);
      found.push(...split.everyObservable, ...own.objectMarkingRefs);
      for (const [ref, selectors] of own.granular) if (selectors.some((selector) => contributing.includes(firstSegment(selector)))) found.push(ref);
      // Acyclic: a cycle among identifying references was refused when the ids were computed.
      for (const ref of identifyingRefs.get(key) ?? []) found.push(...markingsOfId(ref));
    }
    const unique = [...new Set(found)];
    idMarkings.set(key, unique);
    return unique;
  };

  const observables: JsonObject[] = [];
  for (const key of keys) {
    const sco = converted.get(key) as JsonObject;
    const id = ids.get(key) as string;
    const before = problems.length;
    const rest = rewriteRefs(sco, `$.objects.${key}`, '', (ref, refPath) => {
      const target = ids.get(ref);
      if (target === undefined) problems.push(problem(input, refPath, `refers to "${ref}", which is not a key of observed-data.objects`));
      return target;
    });
    if (!isObject(rest)) {
      if (problems.length === before) problems.push(problem(input, `$.objects.${key}`, 'a reference is not a string'));
      continue;
    }
    const own = split.get(key) ?? { objectMarkingRefs: [], granular: new Map<string, string[]>() };
    const objectMarkings = new Set([...split.own, ...split.everyObservable, ...own.objectMarkingRefs, ...markingsOfId(key)]);
    const granular = new Map<string, string[]>();
    const contributing = derived.has(key) ? contributingProperties(sco['type'] as string) : [];
    for (const [ref, selectors] of own.granular) {
      // A marked identifying property is covered by the object marking it became.
      const left = selectors.filter((selector) => !contributing.includes(firstSegment(selector)));
      if (left.length > 0) granular.set(ref, [...left]);
    }
    for (const { selector, ref } of localReferences(sco)) {
      for (const marking of markingsOfId(ref)) {
        if (objectMarkings.has(marking)) continue;
        // A reference a selector cannot name (a key with characters selectors lack) marks the whole SCO.
        if (selector === undefined) objectMarkings.add(marking);
        else addSelector(granular, marking, selector);
      }
    }
    const entries: [string, JsonValue][] = [['type', sco['type'] as string], ['spec_version', '2.1'], ['id', id]];
    for (const [name, value] of Object.entries(rest)) if (name !== 'type') entries.push([name, value]);
    if (objectMarkings.size > 0) entries.push(['object_marking_refs', strictestTlpOnly([...objectMarkings])]);
    if (granular.size > 0) entries.push(['granular_markings', granularMarkings(granular)]);
    observables.push(Object.fromEntries(entries) as JsonObject);
  }
  if (problems.length > 0) return err(problems);

  // The observed-data's references reveal the derived ids as the SCOs do.
  const referenceMarkings = new Map<string, string[]>();
  keys.forEach((key, index) => {
    for (const marking of markingsOfId(key)) if (!split.own.includes(marking)) addSelector(referenceMarkings, marking, `object_refs.[${index}]`);
  });
  const granularOfObservedData = [...split.remaining, ...granularMarkings(referenceMarkings)];

  delete object['objects'];
  delete object['granular_markings'];
  // 2.1 deprecates observed-data.objects and forbids it beside object_refs; object_refs is the 2.1 form.
  const upgraded = Object.fromEntries(
    Object.entries(object).flatMap(([name, value]): [string, JsonValue][] => {
      if (name === 'number_observed') return [[name, value], ['object_refs', keys.map((key) => ids.get(key) as string)]];
      return [[name, value]];
    }),
  ) as JsonObject;
  if (upgraded['object_refs'] === undefined) upgraded['object_refs'] = keys.map((key) => ids.get(key) as string);
  if (granularOfObservedData.length > 0) upgraded['granular_markings'] = granularOfObservedData;
  return ok({ object: upgraded, observables });
}

/** The ID Contributing Properties of an SCO type (own entries only: a type is the sender's text). */
function contributingProperties(type: string): readonly string[] {
  return ownEntry(SCO_ID_CONTRIBUTING_PROPERTIES, type) ?? [];
}

function firstSegment(selector: string): string {
  const dot = selector.indexOf('.');
  return dot === -1 ? selector : selector.slice(0, dot);
}

function addSelector(granular: Map<string, string[]>, marking: string, selector: string): void {
  const selectors = granular.get(marking);
  if (selectors === undefined) granular.set(marking, [selector]);
  else if (!selectors.includes(selector)) selectors.push(selector);
}

function granularMarkings(granular: ReadonlyMap<string, readonly string[]>): JsonObject[] {
  return [...granular].map(([ref, selectors]) => ({ marking_ref: ref, selectors: [...selectors] }));
}

/**
 * Two TLP markings on one object contradict each other, and the strictest is the one that holds
 * (see tlpOf): the weaker are left out, so that no reader takes the object for less restricted than
 * it is. Other markings (statements) all stay.
 */
function strictestTlpOnly(refs: readonly string[]): string[] {
  let strictest = -1;
  for (const ref of refs) {
    const level = tlpOfMarkingRef(ref);
    if (level !== undefined) strictest = Math.max(strictest, tlpRank(level));
  }
  return [...new Set(refs)].filter((ref) => {
    const level = tlpOfMarkingRef(ref);
    return level === undefined || tlpRank(level) === strictest;
  });
}

function isSelectorKey(key: string, first: boolean): boolean {
  return /^[a-z0-9_-]+$/.test(key) && (!first || key === 'id' || (key.length >= 3 && key.length <= 249));
}

/**
 * The 2.0 local references of an embedded observable (where rewriteRefs looks), each with the selector
 * that names it in the 2.1 SCO, or undefined where no selector can.
 */
function localReferences(sco: JsonObject): { selector: string | undefined; ref: string }[] {
  const found: { selector: string | undefined; ref: string }[] = [];
  const walk = (value: JsonValue, selector: string | undefined, name: string): void => {
    const at = (suffix: string): string | undefined => (selector === undefined ? undefined : `${selector}.${suffix}`);
    if (name.endsWith('_ref') && typeof value === 'string') found.push({ selector, ref: value });
    else if (name.endsWith('_refs') && Array.isArray(value)) {
      value.forEach((item, index) => {
        if (typeof item === 'string') found.push({ selector: at(`[${index}]`), ref: item });
      });
    } else if (Array.isArray(value)) value.forEach((item, index) => walk(item, at(`[${index}]`), ''));
    else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        const root = selector === '';
        walk(item, isSelectorKey(key, root) ? (root ? key : at(key)) : undefined, key);
      }
    }
  };
  walk(sco, '', '');
  return found;
}

/**
 * A table's entry for a name the input chose (a type, a property, an extension): own entries only, as
 * `constructor`, `toString` or `__proto__` would otherwise read what every object inherits.
 */
function ownEntry<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

function convertScoProperties(input: JsonObject, sco: JsonObject, path: string): Result<JsonObject, UpgradeProblem[]> {
  const type = sco['type'] as string;
  const problems: UpgradeProblem[] = [];
  const renamed = ownEntry(RENAMED_SCO_PROPERTIES, type) ?? {};
  const removed = ownEntry(REMOVED_SCO_PROPERTIES, type) ?? {};
  const entries: [string, JsonValue][] = [];
  for (const [name, value] of Object.entries(sco)) {
    const why = ownEntry(removed, name);
    if (why !== undefined) {
      problems.push(problem(input, `${path}.${name}`, `${type}.${name} cannot be upgraded: ${why}`));
      continue;
    }
    // Its own markings, if any, are splitMarkings' to carry over.
    if (name === 'id' || name === 'spec_version' || name === 'object_marking_refs' || name === 'granular_markings') continue;
    const target = ownEntry(renamed, name) ?? name;
    if (target !== name && sco[target] !== undefined) {
      problems.push(problem(input, `${path}.${name}`, `${type} has both ${name} (2.0) and ${target} (its 2.1 name)`));
      continue;
    }
    if (name === 'extensions' && isObject(value)) {
      for (const [extension, body] of Object.entries(value)) {
        const dropped = ownEntry(REMOVED_EXTENSION_PROPERTIES, extension) ?? {};
        if (!isObject(body)) continue;
        for (const property of Object.keys(body)) {
          const reason = ownEntry(dropped, property);
          if (reason !== undefined) problems.push(problem(input, `${path}.extensions.${extension}.${property}`, `cannot be upgraded: ${reason}`));
        }
      }
    }
    entries.push([target, value]);
  }
  return problems.length > 0 ? err(problems) : ok(Object.fromEntries(entries) as JsonObject);
}

/**
 * A copy of `value` with every 2.0 local reference (values of `*_ref` strings and `*_refs` lists, at
 * any depth, e.g. inside extensions) replaced by `lookup`; undefined when a lookup fails.
 */
function rewriteRefs(value: JsonValue, path: string, name: string, lookup: (ref: string, path: string) => string | undefined): JsonValue | undefined {
  if (name.endsWith('_ref') && typeof value === 'string') return lookup(value, path);
  if (name.endsWith('_refs') && Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (const [index, item] of value.entries()) {
      if (typeof item !== 'string') return undefined;
      const id = lookup(item, `${path}[${index}]`);
      if (id === undefined) return undefined;
      out.push(id);
    }
    return out;
  }
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (const [index, item] of value.entries()) {
      const rewritten = rewriteRefs(item, `${path}[${index}]`, '', lookup);
      if (rewritten === undefined) return undefined;
      out.push(rewritten);
    }
    return out;
  }
  if (isObject(value)) {
    const entries: [string, JsonValue][] = [];
    for (const [key, item] of Object.entries(value)) {
      const rewritten = rewriteRefs(item, `${path}.${key}`, key, lookup);
      if (rewritten === undefined) return undefined;
      entries.push([key, rewritten]);
    }
    return Object.fromEntries(entries) as JsonObject;
  }
  return value;
}

interface ScoMarkings {
  objectMarkingRefs: string[];
  /** Marking ref → selectors inside the SCO, with the property names 2.1 gives them. */
  granular: Map<string, string[]>;
}

interface SplitMarkings {
  /** The observed-data's own object markings, which every extracted SCO inherits. */
  own: string[];
  /** Markings of `objects` as a whole (a granular marking of the observed-data), for every SCO. */
  everyObservable: string[];
  /** Granular markings of the observed-data that do not select into `objects`. */
  remaining: JsonObject[];
  get(key: string): ScoMarkings | undefined;
}

/**
 * In 2.0 the embedded observables were part of the observed-data, covered by its markings; as
 * separate 2.1 objects they must carry those markings themselves. Object markings are copied to every
 * SCO; a granular marking selecting `objects`, `objects.K` or `objects.K.path` becomes an object
 * marking of all SCOs, of SCO K, or a granular marking of SCO K on `path`, with the property renamed
 * as 2.1 renamed it (a file's `created` is its `ctime`). Markings an embedded observable carries
 * itself are taken the same way.
 */
function splitMarkings(input: JsonObject, keys: string[]): Result<SplitMarkings, UpgradeProblem[]> {
  const problems: UpgradeProblem[] = [];
  const own: string[] = [];
  const everyObservable: string[] = [];
  const perKey = new Map<string, ScoMarkings>(keys.map((key) => [key, { objectMarkingRefs: [], granular: new Map<string, string[]>() }]));
  const embedded = isObject(input['objects']) ? input['objects'] : {};
  const refs = input['object_marking_refs'];
  if (Array.isArray(refs)) for (const ref of refs) if (typeof ref === 'string') own.push(ref);
  const remaining: JsonObject[] = [];

  const take = (markingRef: JsonValue | undefined, selector: string, path: string): void => {
    const [, key, property, ...rest] = selector.split('.');
    const target = key === undefined ? undefined : perKey.get(key);
    if (typeof markingRef !== 'string') {
      problems.push(problem(input, path, `a language marking on "${selector}" cannot follow the observable into a separate object`));
    } else if (key === undefined) {
      everyObservable.push(markingRef);
    } else if (target === undefined) {
      problems.push(problem(input, path, `selector "${selector}" names no key of observed-data.objects`));
    } else if (property === undefined) {
      target.objectMarkingRefs.push(markingRef);
    } else {
      const sco = embedded[key];
      const renamed = isObject(sco) && typeof sco['type'] === 'string' ? ownEntry(ownEntry(RENAMED_SCO_PROPERTIES, sco['type']) ?? {}, property) : undefined;
      addSelector(target.granular, markingRef, [renamed ?? property, ...rest].join('.'));
    }
  };

  const granular = input['granular_markings'];
  if (Array.isArray(granular)) {
    granular.forEach((marking, index) => {
      if (!isObject(marking) || !Array.isArray(marking['selectors'])) {
        remaining.push(marking as JsonObject);
        return;
      }
      const selectors = marking['selectors'].filter((s): s is string => typeof s === 'string');
      const kept = selectors.filter((s) => s !== 'objects' && !s.startsWith('objects.'));
      if (kept.length > 0) remaining.push({ ...marking, selectors: kept });
      for (const selector of selectors) if (!kept.includes(selector)) take(marking['marking_ref'], selector, `$.granular_markings[${index}]`);
    });
  }

  // 2.0 gives observables no markings of their own, but one that has them must not lose them.
  for (const key of keys) {
    const sco = embedded[key];
    if (!isObject(sco)) continue;
    const objectRefs = sco['object_marking_refs'];
    if (objectRefs !== undefined) {
      if (!Array.isArray(objectRefs) || !objectRefs.every((ref) => typeof ref === 'string')) problems.push(problem(input, `$.objects.${key}.object_marking_refs`, 'must be a list of marking-definition ids'));
      else perKey.get(key)?.objectMarkingRefs.push(...objectRefs);
    }
    const scoGranular = sco['granular_markings'];
    if (scoGranular === undefined) continue;
    if (!Array.isArray(scoGranular)) {
      problems.push(problem(input, `$.objects.${key}.granular_markings`, 'must be a list of granular markings'));
      continue;
    }
    scoGranular.forEach((marking, index) => {
      const path = `$.objects.${key}.granular_markings[${index}]`;
      const selectors = isObject(marking) ? marking['selectors'] : undefined;
      if (!isObject(marking) || !Array.isArray(selectors) || selectors.length === 0 || !selectors.every((s) => typeof s === 'string' && s.length > 0)) {
        problems.push(problem(input, path, 'a granular marking needs a non-empty list of selectors'));
        return;
      }
      for (const selector of selectors as string[]) take(marking['marking_ref'], `objects.${key}.${selector}`, path);
    });
  }
  if (problems.length > 0) return err(problems);
  return ok({ own, everyObservable, remaining, get: (key) => perKey.get(key) });
}

export interface UpgradeManyResult {
  /** 2.1 objects in input order, each observed-data followed by its SCOs (each SCO id once). */
  readonly objects: JsonObject[];
  readonly problems: UpgradeProblem[];
  /**
   * Each upgraded observed-data with the SCOs taken out of it, which must be stored together or not
   * at all (see incompleteObservations).
   */
  readonly observations: readonly Observation[];
}

export interface Observation {
  readonly id: string;
  readonly scoIds: readonly string[];
}

/**
 * Upgrades a list of 2.0 objects (a bundle's). The same observable seen by several observed-data gets
 * the same deterministic id and appears once. Its copies are two partial descriptions of one thing, so
 * they are merged: reference lists and markings are united (a marking only narrows who may receive),
 * a property one copy lacks is taken from the other, and a property the copies give different values
 * is a problem, since one id cannot name two contents. Such a problem refuses the observed-data with
 * all its observables: stored without one of them, it would refer to another content than it saw.
 */
export function upgradeStix20Objects(inputs: readonly JsonObject[], options: UpgradeOptions): UpgradeManyResult {
  const objects: JsonObject[] = [];
  const problems: UpgradeProblem[] = [];
  const observations: Observation[] = [];
  const scoAt = new Map<string, number>();
  for (const input of inputs) {
    const result = upgradeStix20Object(input, options);
    if (!result.ok) {
      problems.push(...result.error);
      continue;
    }
    const { object, observables } = result.value;
    const pending = new Map<string, JsonObject>();
    let conflict: string | undefined;
    for (const sco of observables) {
      const id = sco['id'] as string;
      const at = scoAt.get(id);
      const earlier = pending.get(id) ?? (at === undefined ? undefined : objects[at]);
      const merged = earlier === undefined ? sco : mergeSameSco(earlier, sco);
      if (typeof merged === 'string') {
        conflict = `${id} was observed twice with different ${merged}`;
        break;
      }
      pending.set(id, merged);
    }
    if (conflict !== undefined) {
      problems.push(problem(input, '$.objects', `${conflict}, so this observed-data is refused with its observables`));
      continue;
    }
    objects.push(object);
    for (const [id, sco] of pending) {
      const at = scoAt.get(id);
      if (at === undefined) {
        scoAt.set(id, objects.length);
        objects.push(sco);
      } else {
        objects[at] = sco;
      }
    }
    if (observables.length > 0) observations.push({ id: object['id'] as string, scoIds: [...pending.keys()] });
  }
  return { objects, problems, observations };
}

/**
 * What must be refused besides `refused` (ids of upgraded objects that will not be stored), with why:
 * an observed-data one of whose SCOs is refused, since it would refer to what is not there, and then
 * the SCOs that only refused observed-data refer to, since they were seen only as part of those.
 */
export function incompleteObservations(observations: readonly Observation[], refused: ReadonlySet<string>): Map<string, string> {
  const also = new Map<string, string>();
  const isRefused = (id: string): boolean => refused.has(id) || also.has(id);
  for (const observation of observations) {
    // Ids, not objects, are what the caller knows: another version of a refused observed-data (an
    // id may come twice) goes too, or its observables would go without it.
    if (refused.has(observation.id)) {
      also.set(observation.id, 'a version of this observed-data was refused, and every version is stored with its observables or not at all');
      continue;
    }
    if (also.has(observation.id)) continue;
    const missing = observation.scoIds.find((id) => refused.has(id));
    if (missing !== undefined) also.set(observation.id, `its observable ${missing} was refused, and the observed-data would refer to nothing without it`);
  }
  const keptBy = new Map<string, string[]>();
  for (const observation of observations) for (const id of observation.scoIds) keptBy.set(id, [...(keptBy.get(id) ?? []), observation.id]);
  for (const [id, observedBy] of keptBy) {
    if (isRefused(id) || observedBy.some((by) => !isRefused(by))) continue;
    also.set(id, `it was observed only by ${observedBy.join(', ')}, which was refused`);
  }
  return also;
}

/** The merged SCO, or the name of the property whose values conflict. */
function mergeSameSco(a: JsonObject, b: JsonObject): JsonObject | string {
  const entries: [string, JsonValue][] = Object.entries(a);
  for (const [name, value] of Object.entries(b)) {
    const index = entries.findIndex(([key]) => key === name);
    const existing = index === -1 ? undefined : entries[index]?.[1];
    if (existing === undefined) {
      entries.push([name, value]);
    } else if (name === 'object_marking_refs' && Array.isArray(existing) && Array.isArray(value)) {
      entries[index] = [name, strictestTlpOnly([...asStrings(existing), ...asStrings(value)])];
    } else if ((name.endsWith('_refs')) && Array.isArray(existing) && Array.isArray(value)) {
      entries[index] = [name, [...new Set([...asStrings(existing), ...asStrings(value)])]];
    } else if (name === 'granular_markings' && Array.isArray(existing) && Array.isArray(value)) {
      const texts = new Set(existing.map((marking) => JSON.stringify(marking)));
      entries[index] = [name, [...existing, ...value.filter((marking) => !texts.has(JSON.stringify(marking)))]];
    } else if (JSON.stringify(existing) !== JSON.stringify(value)) {
      return name;
    }
  }
  return Object.fromEntries(entries) as JsonObject;
}

function asStrings(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
