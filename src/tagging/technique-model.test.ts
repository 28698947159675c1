import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NONE_CLASS,
  TECHNIQUE_MODEL_FORMAT,
  classProbabilities,
  fromTechniqueModelArtefact,
  parentTechniqueOf,
  predictSentence,
  predictTechniques,
  toBase64,
} from './technique-model.ts';
import type { TechniqueModelArtefact } from './technique-model.ts';
import { featureStrings, stem, tokenize } from './features.ts';

// Two features, three classes: "keystrokes" → T1056.001, "screenshot" → T1113, otherwise none.
const vocabulary = ['keystrok', 'screenshot'];
const artefact: TechniqueModelArtefact = {
  format: TECHNIQUE_MODEL_FORMAT,
  trainedOn: {},
  classes: [NONE_CLASS, 'T1056.001', 'T1113'],
  vocabulary,
  idf: toBase64(Float32Array.from([1, 1])),
  bias: toBase64(Float32Array.from([1, 0, 0])),
  offsets: toBase64(Uint32Array.from([0, 1, 2])),
  weightClass: toBase64(Uint16Array.from([1, 2])),
  weight: toBase64(Int8Array.from([100, 100])),
  weightScale: 0.05,
  threshold: 0.5,
};

test('tokens are lower-case words of two or more letters; numbers become <n>; features add bigrams', () => {
  assert.deepEqual(tokenize('The RAT logs Keystrokes to C:\\x 2024 a'), ['the', 'rat', 'logs', 'keystrokes', 'to', '<n>']);
  assert.deepEqual(featureStrings('logs keystrokes'), ['logs', 'logs keystrok', 'keystrok']);
});

test('stems share a feature between forms of a word; short words and words with digits stay as they are', () => {
  assert.deepEqual(['injects', 'injected', 'injecting'].map(stem), ['inject', 'inject', 'inject']);
  assert.deepEqual(['queries', 'queried'].map(stem), ['query', 'query']);
  assert.deepEqual(['uses', 'base64', 'cmd'].map(stem), ['uses', 'base64', 'cmd']);
});

test('a sentence gets the class its words point to when the probability reaches the threshold', () => {
  const model = fromTechniqueModelArtefact(artefact);
  assert.equal(predictSentence(model, 'It records keystrokes.')?.id, 'T1056.001');
  assert.equal(predictSentence(model, 'It takes a screenshot.')?.id, 'T1113');
  assert.equal(predictSentence(model, 'The weather was fine.'), undefined, 'the none class wins');
  assert.equal(predictSentence(model, 'It records keystrokes.', 0.999), undefined, 'below a higher threshold');
  const p = classProbabilities(model, 'keystrokes');
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

test('an artefact of another format or with inconsistent arrays is refused', () => {
  assert.throws(() => fromTechniqueModelArtefact({ ...artefact, format: 'other/1' }), /format/);
  assert.throws(() => fromTechniqueModelArtefact({ ...artefact, idf: toBase64(Float32Array.from([1])) }), /lengths/);
  assert.throws(() => fromTechniqueModelArtefact({ ...artefact, weight: toBase64(Int8Array.from([1])) }), /weight arrays/);
});

// A family: "inject" points to T1055.001, "hollow" to T1055.012, "screenshot" to T1113; T1055 itself
// has no weight of its own.
const family = fromTechniqueModelArtefact({
  ...artefact,
  classes: [NONE_CLASS, 'T1055', 'T1055.001', 'T1055.012', 'T1113'],
  vocabulary: ['hollow', 'inject', 'screenshot'],
  idf: toBase64(Float32Array.from([1, 1, 1])),
  bias: toBase64(Float32Array.from([3, 0, 0, 0, 0])),
  offsets: toBase64(Uint32Array.from([0, 1, 2, 3])),
  weightClass: toBase64(Uint16Array.from([3, 2, 4])),
  weight: toBase64(Int8Array.from([100, 100, 100])),
});
const idsOf = (sentence: string, threshold?: number): string[] => predictTechniques(family, sentence, threshold).map((p) => p.id);

test('the parent of a sub-technique is its id without the three-digit suffix, for ATT&CK and ATLAS', () => {
  assert.equal(parentTechniqueOf('T1055.012'), 'T1055');
  assert.equal(parentTechniqueOf('AML.T0051.000'), 'AML.T0051');
  assert.equal(parentTechniqueOf('T1055'), undefined);
  assert.equal(parentTechniqueOf('AML.T0051'), undefined);
});

test('a sentence split between two sub-techniques proposes their parent with the probability of the whole family', () => {
  const p = classProbabilities(family, 'It injects code by hollowing.');
  const [, parent, sub1, sub2] = [...p] as [number, number, number, number];
  assert.ok(sub1 < 0.5 && sub2 < 0.5, 'neither sub-technique reaches 0.5 alone');
  const predicted = predictTechniques(family, 'It injects code by hollowing.', 0.5);
  assert.deepEqual(predicted.map((x) => x.id), ['T1055']);
  assert.ok(Math.abs((predicted[0]?.probability ?? 0) - (parent + sub1 + sub2)) < 1e-9);
  assert.deepEqual(idsOf('It injects code by hollowing.', 0.3), ['T1055', 'T1055.001', 'T1055.012'], 'at a lower threshold the sub-techniques too, most probable first');
});

test('one sentence can propose several techniques; "no technique" and classes below the threshold never are', () => {
  assert.deepEqual(idsOf('It injects code and takes a screenshot.', 0.2), ['T1055', 'T1055.001', 'T1113']);
  assert.deepEqual(idsOf('The weather was fine.', 0.2), []);
  assert.deepEqual(idsOf('It injects code and takes a screenshot.', 0.99), []);
  assert.deepEqual(idsOf('It takes a screenshot.'), ['T1113'], 'the threshold of the model by default');
});
