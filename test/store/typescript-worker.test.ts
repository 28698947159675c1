import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lastWorkerLoading, startTypeScriptWorker, workerLoadingOf } from '../../src/store/typescript-worker.ts';
import { openSourceBundle } from '../../bin/source-bundle.mjs';

const echoWorker = new URL('../fixtures/workers/echo-worker.ts', import.meta.url);
const importWorker = new URL('../../src/store/import-worker.ts', import.meta.url);

describe('TypeScript worker threads', () => {
  it('start from the bundle of the sources when the process runs from it, and through tsx otherwise', async () => {
    assert.equal(workerLoadingOf(importWorker, {}).kind, 'tsx');
    const bundle = await openSourceBundle();
    if (bundle.kind !== 'bundle') return assert.fail(`no bundle: ${bundle.reason}`);
    const loading = workerLoadingOf(importWorker, { ENTENTE_BUNDLE_DIR: bundle.directory });
    assert.equal(loading.kind, 'bundle');
    if (loading.kind === 'bundle') assert.ok(existsSync(loading.path));
    const notAnEntry = workerLoadingOf(echoWorker, { ENTENTE_BUNDLE_DIR: bundle.directory });
    assert.equal(notAnEntry.kind, 'tsx');
    if (notAnEntry.kind === 'tsx') assert.match(notAnEntry.reason, /echo-worker\.ts is not an entry point of the bundle/);
  });

  it('runs the entry of a module through tsx with its workerData, imports included', async () => {
    const worker = startTypeScriptWorker(echoWorker, 'echo', { workerData: { n: 42 } });
    const [message] = (await once(worker, 'message')) as [unknown];
    await worker.terminate();
    assert.equal(lastWorkerLoading()?.kind, 'tsx');
    assert.deepEqual(message, { greeting: 'hello from a worker', data: { n: 42 } });
  });
});
