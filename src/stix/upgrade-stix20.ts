import { err, ok } from '../errors/result.ts';
import type { Result } from '../errors/result.ts';
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
    // Own entries only: a type is the sender's text, and 'constructor' must not find Object's.
    const contributing = (Object.hasOwn(SCO_ID_CONTRIBUTING_PROPERTIES, type) ? SCO_ID_CONTRIBUTING_PROPERTIES[type] : undefined) ?? [];
    const partial: JsonObject = {};
    for (const name of contributing) {
      const value = sco[name];
      if (value === undefined) continue;
      const before = problems.length;
      const rewritten = rewriteRefs(value, `$.objects.${key}.${name}`, name, (ref, refPath) => resolve(ref, refPath));
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
    if (deterministic.ok) id = deterministic.value;
    else if (deterministic.error.code === 'no-contributing-properties' || deterministic.error.code === 'unknown-sco-type') {
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
    const entries: [string, JsonValue][] = [['type', sco['type'] as string], ['spec_version', '2.1'], ['id', id]];
    for (const [name, value] of Object.entries(rest)) if (name !== 'type') entries.push([name, value]);
    const perSco = markings.value.get(key);
    const objectMarkings = [...markings.value.all.objectMarkingRefs, ...(perSco?.objectMarkingRefs ?? [])];
    if (objectMarkings.length > 0) entries.push(['object_marking_refs', [...new Set(objectMarkings)]]);
    if (perSco !== undefined && perSco.granular.length > 0) entries.push(['granular_markings', perSco.granular]);
    observables.push(Object.fromEntries(entries) as JsonObject);
  }
  if (problems.length > 0) return err(problems);

  delete object['objects'];
  // 2.1 deprecates observed-data.objects and forbids it beside object_refs; object_refs is the 2.1 form.
  const upgraded = Object.fromEntries(
    Object.entries(object).flatMap(([name, value]): [string, JsonValue][] => {
      if (name === 'number_observed') return [[name, value], ['object_refs', keys.map((key) => ids.get(key) as string)]];
      if (name === 'granular_markings') return markings.value.remaining.length > 0 ? [[name, markings.value.remaining]] : [];
      return [[name, value]];
    }),
  ) as JsonObject;
  if (upgraded['object_refs'] === undefined) upgraded['object_refs'] = keys.map((key) => ids.get(key) as string);
  return ok({ object: upgraded, observables });
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
    if (name === 'id' || name === 'spec_version') continue;
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
  granular: JsonObject[];
}

interface SplitMarkings {
  /** Markings of the observed-data as a whole, which every extracted SCO inherits. */
  all: ScoMarkings;
  /** Granular markings of the observed-data that do not select into `objects`. */
  remaining: JsonObject[];
  get(key: string): ScoMarkings | undefined;
}

/**
 * In 2.0 the embedded observables were part of the observed-data, covered by its markings; as
 * separate 2.1 objects they must carry those markings themselves. Object markings are copied to every
 * SCO; a granular marking selecting `objects`, `objects.K` or `objects.K.path` becomes an object
 * marking of all SCOs, of SCO K, or a granular marking of SCO K on `path`.
 */
function splitMarkings(input: JsonObject, keys: string[]): Result<SplitMarkings, UpgradeProblem[]> {
  const problems: UpgradeProblem[] = [];
  const all: ScoMarkings = { objectMarkingRefs: [], granular: [] };
  const perKey = new Map<string, ScoMarkings>(keys.map((key) => [key, { objectMarkingRefs: [], granular: [] }]));
  const refs = input['object_marking_refs'];
  if (Array.isArray(refs)) for (const ref of refs) if (typeof ref === 'string') all.objectMarkingRefs.push(ref);
  const remaining: JsonObject[] = [];
  const granular = input['granular_markings'];
  if (Array.isArray(granular)) {
    granular.forEach((marking, index) => {
      if (!isObject(marking) || !Array.isArray(marking['selectors'])) {
        remaining.push(marking as JsonObject);
        return;
      }
      const markingRef = marking['marking_ref'];
      const selectors = marking['selectors'].filter((s): s is string => typeof s === 'string');
      const own = selectors.filter((s) => s !== 'objects' && !s.startsWith('objects.'));
      if (own.length > 0) remaining.push({ ...marking, selectors: own });
      for (const selector of selectors) {
        if (own.includes(selector)) continue;
        const [, key, ...rest] = selector.split('.');
        const target = key === undefined ? undefined : perKey.get(key);
        if (typeof markingRef !== 'string') {
          problems.push(problem(input, `$.granular_markings[${index}]`, `a language marking on "${selector}" cannot follow the observable into a separate object`));
        } else if (key === undefined) {
          all.objectMarkingRefs.push(markingRef);
        } else if (target === undefined) {
          problems.push(problem(input, `$.granular_markings[${index}]`, `selector "${selector}" names no key of observed-data.objects`));
        } else if (rest.length === 0) {
          target.objectMarkingRefs.push(markingRef);
        } else {
          target.granular.push({ marking_ref: markingRef, selectors: [rest.join('.')] });
        }
      }
    });
  }
  if (problems.length > 0) return err(problems);
  return ok({ all, remaining, get: (key) => perKey.get(key) });
}

export interface UpgradeManyResult {
  /** 2.1 objects in input order, each observed-data followed by its SCOs (each SCO id once). */
  readonly objects: JsonObject[];
  readonly problems: UpgradeProblem[];
}

/**
 * Upgrades a list of 2.0 objects (a bundle's). The same observable seen by several observed-data gets
 * the same deterministic id and appears once. Its copies are two partial descriptions of one thing, so
 * they are merged: reference lists and markings are united (a marking only narrows who may receive),
 * a property one copy lacks is taken from the other, and a property the copies give different values
 * is a problem, since one id cannot name two contents.
 */
export function upgradeStix20Objects(inputs: readonly JsonObject[], options: UpgradeOptions): UpgradeManyResult {
  const objects: JsonObject[] = [];
  const problems: UpgradeProblem[] = [];
  const scoAt = new Map<string, number>();
  for (const input of inputs) {
    const result = upgradeStix20Object(input, options);
    if (!result.ok) {
      problems.push(...result.error);
      continue;
    }
    objects.push(result.value.object);
    for (const sco of result.value.observables) {
      const id = sco['id'] as string;
      const at = scoAt.get(id);
      const earlier = at === undefined ? undefined : objects[at];
      if (at === undefined || earlier === undefined) {
        scoAt.set(id, objects.length);
        objects.push(sco);
        continue;
      }
      const merged = mergeSameSco(earlier, sco);
      if (typeof merged === 'string') problems.push(problem(input, '$.objects', `${id} was observed twice with different ${merged}`));
      else objects[at] = merged;
    }
  }
  return { objects, problems };
}

/** The merged SCO, or the name of the property whose values conflict. */
function mergeSameSco(a: JsonObject, b: JsonObject): JsonObject | string {
  const entries: [string, JsonValue][] = Object.entries(a);
  for (const [name, value] of Object.entries(b)) {
    const index = entries.findIndex(([key]) => key === name);
    const existing = index === -1 ? undefined : entries[index]?.[1];
    if (existing === undefined) {
      entries.push([name, value]);
    } else if ((name.endsWith('_refs')) && Array.isArray(existing) && Array.isArray(value)) {
      entries[index] = [name, [...new Set([...asStrings(existing), ...asStrings(value)])]];
    } else if (JSON.stringify(existing) !== JSON.stringify(value)) {
      return name;
    }
  }
  return Object.fromEntries(entries) as JsonObject;
}

function asStrings(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
