import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

// As a user starts it: bin/entente.js runs the bundle of the sources (built on the first start).
const launcher = new URL('../../bin/entente.js', import.meta.url).pathname;

/** `--cpu-prof` into BENCH_CPU_PROF when it names a directory: how the sync bench's nodes are profiled. */
function cpuProfileFlags(): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', dir];
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

/**
 * Starts `entente start ARGS…` as a real process and waits for its "listening on" line. A start
 * that fails (it exits, or it is not listening in 30 s) stops the process, and rejects only once it
 * has exited: a node left running would fill (or recreate) the data directory a test removes next.
 */
export async function startNodeProcess(args: readonly string[], env: Readonly<Record<string, string>>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...cpuProfileFlags(), launcher, 'start', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start in 30 s:\n${output}`)), 30_000);
    const check = (): void => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stderr?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}:\n${output}`));
    });
  });
  let url: string;
  try {
    url = await listening;
  } catch (error) {
    await stopNodeProcess(child);
    throw error;
  }
  return { child, url, output: () => output };
}

const stopped = new WeakMap<ChildProcess, Promise<number | null>>();

/**
 * Sends SIGTERM (SIGKILL if it is still running after `graceMs`) and resolves with the exit code
 * (null when a signal ended it) once the process has exited; at once for a process that has exited
 * already. A second call waits for the same exit rather than signalling again.
 */
export function stopNodeProcess(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
  let exit = stopped.get(child);
  if (exit === undefined) {
    exit = child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : untilExit(child, graceMs);
    stopped.set(child, exit);
  }
  return exit;
}

async function untilExit(child: ChildProcess, graceMs: number): Promise<number | null> {
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    const [code] = await exited;
    return code;
  } finally {
    clearTimeout(force);
  }
}

export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>>): ChildProcess {
  return spawn(process.execPath, [launcher, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
