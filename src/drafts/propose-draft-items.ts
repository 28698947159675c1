// Turns what extraction and tagging found in one report into draft items: one item per distinct
// value, with the spans and sentences that support it. Every item starts pending, except suppressed
// observables (warninglists, documentation ranges, the publisher's own links), which start rejected
// with the reason so that the analyst sees them and may still accept one. Pure.
import type { Observable } from '../extract/extract-observables.ts';
import type { TaggedObject, TagResult } from '../tagging/tag-text.ts';
import type { DraftEvidence, DraftItem, DraftItemKind, DraftMethod } from './draft.ts';
import { checkItemValue } from './item-values.ts';

/** Evidence kept per item; `occurrences` still counts every mention. */
export const MAX_EVIDENCE_PER_ITEM = 5;
export const MAX_SENTENCE_CHARS = 600;
/** A report that proposes more than this is cut, with a warning (a draft must stay reviewable). */
export const MAX_ITEMS = 5000;

export interface ProposalInput {
  readonly text: string;
  readonly observables: readonly Observable[];
  readonly tags?: TagResult | undefined;
  /** Where an offset came from in the source document (PDF page, e-mail part). */
  readonly locate?: (offset: number) => { readonly page?: number; readonly part?: string } | null;
}

export interface Proposal {
  readonly items: DraftItem[];
  readonly warnings: string[];
}

/** Observable types with no STIX 2.1 object to carry them: reported, not proposed. */
const NOT_PROPOSED = new Set(['ja3', 'ja4', 'cryptocurrency-wallet']);
const RULE_TYPES: Readonly<Record<string, string>> = { 'yara-rule': 'yara', 'sigma-rule': 'sigma', 'snort-rule': 'snort' };

/** Where an occurrence is and its sentence: made into DraftEvidence only for the items kept. */
interface EvidenceSpan {
  readonly start: number;
  readonly end: number;
  readonly sentenceStart: number;
  readonly sentenceEnd: number;
  /** Invisible characters stood inside the span (Observable.invisible). */
  readonly invisible?: true;
}

interface Pending {
  kind: DraftItemKind;
  type: string;
  subtype?: string;
  value: string;
  name?: string;
  stixId?: string;
  confidence: number;
  method: DraftMethod;
  occurrences: number;
  evidence: EvidenceSpan[];
  /** Suppression reasons of the occurrences; the item is rejected by default only when every occurrence was suppressed. */
  suppressed: string | undefined;
  anyKept: boolean;
  first: number;
  /** Some occurrence held invisible characters (DraftItem.invisible). */
  invisible: boolean;
}

function evidenceOf(input: ProposalInput, { start, end, sentenceStart, sentenceEnd, invisible }: EvidenceSpan): DraftEvidence {
  let from = sentenceStart;
  let to = sentenceEnd;
  if (to - from > MAX_SENTENCE_CHARS) {
    // Keep the window around the evidence itself.
    from = Math.max(sentenceStart, start - Math.floor((MAX_SENTENCE_CHARS - (end - start)) / 2));
    to = Math.min(sentenceEnd, from + MAX_SENTENCE_CHARS);
  }
  const where = input.locate?.(start) ?? null;
  return {
    start,
    end,
    sentence: input.text.slice(from, to).replace(/\s+/g, ' ').trim(),
    ...(where?.page === undefined ? {} : { page: where.page }),
    ...(where?.part === undefined ? {} : { part: where.part }),
    ...(invisible === true ? { invisible } : {}),
  };
}

function observableShape(observable: Observable): { kind: DraftItemKind; type: string; subtype?: string } | undefined {
  if (observable.type === 'attack-technique' || NOT_PROPOSED.has(observable.type)) return undefined;
  if (observable.type === 'cve') return { kind: 'vulnerability', type: 'vulnerability' };
  const rule = RULE_TYPES[observable.type];
  if (rule !== undefined) return { kind: 'rule', type: observable.kind === 'suricata' ? 'suricata' : rule };
  if (observable.type === 'file') {
    const subtype = observable.hashAlgorithm ?? (observable.kind === 'path' ? 'path' : 'name');
    return { kind: 'observable', type: 'file', subtype };
  }
  return { kind: 'observable', type: observable.type };
}

const KIND_OF_SOFTWARE = (stixId: string): DraftItemKind => (stixId.startsWith('tool--') ? 'tool' : 'malware');

/** The draft items for one report, numbered in the order: observables as they appear, then rules, CVEs, techniques, software, groups. */
export function proposeDraftItems(input: ProposalInput): Proposal {
  const warnings: string[] = [];
  const byKey = new Map<string, Pending>();
  let notProposed = 0;
  for (const observable of input.observables) {
    const shape = observableShape(observable);
    if (shape === undefined) {
      if (observable.type !== 'attack-technique') notProposed += 1;
      continue;
    }
    // The extractor's value is normalised the way an analyst's edit would be, so that the same
    // observable written two ways is one item; a value the checks refuse is not proposed at all.
    const checked = checkItemValue(shape, observable.value);
    if (!checked.ok) {
      notProposed += 1;
      continue;
    }
    const key = `${shape.kind}|${shape.type}|${shape.subtype ?? ''}|${shape.kind === 'observable' && shape.type !== 'url' && shape.subtype !== 'path' ? checked.value.toLowerCase() : checked.value}`;
    // Kept as offsets: the sentence is cut and cleaned only for the items the draft keeps (a text of
    // 80,000 distinct addresses spent seconds on the sentences of items cut at MAX_ITEMS).
    // Two literals rather than a spread of the flag: this runs for every occurrence (see below).
    const evidence: EvidenceSpan = observable.invisible === true
      ? { start: observable.start, end: observable.end, sentenceStart: observable.sentence.start, sentenceEnd: observable.sentence.end, invisible: true }
      : { start: observable.start, end: observable.end, sentenceStart: observable.sentence.start, sentenceEnd: observable.sentence.end };
    let pending = byKey.get(key);
    if (pending === undefined) {
      // Properties named, not spread from `shape`: the spread made every item several times slower
      // to build (2 s for a text of 80,000 distinct addresses, against 0.5 s).
      pending = {
        kind: shape.kind,
        type: shape.type,
        ...(shape.subtype === undefined ? {} : { subtype: shape.subtype }),
        value: checked.value,
        confidence: observable.confidence,
        method: { source: 'extractor', detail: shape.subtype === undefined ? observable.type : `${observable.type}:${shape.subtype}` },
        occurrences: 0,
        evidence: [],
        suppressed: undefined,
        anyKept: false,
        first: observable.start,
        invisible: false,
      };
      byKey.set(key, pending);
    }
    pending.occurrences += 1;
    if (pending.evidence.length < MAX_EVIDENCE_PER_ITEM) pending.evidence.push(evidence);
    // The first disguised occurrence replaces the last one kept when the evidence is full: an item
    // flagged as disguised must show the analyst where, whatever plain mentions came before.
    else if (evidence.invisible === true && !pending.invisible) pending.evidence[MAX_EVIDENCE_PER_ITEM - 1] = evidence;
    if (evidence.invisible === true) pending.invisible = true;
    pending.confidence = Math.max(pending.confidence, observable.confidence);
    if (observable.suppressed === undefined) pending.anyKept = true;
    else pending.suppressed ??= observable.suppressed.reason;
  }
  if (notProposed > 0) warnings.push(`${notProposed} extracted value(s) were not proposed: JA3/JA4 fingerprints and wallet addresses have no STIX 2.1 object, or the value did not check`);

  const order = (pending: Pending): number => (pending.kind === 'observable' ? 0 : pending.kind === 'rule' ? 1 : 2);
  const extracted = [...byKey.values()].sort((a, b) => order(a) - order(b) || a.first - b.first);

  const tagged: Pending[] = [];
  const addTags = (objects: readonly TaggedObject[], kind: (object: TaggedObject) => DraftItemKind): void => {
    for (const object of objects) {
      const itemKind = kind(object);
      tagged.push({
        kind: itemKind,
        type: itemKind,
        value: object.id,
        name: object.name,
        stixId: object.stixId,
        confidence: object.confidence,
        method: { source: 'tagger', detail: object.method },
        occurrences: object.evidence.length,
        evidence: object.evidence.slice(0, MAX_EVIDENCE_PER_ITEM).map((e) => ({ start: e.start, end: e.end, sentenceStart: e.sentence.start, sentenceEnd: e.sentence.end })),
        suppressed: undefined,
        anyKept: true,
        first: object.evidence[0]?.start ?? 0,
        invisible: false,
      });
    }
  };
  if (input.tags !== undefined) {
    addTags(input.tags.techniques, () => 'attack-pattern');
    addTags(input.tags.software, (object) => KIND_OF_SOFTWARE(object.stixId));
    addTags(input.tags.groups, () => 'intrusion-set');
  }

  let all = [...extracted, ...tagged];
  if (all.length > MAX_ITEMS) {
    warnings.push(`the report proposes ${all.length} items; only the first ${MAX_ITEMS} are in the draft`);
    all = all.slice(0, MAX_ITEMS);
  }
  const items = all.map((pending, index): DraftItem => ({
    id: String(index + 1),
    kind: pending.kind,
    type: pending.type,
    ...(pending.subtype === undefined ? {} : { subtype: pending.subtype }),
    value: pending.value,
    ...(pending.name === undefined ? {} : { name: pending.name }),
    ...(pending.stixId === undefined ? {} : { stixId: pending.stixId }),
    confidence: Math.round(pending.confidence * 1000) / 1000,
    method: pending.method,
    occurrences: pending.occurrences,
    evidence: pending.evidence.map((span) => evidenceOf(input, span)),
    ...(pending.invisible ? { invisible: true } : {}),
    decision: !pending.anyKept && pending.suppressed !== undefined ? { state: 'rejected', reason: pending.suppressed } : { state: 'pending' },
  }));
  return { items, warnings };
}

// A TLP (or PAP) label as reports print it: "TLP:RED", "TLP: AMBER+STRICT", "[TLP:CLEAR]", "PAP-GREEN".
const MARKING_LABEL = /[[(]?\b(?:TLP|PAP)\s*[:-]?\s*(?:RED|AMBER\s*\+\s*STRICT|AMBER|GREEN|WHITE|CLEAR)\b[\])]?/giu;

/**
 * A title without the TLP/PAP labels it carries: the label is the document's, and a publication has
 * its own marking (a report published at TLP:GREEN named "TLP:RED …" would say the wrong thing).
 */
export function withoutTlpLabels(title: string): string {
  return title
    .replace(MARKING_LABEL, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s\-–—|:/]+|[\s\-–—|:/]+$/gu, '')
    .trim();
}

/** A line longer than this is no title: a title is at most 120 characters once its spaces are collapsed. */
const MAX_TITLE_LINE_CHARS = 1024;

/**
 * The report's title: a Markdown heading or a short first line (a line that is only a TLP label, the
 * banner many reports open with, is skipped; labels on the title line are dropped), else the file
 * name without its folder. The title names the published report unless it mentions a value the
 * analyst did not accept (build-publication.ts).
 */
export function titleOf(text: string, fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  // The first lines only, and a short line only: cleaning the whole of a first line of 32 MiB (a text
  // without line breaks) to see whether it is a title took 8 s.
  for (const line of text.slice(0, 20 * (MAX_TITLE_LINE_CHARS + 1)).split('\n', 20)) {
    if (line.length > MAX_TITLE_LINE_CHARS) break;
    const trimmed = withoutTlpLabels(line.replace(/^#+\s*/, '').replace(/\s+/g, ' ').trim());
    if (trimmed === '') continue;
    if (trimmed.length <= 120 && !/[.:;,]$/.test(trimmed) && /\p{L}/u.test(trimmed)) return trimmed;
    break;
  }
  return base === '' ? 'Untitled report' : base;
}
