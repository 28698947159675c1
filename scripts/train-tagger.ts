// Trains the ATT&CK/ATLAS tagger offline and writes data/tagging/ (attack-lookup.json,
// technique-model.json). Reproducible: the same inputs give the same bytes (seeded shuffle, sorted
// vocabulary and classes, no clock). Reads ../shared/data (ENTENTE_SHARED_DATA to move it).
//
//   npx tsx scripts/train-tagger.ts            # train and write the artefacts
//
// What it learns from, and what it never sees:
// - ATT&CK Enterprise 18.1 procedure examples (the training split of eval/tagging-data.ts; the
//   validation and test splits are held out), technique names and the first sentences of their
//   descriptions; ATLAS 5.6 technique names, descriptions and case-study procedures (training split
//   of the case studies);
// - TRAM: bootstrap sentences and the sentences of the training split of the annotated reports
//   (annotated ones labelled, the others as "no technique"); the validation reports choose the
//   threshold, the test reports are only read by `npm run eval -- tagging`.
// - Every training sentence that shares a run of 8 words with held-out text (TRAM validation/test
//   reports, held-out ATT&CK procedure examples and ATLAS case-study steps) is dropped.
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
import type { DocCandidates, StixLike } from '../eval/tagging-data.ts';
import { ATTACK_LOOKUP_FORMAT, fromAttackLookupArtefact } from '../src/tagging/attack-lookup.ts';
import type { AttackKind, AttackLookupArtefact, AttackLookupRow } from '../src/tagging/attack-lookup.ts';
import { featureStrings, vectorize } from '../src/tagging/features.ts';
import type { SparseVector } from '../src/tagging/features.ts';
import { splitSentences } from '../src/tagging/split-sentences.ts';
import { NONE_CLASS, TECHNIQUE_MODEL_FORMAT, fromTechniqueModelArtefact, predictSentence, toBase64 } from '../src/tagging/technique-model.ts';
import type { TechniqueModelArtefact } from '../src/tagging/technique-model.ts';
import { createTagger } from '../src/tagging/create-tagger.ts';
import type { TagMethod } from '../src/tagging/create-tagger.ts';
import { LOOKUP_FILE, MODEL_FILE, TAGGING_DATA_DIR } from '../src/tagging/load-tagging-data.ts';

const num = (name: string, fallback: number): number => (process.env[name] === undefined ? fallback : Number(process.env[name]));
// Hyper-parameters (chosen on the validation split; the environment overrides them for experiments).
const CONFIG = {
  seed: num('TAGGER_SEED', 20251113),
  epochs: num('TAGGER_EPOCHS', 8),
  learningRate: num('TAGGER_LR', 1),
  minDf: num('TAGGER_MIN_DF', 1),
  descriptionSentences: num('TAGGER_DESC_SENTENCES', 4),
  /** Negative ("no technique") sentences from TRAM training reports, as a fraction of all examples. */
  noneShare: num('TAGGER_NONE_SHARE', 0.25),
  /** Weights smaller than this fraction of the largest are dropped from the artefact. */
  prune: num('TAGGER_PRUNE', 0.02),
  /** Times each labelled sentence of a TRAM training report is repeated (in-domain text weighs more). */
  tramReportWeight: num('TAGGER_TRAM_WEIGHT', 1),
  /** Also learn from the annotated span of each TRAM training annotation (1) or not (0). */
  tramSpans: num('TAGGER_TRAM_SPANS', 0),
  /** Times each ATLAS example is repeated: ATLAS has few examples against ATT&CK's thousands. */
  atlasWeight: num('TAGGER_ATLAS_WEIGHT', 4),
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

function sentenceHolding(sentences: ReturnType<typeof splitSentences>, start: number): number {
  for (let i = 0; i < sentences.length; i++) if ((sentences[i]?.end ?? 0) > start) return i;
  return sentences.length - 1;
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
  const reports = readTramReports();
  const guard = new LeakGuard();
  for (const r of reports) if (tramSplit(r.doc_id) !== 'train') guard.add(r.text);
  for (const p of procedures) if (procedureSplit(p.relationship_id) !== 'train') guard.add(cleanAttackText(p.text));
  const atlasProcedures = readAtlasProcedures();
  for (const p of atlasProcedures) if (atlasSplit(p.case_study) !== 'train') guard.add(cleanAttackText(p.text));

  const positives: Example[] = [];
  const negatives: Example[] = [];
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
  for (const s of readTramBootstrap()) {
    const label = s.mappings[0]?.attack_id;
    if (label !== undefined) positives.push({ text: cleanAttackText(s.text), label, source: 'tram-bootstrap' });
  }
  for (const r of reports) {
    if (tramSplit(r.doc_id) !== 'train') continue;
    const sentences = splitSentences(r.text);
    const labelled = new Map<number, string>();
    for (const a of r.annotations) {
      labelled.set(sentenceHolding(sentences, a.start), a.technique_id);
      if (CONFIG.tramSpans > 0) positives.push({ text: a.text, label: a.technique_id, source: 'tram-span' });
    }
    sentences.forEach((s, i) => {
      const text = r.text.slice(s.start, s.end);
      const label = labelled.get(i);
      if (label !== undefined) for (let k = 0; k < CONFIG.tramReportWeight; k++) positives.push({ text, label, source: 'tram-report' });
      else if (/\p{L}{3,}.*\p{L}{3,}.*\p{L}{3,}/u.test(text)) negatives.push({ text, label: NONE_CLASS, source: 'tram-report-none' });
    });
  }

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
      attack: 'ATT&CK Enterprise 18.1: procedure examples (training split), technique names and descriptions',
      atlas: 'ATLAS 5.6: technique names, descriptions, case-study procedures (training split)',
      tram: 'TRAM 2: bootstrap sentences and training-split annotated reports (Apache-2.0)',
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

  // Threshold: the best document-level F1 on the TRAM validation reports, with the quantised model.
  const tagger = createTagger(fromAttackLookupArtefact(lookupArtefact), fromTechniqueModelArtefact(modelArtefact));
  const labels = readTramLabelSet();
  const docs: DocCandidates[] = reports
    .filter((r) => tramSplit(r.doc_id) === 'validation')
    .map((r) => tramCandidates(tagger, r.text, r.annotations, labels));
  const best = bestThreshold(docs);
  log(`validation (${docs.length} TRAM reports): threshold ${best.threshold} → doc F1 ${best.score.f1.toFixed(4)} (P ${best.score.precision.toFixed(4)}, R ${best.score.recall.toFixed(4)})`);
  const finalModel: TechniqueModelArtefact = { ...modelArtefact, threshold: best.threshold };
  const decoded = fromTechniqueModelArtefact(finalModel);
  const atlasValidation = atlasProcedures.filter((p) => atlasSplit(p.case_study) === 'validation');
  const atlasHits = atlasValidation.filter((p) => predictSentence(decoded, cleanAttackText(p.text))?.id === p.technique).length;
  const atlasTop1 = atlasValidation.filter((p) => predictSentence(decoded, cleanAttackText(p.text), 0)?.id === p.technique).length;
  log(`validation (${atlasValidation.length} ATLAS case-study steps): ${atlasHits} tagged with their technique at the threshold, ${atlasTop1} as best class`);

  if (process.env.TAGGER_DRY_RUN === '1') return;
  mkdirSync(TAGGING_DATA_DIR, { recursive: true });
  writeFileSync(join(TAGGING_DATA_DIR, LOOKUP_FILE), stableJson(lookupArtefact));
  writeFileSync(join(TAGGING_DATA_DIR, MODEL_FILE), stableJson(finalModel));
  log(`wrote ${join(TAGGING_DATA_DIR, LOOKUP_FILE)} and ${join(TAGGING_DATA_DIR, MODEL_FILE)}`);
}

/** A TRAM report's gold techniques and the tagger's candidates, both mapped onto TRAM's label set. */
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
  for (const t of tagger(text, { threshold: 0, methods }).techniques) {
    const l = toTramLabel(t.id, labels);
    if (l === undefined) continue;
    const certain = t.method !== 'model';
    const prev = candidates.get(l);
    if (prev === undefined || certain || (!prev.certain && t.confidence > prev.confidence)) candidates.set(l, { confidence: t.confidence, certain: certain || (prev?.certain ?? false) });
  }
  return { gold, candidates };
}

if (import.meta.url === `file://${process.argv[1]}`) main();
