import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEntente, temporaryDirectory } from './cli-kit.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A module hook that prints every module URL the process resolves, one `[resolved] URL` line each on stderr. */
const resolveLogger =
  'data:text/javascript,' +
  encodeURIComponent(
    `import { register } from 'node:module';
     register('data:text/javascript,' + encodeURIComponent("export async function resolve(specifier, context, next) { const result = await next(specifier, context); console.error('[resolved] ' + result.url); return result; }"));`,
  );

/** The module URLs `entente ARGS…` loads, run as its own process the way bin/entente.js runs it (tsx). */
function modulesLoadedBy(args: readonly string[]): string[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', resolveLogger, 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '' },
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stderr
    .split('\n')
    .filter((line) => line.startsWith('[resolved] '))
    .map((line) => line.slice('[resolved] '.length));
}

describe('CLI start-up loads only the command it runs', () => {
  it('entente import loads neither the HTTP server, federation transport, the signed-bundle path nor the extractors', () => {
    const data = temporaryDirectory('lazy-import');
    try {
      const file = join(data.path, 'bundle.json');
      const malware = { type: 'malware', spec_version: '2.1', id: 'malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'Lazy', is_family: true };
      writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--6f8a2f0e-2b43-4b8e-9d2a-3f1f7c7b9e10', objects: [malware] }));
      const loaded = modulesLoadedBy(['import', file, '--data', join(data.path, 'node')]);
      assert.ok(loaded.some((url) => url.endsWith('/src/cli/commands/import-command.ts')), 'the import command itself');
      const heavy = loaded.filter((url) => /\/node_modules\/(fastify|pino|pdfjs-dist|parse5|postal-mime)\/|\/src\/(server|extract|taxii|documents)\/|\/src\/cli\/commands\/(start|export|extract|match)-command\.ts$|\/src\/cli\/commands\/import-signed\.ts$|\/src\/federation\/import-signed-bundle\.ts$/.test(url));
      assert.deepEqual(heavy, []);
    } finally {
      data.remove();
    }
  });

  it('entente start loads the server when it runs (the node answers)', () => {
    const loaded = modulesLoadedBy(['start', '--help']);
    assert.ok(loaded.some((url) => url.endsWith('/src/cli/commands/start-command.ts')));
    assert.ok(!loaded.some((url) => url.endsWith('/src/cli/commands/import-command.ts')));
  });

  it('help without a command still lists every command, and a mistyped one is still refused with the usage code', async () => {
    const help = await runEntente(['--help']);
    assert.equal(help.code, 0);
    for (const name of ['start', 'collection', 'token', 'org', 'circle', 'recalls', 'audit', 'import', 'export', 'pattern', 'extract', 'draft', 'match', 'webhook', 'peer', 'sync', 'flash', 'reputation', 'key', 'quarantine']) {
      assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
    const typo = await runEntente(['imprt', 'x.json']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'imprt'/);
    assert.match(typo.stderr, /Did you mean import\?/);
  });
});
