import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { bundleWorkerModule, lastWorkerLoading, startTypeScriptWorker } from '../../src/store/typescript-worker.ts';
import { temporaryDirectory } from '../cli/cli-kit.ts';

async function withTempDir(run: (path: string) => Promise<void>): Promise<void> {
  const dir = temporaryDirectory('worker-bundle');
  try {
    await run(dir.path);
  } finally {
    dir.remove();
  }
}

const echoWorker = new URL('../fixtures/workers/echo-worker.ts', import.meta.url);
const importMetaWorker = new URL('../fixtures/workers/import-meta-worker.ts', import.meta.url);

describe('TypeScript worker threads', () => {
  it('bundles a worker module with the modules it imports, and reuses the bundle while its sources are unchanged', async () => {
    await withTempDir(async (cache) => {
      const built = bundleWorkerModule(echoWorker, cache);
      assert.equal(built.kind, 'bundle', JSON.stringify(built));
      if (built.kind !== 'bundle') return;
      const bundle = readFileSync(built.path, 'utf8');
      assert.match(bundle, /hello from a worker/, 'the imported module is in the bundle');
      const builtAt = statSync(built.path).mtimeMs;
      const again = bundleWorkerModule(echoWorker, cache);
      assert.deepEqual(again, built);
      assert.equal(statSync(built.path).mtimeMs, builtAt, 'a fresh bundle is not rebuilt');
    });
  });

  it('rebuilds the bundle when the content of one of its sources no longer matches', async () => {
    await withTempDir(async (cache) => {
      const built = bundleWorkerModule(echoWorker, cache);
      if (built.kind !== 'bundle') return assert.fail(JSON.stringify(built));
      const manifestPath = built.path.replace(/\.mjs$/, '.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { inputs: Record<string, string> };
      const greetingInput = Object.keys(manifest.inputs).find((input) => input.endsWith('echo-greeting.ts'));
      assert.ok(greetingInput !== undefined, 'the manifest lists the imported module');
      // As if echo-greeting.ts had been edited since the bundle was built.
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, inputs: { ...manifest.inputs, [greetingInput]: 'stale' } }));
      writeFileSync(built.path, 'export function echo() { throw new Error("stale bundle"); }');
      assert.deepEqual(bundleWorkerModule(echoWorker, cache), built);
      assert.match(readFileSync(built.path, 'utf8'), /hello from a worker/);
      assert.notEqual((JSON.parse(readFileSync(manifestPath, 'utf8')) as { inputs: Record<string, string> }).inputs[greetingInput], 'stale');
    });
  });

  it('does not bundle a module that reads import.meta, which would then point at the cache', async () => {
    await withTempDir(async (cache) => {
      const loading = bundleWorkerModule(importMetaWorker, cache);
      assert.equal(loading.kind, 'tsx');
      if (loading.kind === 'tsx') assert.match(loading.reason, /import\.meta/);
    });
  });

  it('runs the entry of a bundled worker with its workerData', async () => {
    const worker = startTypeScriptWorker(echoWorker, 'echo', { workerData: { n: 42 } });
    const [message] = (await once(worker, 'message')) as [unknown];
    await worker.terminate();
    assert.equal(lastWorkerLoading()?.kind, 'bundle');
    assert.deepEqual(message, { greeting: 'hello from a worker', data: { n: 42 } });
  });

  it('runs a module it cannot bundle through tsx instead, where import.meta names the source', async () => {
    const worker = startTypeScriptWorker(importMetaWorker, 'whereAmI', {});
    const [message] = (await once(worker, 'message')) as [unknown];
    await worker.terminate();
    assert.equal(lastWorkerLoading()?.kind, 'tsx');
    assert.equal(message, importMetaWorker.href);
  });
});
