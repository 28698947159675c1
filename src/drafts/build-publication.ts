// The STIX 2.1 objects a reviewed draft publishes: one `report` whose object_refs name everything
// published, an indicator (and its SCOs) per accepted observable, vulnerabilities, indicators for
// quoted rules, references to the ATT&CK/ATLAS objects, and `indicates`/`uses` relationships
// between accepted items. Every object is created by the home organisation and marked with the
// chosen TLP 2.0 marking; the report says, in `x_entente_provenance`, which of the published items
// automation proposed (how, with what confidence) and who accepted them when (an edited item is
// published as the analyst's, `automatic: false`, with its value or pattern), and how many items were
// rejected (never their values; no analyst's note, on any item, is published). Nothing leaves that
// the analyst did not accept: the values of rejected items and the form an edited value had before
// the edit are withheld from every string published (withheld-values.ts), and a last check refuses
// the publication should one remain.
// Pure.
import { EntenteError } from '../errors/entente-error.ts';
import { TLP2_MARKING_IDS, type TlpLevel } from '../policy/tlp.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { effectiveValue, isPublishable, type Draft, type DraftItem } from './draft.ts';
import { observableStix } from './item-stix.ts';
import { MAX_SENTENCE_CHARS, withoutTlpLabels } from './propose-draft-items.ts';
import { withheldValuesOf, type WithheldValues } from './withheld-values.ts';

export interface PublicationInput {
  readonly draft: Draft;
  readonly now: Date;
  readonly randomUuid: () => string;
  /** The home organisation's identity id. */
  readonly createdByRef: string;
  readonly tlp: TlpLevel;
  /** Who publishes. */
  readonly analyst: string;
  /**
   * The report's name; when absent, the draft's title (without TLP labels) unless it mentions a
   * withheld value, else the file name unless it does, else "Untitled report". Withheld values are
   * redacted from a name given here too.
   */
  readonly name?: string;
  /**
   * ATT&CK/ATLAS objects by STIX id that may go into the target collection (the caller keeps out any
   * that would copy what another collection holds): published beside the report, and the source of
   * kill-chain phases. The report names the others by id alone.
   */
  readonly attackObjects?: ReadonlyMap<string, StixObject>;
  /** The home organisation's identity, published with the report so that created_by_ref resolves. */
  readonly homeIdentity?: StixObject;
}

export interface Publication {
  readonly report: StixObject;
  /** Everything to ingest, the report last. */
  readonly objects: StixObject[];
  /** The STIX ids each published item became. */
  readonly refsByItem: ReadonlyMap<string, readonly string[]>;
}

export const PROVENANCE_PROPERTY = 'x_entente_provenance';
const MAX_RELATIONSHIPS = 20_000;
/** How the relationships are drawn, in the provenance's words. */
const RELATIONSHIP_RULE = 'indicators indicate the malware the report names (else its intrusion sets); intrusion sets use its techniques and software; without an intrusion set, its software uses its techniques';

/** Where the report says it: the first sentence of evidence, so that a member reading the indicator sees why. */
function evidenceDescription(item: DraftItem, title: string, withheld: WithheldValues): { description?: string } {
  const sentence = item.evidence[0]?.sentence;
  if (sentence === undefined || sentence === '') return {};
  // Redacted whole before anything is cut, so that no cut leaves part of a withheld value unrecognised.
  let quoted = withheld.redact(sentence);
  // A sentence this long may be a window cut out of a longer one (MAX_SENTENCE_CHARS), whose edges
  // may cut a withheld value in two: its first and last words go.
  if (sentence.length >= MAX_SENTENCE_CHARS - 100) quoted = `…${quoted.replace(/^\S*\s*/, '').replace(/\s*\S*$/, '')}…`;
  return { description: `Stated in "${title.slice(0, 200)}": "${quoted.slice(0, 600)}"` };
}

/** Properties that name or date objects: never text that could hold a value, and never rewritten. */
const STRUCTURAL = new Set(['id', 'type', 'spec_version', 'created', 'modified', 'valid_from', 'published']);
const isStructural = (key: string): boolean => STRUCTURAL.has(key) || key.endsWith('_ref') || key.endsWith('_refs');

function redactJson(value: JsonValue, withheld: WithheldValues): JsonValue {
  if (typeof value === 'string') return withheld.redact(value);
  if (Array.isArray(value)) return value.map((entry) => redactJson(entry, withheld));
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, entry] of Object.entries(value)) out[key] = isStructural(key) ? entry : redactJson(entry, withheld);
  return out;
}

function firstMention(value: JsonValue, withheld: WithheldValues, path: string): { path: string; item: string } | undefined {
  if (typeof value === 'string') {
    const item = withheld.mentionIn(value);
    return item === undefined ? undefined : { path, item };
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, entry] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const found = firstMention(entry, withheld, `${path}.${String(key)}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The last check before anything leaves: throws ENT_DRAFT_PUBLICATION_FAILED when a string of one of
 * `objects` (every property, identifiers included) still mentions a withheld value. The message names
 * the object, the property and the item, never the value. Redaction should have left none: one left
 * is the builder's fault, not the draft's, hence a 500.
 */
export function assertNothingWithheld(objects: readonly StixObject[], withheld: WithheldValues, draftId: string): void {
  if (withheld.none) return;
  for (const object of objects) {
    const found = firstMention(object, withheld, '');
    if (found === undefined) continue;
    throw new EntenteError(
      'ENT_DRAFT_PUBLICATION_FAILED',
      `${object.id}${found.path} mentions the value of item ${found.item} of draft ${draftId}, which the analyst did not accept as it stands; nothing was published`,
      { draft: draftId, object: object.id, property: found.path.slice(1), item: found.item },
    );
  }
}

/** The report's name: the title if it mentions nothing withheld, else the file name if that does not, else a neutral one. */
function defaultTitle(draft: Draft, withheld: WithheldValues): string {
  for (const candidate of [withoutTlpLabels(draft.title), draft.source.fileName.split(/[\\/]/).pop() ?? '']) {
    if (candidate !== '' && withheld.redact(candidate) === candidate) return candidate;
  }
  return 'Untitled report';
}

function killChainPhasesOf(object: StixObject | undefined): JsonObject[] {
  const phases = object?.['kill_chain_phases'];
  if (!Array.isArray(phases)) return [];
  return phases.filter((phase): phase is JsonObject => typeof phase === 'object' && phase !== null && !Array.isArray(phase)
    && typeof phase['kill_chain_name'] === 'string' && typeof phase['phase_name'] === 'string');
}

/** Builds the objects to publish. Throws ENT_DRAFT_UNDECIDED while an item is pending, ENT_DRAFT_EMPTY when nothing is accepted. */
export function buildPublication(input: PublicationInput): Publication {
  const { draft } = input;
  const pending = draft.items.filter((item) => item.decision.state === 'pending');
  if (pending.length > 0) {
    throw new EntenteError(
      'ENT_DRAFT_UNDECIDED',
      `draft ${draft.id} has ${pending.length} undecided item(s) (${pending.slice(0, 20).map((item) => item.id).join(', ')}${pending.length > 20 ? ', …' : ''}): accept, edit or reject them, or publish with --reject-pending`,
      { draft: draft.id, pending: pending.slice(0, 100).map((item) => item.id) },
    );
  }
  const published = draft.items.filter(isPublishable);
  if (published.length === 0) {
    throw new EntenteError('ENT_DRAFT_EMPTY', `draft ${draft.id} has no accepted item; a report must refer to at least one object`, { draft: draft.id });
  }

  // Built from accepted values alone, and so accepted text: a withheld value inside one (a rejected
  // domain in an accepted URL's pattern, or a file name in the SCO of an accepted path) goes out with it.
  const acceptedText = published.flatMap((item) => {
    if (item.kind !== 'observable') return [];
    const stix = observableStix(item.type, item.subtype, effectiveValue(item));
    return [stix.pattern, ...stix.scos.flatMap((object) => Object.entries(object).flatMap(([key, value]) => (typeof value === 'string' && !isStructural(key) ? [value] : [])))];
  });
  const withheld = withheldValuesOf(draft, acceptedText);
  const title = defaultTitle(draft, withheld);

  const timestamp = input.now.toISOString();
  const marking = TLP2_MARKING_IDS[input.tlp];
  const common = { spec_version: '2.1', created: timestamp, modified: timestamp, created_by_ref: input.createdByRef, object_marking_refs: [marking] };
  const newId = (type: string): string => `${type}--${input.randomUuid().toLowerCase()}`;
  const objects = new Map<string, StixObject>();
  const add = (object: StixObject): void => {
    if (!objects.has(object.id)) objects.set(object.id, object);
  };
  const refsByItem = new Map<string, string[]>();

  // ATT&CK/ATLAS references first: indicators read their kill-chain phases.
  const attackBySentence = new Map<string, { phases: JsonObject[]; items: string[] }>();
  const referenced = (kind: DraftItem['kind']): DraftItem[] => published.filter((item) => item.kind === kind && item.stixId !== undefined);
  for (const item of published) {
    if (item.stixId === undefined) continue;
    refsByItem.set(item.id, [item.stixId]);
    const stored = input.attackObjects?.get(item.stixId);
    if (stored !== undefined) add(stored);
    if (item.kind === 'attack-pattern') {
      const phases = killChainPhasesOf(stored);
      if (phases.length === 0) continue;
      for (const evidence of item.evidence) {
        const found = attackBySentence.get(evidence.sentence) ?? { phases: [], items: [] };
        found.phases.push(...phases);
        if (!found.items.includes(item.id)) found.items.push(item.id);
        attackBySentence.set(evidence.sentence, found);
      }
    }
  }

  const indicatorIds: string[] = [];
  /** The technique items an observable's indicator took its kill-chain phases from. */
  const phasesByItem = new Map<string, string[]>();
  for (const item of published) {
    const value = effectiveValue(item);
    const confidence = Math.max(0, Math.min(100, Math.round(item.confidence * 100)));
    if (item.kind === 'observable') {
      const stix = observableStix(item.type, item.subtype, value);
      // The SCO built here, never a stored copy of the same id: each content of an SCO is a version
      // of its own (stix/versions.ts), so this one conflicts with none, and a copy another writer
      // stored (a member's, with properties of its own such as resolves_to_refs) is not the home's to publish.
      for (const object of stix.scos) add({ ...object, object_marking_refs: [marking] });
      const phases = new Map<string, JsonObject>();
      const phasesFrom = new Set<string>();
      for (const evidence of item.evidence) {
        const found = attackBySentence.get(evidence.sentence);
        if (found === undefined) continue;
        for (const phase of found.phases) phases.set(`${String(phase['kill_chain_name'])}|${String(phase['phase_name'])}`, phase);
        for (const id of found.items) phasesFrom.add(id);
      }
      // Automation's inference, not the analyst's: the provenance says so, and from which techniques.
      if (phasesFrom.size > 0) phasesByItem.set(item.id, [...phasesFrom]);
      const indicator: StixObject = {
        type: 'indicator',
        id: newId('indicator'),
        ...common,
        name: value.length > 200 ? `${value.slice(0, 197)}…` : value,
        ...evidenceDescription(item, title, withheld),
        indicator_types: ['malicious-activity'],
        pattern: item.decision.state === 'edited' && item.decision.pattern !== undefined ? item.decision.pattern : stix.pattern,
        pattern_type: 'stix',
        pattern_version: '2.1',
        valid_from: timestamp,
        confidence,
        ...(phases.size === 0 ? {} : { kill_chain_phases: [...phases.values()] }),
      };
      add(indicator);
      indicatorIds.push(indicator.id);
      refsByItem.set(item.id, [indicator.id, ...stix.scos.map((object) => object.id)]);
    } else if (item.kind === 'rule') {
      const indicator: StixObject = {
        type: 'indicator',
        id: newId('indicator'),
        ...common,
        name: `${item.type} rule from ${title}`.slice(0, 200),
        indicator_types: ['malicious-activity'],
        pattern: value,
        pattern_type: item.type,
        valid_from: timestamp,
        confidence,
      };
      add(indicator);
      indicatorIds.push(indicator.id);
      refsByItem.set(item.id, [indicator.id]);
    } else if (item.kind === 'vulnerability') {
      const vulnerability: StixObject = {
        type: 'vulnerability',
        id: newId('vulnerability'),
        ...common,
        name: value,
        external_references: [{ source_name: 'cve', external_id: value }],
      };
      add(vulnerability);
      refsByItem.set(item.id, [vulnerability.id]);
    }
  }

  // Relationships between accepted items of the same report, as ATT&CK itself draws them. They are
  // automation's own inference from the items being stated together, and no one reviews them one by
  // one: each says so, and so does the provenance (never "accepted by" the publisher, who may not be
  // the one who accepted either end, and did not accept the relationship).
  const relationships: StixObject[] = [];
  const relate = (type: 'indicates' | 'uses', source: string, target: string): void => {
    if (relationships.length >= MAX_RELATIONSHIPS) return;
    relationships.push({
      type: 'relationship',
      id: newId('relationship'),
      ...common,
      relationship_type: type,
      source_ref: source,
      target_ref: target,
      description: `Drawn automatically: both ends were stated in "${title.slice(0, 500)}" and accepted there; this relationship was not reviewed on its own.`,
    });
  };
  const malware = referenced('malware');
  const groups = referenced('intrusion-set');
  const software = [...malware, ...referenced('tool')];
  const techniques = referenced('attack-pattern');
  const indicated = malware.length > 0 ? malware : groups;
  for (const indicator of indicatorIds) for (const target of indicated) relate('indicates', indicator, target.stixId as string);
  for (const group of groups) {
    for (const target of [...techniques, ...software]) relate('uses', group.stixId as string, target.stixId as string);
  }
  if (groups.length === 0) {
    for (const tool of software) for (const technique of techniques) relate('uses', tool.stixId as string, technique.stixId as string);
  }
  for (const relationship of relationships) add(relationship);
  if (input.homeIdentity !== undefined) add(input.homeIdentity);

  // Provenance goes to every reader of the report, circle partners too: it says what was published,
  // how and who accepted it, and only counts what was rejected. A rejected value (often rejected
  // because it must not leave: an internal address) and the reason given stay in the draft; so does
  // the value an edited item had before the edit (the analyst may have edited a victim's address out).
  const decided = published.map((item): JsonObject => {
    const entry: JsonObject = {
      item: item.id,
      kind: item.kind,
      ...(item.decision.state === 'edited' && item.decision.value !== undefined && item.decision.value !== item.value
        ? {}
        : { proposed_value: item.kind === 'rule' ? `${item.value.slice(0, 200)}${item.value.length > 200 ? '…' : ''}` : item.value }),
      // Automation proposed every item (method, confidence); an edited item is published with the
      // analyst's value or pattern, which no automatic step produced.
      automatic: item.decision.state !== 'edited',
      method: `${item.method.source}:${item.method.detail}`,
      confidence: item.confidence,
      decision: item.decision.state,
    };
    if (item.decision.state === 'edited' && item.decision.value !== undefined && item.kind !== 'rule') entry['value'] = item.decision.value;
    if (item.decision.pattern !== undefined) entry['pattern'] = item.decision.pattern;
    // Who wrote the published value or pattern, apart from who decided to publish it (an accept of
    // someone else's edit): decided_by alone credited the edit to whoever accepted it.
    if (item.decision.state === 'edited' && item.decision.editedBy !== undefined) entry['edited_by'] = item.decision.editedBy;
    if (item.decision.state === 'edited' && item.decision.editedAt !== undefined) entry['edited_at'] = item.decision.editedAt;
    if (item.decision.analyst !== undefined) entry['decided_by'] = item.decision.analyst;
    if (item.decision.decidedAt !== undefined) entry['decided_at'] = item.decision.decidedAt;
    // The analyst's note stays in the draft, for accepted items as for rejected ones: it is written
    // for colleagues (where else the value was seen, which client) and never offered for publication.
    const refs = refsByItem.get(item.id);
    if (refs !== undefined) entry['object_refs'] = refs as JsonValue[];
    const phasesFrom = phasesByItem.get(item.id);
    if (phasesFrom !== undefined) entry['kill_chain_phases'] = { automatic: true, from_items: phasesFrom };
    return entry;
  });
  // ATT&CK objects the node does not hold are referred to by id all the same.
  const refs = [...new Set([...objects.keys(), ...published.flatMap((item) => (item.stixId === undefined ? [] : [item.stixId]))])].filter((id) => id !== input.homeIdentity?.id);
  const report: StixObject = {
    type: 'report',
    id: newId('report'),
    ...common,
    name: withheld.redact(input.name ?? title).slice(0, 500),
    description: `Published from ${draft.source.fileName} (${draft.source.format}, SHA-256 ${draft.source.sha256}) after review by ${input.analyst}.`,
    report_types: ['threat-report'],
    published: timestamp,
    object_refs: refs,
    [PROVENANCE_PROPERTY]: {
      source: { file_name: draft.source.fileName, sha256: draft.source.sha256, format: draft.source.format },
      draft: draft.id,
      published_by: input.analyst,
      published_at: timestamp,
      items: decided,
      rejected_count: draft.items.length - published.length,
      ...(relationships.length === 0 ? {} : { relationships: { automatic: true, reviewed: false, count: relationships.length, rule: RELATIONSHIP_RULE } }),
    },
  };
  // Objects published as they are stored (ATT&CK/ATLAS, the home identity) are not the draft's text.
  const verbatim = new Set([...(input.attackObjects?.keys() ?? []), ...(input.homeIdentity === undefined ? [] : [input.homeIdentity.id])]);
  const built = [...objects.values(), report].map((object) => (verbatim.has(object.id) || withheld.none ? object : (redactJson(object, withheld) as StixObject)));
  assertNothingWithheld(built.filter((object) => !verbatim.has(object.id)), withheld, draft.id);
  return { report: built[built.length - 1] as StixObject, objects: built, refsByItem };
}
