import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/..): children run from there so that relative paths resolve. */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** What bench/measure-child.mjs prints as its last stderr line. */
export interface ChildMeasure {
  /** Peak resident set size, KiB (process.resourceUsage().maxRSS). */
  readonly maxRssKb: number;
  /** Duration of the CLI command inside the child: no Node start-up, no module loading. */
  readonly commandMs: number;
  readonly exitCode: number;
}

export interface MeasuredRun {
  /** Spawn to exit, as seen from the parent. */
  readonly wallMs: number;
  readonly exitCode: number | null;
  readonly stdout: string;
  /** The last lines of stderr (a large import may print many rejections). */
  readonly stderrTail: readonly string[];
  readonly measure: ChildMeasure | undefined;
}

/** The environment of a child: ours without ENTENTE_* settings, so that only the flags configure it. */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('ENTENTE_')) env[key] = value;
  return env;
}

/** `--cpu-prof` flags when BENCH_CPU_PROF names a directory for the children's profiles. */
export function cpuProfileFlags(label: string): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  if (dir === undefined || dir === '') return [];
  return ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${label}-${Date.now()}.cpuprofile`];
}

const tailLength = 40;

function isChildMeasure(value: unknown): value is ChildMeasure {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['maxRssKb'] === 'number' && typeof record['commandMs'] === 'number' && typeof record['exitCode'] === 'number';
}

function parseMeasure(line: string): ChildMeasure | undefined {
  if (!line.startsWith('{"measure":')) return undefined;
  try {
    const parsed = JSON.parse(line) as { measure?: unknown };
    return isChildMeasure(parsed.measure) ? parsed.measure : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `entente ARGS…` in a child through bench/measure-child.mjs (the bundle of the sources, as
 * bin/entente.js runs it) and times it from spawn to exit.
 * Gives up (SIGKILL) after `timeoutMs`.
 */
export async function runMeasuredCli(args: readonly string[], options: { label: string; timeoutMs: number }): Promise<MeasuredRun> {
  const nodeArgs = [...cpuProfileFlags(options.label), join('bench', 'measure-child.mjs'), ...args];
  const started = performance.now();
  const child = spawn(process.execPath, nodeArgs, { cwd: repoRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderrRest = '';
  const tail: string[] = [];
  let measure: ChildMeasure | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (stdout.length < 1_000_000) stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderrRest += chunk;
    const lines = stderrRest.split('\n');
    stderrRest = lines.pop() ?? '';
    for (const line of lines) {
      measure = parseMeasure(line) ?? measure;
      tail.push(line);
      if (tail.length > tailLength) tail.shift();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  const wallMs = performance.now() - started;
  if (stderrRest !== '') {
    measure = parseMeasure(stderrRest) ?? measure;
    tail.push(stderrRest);
  }
  return { wallMs, exitCode, stdout, stderrTail: tail, measure };
}

export interface ServerChild {
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

/** Starts `entente start --port 0` on `dataDir` as its own process and waits for its "listening on" line. */
export async function startServerChild(dataDir: string, options: { label: string; timeoutMs: number; workers?: number }): Promise<ServerChild> {
  const nodeArgs = [
    ...cpuProfileFlags(options.label),
    join('bin', 'entente.js'),
    'start',
    '--data',
    dataDir,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--log-level',
    'warn',
    ...(options.workers !== undefined && options.workers > 1 ? ['--workers', String(options.workers)] : []),
  ];
  const child = spawn(process.execPath, nodeArgs, { cwd: repoRoot, env: childEnv(), stdio: ['ignore', 'inherit', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the node did not report "listening on" within ${options.timeoutMs} ms; stderr:\n${seen}`));
    }, options.timeoutMs);
    child.stderr.setEncoding('utf8');
    const onData = (chunk: string): void => {
      seen += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stderr.on('data', onData);
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the node exited (code ${String(code)}) before listening; stderr:\n${seen}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  // Keep forwarding the server's warnings and errors once it runs.
  child.stderr?.removeAllListeners('data');
  child.stderr?.on('data', (chunk: string) => process.stderr.write(`[node] ${chunk}`));
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
