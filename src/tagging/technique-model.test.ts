import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NONE_CLASS, TECHNIQUE_MODEL_FORMAT, classProbabilities, fromTechniqueModelArtefact, predictSentence, toBase64 } from './technique-model.ts';
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
