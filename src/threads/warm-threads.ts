// Worker threads kept warm between jobs and lent to one job at a time: the bookkeeping the PDF
// readers' pool (documents/pdf-worker-pool.ts) and the drafting pool (drafts/draft-worker-pool.ts)
// share. Starting a thread and loading what it runs costs a few hundred milliseconds, often more
// than the job, so a thread whose job ended the normal way is given back and lent again.
//
// Each thread is started for a key (its heap limit): it is lent again only for a job with the same
// key. A thread that was killed for a limit, ran out of heap or crashed is discarded by its job and
// never lent again; one that dies while idle leaves the pool. Idle threads do not keep the process
// alive. Once closed, the pool ends its idle threads and every thread given back.
import type { Worker } from 'node:worker_threads';
import { EntenteError } from '../errors/entente-error.ts';

interface IdleThread<K> {
  readonly worker: Worker;
  readonly key: K;
}

export class WarmThreads<K> {
  readonly #start: (key: K) => Worker;
  readonly #maxIdle: number;
  readonly #idle: IdleThread<K>[] = [];
  /** The key of every thread this pool started and has not seen exit. */
  readonly #keyOf = new Map<Worker, K>();
  #started = 0;
  #closed = false;

  /**
   * `start`: a new thread for `key` (its listeners for a job are the job's own); `maxIdle`: threads
   * kept between jobs, the oldest ended past it (unbounded by default).
   */
  constructor(start: (key: K) => Worker, maxIdle = Number.POSITIVE_INFINITY) {
    this.#start = start;
    this.#maxIdle = maxIdle;
  }

  /** Threads started since the pool was made. */
  get started(): number {
    return this.#started;
  }

  /** Threads waiting for a job. */
  get idle(): number {
    return this.#idle.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A thread for one job of `key`: the last one given back for that key, else a new one. The caller
   * owns it until giveBack() or discard(). Once the pool is closed there is none: the job is refused
   * with 503 ENT_NODE_SHUTTING_DOWN (a pool is closed when its owner shuts down), rather than a
   * thread started only to be ended when given back.
   */
  take(key: K): Worker {
    if (this.#closed) throw shuttingDown('the worker threads are closed');
    const at = this.#idle.findLastIndex((thread) => thread.key === key);
    const found = at >= 0 ? this.#idle.splice(at, 1)[0] : undefined;
    const worker = found?.worker ?? this.#startThread(key);
    worker.ref();
    return worker;
  }

  /** Keeps a thread whose job ended normally for the next job (ends it once the pool is closed, or the oldest past maxIdle). */
  giveBack(worker: Worker): void {
    if (!this.#keyOf.has(worker)) return; // not ours, or exited already
    if (this.#closed) {
      void worker.terminate();
      return;
    }
    worker.unref();
    this.#idle.push({ worker, key: this.#keyOf.get(worker) as K });
    while (this.#idle.length > this.#maxIdle) void this.#idle.shift()?.worker.terminate();
  }

  /** Ends a thread that must not be lent again (killed for a limit, out of memory, crashed). */
  async discard(worker: Worker): Promise<void> {
    this.#forget(worker);
    await worker.terminate();
  }

  /** Ends the idle threads; a thread lent to a job ends when the job gives it back. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#idle.splice(0).map((thread) => thread.worker.terminate()));
  }

  #startThread(key: K): Worker {
    const worker = this.#start(key);
    this.#started++;
    this.#keyOf.set(worker, key);
    // A thread that dies while idle leaves the pool; its error is no one's to report (a job in
    // progress has its own listeners and reports it).
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      this.#forget(worker);
      this.#keyOf.delete(worker);
    });
    return worker;
  }

  #forget(worker: Worker): void {
    const at = this.#idle.findIndex((thread) => thread.worker === worker);
    if (at >= 0) this.#idle.splice(at, 1);
  }
}

/**
 * The refusal of work that comes while its owner shuts down (an upload waiting for a drafting
 * thread when the node stops): 503, which a client retries, with a code that says why, not the 500
 * of an internal error.
 */
export function shuttingDown(what: string): EntenteError {
  return new EntenteError('ENT_NODE_SHUTTING_DOWN', `The node is shutting down: ${what}; send the request again once it is back`);
}
