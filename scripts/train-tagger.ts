// Trains the ATT&CK/ATLAS tagger offline and writes data/tagging/ (attack-lookup.json,
// technique-model.json). Reproducible: the same inputs give the same bytes (seeded shuffle, sorted
// vocabulary and classes, no clock). Reads ../shared/data (ENTENTE_SHARED_DATA to move it).
//
//   npx tsx scripts/train-tagger.ts            # train and write the artefacts
//
//   TAGGER_OUT_DIR=/tmp/x npx tsx scripts/train-tagger.ts   # an experiment, elsewhere
//
// What it learns from — only text the project may redistribute:
// - ATT&CK Enterprise 18.1 (ATT&CK terms of use): procedure examples (the training split of
//   eval/tagging-data.ts; the validation and test splits are held out), technique names, the first
//   sentences of their descriptions, detection analytics (labelled with the technique their
//   strategy detects); as "no technique", the sentences of group, software, campaign, mitigation
//   and data-component descriptions that share no eight words with a procedure example, and the
//   reference-list lines of ATT&CK's citations.
// - ATLAS 5.6 (Apache-2.0): technique names and descriptions, case-study procedures (training split
//   of the case studies); mitigation descriptions as "no technique".
// - TRAM 2 (Apache-2.0): only the labels of the bootstrap sentences whose words appear in full in
//   ATT&CK Enterprise 18.1 text (ATT&CK's own procedure examples with the subject cut off). The
//   rest of the bootstrap set and every annotated report are excerpts of third-party vendor
//   publications that MITRE does not own (../shared/data/tram/README.md): never trained on, so
//   none of their vocabulary or statistics end up in the shipped artefact.
// What it never sees: the TRAM annotated reports are evaluation data only. The training and
// validation splits (92 reports, "tuning") choose the threshold, and chose the options below
// (analytics and citations each moved tuning doc F1 by under 0.01; proposing every technique that
// reaches the threshold, parents with their family's probability, by about 0.02); the test split
// (59 reports) is read only by `npm run eval -- tagging`. Every training sentence that shares a run
// of 8 words with any TRAM report, a held-out ATT&CK procedure example or a held-out ATLAS
// case-study step is dropped.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LeakGuard,
  atlasSplit,
  PATHS,
  bestThreshold,
  cleanAttackText,
  procedureSplit,
  readAtlasProcedures,
  readAttackProcedures,
  readBundle,
  readTramBootstrap,
  readTramLabelSet,
  readTramReports,
  requireSharedData,
  toTramLabel,
  tramSplit,
} from '../eval/tagging-data.ts';
import type { DocCandidates, ProcedureExample, StixLike } from '../eval/tagging-data.ts';
import { ATTACK_LOOKUP_FORMAT, fromAttackLookupArtefact } from '../src/tagging/attack-lookup.ts';
import type { AttackKind, AttackLookupArtefact, AttackLookupRow } from '../src/tagging/attack-lookup.ts';
import { featureStrings, tokenize, vectorize } from '../src/tagging/features.ts';
import type { SparseVector } from '../src/tagging/features.ts';
import { splitSentences } from '../src/tagging/split-sentences.ts';
import { NONE_CLASS, TECHNIQUE_MODEL_FORMAT, fromTechniqueModelArtefact, predictSentence, toBase64 } from '../src/tagging/technique-model.ts';
import type { TechniqueModelArtefact } from '../src/tagging/technique-model.ts';
import { createTagger } from '../src/tagging/create-tagger.ts';
import type { TagMethod } from '../src/tagging/create-tagger.ts';
import { LOOKUP_FILE, MODEL_FILE, TAGGING_DATA_DIR } from '../src/tagging/load-tagging-data.ts';

const num = (name: string, fallback: number): number => (process.env[name] === undefined ? fallback : Number(process.env[name]));
// Hyper-parameters (chosen on the TRAM tuning reports, see the header; the environment overrides
// them for experiments).
const CONFIG = {
  seed: num('TAGGER_SEED', 20251113),
  epochs: num('TAGGER_EPOCHS', 8),
  learningRate: num('TAGGER_LR', 1),
  minDf: num('TAGGER_MIN_DF', 1),
  descriptionSentences: num('TAGGER_DESC_SENTENCES', 4),
  /** Upper bound on "no technique" sentences, as a fraction of all examples (they are down-sampled, seeded). */
  noneShare: num('TAGGER_NONE_SHARE', 0.25),
  /** Weights smaller than this fraction of the largest are dropped from the artefact. */
  prune: num('TAGGER_PRUNE', 0.02),
  /** Times each ATLAS example is repeated: ATLAS has few examples against ATT&CK's thousands. */
  atlasWeight: num('TAGGER_ATLAS_WEIGHT', 4),
  /** Learn from ATT&CK 18.1 detection analytics, labelled with the technique their strategy detects (1) or not (0). */
  analytics: num('TAGGER_ANALYTICS', 1),
  /** Reference-list lines of ATT&CK's citations ("Vendor. (2019). Title. Retrieved …. https://…") as "no technique" (1) or not (0). */
  citations: num('TAGGER_CITATIONS', 1),
  /** Learn from the TRAM bootstrap sentences whose text is ATT&CK's word for word (1) or not (0). */
  bootstrapVerbatim: num('TAGGER_BOOTSTRAP_VERBATIM', 1),
};

const log = (s: string): void => void process.stderr.write(`${s}\n`);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function externalId(o: StixLike, source: string): string | undefined {
  return o.external_references?.find((r) => r.source_name === source)?.external_id;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---- lookup table -------------------------------------------------------------------------

function buildLookup(enterprise: StixLike[], atlas: StixLike[]): AttackLookupArtefact {
  const rows: AttackLookupRow[] = [];
  const kindOf: Record<string, AttackKind> = {
    'attack-pattern': 'technique',
    'x-mitre-tactic': 'tactic',
    'intrusion-set': 'group',
    malware: 'software',
    tool: 'software',
    'course-of-action': 'mitigation',
    campaign: 'campaign',
  };
  const revokedBy = new Map<string, string>();
  for (const o of enterprise) if (o.type === 'relationship' && o.relationship_type === 'revoked-by' && o.source_ref && o.target_ref) revokedBy.set(o.source_ref, o.target_ref);
  const idOfStix = new Map<string, string>();
  const collect = (objects: StixLike[], source: string): void => {
    for (const o of objects) {
      const kind = kindOf[o.type];
      const id = externalId(o, source);
      if (kind === undefined || id === undefined || o.name === undefined) continue;
      idOfStix.set(o.id, id);
    }
  };
  collect(enterprise, 'mitre-attack');
  collect(atlas, 'mitre-atlas');
  const add = (objects: StixLike[], source: string): void => {
    for (const o of objects) {
      const kind = kindOf[o.type];
      const id = externalId(o, source);
      if (kind === undefined || id === undefined || o.name === undefined || o.x_mitre_deprecated === true) continue;
      let replacedBy: string | null = null;
      if (o.revoked === true) {
        const target = revokedBy.get(o.id);
        replacedBy = target === undefined ? null : (idOfStix.get(target) ?? null);
        if (replacedBy === null) continue;
      }
      const aliases = [...new Set([...(o.aliases ?? []), ...(o.x_mitre_aliases ?? [])])].filter((a) => a !== o.name).sort(compareStrings);
      rows.push([id, o.id, o.name, kind, aliases, replacedBy]);
    }
  };
  add(enterprise, 'mitre-attack');
  add(atlas, 'mitre-atlas');
  rows.sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]));
  // Keep one row per external id: an active object wins over a revoked one.
  const unique: AttackLookupRow[] = [];
  for (const r of rows) {
    const prev = unique[unique.length - 1];
    if (prev !== undefined && prev[0] === r[0]) {
      if (prev[5] !== null && r[5] === null) unique[unique.length - 1] = r;
      continue;
    }
    unique.push(r);
  }

  // Ordinary words: a group or software name that ATT&CK/ATLAS descriptions write in lower case at
  // least as often as capitalised ("play", "royal", "wiper"), unlike names ("Mimikatz").
  const lowerCount = new Map<string, number>();
  const anyCount = new Map<string, number>();
  for (const o of [...enterprise, ...atlas]) {
    if (o.description === undefined) continue;
    for (const m of cleanAttackText(o.description).matchAll(/\p{L}+/gu)) {
      const w = m[0];
      const lower = w.toLowerCase();
      anyCount.set(lower, (anyCount.get(lower) ?? 0) + 1);
      if (w === lower) lowerCount.set(w, (lowerCount.get(w) ?? 0) + 1);
    }
  }
  const common = new Set<string>();
  for (const r of unique) {
    if (r[3] !== 'group' && r[3] !== 'software') continue;
    for (const alias of [r[2], ...r[4]]) {
      const lower = alias.toLowerCase();
      const n = lowerCount.get(lower) ?? 0;
      if (n >= 1 && n * 2 >= (anyCount.get(lower) ?? 0)) common.add(lower);
    }
  }
  return {
    format: ATTACK_LOOKUP_FORMAT,
    sources: {
      'mitre-attack': 'ATT&CK Enterprise 18.1 (enterprise-attack-18.1.json). © 2025 The MITRE Corporation. This work is reproduced and distributed with the permission of The MITRE Corporation.',
      'mitre-atlas': 'ATLAS 5.6 (stix-atlas.json), Apache-2.0, © MITRE',
    },
    objects: unique,
    commonWords: [...common].sort(compareStrings),
  };
}

// ---- training examples --------------------------------------------------------------------

interface Example {
  readonly text: string;
  readonly label: string;
  readonly source: string;
}

function firstSentences(text: string, n: number): string[] {
  const clean = cleanAttackText(text);
  return splitSentences(clean)
    .slice(0, n)
    .map((s) => clean.slice(s.start, s.end));
}

function sentencesOf(text: string): string[] {
  const clean = cleanAttackText(text);
  return splitSentences(clean).map((s) => clean.slice(s.start, s.end));
}

/** Lower-case words joined by single spaces, for verbatim comparisons between data sets. */
function plainWords(text: string): string {
  return text
    .toLowerCase()
    .replace(/\(citation:[^)]*\)/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '')
    .join(' ');
}

/**
 * TRAM bootstrap sentences whose words appear, in order and in full, in ATT&CK 18.1 text (procedure
 * examples, descriptions). Those are ATT&CK's own sentences with the subject cut off: the text is
 * under ATT&CK's terms and TRAM (MITRE, Apache-2.0) adds only the label. The other bootstrap
 * sentences (about a third) cannot be told apart from excerpts of vendor reports, so none is used.
 */
function verbatimBootstrap(procedures: readonly ProcedureExample[], enterprise: readonly StixLike[]): Example[] {
  const haystack = ` ${[...procedures.map((p) => plainWords(p.text)), ...enterprise.map((o) => plainWords(o.description ?? ''))].join(' \n ')} `;
  const out: Example[] = [];
  for (const s of readTramBootstrap()) {
    const label = s.mappings[0]?.attack_id;
    const words = plainWords(s.text);
    if (label === undefined || words.split(' ').length < 3 || !haystack.includes(` ${words} `)) continue;
    out.push({ text: cleanAttackText(s.text), label, source: 'tram-bootstrap' });
  }
  return out;
}

/**
 * ATT&CK 18.1 detection analytics ("Detection of edits to /etc/rc.local followed by …"): behaviour
 * told from the defender's side, labelled with the technique their detection strategy detects.
 */
function analyticExamples(enterprise: readonly StixLike[]): Example[] {
  const byStixId = new Map(enterprise.map((o) => [o.id, o]));
  const out: Example[] = [];
  for (const r of enterprise) {
    if (r.type !== 'relationship' || r.relationship_type !== 'detects' || r.source_ref === undefined || r.target_ref === undefined) continue;
    const strategy = byStixId.get(r.source_ref);
    const technique = byStixId.get(r.target_ref);
    if (strategy?.type !== 'x-mitre-detection-strategy' || technique === undefined || technique.revoked === true) continue;
    const id = externalId(technique, 'mitre-attack');
    if (id === undefined) continue;
    for (const ref of strategy.x_mitre_analytic_refs ?? []) {
      for (const text of firstSentences(byStixId.get(ref)?.description ?? '', 2)) out.push({ text, label: id, source: 'attack-analytic' });
    }
  }
  return out;
}

/**
 * "No technique" sentences, all from ATT&CK and ATLAS: what a report says besides techniques. Group,
 * software and campaign descriptions say who, against whom and since when; mitigation descriptions
 * read like a report's recommendations; data-component descriptions like its detection notes. A
 * sentence that shares eight words with a procedure example describes behaviour and is left out.
 */
function negativeExamples(enterprise: readonly StixLike[], atlas: readonly StixLike[], behaviour: LeakGuard): Example[] {
  const sourceOf: Record<string, string> = {
    'intrusion-set': 'group-description',
    malware: 'software-description',
    tool: 'software-description',
    campaign: 'campaign-description',
    'course-of-action': 'mitigation-description',
    'x-mitre-data-component': 'data-component-description',
  };
  const out: Example[] = [];
  for (const o of [...enterprise, ...atlas]) {
    const source = sourceOf[o.type];
    if (source === undefined || o.revoked === true || o.x_mitre_deprecated === true) continue;
    for (const text of sentencesOf(o.description ?? '')) {
      if (tokenize(text).length < 3 || behaviour.overlaps(text)) continue;
      out.push({ text, label: NONE_CLASS, source });
    }
  }
  return out;
}

/**
 * ATT&CK's citations as a report's reference list prints them (author, date, title, retrieved,
 * URL), once each, in a stable order: a URL or a report title alone is not a technique.
 */
function citationExamples(enterprise: readonly StixLike[]): Example[] {
  const lines = new Map<string, string>();
  for (const o of enterprise) {
    for (const r of o.external_references ?? []) {
      if (r.url === undefined || r.description === undefined || r.source_name.startsWith('mitre')) continue;
      lines.set(r.source_name, `${r.description} ${r.url}`);
    }
  }
  return [...lines]
    .sort((a, b) => compareStrings(a[0], b[0]))
    .map(([, text]) => ({ text, label: NONE_CLASS, source: 'citation' }));
}

// ---- model --------------------------------------------------------------------------------

function trainSoftmax(xs: readonly SparseVector[], ys: Int32Array, classes: number, features: number, rand: () => number): { w: Float32Array; b: Float64Array } {
  const w = new Float32Array(features * classes);
  const b = new Float64Array(classes);
  const order = Int32Array.from(xs.keys());
  const logits = new Float64Array(classes);
  for (let epoch = 0; epoch < CONFIG.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    const lr = CONFIG.learningRate / (1 + epoch);
    let loss = 0;
    for (const n of order) {
      const x = xs[n] as SparseVector;
      const y = ys[n] as number;
      logits.set(b);
      for (let k = 0; k < x.index.length; k++) {
        const base = (x.index[k] as number) * classes;
        const v = x.value[k] as number;
        for (let c = 0; c < classes; c++) logits[c] = (logits[c] as number) + v * (w[base + c] as number);
      }
      let max = -Infinity;
      for (let c = 0; c < classes; c++) if ((logits[c] as number) > max) max = logits[c] as number;
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        const e = Math.exp((logits[c] as number) - max);
        logits[c] = e;
        sum += e;
      }
      loss -= Math.log(Math.max(1e-12, (logits[y] as number) / sum));
      for (let c = 0; c < classes; c++) logits[c] = ((logits[c] as number) / sum - (c === y ? 1 : 0)) * lr;
      for (let c = 0; c < classes; c++) b[c] = (b[c] as number) - (logits[c] as number);
      for (let k = 0; k < x.index.length; k++) {
        const base = (x.index[k] as number) * classes;
        const v = x.value[k] as number;
        for (let c = 0; c < classes; c++) {
          const g = logits[c] as number;
          if (g > 1e-7 || g < -1e-7) w[base + c] = (w[base + c] as number) - v * g;
        }
      }
    }
    log(`  epoch ${epoch + 1}/${CONFIG.epochs}: mean loss ${(loss / order.length).toFixed(4)}`);
  }
  return { w, b };
}

function stableJson(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

// ---- main ---------------------------------------------------------------------------------

export function main(): void {
  requireSharedData('scripts/train-tagger.ts');
  log(`# train-tagger ${JSON.stringify(CONFIG)}`);
  const enterprise = readBundle(PATHS.attackBundle);
  const atlas = readBundle(PATHS.atlasBundle);
  const lookupArtefact = buildLookup(enterprise, atlas);
  log(`lookup: ${lookupArtefact.objects.length} objects, ${lookupArtefact.commonWords.length} common-word aliases`);

  const procedures = readAttackProcedures().filter((p) => p.domain === 'enterprise');
  const atlasProcedures = readAtlasProcedures();
  // Evaluation text the model must never learn from: every TRAM report (all of them are test or
  // tuning data), held-out ATT&CK procedure examples and ATLAS case-study steps.
  const guard = new LeakGuard();
  for (const r of readTramReports()) guard.add(r.text);
  for (const p of procedures) if (procedureSplit(p.relationship_id) !== 'train') guard.add(cleanAttackText(p.text));
  for (const p of atlasProcedures) if (atlasSplit(p.case_study) !== 'train') guard.add(cleanAttackText(p.text));

  const positives: Example[] = [];
  for (const p of procedures) if (procedureSplit(p.relationship_id) === 'train') positives.push({ text: cleanAttackText(p.text), label: p.technique_id, source: 'attack-procedure' });
  for (const o of enterprise) {
    if (o.type !== 'attack-pattern' || o.revoked === true || o.x_mitre_deprecated === true || o.name === undefined) continue;
    const id = externalId(o, 'mitre-attack');
    if (id === undefined) continue;
    positives.push({ text: o.name, label: id, source: 'attack-name' });
    for (const s of firstSentences(o.description ?? '', CONFIG.descriptionSentences)) positives.push({ text: s, label: id, source: 'attack-description' });
  }
  for (const o of atlas) {
    if (o.type !== 'attack-pattern' || o.name === undefined) continue;
    const id = externalId(o, 'mitre-atlas');
    if (id === undefined) continue;
    for (let k = 0; k < CONFIG.atlasWeight; k++) {
      positives.push({ text: o.name, label: id, source: 'atlas-name' });
      for (const s of firstSentences(o.description ?? '', CONFIG.descriptionSentences)) positives.push({ text: s, label: id, source: 'atlas-description' });
    }
  }
  for (const p of atlasProcedures) {
    if (atlasSplit(p.case_study) !== 'train') continue;
    for (let k = 0; k < CONFIG.atlasWeight; k++) positives.push({ text: cleanAttackText(p.text), label: p.technique, source: 'atlas-procedure' });
  }
  if (CONFIG.analytics > 0) positives.push(...analyticExamples(enterprise));
  if (CONFIG.bootstrapVerbatim > 0) positives.push(...verbatimBootstrap(procedures, enterprise));
  const behaviour = new LeakGuard();
  for (const p of procedures) behaviour.add(cleanAttackText(p.text));
  const negatives = negativeExamples(enterprise, atlas, behaviour);
  if (CONFIG.citations > 0) negatives.push(...citationExamples(enterprise));

  // Leakage guard, then negatives down-sampled (seeded) to their share.
  const rand = mulberry32(CONFIG.seed);
  const known = new Set(lookupArtefact.objects.filter((r) => r[3] === 'technique' && r[5] === null).map((r) => r[0]));
  let dropped = 0;
  const keep = (e: Example): boolean => {
    if (!known.has(e.label) && e.label !== NONE_CLASS) return false;
    if (!e.source.endsWith('-name') && guard.overlaps(e.text)) {
      dropped++;
      return false;
    }
    return featureStrings(e.text).length > 0;
  };
  const pos = positives.filter(keep);
  let neg = negatives.filter(keep);
  const wantNeg = Math.round((pos.length * CONFIG.noneShare) / (1 - CONFIG.noneShare));
  if (neg.length > wantNeg) {
    for (let i = neg.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [neg[i], neg[j]] = [neg[j] as Example, neg[i] as Example];
    }
    neg = neg.slice(0, wantNeg);
  }
  const examples = [...pos, ...neg];
  const bySource = new Map<string, number>();
  for (const e of examples) bySource.set(e.source, (bySource.get(e.source) ?? 0) + 1);
  log(`examples: ${examples.length} (${[...bySource].map(([k, v]) => `${k} ${v}`).join(', ')}); ${dropped} dropped as overlapping held-out text`);

  // Vocabulary (document frequency ≥ minDf), sorted; idf as float32.
  const df = new Map<string, number>();
  for (const e of examples) for (const f of featureStrings(e.text)) df.set(f, (df.get(f) ?? 0) + 1);
  const vocabularyList = [...df].filter(([, n]) => n >= CONFIG.minDf).map(([f]) => f).sort(compareStrings);
  const vocabulary = new Map(vocabularyList.map((f, i) => [f, i]));
  const idf = new Float32Array(vocabularyList.length);
  vocabularyList.forEach((f, i) => (idf[i] = Math.log((examples.length + 1) / ((df.get(f) ?? 0) + 1)) + 1));
  const classes = [...new Set(examples.map((e) => e.label))].sort(compareStrings);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  log(`vocabulary ${vocabularyList.length}, classes ${classes.length}`);

  const xs = examples.map((e) => vectorize(e.text, vocabulary, idf));
  const ys = Int32Array.from(examples.map((e) => classIndex.get(e.label) as number));
  const { w, b } = trainSoftmax(xs, ys, classes.length, vocabularyList.length, rand);

  // Prune and quantise: weights below CONFIG.prune × the largest are dropped, the rest become Int8.
  let maxAbs = 0;
  for (const v of w) if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
  const scale = maxAbs / 127;
  const offsets = new Uint32Array(vocabularyList.length + 1);
  const wc: number[] = [];
  const wv: number[] = [];
  for (let f = 0; f < vocabularyList.length; f++) {
    for (let c = 0; c < classes.length; c++) {
      const v = w[f * classes.length + c] as number;
      if (Math.abs(v) < CONFIG.prune * maxAbs) continue;
      const q = Math.round(v / scale);
      if (q === 0) continue;
      wc.push(c);
      wv.push(q);
    }
    offsets[f + 1] = wc.length;
  }
  // Features left without any weight are dropped from the vocabulary.
  const usedVocab: string[] = [];
  const usedIdf: number[] = [];
  const usedOffsets: number[] = [0];
  for (let f = 0; f < vocabularyList.length; f++) {
    if ((offsets[f + 1] as number) === (offsets[f] as number)) continue;
    usedVocab.push(vocabularyList[f] as string);
    usedIdf.push(idf[f] as number);
    usedOffsets.push(offsets[f + 1] as number);
  }
  log(`weights kept: ${wv.length} of ${w.length}; vocabulary kept ${usedVocab.length}`);
  const modelArtefact: TechniqueModelArtefact = {
    format: TECHNIQUE_MODEL_FORMAT,
    trainedOn: {
      attack: 'ATT&CK Enterprise 18.1 (ATT&CK terms of use): procedure examples (training split), technique names and descriptions, detection analytics; as "no technique", group, software, campaign, mitigation and data-component descriptions and citation lines',
      atlas: 'ATLAS 5.6 (Apache-2.0): technique names and descriptions, case-study procedures (training split); as "no technique", mitigation descriptions',
      tram: CONFIG.bootstrapVerbatim > 0 ? 'TRAM 2 (Apache-2.0): labels of the bootstrap sentences whose text is ATT&CK 18.1 text word for word; no report text' : 'nothing',
      sources: [...bySource].map(([k, v]) => `${k} ${v}`).join(', '),
      examples: examples.length,
      config: JSON.stringify(CONFIG),
    },
    classes,
    vocabulary: usedVocab,
    idf: toBase64(Float32Array.from(usedIdf)),
    bias: toBase64(Float32Array.from(b)),
    offsets: toBase64(Uint32Array.from(usedOffsets)),
    weightClass: toBase64(Uint16Array.from(wc)),
    weight: toBase64(Int8Array.from(wv)),
    weightScale: scale,
    threshold: 0.5,
  };

  // Threshold: the best document-level F1 on the TRAM tuning reports (training and validation
  // splits), with the quantised model. The test split is only read by `npm run eval -- tagging`.
  const tagger = createTagger(fromAttackLookupArtefact(lookupArtefact), fromTechniqueModelArtefact(modelArtefact));
  const labels = readTramLabelSet();
  const docs: DocCandidates[] = readTramReports()
    .filter((r) => tramSplit(r.doc_id) !== 'test')
    .map((r) => tramCandidates(tagger, r.text, r.annotations, labels));
  const best = bestThreshold(docs);
  log(`tuning (${docs.length} TRAM reports): threshold ${best.threshold} → doc F1 ${best.score.f1.toFixed(4)} (P ${best.score.precision.toFixed(4)}, R ${best.score.recall.toFixed(4)})`);
  const finalModel: TechniqueModelArtefact = { ...modelArtefact, threshold: best.threshold };
  const decoded = fromTechniqueModelArtefact(finalModel);
  const atlasValidation = atlasProcedures.filter((p) => atlasSplit(p.case_study) === 'validation');
  const atlasHits = atlasValidation.filter((p) => predictSentence(decoded, cleanAttackText(p.text))?.id === p.technique).length;
  const atlasTop1 = atlasValidation.filter((p) => predictSentence(decoded, cleanAttackText(p.text), 0)?.id === p.technique).length;
  log(`validation (${atlasValidation.length} ATLAS case-study steps): ${atlasHits} tagged with their technique at the threshold, ${atlasTop1} as best class`);

  if (process.env.TAGGER_DRY_RUN === '1') return;
  // TAGGER_OUT_DIR writes an experiment elsewhere (`npm run eval` reads it with TAGGING_EVAL_DATA_DIR).
  const outDir = process.env.TAGGER_OUT_DIR ?? TAGGING_DATA_DIR;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, LOOKUP_FILE), stableJson(lookupArtefact));
  writeFileSync(join(outDir, MODEL_FILE), stableJson(finalModel));
  log(`wrote ${join(outDir, LOOKUP_FILE)} and ${join(outDir, MODEL_FILE)}`);
}

/**
 * The lowest threshold the tuning considers: below it a sentence would propose dozens of techniques
 * (the model proposes every technique that reaches the threshold), which no analyst wants to review.
 */
export const CANDIDATE_FLOOR = 0.02;

/** A TRAM report's gold techniques and the tagger's candidates (at CANDIDATE_FLOOR), both mapped onto TRAM's label set. */
export function tramCandidates(
  tagger: ReturnType<typeof createTagger>,
  text: string,
  annotations: readonly { technique_id: string }[],
  labels: ReadonlySet<string>,
  methods: readonly TagMethod[] = ['explicit', 'name', 'model'],
): DocCandidates {
  const gold = new Set<string>();
  for (const a of annotations) {
    const l = toTramLabel(a.technique_id, labels);
    if (l !== undefined) gold.add(l);
  }
  const candidates = new Map<string, { confidence: number; certain: boolean }>();
  for (const t of tagger(text, { threshold: CANDIDATE_FLOOR, methods }).techniques) {
    const l = toTramLabel(t.id, labels);
    if (l === undefined) continue;
    const certain = t.method !== 'model';
    const prev = candidates.get(l);
    if (prev === undefined || certain || (!prev.certain && t.confidence > prev.confidence)) candidates.set(l, { confidence: t.confidence, certain: certain || (prev?.certain ?? false) });
  }
  return { gold, candidates };
}

if (import.meta.url === `file://${process.argv[1]}`) main();
