// Warm PDF reader threads (pdf-worker.mjs), kept between files: starting a thread and loading pdfjs
// into it costs a few hundred milliseconds, more than reading a 20-page report, so a long-running
// node and an `entente extract a.pdf b.pdf …` run pay it once per thread, not once per file.
//
// A thread is lent to one read at a time. The reader gives it back only after its job ended the
// normal way (the thread said 'done' or 'error', so pdfjs has freed the document); a thread that
// was killed for a limit, ran out of heap or crashed is discarded, and the next read starts a new
// one. Idle threads do not keep the process alive.
import { Worker } from 'node:worker_threads';

const WORKER_URL = new URL('./pdf-worker.mjs', import.meta.url);

interface IdleThread {
  readonly worker: Worker;
  readonly heapMb: number;
}

export interface PdfWorkerPoolStats {
  /** Threads started since the pool was made. */
  readonly started: number;
  /** Threads waiting for a read. */
  readonly idle: number;
}

export class PdfWorkerPool {
  readonly #maxIdle: number;
  readonly #idle: IdleThread[] = [];
  readonly #heapOf = new WeakMap<Worker, number>();
  #started = 0;

  /** `maxIdle`: threads kept warm between reads (more are started when reads overlap). */
  constructor(maxIdle = 2) {
    this.#maxIdle = maxIdle;
  }

  get stats(): PdfWorkerPoolStats {
    return { started: this.#started, idle: this.#idle.length };
  }

  /**
   * A thread for one read whose heap is limited to `heapMb` MiB: an idle one started with that
   * limit, else a new one. The caller owns it until it calls giveBack() or discard().
   */
  take(heapMb: number): Worker {
    const at = this.#idle.findIndex((t) => t.heapMb === heapMb);
    const found = at >= 0 ? this.#idle.splice(at, 1)[0] : undefined;
    if (found !== undefined) {
      found.worker.ref();
      return found.worker;
    }
    return this.#start(heapMb);
  }

  /** Keeps a thread whose last job ended normally for the next read (or ends it if enough are kept). */
  giveBack(worker: Worker): void {
    const heapMb = this.#heapOf.get(worker);
    if (heapMb === undefined || worker.threadId < 0) return; // not ours, or already exited
    worker.unref();
    this.#idle.push({ worker, heapMb });
    while (this.#idle.length > this.#maxIdle) void this.#idle.shift()?.worker.terminate();
  }

  /** Ends a thread that must not be reused (killed for a limit, out of memory, crashed). */
  async discard(worker: Worker): Promise<void> {
    this.#forget(worker);
    await worker.terminate();
  }

  /** Ends the idle threads (threads lent to a read end with it). */
  async close(): Promise<void> {
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((t) => t.worker.terminate()));
  }

  #start(heapMb: number): Worker {
    const worker = new Worker(WORKER_URL, {
      // The thread runs plain JavaScript: without this it would inherit tsx's loader (and its
      // source maps) from a process started through tsx, which adds a second of start-up.
      execArgv: [],
      // The thread's stdout and stderr are not captured (`stdout: true`): a captured stream that has
      // been read holds the process open even when the thread is unref'd. The thread silences
      // pdfjs's console chatter itself.
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    this.#started++;
    this.#heapOf.set(worker, heapMb);
    // A thread that dies while idle leaves the pool; its error is not the process's problem (the
    // read in progress, if any, has its own listeners and reports it).
    worker.on('error', () => undefined);
    worker.on('exit', () => this.#forget(worker));
    return worker;
  }

  #forget(worker: Worker): void {
    const at = this.#idle.findIndex((t) => t.worker === worker);
    if (at >= 0) this.#idle.splice(at, 1);
  }
}

/** The process's pool, used by readPdf() unless it is given another. */
export const pdfWorkers = new PdfWorkerPool();
