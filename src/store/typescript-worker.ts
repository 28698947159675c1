import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Worker threads on the project's TypeScript modules.
 *
 * A process started by bin/entente.js runs the bundle of the sources (bin/source-bundle.mjs) and
 * names its directory in ENTENTE_BUNDLE_DIR; a worker on one of the bundle's entry points then starts
 * from that bundle, ready in about 80 ms. Otherwise (the tests, which run the sources through tsx)
 * the worker registers tsx before importing the module: the same code, but Node 20 does not carry
 * the main thread's loader over, and loading it again cost about 570 ms of CPU before the worker's
 * first line.
 */

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How a worker on `module` is loaded: from the bundle's file, or through tsx (and why). */
export type WorkerLoading = { readonly kind: 'bundle'; readonly path: string } | { readonly kind: 'tsx'; readonly reason: string };

export function workerLoadingOf(module: URL, env: NodeJS.ProcessEnv = process.env): WorkerLoading {
  const bundleDirectory = env['ENTENTE_BUNDLE_DIR'];
  if (bundleDirectory === undefined || bundleDirectory === '') return { kind: 'tsx', reason: 'this process runs the sources, not a bundle' };
  if (!existsSync(bundleDirectory)) return { kind: 'tsx', reason: `the bundle ${bundleDirectory} is gone` };
  const source = relative(repositoryRoot, fileURLToPath(module));
  const path = join(bundleDirectory, source.replace(/\.ts$/, '.js'));
  return existsSync(path) ? { kind: 'bundle', path } : { kind: 'tsx', reason: `${source} is not an entry point of the bundle` };
}

let lastLoading: WorkerLoading | undefined;

/** How the last worker started by this process was loaded: for tests and diagnostics. */
export function lastWorkerLoading(): WorkerLoading | undefined {
  return lastLoading;
}

/**
 * Starts a worker thread that imports `module` (a .ts file of this repository) and calls its export
 * `entry` with no arguments; `options` as for `new Worker` (workerData, stdout, …).
 */
export function startTypeScriptWorker(module: URL, entry: string, options: Omit<WorkerOptions, 'eval'>): Worker {
  const loading = workerLoadingOf(module);
  lastLoading = loading;
  const load =
    loading.kind === 'bundle'
      ? `import(${JSON.stringify(pathToFileURL(loading.path).href)})`
      : `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(`${load}.then((loaded) => loaded[${JSON.stringify(entry)}]())`, { ...options, eval: true });
}
