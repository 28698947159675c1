import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUNDLE_ENTRY_POINTS, openSourceBundle } from '../../bin/source-bundle.mjs';
import { temporaryDirectory } from './cli-kit.ts';

const run = promisify(execFile);
const launcher = new URL('../../bin/entente.js', import.meta.url).pathname;

interface Manifest {
  build: string;
  inputs: Record<string, { size: number; mtimeMs: number; sha256: string }>;
}

describe('the bundle of the sources that bin/entente.js runs', () => {
  it('is built once and reused while no source changes; a source touched without change keeps it', async () => {
    const cache = temporaryDirectory('bundle');
    try {
      const built = await openSourceBundle({ cacheDirectory: cache.path });
      if (built.kind !== 'bundle') return assert.fail(built.reason);
      for (const entry of BUNDLE_ENTRY_POINTS) assert.ok(existsSync(built.entry(entry)), entry);
      const again = await openSourceBundle({ cacheDirectory: cache.path });
      assert.equal(again.kind === 'bundle' && again.directory, built.directory, 'a fresh bundle is not rebuilt');

      // As after a checkout that rewrote program.ts with the same content: another time, same hash.
      const manifestPath = join(cache.path, 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      const program = manifest.inputs['src/cli/program.ts'];
      assert.ok(program !== undefined, 'the manifest lists the sources');
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, inputs: { ...manifest.inputs, 'src/cli/program.ts': { ...program, mtimeMs: 1 } } }));
      const touched = await openSourceBundle({ cacheDirectory: cache.path });
      assert.equal(touched.kind === 'bundle' && touched.directory, built.directory);
      const restamped = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      assert.deepEqual(restamped.inputs['src/cli/program.ts'], program, 'stamped again with its real time, so that later starts need not hash it');
    } finally {
      cache.remove();
    }
  });

  it('is rebuilt into a new directory when the content of a source differs from what it was built from', async () => {
    const cache = temporaryDirectory('bundle');
    try {
      const built = await openSourceBundle({ cacheDirectory: cache.path });
      if (built.kind !== 'bundle') return assert.fail(built.reason);
      const manifestPath = join(cache.path, 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      const validator = manifest.inputs['src/stix/validate.ts'];
      assert.ok(validator !== undefined);
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, inputs: { ...manifest.inputs, 'src/stix/validate.ts': { ...validator, mtimeMs: 1, sha256: 'edited' } } }));
      const rebuilt = await openSourceBundle({ cacheDirectory: cache.path });
      if (rebuilt.kind !== 'bundle') return assert.fail(rebuilt.reason);
      assert.notEqual(rebuilt.directory, built.directory);
      assert.equal((JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest).inputs['src/stix/validate.ts']?.sha256, validator.sha256);
      // The previous build stays for a minute: a process that read the old manifest may still be loading it.
      assert.equal(readdirSync(cache.path).filter((name) => name.startsWith('build-')).length, 2);
    } finally {
      cache.remove();
    }
  });

  it('keeps import.meta naming the source files, so that shipped data is found beside the sources', async () => {
    const built = await openSourceBundle();
    if (built.kind !== 'bundle') return assert.fail(built.reason);
    const files = readdirSync(built.directory, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.js'));
    for (const file of files) {
      const text = readFileSync(join(built.directory, file), 'utf8');
      assert.doesNotMatch(text, /import\.meta\.(url|dirname|filename)/, file);
    }
    const dir = temporaryDirectory('bundle-run');
    try {
      const report = join(dir.path, 'report.txt');
      writeFileSync(report, 'The implant beaconed to hxxp://update-check[.]ru/gate.php from 203.0.113.7 and 45.77.12.9.\n');
      // extract reads the shipped public-suffix list and warninglists; the bundle must find them.
      const { stdout } = await run(process.execPath, [launcher, 'extract', report, '--json', '--data', join(dir.path, 'data')], { env: { ...process.env, ENTENTE_ORG_NAME: 'Bundle CERT' } });
      const result = JSON.parse(stdout) as { observables: { type: string; value: string; suppressed?: unknown }[] };
      const values = result.observables.map((item) => `${item.type} ${item.value}${item.suppressed === undefined ? '' : ' (suppressed)'}`);
      assert.ok(values.includes('url http://update-check.ru/gate.php'), values.join('\n'));
      assert.ok(values.includes('ipv4-addr 203.0.113.7 (suppressed)'), values.join('\n'));
    } finally {
      dir.remove();
    }
  });

  it('is reported missing, with the reason, when the cache cannot be written (the launcher then runs the sources)', async () => {
    const dir = temporaryDirectory('bundle-readonly');
    try {
      const notADirectory = join(dir.path, 'file');
      writeFileSync(notADirectory, '');
      const missing = await openSourceBundle({ cacheDirectory: join(notADirectory, 'bundle') });
      assert.equal(missing.kind, 'sources');
      if (missing.kind === 'sources') assert.match(missing.reason, /ENOTDIR/);
    } finally {
      dir.remove();
    }
  });

  it('runs through tsx when asked (ENTENTE_RUN_SOURCES=1), with the same commands', async () => {
    const { stdout, stderr } = await run(process.execPath, [launcher, '--help'], { env: { ...process.env, ENTENTE_RUN_SOURCES: '1', ENTENTE_DEBUG_BUNDLE: '1' } });
    assert.match(stderr, /running the sources through tsx: ENTENTE_RUN_SOURCES=1/);
    assert.match(stdout, /Usage: entente/);
  });

  it('is rebuilt when the checkout has moved (the bundle names the sources by absolute path) or a build input changed', async () => {
    const cache = temporaryDirectory('bundle');
    try {
      const built = await openSourceBundle({ cacheDirectory: cache.path });
      if (built.kind !== 'bundle') return assert.fail(built.reason);
      const manifestPath = join(cache.path, 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest & { root: string };
      for (const input of ['tsconfig.json', 'package.json', 'bin/source-bundle.mjs']) assert.ok(input in manifest.inputs, input);
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, root: '/elsewhere' }));
      const moved = await openSourceBundle({ cacheDirectory: cache.path });
      assert.notEqual(moved.kind === 'bundle' && moved.directory, built.directory);
      const tsconfig = manifest.inputs['tsconfig.json'];
      assert.ok(tsconfig !== undefined);
      const current = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      writeFileSync(manifestPath, JSON.stringify({ ...current, inputs: { ...current.inputs, 'tsconfig.json': { ...tsconfig, size: tsconfig.size + 1 } } }));
      const reconfigured = await openSourceBundle({ cacheDirectory: cache.path });
      assert.notEqual(reconfigured.kind === 'bundle' && reconfigured.directory, moved.kind === 'bundle' && moved.directory);
    } finally {
      cache.remove();
    }
  });
});
