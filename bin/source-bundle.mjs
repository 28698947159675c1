// @ts-check
/**
 * The TypeScript sources as plain ES modules, bundled by esbuild (the compiler tsx itself runs) and
 * cached under node_modules/.cache/entente/bundle, so that `entente` and `npm start` run JavaScript
 * instead of compiling every module through tsx's loader thread at each start.
 *
 * Why: through tsx, `entente collection list` took 0.94 s (0.78 s of CPU), from the bundle 0.34 s
 * (no round trip to tsx's loader thread per module loaded); a worker thread no longer loads tsx
 * again (about 570 ms of CPU before its first line); an import of 100,000 indicators took about
 * 10 % less CPU (no keepNames wrapper on each function created per call).
 *
 * - Fresh or rebuilt at each start: the manifest lists every source of the bundle (and what else
 *   decides its output: tsconfig.json, package.json, this file) with the size, modification time
 *   and SHA-256 of the very text the build read. Sources whose size and time match are taken as
 *   unchanged; any other is hashed, and a changed hash rebuilds the bundle (0.4-0.8 s), so it never
 *   runs code other than the sources, even when one was saved during a build. A checkout moved
 *   elsewhere rebuilds too: the bundle holds the sources' absolute paths.
 * - `import.meta.url`, `.dirname` and `.filename` in a source keep naming the source file (data
 *   files are found beside the sources, not beside the bundle).
 * - Each build goes to a directory of its own, and the manifest naming it is replaced atomically:
 *   processes starting meanwhile run the old build or the new one, never a mix. Builds are removed
 *   a day after they were replaced, long after any process could still be loading one.
 * - One build at a time: commands started together after a change (a test run, a script) would each
 *   build the same bundle. A builder holds a lock file naming its pid; the others wait for it, then
 *   take its build. A lock never blocks for long: one whose process is gone, or older than
 *   BUILD_LOCK_PATIENCE_MS, is ignored, and a waiter builds anyway after that long.
 * - When no bundle can be built (esbuild missing, a read-only install), the caller runs the sources
 *   through tsx: slower, same behaviour.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const defaultCacheDirectory = join(repositoryRoot, 'node_modules', '.cache', 'entente', 'bundle');
const requireFromRoot = createRequire(join(repositoryRoot, 'package.json'));
/** The modules a process or a worker thread starts from; everything they import comes along, lazy imports as chunks. */
export const BUNDLE_ENTRY_POINTS = ['src/cli/main.ts', 'src/cli/program.ts', 'src/store/import-worker.ts', 'src/drafts/draft-worker.ts'];
/** Files that are not sources of the bundle but decide its output (this file among them: a change of the build options rebuilds). */
const BUILD_INPUTS = ['tsconfig.json', 'package.json', 'bin/source-bundle.mjs'];
/** How long a replaced build is kept. */
const REPLACED_BUILD_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Several times a build (0.4-0.8 s): a lock older than this is taken as left by a stuck or killed builder. */
const BUILD_LOCK_PATIENCE_MS = 10_000;

/**
 * @typedef {{ size: number, mtimeMs: number, sha256: string }} InputStamp
 * @typedef {{ esbuild: string, root: string, build: string, inputs: Record<string, InputStamp> }} BundleManifest
 * @typedef {{ kind: 'bundle', directory: string, entry: (source: string) => string }} SourceBundle
 * @typedef {{ kind: 'sources', reason: string }} NoBundle
 */

/**
 * The bundle of the sources, rebuilt first if any source changed; or why there is none.
 * @param {{ cacheDirectory?: string }} [options]
 * @returns {Promise<SourceBundle | NoBundle>}
 */
export async function openSourceBundle(options = {}) {
  const cacheDirectory = options.cacheDirectory ?? defaultCacheDirectory;
  try {
    const esbuildVersion = readEsbuildVersion();
    const manifestPath = join(cacheDirectory, 'manifest.json');
    const fresh = freshBundle(cacheDirectory, manifestPath, esbuildVersion);
    if (fresh !== undefined) return fresh;
    mkdirSync(cacheDirectory, { recursive: true });
    const lock = await lockBuild(join(cacheDirectory, 'build.lock'));
    try {
      // The builder we waited for has likely built these very sources.
      return freshBundle(cacheDirectory, manifestPath, esbuildVersion) ?? (await buildBundle(cacheDirectory, manifestPath, esbuildVersion));
    } finally {
      lock.release();
    }
  } catch (error) {
    return { kind: 'sources', reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The current build, if the manifest names one built from the sources as they are.
 * @param {string} cacheDirectory
 * @param {string} manifestPath
 * @param {string} esbuildVersion
 * @returns {SourceBundle | undefined}
 */
function freshBundle(cacheDirectory, manifestPath, esbuildVersion) {
  const manifest = readManifest(manifestPath);
  if (manifest === undefined || manifest.esbuild !== esbuildVersion || manifest.root !== repositoryRoot) return undefined;
  const touched = touchedInputs(manifest.inputs);
  if (touched === undefined) return undefined;
  // Same content under new times (a checkout): stamped again, so that later starts need not hash them.
  if (touched.size > 0) writeManifest(manifestPath, { ...manifest, inputs: { ...manifest.inputs, ...Object.fromEntries(touched) } });
  return bundleAt(join(cacheDirectory, manifest.build));
}

/**
 * Holds the build lock, once no live process holds it, or after waiting BUILD_LOCK_PATIENCE_MS
 * without. Not getting it only means building beside another process, as without a lock; so does
 * the race of two waiters removing the same stale lock (the second may remove the first's new one).
 * @param {string} lockPath
 * @returns {Promise<{ release: () => void }>}
 */
async function lockBuild(lockPath) {
  for (const deadline = Date.now() + BUILD_LOCK_PATIENCE_MS; Date.now() < deadline; ) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return {
        release: () => {
          if (readLock(lockPath)?.pid === process.pid) rmSync(lockPath, { force: true });
        },
      };
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') break;
    }
    const held = readLock(lockPath);
    if (held !== undefined && isStale(held)) rmSync(lockPath, { force: true });
    else await sleep(50);
  }
  return { release: () => {} };
}

/**
 * @param {string} lockPath
 * @returns {{ pid: number | undefined, mtimeMs: number } | undefined} undefined when there is none
 */
function readLock(lockPath) {
  try {
    const { mtimeMs } = statSync(lockPath);
    const text = readFileSync(lockPath, 'utf8');
    return { pid: /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined, mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * @param {{ pid: number | undefined, mtimeMs: number }} held
 * @returns {boolean}
 */
function isStale(held) {
  const age = Date.now() - held.mtimeMs;
  if (age > BUILD_LOCK_PATIENCE_MS) return true;
  // Empty between its creation and the write of the pid; empty for longer, its writer was killed.
  if (held.pid === undefined) return age > 1000;
  try {
    process.kill(held.pid, 0);
    return false;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code !== 'EPERM';
  }
}

/**
 * @param {string} directory
 * @returns {SourceBundle}
 */
function bundleAt(directory) {
  return { kind: 'bundle', directory, entry: (source) => join(directory, source.replace(/\.ts$/, '.js')) };
}

/**
 * @param {string} path
 * @returns {BundleManifest | undefined}
 */
function readManifest(path) {
  try {
    return /** @type {BundleManifest} */ (JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * The new stamps of the inputs whose content is unchanged but whose time is not (a checkout, a save
 * without change); undefined when some input changed or is gone.
 * @param {Record<string, InputStamp>} inputs
 * @returns {Map<string, InputStamp> | undefined}
 */
function touchedInputs(inputs) {
  /** @type {Map<string, InputStamp>} */
  const touched = new Map();
  for (const [input, stamp] of Object.entries(inputs)) {
    const path = join(repositoryRoot, input);
    let stats;
    try {
      stats = statSync(path);
    } catch {
      return undefined;
    }
    if (stats.size === stamp.size && stats.mtimeMs === stamp.mtimeMs) continue;
    if (stats.size !== stamp.size) return undefined;
    const now = stampOf(path);
    if (now.sha256 !== stamp.sha256) return undefined;
    touched.set(input, now);
  }
  return touched;
}

/**
 * Written aside and renamed: a process starting meanwhile reads the old manifest or the new one.
 * @param {string} manifestPath
 * @param {BundleManifest} manifest
 */
function writeManifest(manifestPath, manifest) {
  const aside = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify(manifest));
  renameSync(aside, manifestPath);
}

/**
 * @param {string} cacheDirectory
 * @param {string} manifestPath
 * @param {string} esbuildVersion
 * @returns {Promise<SourceBundle | NoBundle>}
 */
async function buildBundle(cacheDirectory, manifestPath, esbuildVersion) {
  /** @type {typeof import('esbuild')} */
  const esbuild = requireFromRoot('esbuild');
  const build = `build-${Date.now().toString(36)}-${process.pid}`;
  const directory = join(cacheDirectory, build);
  mkdirSync(cacheDirectory, { recursive: true });
  /** @type {Map<string, InputStamp>} The stamp of each source as the build read it. */
  const read = new Map();
  const result = await esbuild.build({
    absWorkingDir: repositoryRoot,
    entryPoints: BUNDLE_ENTRY_POINTS,
    outbase: repositoryRoot,
    outdir: directory,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
    plugins: [readSourcesFor(read)],
  });
  /** @type {Record<string, InputStamp>} */
  const inputs = {};
  for (const input of [...Object.keys(result.metafile.inputs), ...BUILD_INPUTS]) {
    const path = resolve(repositoryRoot, input);
    inputs[relative(repositoryRoot, path)] = read.get(path) ?? stampOf(path);
  }
  writeManifest(manifestPath, { esbuild: esbuildVersion, root: repositoryRoot, build, inputs });
  removeOldBuilds(cacheDirectory, build);
  return bundleAt(directory);
}

/**
 * Reads each TypeScript source for esbuild, stamping the text read (`read`, by absolute path), and
 * rewrites `import.meta.url`, `.dirname` and `.filename` to the source's own values, which a bundle
 * would otherwise give as its own file's. Any other use of `import.meta` but `.resolve(` (which
 * resolves packages the same from the cache, inside node_modules) fails the build: the launcher
 * then runs the sources, and the bundle's test says why.
 * @param {Map<string, InputStamp>} read
 * @returns {import('esbuild').Plugin}
 */
function readSourcesFor(read) {
  return {
    name: 'read-sources',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        // Stat first: a save after the read then shows as a newer time, and the next start hashes it.
        const stats = statSync(args.path);
        const content = await readFile(args.path);
        read.set(args.path, { size: stats.size, mtimeMs: stats.mtimeMs, sha256: hashOf(content) });
        const text = content.toString('utf8');
        if (!text.includes('import.meta')) return { contents: text, loader: 'ts' };
        const rewritten = text
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
        if (/import\.meta(?!\.resolve\()/.test(rewritten)) {
          throw new Error(`${relative(repositoryRoot, args.path)} uses import.meta in a way the bundle cannot keep (only .url, .dirname, .filename and .resolve())`);
        }
        return { contents: rewritten, loader: 'ts' };
      });
    },
  };
}

/**
 * Builds replaced more than a day ago, and manifests left aside by a process that stopped while
 * writing one. A build's directory time is its build time, an upper bound of its replacement.
 * @param {string} cacheDirectory
 * @param {string} current
 */
function removeOldBuilds(cacheDirectory, current) {
  const now = Date.now();
  for (const name of readdirSync(cacheDirectory)) {
    const isBuild = name.startsWith('build-') && name !== current;
    if (!isBuild && !name.endsWith('.tmp')) continue;
    const path = join(cacheDirectory, name);
    try {
      if (now - statSync(path).mtimeMs > REPLACED_BUILD_LIFETIME_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

/** @returns {string} */
function readEsbuildVersion() {
  const path = requireFromRoot.resolve('esbuild/package.json');
  return /** @type {{ version: string }} */ (JSON.parse(readFileSync(path, 'utf8'))).version;
}

/**
 * The stamp of a file the plugin did not read (tsconfig.json and the like): stat, then read, as the plugin does.
 * @param {string} path
 * @returns {InputStamp}
 */
function stampOf(path) {
  const stats = statSync(path);
  return { size: stats.size, mtimeMs: stats.mtimeMs, sha256: hashOf(readFileSync(path)) };
}

/**
 * @param {Buffer} content
 * @returns {string}
 */
function hashOf(content) {
  return createHash('sha256').update(content).digest('base64url');
}
