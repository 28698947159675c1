import { PassThrough, Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
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
