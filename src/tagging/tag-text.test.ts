// tagText() with the artefacts shipped in data/tagging/, on a report written for these tests
// (test/tagging/sample-report.md): no ../shared data needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tagText } from './tag-text.ts';
import type { TaggedObject } from './tag-text.ts';
import { loadTaggingData } from './load-tagging-data.ts';
import { isEntenteError } from '../errors/entente-error.ts';

const sample = readFileSync(new URL('../../test/tagging/sample-report.md', import.meta.url), 'utf8');
const ids = (list: readonly TaggedObject[]): string[] => list.map((o) => o.id).sort();
const find = (list: readonly TaggedObject[], id: string): TaggedObject | undefined => list.find((o) => o.id === id);

test('the shipped artefacts load: ATT&CK Enterprise and ATLAS objects, and a model over their techniques', () => {
  const { lookup, model } = loadTaggingData();
  assert.equal(lookup.byId.get('T1059.001')?.name, 'PowerShell');
  assert.equal(lookup.byId.get('S0154')?.stixId, 'malware--a7881f21-e978-4fe4-af56-92c9416a2616');
  assert.equal(lookup.byId.get('G0016')?.kind, 'group');
  assert.equal(lookup.byId.get('AML.T0051')?.kind, 'technique');
  assert.ok(model.classes.includes('T1003.001') && model.classes.includes('AML.T0051'));
  assert.ok(model.threshold > 0 && model.threshold < 1);
});

test('an explicit id is linked with confidence 1, the span of the id and its sentence', () => {
  const r = tagText(sample);
  const t = find(r.techniques, 'T1566.001');
  assert.equal(t?.method, 'explicit');
  assert.equal(t?.confidence, 1);
  assert.equal(t?.name, 'Spearphishing Attachment');
  assert.match(t?.stixId ?? '', /^attack-pattern--/);
  const e = t?.evidence.find((x) => sample.slice(x.start, x.end) === 'T1566.001');
  assert.ok(e, 'evidence covers the id');
  assert.ok(sample.slice(e.sentence.start, e.sentence.end).startsWith('The intrusion began with a spearphishing email'));
});

test('software and groups are linked by name and alias, with the span of the name', () => {
  const r = tagText(sample);
  assert.deepEqual(ids(r.software), ['S0002', 'S0154']);
  assert.deepEqual(ids(r.groups), ['G0016']);
  const apt29 = find(r.groups, 'G0016');
  assert.deepEqual(apt29?.evidence.map((e) => sample.slice(e.start, e.end)), ['APT29', 'Cozy Bear']);
  assert.equal(apt29?.method, 'name');
});

test('techniques described only in prose are proposed by the model, with the sentence as evidence', () => {
  const r = tagText(sample);
  for (const id of ['T1003.001', 'T1053.005', 'T1113']) {
    const t = find(r.techniques, id);
    assert.equal(t?.method, 'model', `${id} found by the model`);
    assert.ok((t?.confidence ?? 0) > 0 && (t?.confidence ?? 2) <= 1);
    for (const e of t?.evidence ?? []) assert.deepEqual({ start: e.start, end: e.end }, e.sentence);
  }
  const lsass = find(r.techniques, 'T1003.001')?.evidence[0];
  assert.match(sample.slice(lsass?.start, lsass?.end), /dump credentials from LSASS memory/);
});

test('one sentence describing two steps is evidence for both techniques, and a sub-technique brings its parent', () => {
  const r = tagText(sample);
  const modelSentences = (id: string): string[] => {
    const t = find(r.techniques, id);
    return t?.method === 'model' ? t.evidence.map((e) => sample.slice(e.sentence.start, e.sentence.end)) : [];
  };
  const phishing = modelSentences('T1566');
  assert.equal(phishing.length, 1);
  assert.match(phishing[0] ?? '', /^The intrusion began with a spearphishing email/);
  assert.deepEqual(modelSentences('T1204.002'), phishing, 'the victim opening the document is user execution, in the same sentence');
  const lsass = find(r.techniques, 'T1003.001');
  const credentialDumping = find(r.techniques, 'T1003');
  assert.ok(lsass !== undefined && credentialDumping !== undefined);
  assert.ok(credentialDumping.confidence >= lsass.confidence, 'the family is at least as probable as one member');
});

test('the shipped model says what it learnt from, and TRAM report text is not part of it', () => {
  const artefact = JSON.parse(readFileSync(new URL('../../data/tagging/technique-model.json', import.meta.url), 'utf8')) as {
    trainedOn: Record<string, string | number>;
  };
  assert.match(String(artefact.trainedOn.tram), /no report text/);
  assert.doesNotMatch(JSON.stringify(artefact.trainedOn), /annotated report/i);
});

test('no false positives on ordinary words that are also ATT&CK names (Royal, Play, Empire, Page, Net, Snake…)', () => {
  const text =
    'The Royal Mail delivered a parcel. Children Play in the park near the Empire State Building. See Page 3 for the ' +
    'Calendar. Ping pong is fun, and Net income grew. A Snake and a Shark were at the Octopus exhibition on Friday. ' +
    'Explosive growth in Equation solving. The Reaper and the Ninja were Silence.';
  const r = tagText(text);
  assert.deepEqual([...r.software, ...r.groups, ...r.techniques], []);
});

test('no tags on ordinary prose', () => {
  const r = tagText('The weather in the city was mild that week, and the conference ended on Friday with a dinner. Prices rose at the market.');
  assert.deepEqual(r, { techniques: [], software: [], groups: [], tactics: [], mitigations: [], campaigns: [] });
});

test('the same text gives the same result, and methods can be chosen', () => {
  assert.deepEqual(tagText(sample), tagText(sample));
  const noModel = tagText(sample, { methods: ['explicit', 'name'] });
  assert.ok(noModel.techniques.every((t) => t.method !== 'model'));
  assert.deepEqual(ids(noModel.software), ['S0002', 'S0154']);
  const modelOnly = tagText(sample, { methods: ['model'] });
  assert.deepEqual(modelOnly.software, []);
  assert.ok(modelOnly.techniques.length > 0 && modelOnly.techniques.every((t) => t.method === 'model'));
});

test('a damaged artefact is reported as ENT_TAGGING_DATA_INVALID naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'entente-tagging-'));
  try {
    writeFileSync(join(dir, 'attack-lookup.json'), '{"format":"entente-attack-lookup/1","sources":{},"objects":[],"commonWords":[]}');
    writeFileSync(join(dir, 'technique-model.json'), '{"format":"entente-technique-model/1", "classes": [');
    assert.throws(
      () => loadTaggingData(dir),
      (e: unknown) => isEntenteError(e) && e.code === 'ENT_TAGGING_DATA_INVALID' && e.message.includes('technique-model.json'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
