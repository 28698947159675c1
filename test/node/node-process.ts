import { spawn, type ChildProcess } from 'node:child_process';

// As a user starts it: bin/entente.js runs the bundle of the sources (built on the first start).
const launcher = new URL('../../bin/entente.js', import.meta.url).pathname;

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

/** Starts `entente start ARGS…` as a real process and waits for its "listening on" line. */
export async function startNodeProcess(args: readonly string[], env: Readonly<Record<string, string>>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [launcher, 'start', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
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
  return { child, url, output: () => output };
}

export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>>): ChildProcess {
  return spawn(process.execPath, [launcher, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
