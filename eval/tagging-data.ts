// The public data sets tagging is trained and evaluated on (../shared/data), their deterministic
// splits and the leakage guard. Shared by scripts/train-tagger.ts and eval/tagging-eval.ts so that
// both agree, byte for byte, on which text is held out. Never imported by the product.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DATA = resolve(process.env.ENTENTE_SHARED_DATA ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data'));

export const PATHS = {
  attackBundle: join(SHARED_DATA, 'mitre-attack', 'enterprise-attack-18.1.json'),
  attackProcedures: join(SHARED_DATA, 'mitre-attack', 'attack-procedure-examples-18.1.jsonl'),
  atlasBundle: join(SHARED_DATA, 'mitre-atlas', 'stix-atlas.json'),
  atlasProcedures: join(SHARED_DATA, 'mitre-atlas', 'atlas-case-study-procedures.jsonl'),
  tramReports: join(SHARED_DATA, 'tram', 'tram2-annotated-reports.jsonl'),
  tramSingleLabel: join(SHARED_DATA, 'tram', 'single_label.json'),
  tramBootstrap: join(SHARED_DATA, 'tram', 'bootstrap-training-data.json'),
} as const;

/** Says plainly which input is missing and exits (status 2) when the shared data is absent. */
export function requireSharedData(what: string): void {
  const missing = Object.values(PATHS).filter((p) => !existsSync(p));
  if (missing.length === 0) return;
  process.stderr.write(
    `${what} needs the public data sets in ${SHARED_DATA} (set ENTENTE_SHARED_DATA to another folder); missing:\n` +
      missing.map((p) => `  ${p}\n`).join(''),
  );
  process.exit(2);
}

function readJsonLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

// ---- splits -------------------------------------------------------------------------------

/** FNV-1a 32-bit: a stable hash for deterministic splits. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export type Split = 'train' | 'validation' | 'test';

/**
 * TRAM reports: 40 % test, 20 % validation, 40 % training, by a hash of doc_id. No model learns from
 * any report: the training and validation splits together are the tuning reports (they choose the
 * threshold), the test split is only scored.
 */
export function tramSplit(docId: string): Split {
  const b = fnv1a(`tram:${docId}`) % 10;
  return b < 4 ? 'test' : b < 6 ? 'validation' : 'train';
}

/** ATT&CK procedure examples: 10 % test, 10 % validation, 80 % training, by a hash of the relationship id. */
export function procedureSplit(relationshipId: string): Split {
  const b = fnv1a(`attack:${relationshipId}`) % 10;
  return b === 0 ? 'test' : b === 1 ? 'validation' : 'train';
}

/** ATLAS case studies: 20 % test, 10 % validation, 70 % training, by a hash of the case-study id. */
export function atlasSplit(caseStudy: string): Split {
  const b = fnv1a(`atlas:${caseStudy}`) % 10;
  return b < 2 ? 'test' : b === 2 ? 'validation' : 'train';
}

// ---- text cleaning ------------------------------------------------------------------------

const CITATION = /\(Citation:[^)]*\)/g;
const ENTITY_LINK = /\[([^\]]*)\]\(https?:\/\/attack\.mitre\.org\/(?:software|groups|campaigns)\/[^)]*\)/g;
const OTHER_LINK = /\[([^\]]*)\]\([^)]*\)/g;
const HTML_TAG = /<\/?[a-z][^>]*>/gi;

/**
 * ATT&CK/ATLAS markdown → plain prose: citations dropped, links to software, groups and campaigns
 * dropped with their names (the model must learn behaviour, not who did it), other links kept as
 * their text, HTML tags removed.
 */
export function cleanAttackText(text: string): string {
  return text
    .replace(CITATION, ' ')
    .replace(ENTITY_LINK, ' ')
    .replace(OTHER_LINK, '$1')
    .replace(HTML_TAG, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

// ---- leakage guard ------------------------------------------------------------------------

function normWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(CITATION, ' ')
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

const SHINGLE = 8;

/**
 * Remembers evaluation text and says whether a training sentence overlaps it: a shared run of 8
 * words, or (for sentences of 5 to 7 words) the whole sentence appearing inside an evaluation text.
 */
export class LeakGuard {
  readonly #shingles = new Set<string>();
  readonly #joined: string[] = [];
  #joinedText: string | undefined;

  add(text: string): void {
    const w = normWords(text);
    for (let i = 0; i + SHINGLE <= w.length; i++) this.#shingles.add(w.slice(i, i + SHINGLE).join(' '));
    this.#joined.push(` ${w.join(' ')} `);
    this.#joinedText = undefined;
  }

  overlaps(text: string): boolean {
    const w = normWords(text);
    if (w.length >= SHINGLE) {
      for (let i = 0; i + SHINGLE <= w.length; i++) if (this.#shingles.has(w.slice(i, i + SHINGLE).join(' '))) return true;
      return false;
    }
    // Short phrases ("can log keystrokes") recur everywhere: only sentences of 5+ words count.
    if (w.length < 5) return false;
    this.#joinedText ??= this.#joined.join('\n');
    return this.#joinedText.includes(` ${w.join(' ')} `);
  }
}

// ---- readers ------------------------------------------------------------------------------

export interface StixLike {
  readonly type: string;
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly aliases?: readonly string[];
  readonly x_mitre_aliases?: readonly string[];
  readonly revoked?: boolean;
  readonly x_mitre_deprecated?: boolean;
  readonly x_mitre_domains?: readonly string[];
  readonly external_references?: readonly { source_name: string; external_id?: string; url?: string; description?: string }[];
  readonly relationship_type?: string;
  readonly source_ref?: string;
  readonly target_ref?: string;
  readonly x_mitre_analytic_refs?: readonly string[];
}

export function readBundle(path: string): StixLike[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { objects: StixLike[] }).objects;
}

export interface ProcedureExample {
  readonly domain: string;
  readonly relationship_id: string;
  readonly technique_id: string;
  readonly technique_name: string;
  readonly source_type: string;
  readonly source_id: string;
  readonly source_name: string;
  readonly text: string;
}

export function readAttackProcedures(): ProcedureExample[] {
  return readJsonLines<ProcedureExample>(PATHS.attackProcedures);
}

export interface AtlasProcedure {
  readonly case_study: string;
  readonly step: number;
  readonly technique: string;
  readonly text: string;
}

export function readAtlasProcedures(): AtlasProcedure[] {
  return readJsonLines<AtlasProcedure>(PATHS.atlasProcedures);
}

export interface TramReport {
  readonly doc_id: string;
  readonly title: string;
  readonly text: string;
  readonly annotations: readonly { technique_id: string; start: number; end: number; text: string }[];
}

export function readTramReports(): TramReport[] {
  return readJsonLines<TramReport>(PATHS.tramReports);
}

export interface BootstrapSentence {
  readonly text: string;
  readonly mappings: readonly { attack_id: string }[];
}

export function readTramBootstrap(): BootstrapSentence[] {
  return (JSON.parse(readFileSync(PATHS.tramBootstrap, 'utf8')) as { sentences: BootstrapSentence[] }).sentences;
}

/** TRAM 2's label set: the 50 technique ids of single_label.json. */
export function readTramLabelSet(): Set<string> {
  const rows = JSON.parse(readFileSync(PATHS.tramSingleLabel, 'utf8')) as { label: string }[];
  return new Set(rows.map((r) => r.label));
}

/** An id scored against TRAM's label set: itself if in it, else its parent technique if that is, else none. */
export function toTramLabel(id: string, labels: ReadonlySet<string>): string | undefined {
  if (labels.has(id)) return id;
  const parent = id.split('.')[0] ?? id;
  return labels.has(parent) ? parent : undefined;
}

// ---- document-level scoring ---------------------------------------------------------------

/** Techniques proposed for one document: id → confidence, and whether an id or name found it. */
export interface DocCandidates {
  readonly gold: ReadonlySet<string>;
  readonly candidates: ReadonlyMap<string, { confidence: number; certain: boolean }>;
}

export interface PrF1 {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export function prf1(tp: number, fp: number, fn: number): PrF1 {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, tp, fp, fn };
}

/** Micro-averaged precision, recall and F1 over (document, technique) pairs at one threshold. */
export function scoreDocuments(docs: readonly DocCandidates[], threshold: number): PrF1 {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const d of docs) {
    const predicted = new Set<string>();
    for (const [id, c] of d.candidates) if (c.certain || c.confidence >= threshold) predicted.add(id);
    for (const id of predicted) if (d.gold.has(id)) tp++;
    else fp++;
    for (const id of d.gold) if (!predicted.has(id)) fn++;
  }
  return prf1(tp, fp, fn);
}

/** The threshold with the best F1 among the candidates' confidences (ties: the higher threshold). */
export function bestThreshold(docs: readonly DocCandidates[]): { threshold: number; score: PrF1 } {
  const values = new Set<number>([1]);
  for (const d of docs) for (const c of d.candidates.values()) if (!c.certain) values.add(c.confidence);
  let best = { threshold: 1, score: scoreDocuments(docs, 1) };
  for (const t of [...values].sort((a, b) => b - a)) {
    const score = scoreDocuments(docs, t);
    if (score.f1 > best.score.f1) best = { threshold: t, score };
  }
  return best;
}
