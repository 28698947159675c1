import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';

/**
 * Runs `script` (a TypeScript racer that opens the store, prints `ready`, waits for `go` on its
 * standard input, does its work and prints its result as JSON) in `count` processes on the SQLite file
 * at `path`, for real: the test holds the write lock while they set off, so every one of them reads the
 * store before any can write, the widest a race between processes can be. Resolves with each racer's
 * result; a racer that fails or exits early fails the test with its standard error.
 */
export async function raceProcesses<Result>(path: string, script: string, args: readonly string[], count: number): Promise<Result[]> {
  const ready = await Promise.all(Array.from({ length: count }, () => readyRacer<Result>(script, args)));
  const holder = new Database(path);
  try {
    holder.exec('BEGIN IMMEDIATE');
    for (const { go } of ready) go();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    holder.exec('COMMIT');
  } finally {
    holder.close();
  }
  return Promise.all(ready.map(({ result }) => result));
}

/** A racer process, once it has opened the store and waits for its go. */
async function readyRacer<Result>(script: string, args: readonly string[]): Promise<{ go: () => void; result: Promise<Result> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith('ready\n')) resolve();
    });
    void exited.then(() => reject(new Error(`racer exited before it was ready: ${stderr}`)));
  });
  const result = exited.then((code) => {
    assert.equal(code, 0, `racer failed: ${stderr}`);
    return JSON.parse(stdout.slice('ready\n'.length)) as Result;
  });
  return { go: () => child.stdin.end('go\n'), result };
}
