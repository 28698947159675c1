import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareImportBatches, prepareImportSteps, type ImportInput, type ImportStep, type PipelineOptions, type PreparedBatch } from '../../src/store/import-pipeline.ts';
import { prepareImportStepsInWorker } from '../../src/store/import-in-worker.ts';
import { textOf, type PreparedVersion } from '../../src/store/prepared-version.ts';
import { lastWorkerLoading } from '../../src/store/typescript-worker.ts';
import { openSourceBundle } from '../../bin/source-bundle.mjs';
import { setImportPipelineMode } from '../../src/cli/commands/import-command.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';
import { createRandom, generateIndicator } from '../../bench/generate-indicators.ts';

const fixture = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname;
const options: PipelineOptions = { firstBatchObjects: 7, batchObjects: 50, batchChars: 64 * 1024, maxDepth: 64 };

async function collect(batches: AsyncIterable<PreparedBatch>): Promise<PreparedBatch[]> {
  const all: PreparedBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

/** The batches of steps prepared in a worker, their texts copied out of the memory they were handed over in. */
async function collectFromWorker(steps: AsyncIterable<ImportStep>): Promise<PreparedBatch[]> {
  return (await collectSteps(steps)).flatMap((step) => (step.kind === 'batch' ? [step.batch] : []));
}

/** Steps, their versions' texts as strings (a worker's are views of memory it reuses once the next step is asked for). */
async function collectSteps(steps: AsyncIterable<ImportStep>): Promise<ImportStep[]> {
  const all: ImportStep[] = [];
  for await (const step of steps) all.push(step.kind === 'batch' ? { kind: 'batch', batch: { ...step.batch, versions: step.batch.versions.map(asStrings) } } : step);
  return all;
}

function asStrings(version: PreparedVersion): PreparedVersion {
  const text = version.text;
  const or = (value: string | Uint8Array | null): string | null => (value === null ? null : textOf(value));
  return { ...version, json: textOf(version.json), text: text === undefined ? undefined : { name: or(text.name), description: or(text.description), aliases: or(text.aliases) } };
}

/** Batches without the versions' derived fields that carry random UUIDs (STIX 2.0 upgrades mint ids). */
function comparable(batches: readonly PreparedBatch[]): unknown {
  return batches.map((batch) => ({ ...batch, versions: batch.versions.map((version) => (textOf(version.json).includes('"spec_version":"2.1"') ? version : version.id.split('--')[0])) }));
}

describe('import pipeline', () => {
  const dir = temporaryDirectory('import-pipeline');
  const inputs: ImportInput[] = [];
  before(() => {
    const random = createRandom(7);
    const lines = Array.from({ length: 230 }, (_, index) => JSON.stringify(generateIndicator(index, random)));
    const bad = JSON.parse(lines[100] ?? '{}') as Record<string, unknown>;
    lines[100] = JSON.stringify({ ...bad, pattern: "[ipv4-addr:value = '10.0.0.1'" });
    lines[150] = '{"type": "indicator", "id": ';
    lines[151] = '';
    writeFileSync(join(dir.path, 'feed.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir.path, 'broken.json'), '{"type": "bundle", "objects": [');
    const bundle = fixture('misp-stix/test_event1_stix20.json');
    inputs.push(
      { kind: 'lines', path: join(dir.path, 'feed.jsonl') },
      { kind: 'document', path: join(dir.path, 'broken.json'), size: statSync(join(dir.path, 'broken.json')).size },
      { kind: 'document', path: bundle, size: statSync(bundle).size },
    );
  });
  after(() => dir.remove());

  it('gives the same batches in a worker thread as in this thread: growing sizes, problems and rejections in order', async () => {
    const inline = await collect(prepareImportBatches(inputs, options));
    const worker = await collectFromWorker(prepareImportStepsInWorker(inputs, options));
    assert.deepEqual(comparable(worker), comparable(inline));
    const feed = inline.filter((batch) => batch.input.endsWith('feed.jsonl'));
    assert.deepEqual(
      feed.map((batch) => batch.versions.length + batch.rejections.length),
      [7, 14, 28, 50, 50, 50, 29],
    );
    assert.equal(feed.reduce((sum, batch) => sum + batch.bytes, 0), statSync(join(dir.path, 'feed.jsonl')).size);
    assert.deepEqual(feed.flatMap((batch) => batch.problems).length, 1);
    assert.match(feed.flatMap((batch) => batch.rejections)[0]?.reason ?? '', /STIX_PATTERN_INVALID/);
    const broken = inline.filter((batch) => batch.input.endsWith('broken.json'));
    assert.equal(broken.length, 1);
    assert.match(broken[0]?.problems[0] ?? '', /not valid JSON/);
  });

  it('gives the same batches from a worker started from the bundle of the sources, as a process run by bin/entente.js starts it', async () => {
    const bundle = await openSourceBundle();
    if (bundle.kind !== 'bundle') return assert.fail(`no bundle: ${bundle.reason}`);
    const previous = process.env['ENTENTE_BUNDLE_DIR'];
    process.env['ENTENTE_BUNDLE_DIR'] = bundle.directory;
    try {
      const worker = await collectFromWorker(prepareImportStepsInWorker(inputs, options));
      assert.equal(lastWorkerLoading()?.kind, 'bundle');
      assert.deepEqual(comparable(worker), comparable(await collect(prepareImportBatches(inputs, options))));
    } finally {
      if (previous === undefined) delete process.env['ENTENTE_BUNDLE_DIR'];
      else process.env['ENTENTE_BUNDLE_DIR'] = previous;
    }
  });

  it('rethrows an error of the worker with its code, and stops the worker when the caller stops early', async () => {
    await assert.rejects(collectSteps(prepareImportStepsInWorker([{ kind: 'document', path: join(dir.path, 'absent.json'), size: 0 }], options)), { code: 'ENOENT' });
    for await (const step of prepareImportStepsInWorker(inputs, options)) {
      assert.ok(step.kind === 'batch' && step.batch.versions.length > 0);
      break;
    }
  });

  it('entente import stops the worker it started early when the import cannot proceed (unknown collection)', async () => {
    setImportPipelineMode('worker');
    try {
      const run = await entente(join(dir.path, 'data-missing'), ['import', join(dir.path, 'feed.jsonl'), '--collection', 'no-such-collection']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /ENT_COLLECTION_NOT_FOUND/);
    } finally {
      setImportPipelineMode('auto');
    }
  });

  it('entente import stores the same objects and prints the same report with and without the worker', async () => {
    const tree = join(dir.path, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'a.jsonl'), readFileSync(join(dir.path, 'feed.jsonl')));
    writeFileSync(join(tree, 'b.json'), readFileSync(join(dir.path, 'broken.json')));
    writeFileSync(join(tree, 'sub', 'c.json'), readFileSync(fixture('misp-stix/test_event1_stix21.json')));
    const runs = [];
    try {
      for (const mode of ['worker', 'inline'] as const) {
        setImportPipelineMode(mode);
        const data = join(dir.path, `data-${mode}`);
        const first = await entente(data, ['import', tree]);
        const again = await entente(data, ['import', tree, '--quiet']);
        const store = openSqliteObjectStore({ path: join(data, 'entente.sqlite') });
        const stored = store.database
          .prepare("SELECT json FROM object_versions WHERE json NOT LIKE '%\"name\":\"Test CERT\"%' ORDER BY vid")
          .pluck()
          .all();
        // The worker hands texts over as bytes: they must still be stored, and indexed, as text.
        const notText = store.database.prepare("SELECT count(*) FROM object_versions WHERE typeof(json) <> 'text'").pluck().get();
        const searchable = store.database.prepare("SELECT count(*) FROM object_text WHERE object_text MATCH 'indicator OR malicious OR test'").pluck().get();
        await store.close();
        assert.equal(notText, 0);
        assert.ok(Number(searchable) > 0);
        runs.push({ first, again, stored, searchable });
      }
    } finally {
      setImportPipelineMode('auto');
    }
    const [worker, inline] = runs;
    assert.ok(worker !== undefined && inline !== undefined);
    const scrub = (text: string): string => text.replace(/collection [0-9a-f-]{36}/g, 'collection X').replace(/data-(worker|inline)/g, 'data');
    assert.equal(worker.first.code, 1);
    assert.equal(scrub(worker.first.stdout), scrub(inline.first.stdout));
    assert.equal(scrub(worker.first.stderr), scrub(inline.first.stderr));
    assert.match(worker.first.stderr, /rejected \S+a\.jsonl line 101 indicator--\S+: \$\.pattern: the STIX pattern is invalid/);
    assert.match(worker.first.stderr, /rejected \S+b\.json: not valid JSON/);
    assert.match(worker.again.stdout, /^0 accepted, \d+ duplicate, 3 rejected/);
    assert.equal(scrub(worker.again.stdout), scrub(inline.again.stdout));
    assert.ok(worker.stored.length > 200);
    assert.deepEqual(worker.stored, inline.stored);
    assert.equal(worker.searchable, inline.searchable);
  });

  describe('a bundle file streamed as it is read (streamDocumentsUpTo)', () => {
    const streaming: PipelineOptions = { ...options, streamDocumentsUpTo: 64 * 1024 * 1024 };
    const random = createRandom(11);
    const indicators = Array.from({ length: 230 }, (_, index) => generateIndicator(index, random));
    const write = (name: string, text: string): ImportInput => {
      writeFileSync(join(dir.path, name), text);
      return { kind: 'document', path: join(dir.path, name), size: Buffer.byteLength(text) };
    };
    const kinds = (steps: readonly ImportStep[]): string[] => steps.map((step) => (step.kind === 'batch' ? `batch ${step.batch.versions.length + step.batch.rejections.length}` : step.kind));

    it('gives document-begin, batches as the file is read, then document-end; the same versions as read whole, in a worker too', async () => {
      const bundle = write('streamed.json', JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [...indicators.slice(0, 100), { id: 'x' }, ...indicators.slice(100)] }, null, 2));
      const steps = await collectSteps(prepareImportSteps([bundle], streaming));
      // Sizes count the elements read, the one that is no STIX object (a problem) included.
      assert.deepEqual(kinds(steps), ['document-begin', 'batch 7', 'batch 14', 'batch 28', 'batch 50', 'batch 49', 'batch 50', 'batch 32', 'document-end']);
      const batches = steps.flatMap((step) => (step.kind === 'batch' ? [step.batch] : []));
      const whole = await collect(prepareImportBatches([bundle], options));
      assert.deepEqual(batches.flatMap((batch) => batch.versions), whole.flatMap((batch) => batch.versions));
      assert.deepEqual(batches.flatMap((batch) => batch.problems), whole.flatMap((batch) => batch.problems));
      assert.match(batches.flatMap((batch) => batch.problems)[0] ?? '', /^objects\[100\]: x: a STIX object needs a string "type"/);
      assert.equal(batches.reduce((sum, batch) => sum + batch.bytes, 0), bundle.kind === 'document' ? bundle.size : 0);
      assert.deepEqual(await collectSteps(prepareImportStepsInWorker([bundle], streaming)), steps);
    });

    it('undoes a document found damaged at its end, then reads it whole, which names the problem', async () => {
      const text = JSON.stringify({ type: 'bundle', objects: indicators });
      const damaged = write('damaged.json', text.slice(0, -2) + ',]');
      const steps = await collectSteps(prepareImportSteps([damaged], streaming));
      const undo = kinds(steps).indexOf('document-undo');
      assert.ok(undo > 4, `batches were handed over before the damage was found: ${kinds(steps).join(', ')}`);
      assert.deepEqual(kinds(steps).slice(undo), ['document-undo', 'batch 0']);
      const last = steps.at(-1);
      assert.ok(last?.kind === 'batch');
      assert.match(last.batch.problems[0] ?? '', /not valid JSON/);
      assert.deepEqual(await collectSteps(prepareImportStepsInWorker([damaged], streaming)), steps);
    });

    it('undoes a document at its first STIX 2.0 object, then reads it whole: 2.0 objects are upgraded together', async () => {
      const stix20 = { type: 'malware', id: 'malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc', created: '2020-01-01T00:00:00.000Z', modified: '2020-01-01T00:00:00.000Z', labels: ['trojan'], name: 'n' };
      const mixed = write('mixed.json', JSON.stringify({ type: 'bundle', objects: [...indicators.slice(0, 60), stix20, ...indicators.slice(60)] }));
      const steps = await collectSteps(prepareImportSteps([mixed], streaming));
      const undo = kinds(steps).indexOf('document-undo');
      assert.deepEqual(kinds(steps).slice(0, undo), ['document-begin', 'batch 7', 'batch 14', 'batch 28']);
      const after = steps.slice(undo + 1).flatMap((step) => (step.kind === 'batch' ? step.batch.versions : []));
      assert.equal(after.length, 231);
      assert.ok(after.some((version) => version.type === 'malware' && textOf(version.json).includes('"spec_version":"2.1"')));
    });

    it('hands a batch too large for a slot over in parts, and an object larger than a slot as strings', async () => {
      const large = { ...indicators[0], id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', description: 'é'.repeat(5000) };
      const bundle = write('slots.json', JSON.stringify({ type: 'bundle', objects: [...indicators.slice(1, 120), large, ...indicators.slice(120)] }));
      const inline = await collectSteps(prepareImportSteps([bundle], streaming));
      const parts = await collectSteps(prepareImportStepsInWorker([bundle], streaming, 4096));
      const versionsOf = (steps: readonly ImportStep[]): PreparedVersion[] => steps.flatMap((step) => (step.kind === 'batch' ? step.batch.versions : []));
      assert.deepEqual(versionsOf(parts), versionsOf(inline));
      assert.ok(parts.length > inline.length + 10, `${parts.length} steps in parts against ${inline.length}`);
      assert.deepEqual(
        parts.flatMap((step) => (step.kind === 'batch' ? step.batch.problems : [])),
        inline.flatMap((step) => (step.kind === 'batch' ? step.batch.problems : [])),
      );
      const bytes = (steps: readonly ImportStep[]): number => steps.reduce((sum, step) => sum + (step.kind === 'batch' ? step.batch.bytes : 0), 0);
      assert.equal(bytes(parts), bytes(inline));
    });
  });

  it('entente import stores nothing of a bundle damaged at its end, and says so once', async () => {
    const random = createRandom(5);
    const text = JSON.stringify({ type: 'bundle', objects: Array.from({ length: 3000 }, (_, index) => generateIndicator(index, random)) });
    const file = join(dir.path, 'cut.json');
    writeFileSync(file, text.slice(0, -100));
    for (const mode of ['worker', 'inline'] as const) {
      setImportPipelineMode(mode);
      try {
        const data = join(dir.path, `data-cut-${mode}`);
        const run = await entente(data, ['import', file]);
        assert.equal(run.code, 1, run.stderr);
        assert.match(run.stdout, /^0 accepted, 0 duplicate, 1 rejected/);
        assert.equal(run.stderr.match(/not valid JSON/g)?.length, 1, run.stderr);
        const store = openSqliteObjectStore({ path: join(data, 'entente.sqlite') });
        const indicatorsStored = store.database.prepare("SELECT count(*) FROM object_versions WHERE type = 'indicator'").pluck().get();
        await store.close();
        assert.equal(indicatorsStored, 0);
      } finally {
        setImportPipelineMode('auto');
      }
    }
  });
});
