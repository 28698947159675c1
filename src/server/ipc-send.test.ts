import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const primary = fileURLToPath(new URL('../../test/node/ipc-send-primary.ts', import.meta.url));

function runPrimary(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', primary, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('messages to a worker of start --workers that is gone', () => {
  it('are dropped, and the caller told, without ending the primary (and with it the node)', () => {
    const run = runPrimary();
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'dropped ERR_IPC_CHANNEL_CLOSED\nalive\n');
  });

  // What the guard is for: Node raises the failed write as an 'error' event nothing listens for.
  it('end the primary when sent without a callback', () => {
    const run = runPrimary('--plain');
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /ERR_IPC_CHANNEL_CLOSED/);
    assert.doesNotMatch(run.stdout, /alive/);
  });
});
