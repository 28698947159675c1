// Worker threads that turn uploaded reports into drafts for POST /api/drafts (draft-worker.ts).
//
// Reading a report, extracting its observables and tagging it with ATT&CK are CPU-bound: a dense
// report within every extraction limit (50,000 observables, 2 MB of text) took 4 to 7 s of one
// thread. Run in the request handler they held the HTTP server's only event loop all that time, and
// every TAXII client, alert stream, flash and sync of the node waited. Here they run on a thread of
// their own, bounded in time: past the limit the thread is terminated (whatever it was doing) and
// replaced at the next upload, and the upload is refused with ENT_EXTRACT_TIMEOUT.
//
// The threads are kept as the PDF readers' are (threads/warm-threads.ts, which both pools use):
// started when first needed, an idle thread kept warm without keeping the process alive, a thread
// that was killed or crashed never reused, close() ends the idle ones. Uploads beyond `maxThreads`
// wait their turn (first come, first served); the time limit counts from when a thread takes the upload.
import type { Worker } from 'node:worker_threads';
import { EntenteError } from '../errors/entente-error.ts';
import { configDefaults, settingNames } from '../node-config.ts';
import { startTypeScriptWorker } from '../store/typescript-worker.ts';
import { fromPlainError, type PlainError } from '../threads/plain-error.ts';
import { shuttingDown, WarmThreads } from '../threads/warm-threads.ts';
import { cleanFileName, type DraftUpload } from './draft-operations.ts';
import type { DraftUploadBody } from './draft-upload-body.ts';
import type { NewDraft } from './draft.ts';

/** The node's default time limit (NodeConfig.draftTimeLimitMs, ENTENTE_DRAFT_TIME_LIMIT_MS). */
export const DEFAULT_DRAFT_TIME_LIMIT_MS = configDefaults.draftTimeLimitMs;
const TIME_LIMIT_VARIABLE = settingNames.draftTimeLimitMs;

/** One upload sent to a thread: read already, or the raw body of POST /api/drafts, which the thread reads. */
export type DraftJob = { readonly job: number; readonly upload: DraftUpload } | { readonly job: number; readonly body: DraftUploadBody };

/**
 * A thread's answer to one job: the proposed draft, or the error as plain data. A job sent as a
 * body first gets the upload's file name once the body is read (`file`), for the time limit's error.
 */
export type DraftJobAnswer =
  | { readonly job: number; readonly file: string }
  | { readonly job: number; readonly ok: true; readonly draft: NewDraft }
  | { readonly job: number; readonly ok: false; readonly error: PlainError };

export interface DraftWorkerPoolOptions {
  /** Wall-clock time one upload may take on its thread, in ms (DEFAULT_DRAFT_TIME_LIMIT_MS). */
  readonly timeLimitMs?: number;
  /** Threads working at once; more uploads wait. One by default: the node's other work keeps the other core. */
  readonly maxThreads?: number;
  /**
   * Uploads that may wait for a thread (DEFAULT_DRAFT_QUEUE); one more is refused at once with
   * ENT_DRAFT_QUEUE_FULL. Each waits with its report in memory (up to 64 MB of body), so a token
   * sending uploads faster than they are drafted must not grow the node's memory without bound.
   */
  readonly maxWaiting?: number;
  /**
   * Heap of a thread, in MiB. The text of a report may be 32 Mi characters (DocumentLimits.maxChars)
   * and tagging and extraction keep a few copies and their results beside it.
   */
  readonly heapMb?: number;
}

export interface DraftWorkerPoolStats {
  /** Threads started since the pool was made. */
  readonly started: number;
  /** Threads waiting for an upload. */
  readonly idle: number;
  /** Uploads being read now. */
  readonly busy: number;
  /** Uploads waiting for a thread. */
  readonly waiting: number;
}

/**
 * How long a thread may take to start and read the body of POST /api/drafts (proposeBody) before the
 * report's own time limit starts: reading 64 MiB of JSON took about 2 s of a loaded machine. Apart
 * from the report's limit, so that the limit means what it says (reading the document, extraction,
 * tagging) and the error can name the file, which only the body tells.
 */
const BODY_READ_LIMIT_MS = 30_000;

/** Uploads that may wait for the drafting thread by default: a few minutes of ordinary reports. */
const DEFAULT_DRAFT_QUEUE = 8;

export class DraftWorkerPool {
  readonly timeLimitMs: number;
  readonly #maxThreads: number;
  readonly #maxWaiting: number;
  readonly #heapMb: number;
  /** Every thread is started with the one heap limit, #heapMb (the threads' key). */
  readonly #threads = new WarmThreads<number>(startDrafter);
  /** Uploads waiting for a thread, first come first served: let in (`admit`) or refused at close. */
  readonly #waiting: { readonly admit: () => void; readonly refuse: (error: EntenteError) => void }[] = [];
  #busy = 0;
  /** Uploads whose place is held while their body arrives (reserve). */
  #arriving = 0;
  #job = 0;

  constructor(options: DraftWorkerPoolOptions = {}) {
    this.timeLimitMs = options.timeLimitMs ?? DEFAULT_DRAFT_TIME_LIMIT_MS;
    this.#maxThreads = options.maxThreads ?? 1;
    this.#maxWaiting = options.maxWaiting ?? DEFAULT_DRAFT_QUEUE;
    this.#heapMb = options.heapMb ?? 1024;
  }

  get stats(): DraftWorkerPoolStats {
    return { started: this.#threads.started, idle: this.#threads.idle, busy: this.#busy, waiting: this.#waiting.length };
  }

  /** The draft `upload` proposes, made on a worker thread: what proposeDraftFromBytes returns, or throws, on the caller's. */
  readonly propose = (upload: DraftUpload): Promise<NewDraft> => this.#inTurn(() => this.#run({ upload }, cleanFileName(upload.fileName)));

  /**
   * The draft the raw body of POST /api/drafts proposes, the body read on the worker thread too
   * (parseDraftUploadBody, then as propose): what those return, or throw, on the caller's thread.
   * The body's bytes are moved to the thread, not copied, when they are the whole of their buffer:
   * the caller must not use them afterwards.
   */
  readonly proposeBody = (body: DraftUploadBody): Promise<NewDraft> => this.#inTurn(() => this.#run({ body }, undefined));

  /**
   * Holds a place among those drafted and waiting for an upload whose body is still arriving, or
   * refuses it (ENT_DRAFT_QUEUE_FULL) when the uploads drafted, waiting and arriving fill them all:
   * counted only once its body had arrived, any number of uploads sent at once were each read into
   * memory (up to 64 MiB) before the first was counted. The place is given up by calling what this
   * returns (once the body has arrived, when the upload then takes its turn, or when it failed).
   */
  reserve(): () => void {
    if (this.#threads.closed) throw this.#closedError();
    if (this.#busy + this.#waiting.length + this.#arriving >= this.#maxThreads + this.#maxWaiting) throw this.#queueFull();
    this.#arriving++;
    let held = true;
    return () => {
      if (held) this.#arriving--;
      held = false;
    };
  }

  #queueFull(): EntenteError {
    return new EntenteError(
      'ENT_DRAFT_QUEUE_FULL',
      `The node is drafting other reports and ${this.#maxWaiting} upload${this.#maxWaiting === 1 ? '' : 's'} already wait${this.#maxWaiting === 1 ? 's' : ''}: send this one again once they are done`,
      { waiting: this.#waiting.length + this.#arriving },
    );
  }

  /** Runs `work` once a thread is free for it (first come, first served), or refuses it when too many wait. */
  async #inTurn(work: () => Promise<NewDraft>): Promise<NewDraft> {
    if (this.#threads.closed) throw this.#closedError();
    if (this.#busy >= this.#maxThreads) {
      if (this.#waiting.length >= this.#maxWaiting) throw this.#queueFull();
      // Refused, it never held the slot (#busy): close() took it out of the queue.
      await new Promise<void>((admit, refuse) => this.#waiting.push({ admit, refuse }));
    } else this.#busy++;
    try {
      return await work();
    } finally {
      // The slot goes to the next upload waiting, if any (#busy unchanged), else is freed.
      const next = this.#waiting.shift();
      if (next !== undefined) next.admit();
      else this.#busy--;
    }
  }

  #closedError(): EntenteError {
    return shuttingDown('it drafts no more reports');
  }

  /**
   * Ends the idle threads; a thread reading an upload ends when it is done. The uploads waiting for
   * a thread are refused at once with 503 ENT_NODE_SHUTTING_DOWN (none would get one: they were
   * answered 500 once the upload in hand was done), and so are uploads that come later.
   */
  close(): Promise<void> {
    const closing = this.#threads.close();
    for (const waiting of this.#waiting.splice(0)) waiting.refuse(this.#closedError());
    return closing;
  }

  /** `file`: the upload's file name, as errors name it; for a body, unknown until the thread has read it. */
  #run(input: { upload: DraftUpload } | { body: DraftUploadBody }, file: string | undefined): Promise<NewDraft> {
    const worker = this.#threads.take(this.#heapMb);
    const job = ++this.#job;
    let named = file;
    return new Promise<NewDraft>((resolve, reject) => {
      const finish = (outcome: { draft: NewDraft } | { error: Error }, reusable: boolean): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (reusable) this.#threads.giveBack(worker);
        else void this.#threads.discard(worker);
        if ('draft' in outcome) resolve(outcome.draft);
        else reject(outcome.error);
      };
      const onMessage = (answer: DraftJobAnswer): void => {
        if (answer.job !== job) return; // cannot happen: a thread has one job at a time
        if ('file' in answer) {
          // The body is read: the report's own time limit starts, naming its file.
          named = answer.file;
          clearTimeout(timer);
          timer = setTimeout(onTimeout, this.timeLimitMs);
        } else if (answer.ok) finish({ draft: answer.draft }, true);
        else finish({ error: fromPlainError(answer.error) }, true);
      };
      const onError = (error: Error & { code?: string }): void => {
        const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
        // Before the body named its file (a body being read, a thread starting), there is no file to name.
        const outOfMemory = named === undefined
          ? new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `the upload needed more than ${this.#heapMb} MiB of heap before its file was read; the report was abandoned`)
          : new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${named}: drafting needed more than ${this.#heapMb} MiB of heap; the report was abandoned`, { file: named });
        finish({ error: memory ? outOfMemory : error }, false);
      };
      const onExit = (code: number): void => finish({ error: new Error(`the draft worker thread stopped with exit code ${code}`) }, false);
      const onTimeout = (): void => {
        const error = named === undefined
          ? new EntenteError('ENT_EXTRACT_TIMEOUT', `the upload's body was not read within ${BODY_READ_LIMIT_MS} ms; the report was abandoned`, { limit_ms: BODY_READ_LIMIT_MS })
          : new EntenteError('ENT_EXTRACT_TIMEOUT', `${named}: reading, extraction and tagging took longer than ${this.timeLimitMs} ms (${TIME_LIMIT_VARIABLE}); the report was abandoned`, { file: named, limit_ms: this.timeLimitMs });
        finish({ error }, false);
      };
      // Counted from the hand-over, so a thread's start (about 0.1 s from the bundle, 0.6 s through
      // tsx) is within the limit: far below it, and a thread that cannot start must not hang the upload.
      // A body is first read within BODY_READ_LIMIT_MS; the report's limit then counts from there.
      let timer = setTimeout(onTimeout, named === undefined ? BODY_READ_LIMIT_MS : this.timeLimitMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      // A job that cannot be sent is refused here, and the thread, which never saw it, given back:
      // thrown from this executor, the error refused the upload but left the thread lent, with its
      // listeners and timer, until the timer discarded it.
      try {
        if ('upload' in input) {
          worker.postMessage({ job, upload: input.upload } satisfies DraftJob);
          return;
        }
        // Moved, not copied (tens of MB): a body that shares its buffer with other data (a small one,
        // from Node's pool) is copied first, so that only its own bytes go. So is an empty one: bytes
        // moved away already (sent before) read as empty, and a message moving their detached buffer
        // is dropped without a word, which left the upload waiting for the body's 30 s to pass.
        const bytes = input.body.bytes;
        const own = bytes.byteLength === 0
          ? new Uint8Array(0)
          : bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
        worker.postMessage({ job, body: { ...input.body, bytes: own } } satisfies DraftJob, [own.buffer as ArrayBuffer]);
      } catch (error) {
        finish({ error: error instanceof Error ? error : new Error(String(error)) }, true);
      }
    });
  }
}

function startDrafter(heapMb: number): Worker {
  return startTypeScriptWorker(new URL('./draft-worker.ts', import.meta.url), 'serveDraftProposals', {
    // Not captured (see pdf-worker-pool.ts): a captured stream holds the process open.
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 },
  });
}
