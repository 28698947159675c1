// Warm PDF reader threads (pdf-worker.mjs), kept between files: starting a thread and loading pdfjs
// into it costs a few hundred milliseconds, more than reading a 20-page report, so a long-running
// node and an `entente extract a.pdf b.pdf …` run pay it once per thread, not once per file.
//
// A thread is lent to one read at a time. The reader gives it back only after its job ended the
// normal way (the thread said 'done' or 'error', so pdfjs has freed the document); a thread that
// was killed for a limit, ran out of heap or crashed is discarded, and the next read starts a new
// one. Idle threads do not keep the process alive. The bookkeeping is WarmThreads'
// (threads/warm-threads.ts), which the drafting threads share.
import { Worker } from 'node:worker_threads';
import { WarmThreads } from '../threads/warm-threads.ts';

const WORKER_URL = new URL('./pdf-worker.mjs', import.meta.url);

export interface PdfWorkerPoolStats {
  /** Threads started since the pool was made. */
  readonly started: number;
  /** Threads waiting for a read. */
  readonly idle: number;
}

/**
 * The PDF readers' threads, keyed by the heap limit a thread was started with: a read is lent a
 * thread of its own limit (take(heapMb)), and gives it back (giveBack) or discards it (discard).
 */
export class PdfWorkerPool extends WarmThreads<number> {
  /** `maxIdle`: threads kept warm between reads (more are started when reads overlap). */
  constructor(maxIdle = 2) {
    super(startReader, maxIdle);
  }

  get stats(): PdfWorkerPoolStats {
    return { started: this.started, idle: this.idle };
  }
}

function startReader(heapMb: number): Worker {
  return new Worker(WORKER_URL, {
    // The thread runs plain JavaScript: without this it would inherit tsx's loader (and its
    // source maps) from a process started through tsx, which adds a second of start-up.
    execArgv: [],
    // The thread's stdout and stderr are not captured (`stdout: true`): a captured stream that has
    // been read holds the process open even when the thread is unref'd. The thread silences
    // pdfjs's console chatter itself.
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  });
}

/** The process's pool, used by readPdf() unless it is given another. */
export const pdfWorkers = new PdfWorkerPool();
