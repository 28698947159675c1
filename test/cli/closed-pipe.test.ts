import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const launcher = new URL('../../bin/entente.js', import.meta.url).pathname;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs `entente ARGS…` with one of its output pipes closed by the reader before the command writes
 * anything, as `entente --help | head -1` does once head has its line. Closed at once rather than
 * after a first chunk: a command whose output fits in one or two writes could otherwise finish
 * before the reader goes, and the test would pass without the fix.
 */
async function runWithClosedPipe(args: readonly string[], closed: 'stdout' | 'stderr', env: Readonly<Record<string, string>> = {}): Promise<Exit> {
  const child = spawn(process.execPath, [launcher, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  if (closed === 'stdout') {
    child.stdout.destroy();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  } else {
    child.stderr.destroy();
    child.stdout.resume();
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`entente ${args.join(' ')} did not exit in 60 s`));
    }, 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('entente writing to a pipe whose reader has gone', () => {
  it('exits quietly with the status of the command (help: 0), no EPIPE stack trace', async () => {
    const exit = await runWithClosedPipe(['--help'], 'stdout');
    assert.equal(exit.stderr, '');
    assert.deepEqual([exit.code, exit.signal], [0, null]);
  });

  it('does so when the command runs through tsx (ENTENTE_RUN_SOURCES=1)', async () => {
    const exit = await runWithClosedPipe(['export', '--help'], 'stdout', { ENTENTE_RUN_SOURCES: '1' });
    assert.equal(exit.stderr, '');
    assert.deepEqual([exit.code, exit.signal], [0, null]);
  });

  it('exits with the usage status when stderr is the closed pipe (not 1, the status of a crash)', async () => {
    const exit = await runWithClosedPipe(['no-such-command'], 'stderr');
    assert.deepEqual([exit.code, exit.signal], [2, null]);
  });
});
