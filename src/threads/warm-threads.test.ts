import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { EntenteError } from '../errors/entente-error.ts';
import { WarmThreads } from './warm-threads.ts';

// A thread that answers each message with the same message: enough to tell threads apart.
const ECHO = "require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));";
const echo = (): Worker => new Worker(ECHO, { eval: true });
function ask(worker: Worker, message: unknown): Promise<unknown> {
  const answered = new Promise((resolve) => worker.once('message', resolve));
  worker.postMessage(message);
  return answered;
}
const exited = (worker: Worker): Promise<number> => new Promise((resolve) => worker.once('exit', resolve));

describe('warm worker threads (WarmThreads)', () => {
  const pools: WarmThreads<number>[] = [];
  const poolOf = (maxIdle?: number): WarmThreads<number> => {
    const pool = new WarmThreads<number>(() => echo(), maxIdle);
    pools.push(pool);
    return pool;
  };
  after(() => Promise.all(pools.map((pool) => pool.close())));

  it('lends a thread given back to the next job of the same kind, and starts one for another kind', async () => {
    const pool = poolOf();
    const first = pool.take(64);
    assert.equal(await ask(first, 1), 1);
    pool.giveBack(first);
    assert.deepEqual([pool.started, pool.idle], [1, 1]);
    assert.equal(pool.take(64), first, 'the warm thread');
    pool.giveBack(first);
    const other = pool.take(128);
    assert.notEqual(other, first, 'a thread of another heap is not lent for this one');
    assert.deepEqual([pool.started, pool.idle], [2, 1]);
    pool.giveBack(other);
  });

  it('ends a thread discarded, never lending it again', async () => {
    const pool = poolOf();
    const worker = pool.take(64);
    const end = exited(worker);
    await pool.discard(worker);
    await end;
    const next = pool.take(64);
    assert.notEqual(next, worker);
    assert.deepEqual([pool.started, pool.idle], [2, 0]);
    pool.giveBack(next);
  });

  it('keeps at most maxIdle threads, ending the oldest', async () => {
    const pool = poolOf(1);
    const [a, b] = [pool.take(64), pool.take(64)] as [Worker, Worker];
    const end = exited(a);
    pool.giveBack(a);
    pool.giveBack(b);
    await end;
    assert.deepEqual([pool.started, pool.idle], [2, 1]);
    assert.equal(pool.take(64), b);
    pool.giveBack(b);
  });

  it('forgets an idle thread that died, and ignores a thread given back after it exited', async () => {
    const pool = poolOf();
    const worker = pool.take(64);
    pool.giveBack(worker);
    await worker.terminate();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pool.idle, 0);
    pool.giveBack(worker);
    assert.equal(pool.idle, 0);
  });

  it('ends the idle threads on close, and a thread given back afterwards', async () => {
    const pool = poolOf();
    const [idle, busy] = [pool.take(64), pool.take(64)] as [Worker, Worker];
    pool.giveBack(idle);
    const ends = [exited(idle), exited(busy)];
    await pool.close();
    assert.equal(pool.closed, true);
    pool.giveBack(busy);
    await Promise.all(ends);
    assert.equal(pool.idle, 0);
  });

  it('lends no thread once closed: 503 ENT_NODE_SHUTTING_DOWN, and no thread is started only to be ended', async () => {
    const pool = poolOf();
    await pool.close();
    assert.throws(() => pool.take(64), (error: unknown) => {
      assert.ok(error instanceof EntenteError, String(error));
      assert.deepEqual([error.code, error.status], ['ENT_NODE_SHUTTING_DOWN', 503]);
      return true;
    });
    assert.equal(pool.started, 0);
  });
});
