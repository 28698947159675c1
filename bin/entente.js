#!/usr/bin/env node
// @ts-check
// Entry point of `npx entente` and `npm start`: runs the CLI from the cached bundle of the sources
// (bin/source-bundle.mjs), rebuilt first if a source changed; through tsx if no bundle can be had.
// ENTENTE_RUN_SOURCES=1 runs the sources through tsx anyway (stack traces name the .ts files).
import { openSourceBundle } from './source-bundle.mjs';

const bundle = process.env['ENTENTE_RUN_SOURCES'] === '1' ? undefined : await openSourceBundle();
if (bundle?.kind === 'bundle') {
  // Worker threads and forked workers (start --workers) start from the same build.
  process.env['ENTENTE_BUNDLE_DIR'] = bundle.directory;
  await import(bundle.entry('src/cli/main.ts'));
} else {
  if (bundle !== undefined && process.env['ENTENTE_DEBUG_BUNDLE'] === '1') process.stderr.write(`entente: running the sources through tsx: ${bundle.reason}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
