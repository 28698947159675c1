#!/usr/bin/env node
// @ts-check
// Entry point of `npx entente` and `npm start`: runs the CLI from the cached bundle of the sources
// (bin/source-bundle.mjs), rebuilt first if a source changed; through tsx if no bundle can be had.
// ENTENTE_RUN_SOURCES=1 runs the sources through tsx anyway (stack traces name the .ts files);
// ENTENTE_DEBUG_BUNDLE=1 says on stderr why a command runs the sources.
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSourceBundle } from './source-bundle.mjs';

// A reader that stopped reading (`entente --help | head -1`) is no failure of the command: it ends
// quietly, as other programs end by SIGPIPE, with the status it has so far. Node ignores SIGPIPE, so
// the write fails with EPIPE instead, an 'error' event that would crash with a stack trace. Set
// before any command loads, so that it holds for the bundle, the sources through tsx and workers.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (/** @type {NodeJS.ErrnoException} */ error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

const inherited = process.env['ENTENTE_BUNDLE_DIR'];
const inheritedMain = inherited === undefined ? undefined : join(inherited, 'src', 'cli', 'main.js');
if (cluster.isWorker && inheritedMain !== undefined && existsSync(inheritedMain)) {
  // A worker of `start --workers` runs the primary's build, even if a source changed since: the
  // processes of one node speak to each other and must run the same code.
  await import(pathToFileURL(inheritedMain).href);
} else {
  /** @type {Awaited<ReturnType<typeof openSourceBundle>>} */
  const bundle = process.env['ENTENTE_RUN_SOURCES'] === '1' ? { kind: 'sources', reason: 'ENTENTE_RUN_SOURCES=1' } : await openSourceBundle();
  if (bundle.kind === 'bundle') {
    // Worker threads and the workers of `start --workers` start from the same build.
    process.env['ENTENTE_BUNDLE_DIR'] = bundle.directory;
    await import(pathToFileURL(bundle.entry('src/cli/main.ts')).href);
  } else {
    delete process.env['ENTENTE_BUNDLE_DIR'];
    if (process.env['ENTENTE_DEBUG_BUNDLE'] === '1') process.stderr.write(`entente: running the sources through tsx: ${bundle.reason}\n`);
    const { register } = await import('tsx/esm/api');
    register();
    await import('../src/cli/main.ts');
  }
}
