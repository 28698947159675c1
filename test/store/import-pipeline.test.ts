import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareImportBatches, type ImportInput, type PipelineOptions, type PreparedBatch } from '../../src/store/import-pipeline.ts';
import { prepareImportBatchesInWorker } from '../../src/store/import-in-worker.ts';
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

/** Batches without the versions' derived fields that carry random UUIDs (STIX 2.0 upgrades mint ids). */
function comparable(batches: readonly PreparedBatch[]): unknown {
  return batches.map((batch) => ({ ...batch, versions: batch.versions.map((version) => (version.json.includes('"spec_version":"2.1"') ? version : version.id.split('--')[0])) }));
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
    const worker = await collect(prepareImportBatchesInWorker(inputs, options));
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
      const worker = await collect(prepareImportBatchesInWorker(inputs, options));
      assert.equal(lastWorkerLoading()?.kind, 'bundle');
      assert.deepEqual(comparable(worker), comparable(await collect(prepareImportBatches(inputs, options))));
    } finally {
      if (previous === undefined) delete process.env['ENTENTE_BUNDLE_DIR'];
      else process.env['ENTENTE_BUNDLE_DIR'] = previous;
    }
  });

  it('rethrows an error of the worker with its code, and stops the worker when the caller stops early', async () => {
    await assert.rejects(collect(prepareImportBatchesInWorker([{ kind: 'document', path: join(dir.path, 'absent.json'), size: 0 }], options)), { code: 'ENOENT' });
    for await (const batch of prepareImportBatchesInWorker(inputs, options)) {
      assert.ok(batch.versions.length > 0);
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
        await store.close();
        runs.push({ first, again, stored });
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
  });
});
