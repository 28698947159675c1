import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSourceBundle } from '../../bin/source-bundle.mjs';
import { temporaryDirectory } from './cli-kit.ts';

const run = promisify(execFile);
/** BUILD_LOCK_PATIENCE_MS of bin/source-bundle.mjs (not exported: bin/source-bundle.d.mts declares what code outside may use). */
const BUILD_LOCK_PATIENCE_MS = 10_000;
const sourceBundle = new URL('../../bin/source-bundle.mjs', import.meta.url).href;

/** Opens the bundle in a process of its own, as `entente` does at its start; prints the build's directory. */
async function openInAnotherProcess(cacheDirectory: string): Promise<string> {
  const script = `const bundle = await (await import(${JSON.stringify(sourceBundle)})).openSourceBundle({ cacheDirectory: ${JSON.stringify(cacheDirectory)} });
process.stdout.write(bundle.kind === 'bundle' ? bundle.directory : 'no bundle: ' + bundle.reason);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout;
}

function builds(cacheDirectory: string): string[] {
  return readdirSync(cacheDirectory).filter((name) => name.startsWith('build-'));
}

/** The pid of a process that has ended, as a builder killed during its build leaves in its lock. */
async function pidOfEndedProcess(): Promise<number> {
  const { stdout } = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(stdout);
}

describe('the lock around a build of the bundle', () => {
  it('lets commands started together build the bundle once and all run that build', async () => {
    const cache = temporaryDirectory('bundle-lock');
    try {
      const directories = await Promise.all([1, 2, 3].map(() => openInAnotherProcess(cache.path)));
      assert.equal(new Set(directories).size, 1, directories.join('\n'));
      assert.ok(directories[0]?.startsWith(cache.path), directories[0]);
      assert.equal(builds(cache.path).length, 1);
      assert.ok(!existsSync(join(cache.path, 'build.lock')), 'the builder removes its lock');
    } finally {
      cache.remove();
    }
  });

  it('does not wait for a lock whose builder was killed, nor for one older than the patience', async () => {
    const cache = temporaryDirectory('bundle-lock');
    const lock = join(cache.path, 'build.lock');
    try {
      writeFileSync(lock, String(await pidOfEndedProcess()));
      let started = Date.now();
      const afterKilled = await openSourceBundle({ cacheDirectory: cache.path });
      assert.equal(afterKilled.kind, 'bundle', afterKilled.kind === 'sources' ? afterKilled.reason : '');
      assert.ok(Date.now() - started < BUILD_LOCK_PATIENCE_MS, `took ${Date.now() - started} ms`);
      assert.ok(!existsSync(lock));

      // A live process (this one) holding a lock this long is stuck, or its pid was reused.
      writeFileSync(lock, String(process.pid));
      const old = (Date.now() - BUILD_LOCK_PATIENCE_MS - 1000) / 1000;
      utimesSync(lock, old, old);
      writeFileSync(join(cache.path, 'manifest.json'), '{}'); // so that it builds again
      started = Date.now();
      const afterOld = await openSourceBundle({ cacheDirectory: cache.path });
      assert.equal(afterOld.kind, 'bundle', afterOld.kind === 'sources' ? afterOld.reason : '');
      assert.ok(Date.now() - started < BUILD_LOCK_PATIENCE_MS, `took ${Date.now() - started} ms`);
      assert.ok(!existsSync(lock));
    } finally {
      cache.remove();
    }
  });

  it('waits for a live builder at most the patience, then builds', async () => {
    const cache = temporaryDirectory('bundle-lock');
    const lock = join(cache.path, 'build.lock');
    try {
      // A live builder's lock that it never removes, 1.5 s short of the patience.
      writeFileSync(lock, String(process.pid));
      const since = (Date.now() - BUILD_LOCK_PATIENCE_MS + 1500) / 1000;
      utimesSync(lock, since, since);
      const started = Date.now();
      const bundle = await openSourceBundle({ cacheDirectory: cache.path });
      const waited = Date.now() - started;
      assert.equal(bundle.kind, 'bundle', bundle.kind === 'sources' ? bundle.reason : '');
      assert.ok(waited >= 1000 && waited < BUILD_LOCK_PATIENCE_MS, `took ${waited} ms`);
      assert.ok(!existsSync(lock));
    } finally {
      cache.remove();
    }
  });
});
