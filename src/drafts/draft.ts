// The draft: what automation (extraction, tagging) proposes from one report, item by item, with
// the evidence for each and the analyst's decision. Nothing in a draft is intelligence until a
// human has decided on it; publishing (build-publication.ts) reads only decided items. Pure.
import { createHash } from 'node:crypto';

/** What an item would become when published. */
export type DraftItemKind =
  /** A cyber observable: an SCO and an indicator with a STIX pattern. */
  | 'observable'
  /** A CVE id: a `vulnerability` object. */
  | 'vulnerability'
  /** A YARA, Sigma or Snort/Suricata rule quoted in the report: an indicator with that pattern type. */
  | 'rule'
  /** References to ATT&CK/ATLAS objects, by their STIX ids. */
  | 'attack-pattern'
  | 'malware'
  | 'tool'
  | 'intrusion-set';

export type DecisionState = 'pending' | 'accepted' | 'edited' | 'rejected';

export interface DraftEvidence {
  /** UTF-16 offsets into the draft's text. */
  readonly start: number;
  readonly end: number;
  /** The sentence holding the evidence (at most MAX_SENTENCE_CHARS characters). */
  readonly sentence: string;
  /** Where in the source document: PDF page or e-mail part. */
  readonly page?: number;
  readonly part?: string;
  /**
   * True when invisible characters (default-ignorable characters such as zero-width, tag characters, bidi controls) stood inside this
   * occurrence, between `start` and `end`: extraction read the value without them, as the report
   * shows it.
   */
  readonly invisible?: true;
}

/** Which automatic step proposed an item. */
export interface DraftMethod {
  readonly source: 'extractor' | 'tagger';
  /** The extractor (`ipv4-addr`, `file:SHA-256`, …) or tagging method (`explicit`, `name`, `model`). */
  readonly detail: string;
}

export interface DraftDecision {
  readonly state: DecisionState;
  /** The analyst's value for an `edited` item (already validated and normalised). */
  readonly value?: string;
  /** The analyst's own STIX pattern for an `edited` observable (already parsed). */
  readonly pattern?: string;
  /**
   * Who wrote an `edited` item's value or pattern (the last edit), and when: kept when the edit is
   * accepted afterwards, by the same analyst or another, so that the value is never credited to
   * whoever accepted it. Absent for edits recorded before edits named their author.
   */
  readonly editedBy?: string;
  readonly editedAt?: string;
  /**
   * Who made the decision as it stands (the last one: for an edited item, the accept after the
   * edit, else the edit), and when; absent for the automatic default (a suppressed observable).
   */
  readonly analyst?: string;
  readonly decidedAt?: string;
  /** Why an item was rejected by default (suppression reason), or the analyst's note. */
  readonly reason?: string;
}

export interface DraftItem {
  /** Stable within the draft: the position in the proposal order, from 1 ("1", "2", …). */
  readonly id: string;
  readonly kind: DraftItemKind;
  /**
   * Observables: the SCO-like type (`ipv4-addr`, `file`, `windows-registry-key`, …);
   * rules: `yara`, `sigma`, `snort`, `suricata`; ATT&CK references: the kind again.
   */
  readonly type: string;
  /** Files: `SHA-256`, `MD5`, … (hashes), `name` or `path`. */
  readonly subtype?: string;
  /** The proposed value: the observable, the CVE id, the rule text, or the ATT&CK external id. */
  readonly value: string;
  /** ATT&CK/ATLAS references: the object's name and STIX id. */
  readonly name?: string;
  readonly stixId?: string;
  /** 0..1, from the extractor or the tagger. */
  readonly confidence: number;
  readonly method: DraftMethod;
  /** How many times the report states it; `evidence` keeps the first few. */
  readonly occurrences: number;
  readonly evidence: readonly DraftEvidence[];
  /**
   * True when the report disguised the value at least once: invisible characters stood inside an
   * occurrence and extraction stripped them (the text held more than a reader sees). `evidence` then
   * keeps at least one such occurrence (flagged `invisible`). A disguised value in a partner's report
   * is a sign of tampering the analyst should weigh before accepting it.
   */
  readonly invisible?: true;
  readonly decision: DraftDecision;
}

export interface DraftSource {
  readonly fileName: string;
  /** SHA-256 of the report's bytes, hex. */
  readonly sha256: string;
  readonly format: string;
  readonly pages?: number;
}

/** What publishing a draft produced, recorded once. */
export interface DraftPublication {
  readonly publishedAt: string;
  readonly analyst: string;
  readonly collectionId: string;
  readonly circleId?: string;
  readonly tlp: string;
  readonly reportId: string;
  readonly objectIds: readonly string[];
}

export interface NewDraft {
  readonly source: DraftSource;
  /** The report's title (first heading or line), else its file name. */
  readonly title: string;
  /** The text read from the document: the evidence offsets point into it. */
  readonly text: string;
  readonly createdAt: string;
  /** The token or user that made the draft. */
  readonly createdBy?: string;
  /**
   * The API token that made the draft (its name: token names are never reused). That token may see
   * and change the draft, besides administrators. Absent for a draft made at the command line (by
   * the operator) or before the store recorded it (schema 9): administrators only.
   */
  readonly createdByToken?: string;
  readonly items: readonly DraftItem[];
  /** Things the reader or the proposal skipped, in words. */
  readonly warnings: readonly string[];
}

export interface Draft extends NewDraft {
  readonly id: string;
  readonly publication?: DraftPublication;
}

/** A draft without its text and items, for lists. */
export interface DraftSummary {
  readonly id: string;
  readonly source: DraftSource;
  readonly title: string;
  readonly createdAt: string;
  readonly createdBy?: string;
  readonly createdByToken?: string;
  readonly counts: Readonly<Record<DecisionState, number>>;
  readonly publication?: DraftPublication;
}

export function countDecisions(items: readonly DraftItem[]): Record<DecisionState, number> {
  const counts: Record<DecisionState, number> = { pending: 0, accepted: 0, edited: 0, rejected: 0 };
  for (const item of items) counts[item.decision.state] += 1;
  return counts;
}

export function summariseDraft(draft: Draft): DraftSummary {
  return {
    id: draft.id,
    source: draft.source,
    title: draft.title,
    createdAt: draft.createdAt,
    ...(draft.createdBy === undefined ? {} : { createdBy: draft.createdBy }),
    ...(draft.createdByToken === undefined ? {} : { createdByToken: draft.createdByToken }),
    counts: countDecisions(draft.items),
    ...(draft.publication === undefined ? {} : { publication: draft.publication }),
  };
}

/**
 * Who asks for a draft: an API token (its name, and whether it administers the node), or the node
 * operator at the command line (who, like an administrator, sees every draft).
 */
export type DraftViewer = { readonly token: string; readonly admin: boolean } | 'operator';

/**
 * May this viewer see (and so decide on and publish) this draft? A draft holds a report's text and
 * what automation proposed before anyone judged it fit to share: it is its author's work until
 * published, and stays so after. The token that made it and administrators may; no one else, whatever
 * their grants (publishing needs, besides, write access to the target collection). A draft without a
 * recorded token is for administrators only.
 */
export function canSeeDraft(viewer: DraftViewer, draft: Pick<DraftSummary, 'createdByToken'>): boolean {
  if (viewer === 'operator' || viewer.admin) return true;
  return draft.createdByToken !== undefined && draft.createdByToken === viewer.token;
}

/** The value an item is published with: the analyst's when edited, else the proposal. */
export function effectiveValue(item: DraftItem): string {
  return item.decision.state === 'edited' && item.decision.value !== undefined ? item.decision.value : item.value;
}

export function isPublishable(item: DraftItem): boolean {
  return item.decision.state === 'accepted' || item.decision.state === 'edited';
}

/**
 * The revision of a draft's decisions: changes with every decision on any item (state, value,
 * pattern, who, when, why) and with nothing else. A publisher who names the revision it reviewed
 * publishes that state of the draft or nothing (ENT_DRAFT_CHANGED). 32 hexadecimal digits.
 */
export function draftRevision(items: readonly DraftItem[]): string {
  const hash = createHash('sha256');
  for (const { id, decision } of items) {
    // Every field by name, in a fixed order: the stored JSON's key order is not part of the revision.
    const fields = [id, decision.state, decision.value ?? null, decision.pattern ?? null, decision.analyst ?? null, decision.decidedAt ?? null, decision.reason ?? null];
    // Added only when present, so that a draft decided before edits named their author keeps its revision.
    if (decision.editedBy !== undefined || decision.editedAt !== undefined) fields.push(decision.editedBy ?? null, decision.editedAt ?? null);
    hash.update(JSON.stringify(fields));
    hash.update('\n');
  }
  return hash.digest('hex').slice(0, 32);
}
