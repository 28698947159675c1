// The prose technique classifier: a multinomial logistic regression over TF-IDF word uni- and
// bigrams (features.ts), trained offline by scripts/train-tagger.ts and shipped as
// data/tagging/technique-model.json. Pure: the artefact comes in as parsed JSON.
import { vectorize } from './features.ts';

export const TECHNIQUE_MODEL_FORMAT = 'entente-technique-model/1';

/** The artefact as stored: typed arrays are base64 of little-endian bytes. */
export interface TechniqueModelArtefact {
  readonly format: string;
  /** What the model was trained on (data versions, counts), for people reading the file. */
  readonly trainedOn: Readonly<Record<string, string | number>>;
  /** Class labels: ATT&CK/ATLAS external ids, or NONE_CLASS for "no technique". */
  readonly classes: readonly string[];
  readonly vocabulary: readonly string[];
  /** Float32 idf per vocabulary entry. */
  readonly idf: string;
  /** Float32 bias per class. */
  readonly bias: string;
  /** CSR by feature: Uint32 offsets (vocabulary.length + 1), Uint16 class per weight, Int8 weight. */
  readonly offsets: string;
  readonly weightClass: string;
  readonly weight: string;
  /** A weight is its Int8 value times this. */
  readonly weightScale: number;
  /** A sentence proposes its best technique when that technique's probability reaches this. */
  readonly threshold: number;
}

/** Label of the class that means "this sentence describes no technique". */
export const NONE_CLASS = '-';

export interface TechniqueModel {
  readonly classes: readonly string[];
  readonly vocabulary: ReadonlyMap<string, number>;
  readonly idf: Float32Array;
  readonly bias: Float32Array;
  readonly offsets: Uint32Array;
  readonly weightClass: Uint16Array;
  readonly weight: Int8Array;
  readonly weightScale: number;
  readonly threshold: number;
  /** Per class: the index of its parent technique's class (T1055.012 → T1055), or -1. */
  readonly parentClass: Int32Array;
}

/** T1055.012 → T1055, AML.T0051.000 → AML.T0051; undefined for a technique that is not a sub-technique. */
export function parentTechniqueOf(id: string): string | undefined {
  return /\.\d{3}$/.test(id) ? id.slice(0, -4) : undefined;
}

function parentClasses(classes: readonly string[]): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  return Int32Array.from(classes, (c) => {
    const parent = parentTechniqueOf(c);
    return parent === undefined ? -1 : (index.get(parent) ?? -1);
  });
}

function bytesOf(b64: string): Uint8Array {
  const buf = Buffer.from(b64, 'base64');
  // Copy into a fresh, aligned buffer so typed views of any element size can be taken.
  const out = new Uint8Array(buf.length);
  out.set(buf);
  return out;
}

/** Decodes the stored artefact; throws when it is not one (the artefact ships with the code). */
export function fromTechniqueModelArtefact(a: TechniqueModelArtefact): TechniqueModel {
  if (a.format !== TECHNIQUE_MODEL_FORMAT) throw new Error(`technique model: format ${a.format}, expected ${TECHNIQUE_MODEL_FORMAT}`);
  const idf = new Float32Array(bytesOf(a.idf).buffer);
  const bias = new Float32Array(bytesOf(a.bias).buffer);
  const offsets = new Uint32Array(bytesOf(a.offsets).buffer);
  const weightClass = new Uint16Array(bytesOf(a.weightClass).buffer);
  const weight = new Int8Array(bytesOf(a.weight).buffer);
  if (idf.length !== a.vocabulary.length || offsets.length !== a.vocabulary.length + 1 || bias.length !== a.classes.length) {
    throw new Error('technique model: array lengths do not match the vocabulary and classes');
  }
  if (weightClass.length !== weight.length || offsets[offsets.length - 1] !== weight.length) {
    throw new Error('technique model: weight arrays do not match the offsets');
  }
  const vocabulary = new Map<string, number>();
  a.vocabulary.forEach((f, i) => vocabulary.set(f, i));
  return {
    classes: a.classes,
    vocabulary,
    idf,
    bias,
    offsets,
    weightClass,
    weight,
    weightScale: a.weightScale,
    threshold: a.threshold,
    parentClass: parentClasses(a.classes),
  };
}

/** Encodes typed arrays the way the artefact stores them (used by the training script). */
export function toBase64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function logitsOf(model: TechniqueModel, sentence: string): Float64Array {
  const x = vectorize(sentence, model.vocabulary, model.idf);
  const logits = Float64Array.from(model.bias);
  for (let k = 0; k < x.index.length; k++) {
    const f = x.index[k] as number;
    const v = (x.value[k] as number) * model.weightScale;
    const end = model.offsets[f + 1] as number;
    for (let j = model.offsets[f] as number; j < end; j++) {
      const c = model.weightClass[j] as number;
      logits[c] = (logits[c] as number) + v * (model.weight[j] as number);
    }
  }
  return logits;
}

/** Class probabilities of one sentence (softmax over all classes), indexed like model.classes. */
export function classProbabilities(model: TechniqueModel, sentence: string): Float64Array {
  const logits = logitsOf(model, sentence);
  let max = -Infinity;
  for (const l of logits) if (l > max) max = l;
  let sum = 0;
  for (let c = 0; c < logits.length; c++) {
    const e = Math.exp((logits[c] as number) - max);
    logits[c] = e;
    sum += e;
  }
  for (let c = 0; c < logits.length; c++) logits[c] = (logits[c] as number) / sum;
  return logits;
}

export interface SentencePrediction {
  /** ATT&CK/ATLAS external id. */
  readonly id: string;
  readonly probability: number;
}

/**
 * Techniques a sentence describes: its most probable class when that is a technique whose
 * probability reaches `threshold` (the model's own by default). At most one per sentence.
 */
export function predictSentence(model: TechniqueModel, sentence: string, threshold = model.threshold): SentencePrediction | undefined {
  const logits = logitsOf(model, sentence);
  let best = 0;
  for (let c = 1; c < logits.length; c++) if ((logits[c] as number) > (logits[best] as number)) best = c;
  const max = logits[best] as number;
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  const probability = 1 / sum;
  const id = model.classes[best];
  if (id === undefined || id === NONE_CLASS || probability < threshold) return undefined;
  return { id, probability };
}

/**
 * Techniques a sentence describes: every technique whose probability reaches `threshold` (the
 * model's own by default), most probable first. A parent technique's probability is its whole
 * family's (itself and its sub-techniques): a sentence the model splits between T1055.001 and
 * T1055.012 still clearly describes T1055, and says so even when no sub-technique reaches the
 * threshold on its own. Several techniques per sentence, because report sentences often describe
 * more than one step ("dumps LSASS with procdump and uploads the file over HTTPS").
 */
export function predictTechniques(model: TechniqueModel, sentence: string, threshold = model.threshold): SentencePrediction[] {
  const probabilities = classProbabilities(model, sentence);
  const family = Float64Array.from(probabilities);
  for (let c = 0; c < probabilities.length; c++) {
    const parent = model.parentClass[c] as number;
    if (parent >= 0) family[parent] = (family[parent] as number) + (probabilities[c] as number);
  }
  const out: SentencePrediction[] = [];
  for (let c = 0; c < family.length; c++) {
    const id = model.classes[c];
    const probability = family[c] as number;
    if (id !== undefined && id !== NONE_CLASS && probability >= threshold) out.push({ id, probability });
  }
  return out.sort((a, b) => b.probability - a.probability || (a.id < b.id ? -1 : 1));
}
