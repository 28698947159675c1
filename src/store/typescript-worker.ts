import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Worker threads on the project's TypeScript modules, started without the tsx loader.
 *
 * Why: Node 20 does not carry the main thread's tsx loader over to a worker. Registering it there
 * cost about 570 ms of CPU before the worker ran its first line (a loader thread of its own, every
 * module resolved and compiled again through it), more than the whole overlap a worker buys on
 * ATT&CK Enterprise. esbuild, the compiler tsx itself runs, bundles the worker's module graph into
 * one ESM file instead, ready in about 80 ms. The bundle is cached under node_modules/.cache and
 * rebuilt whenever the content of any of its sources changes (a hash per source, checked at each
 * start: a stale worker would run code the main thread no longer has). Packages stay external and
 * load from node_modules as usual.
 *
 * When the bundle cannot be made (no writable cache, a module that needs `import.meta`, which
 * would then point at the bundle), the worker registers tsx as before: slower, same behaviour.
 */

/** What a bundle was built from: esbuild's version and the hash of each source, relative to the repository. */
interface BundleManifest {
  readonly esbuild: string;
  readonly inputs: Readonly<Record<string, string>>;
}

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const defaultCacheDirectory = join(repositoryRoot, 'node_modules', '.cache', 'entente', 'workers');

/** How the last started worker was loaded, and why not from a bundle: for tests and diagnostics. */
export type WorkerLoading = { readonly kind: 'bundle'; readonly path: string } | { readonly kind: 'tsx'; readonly reason: string };

let lastLoading: WorkerLoading | undefined;

export function lastWorkerLoading(): WorkerLoading | undefined {
  return lastLoading;
}

/**
 * Starts a worker thread that imports `module` (a .ts file of this repository) and calls its export
 * `entry` with no arguments; `options` as for `new Worker` (workerData, stdout, …).
 */
export function startTypeScriptWorker(module: URL, entry: string, options: Omit<WorkerOptions, 'eval'>): Worker {
  lastLoading = bundleWorkerModule(module);
  const target = lastLoading.kind === 'bundle' ? pathToFileURL(lastLoading.path).href : module.href;
  const load =
    lastLoading.kind === 'bundle'
      ? `import(${JSON.stringify(target)})`
      : `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(`${load}.then((loaded) => loaded[${JSON.stringify(entry)}]())`, { ...options, eval: true });
}

/**
 * The bundle of `module`, built now unless a fresh one is cached in `cacheDirectory`; or why there
 * is none. Never throws: every failure means "load through tsx".
 */
export function bundleWorkerModule(module: URL, cacheDirectory: string = defaultCacheDirectory): WorkerLoading {
  try {
    const source = fileURLToPath(module);
    const name = relative(repositoryRoot, source).replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/\.ts$/, '');
    const bundlePath = join(cacheDirectory, `${name}.mjs`);
    const manifestPath = join(cacheDirectory, `${name}.json`);
    if (isFresh(manifestPath, bundlePath)) return { kind: 'bundle', path: bundlePath };
    return buildBundle(source, bundlePath, manifestPath);
  } catch (error) {
    return { kind: 'tsx', reason: error instanceof Error ? error.message : String(error) };
  }
}

function isFresh(manifestPath: string, bundlePath: string): boolean {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BundleManifest;
  } catch {
    return false;
  }
  if (!existsSync(bundlePath) || manifest.esbuild !== esbuildVersion()) return false;
  for (const [input, hash] of Object.entries(manifest.inputs)) {
    let content: Buffer;
    try {
      content = readFileSync(join(repositoryRoot, input));
    } catch {
      return false;
    }
    if (hashOf(content) !== hash) return false;
  }
  return true;
}

function buildBundle(source: string, bundlePath: string, manifestPath: string): WorkerLoading {
  // Loaded only when a bundle must be (re)built: most starts find a fresh one.
  const esbuild = loadEsbuild();
  const result = esbuild.buildSync({
    entryPoints: [source],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles?.[0]?.text;
  if (output === undefined) return { kind: 'tsx', reason: 'esbuild produced no output' };
  if (output.includes('import.meta')) return { kind: 'tsx', reason: `${basename(source)} uses import.meta, which a bundle would resolve against the cache` };
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile?.inputs ?? {})) {
    const path = resolve(repositoryRoot, input);
    inputs[relative(repositoryRoot, path)] = hashOf(readFileSync(path));
  }
  const manifest: BundleManifest = { esbuild: esbuildVersion(), inputs };
  mkdirSync(dirname(bundlePath), { recursive: true });
  // Written aside and renamed: another process starting the same worker meanwhile sees the old pair or the new one.
  writeAtomically(bundlePath, output);
  writeAtomically(manifestPath, JSON.stringify(manifest));
  return { kind: 'bundle', path: bundlePath };
}

function writeAtomically(path: string, text: string): void {
  const aside = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(aside, text);
  renameSync(aside, path);
}

function hashOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('base64url');
}

type Esbuild = typeof import('esbuild');

let esbuildModule: Esbuild | undefined;

/** Synchronously (buildSync), so that a worker starts in the call that asks for it. */
function loadEsbuild(): Esbuild {
  esbuildModule ??= createRequireFromRoot()('esbuild') as Esbuild;
  return esbuildModule;
}

function esbuildVersion(): string {
  return (JSON.parse(readFileSync(createRequireFromRoot().resolve('esbuild/package.json'), 'utf8')) as { version: string }).version;
}

function createRequireFromRoot(): NodeJS.Require {
  return createRequire(join(repositoryRoot, 'package.json'));
}
