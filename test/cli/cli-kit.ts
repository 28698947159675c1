import { PassThrough, Readable } from 'node:stream';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `entente ARGS…` in this process, with the given environment, capturing what it prints. */
export async function runEntente(args: readonly string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let errText = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (errText += chunk.toString()));
  const code = await runCli([...args], {
    stdout,
    stderr,
    stdin: Readable.from([options.stdin ?? '']),
    env: options.env ?? {},
    interactive: false,
    outcome: { partialFailure: false },
  });
  return { code, stdout: out, stderr: errText };
}

/** Runs `entente ARGS…` against the given data directory. */
export async function entente(dataDir: string, args: readonly string[], stdin = ''): Promise<CliRun> {
  return runEntente(args, { env: { ENTENTE_DATA: dataDir, ENTENTE_ORG_NAME: 'Test CERT' }, stdin });
}

export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `entente-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The run, once it is known to have succeeded (exit 0; else its standard error is the message). */
export function succeeded(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run;
}

/**
 * A temporary directory with a node's data directory in it: `run` runs `entente` against that node,
 * `file` writes a file beside it and gives its path; `remove` removes all of it.
 */
export function cliWorkspace(prefix: string): { readonly data: string; run(...args: string[]): Promise<CliRun>; file(name: string, text: string): string; remove(): void } {
  const dir = temporaryDirectory(prefix);
  const data = join(dir.path, 'data');
  return {
    data,
    run: (...args) => entente(data, args),
    file: (name, text) => {
      const path = join(dir.path, name);
      writeFileSync(path, text);
      return path;
    },
    remove: dir.remove,
  };
}
