import { EntenteError } from '../errors/entente-error.ts';
import { errorCatalogue, type ErrorCode } from '../errors/catalogue.ts';
import type { ImportInput, PipelineOptions, PreparedBatch, WorkerCredit, WorkerMessage, WorkerRequest } from './import-pipeline.ts';
import { unpackVersions } from './import-pipeline.ts';
import { startTypeScriptWorker } from './typescript-worker.ts';

// The caller's side of an import prepared on a worker thread (the worker's side: import-worker.ts).
// Apart from import-pipeline.ts, the preparation itself, which runs on either side.

/** Batches the worker may have prepared ahead of the store: one being written, one ready. */
const batchesAhead = 2;

/** Batches prepared by a worker thread that started at once; `close` stops it (iterating to the end does too). */
export interface WorkerBatches extends AsyncIterable<PreparedBatch> {
  readonly inputs: readonly ImportInput[];
  close(): Promise<void>;
}

/**
 * The same batches as prepareImportBatches, prepared by a worker thread that starts now (so that it
 * loads and reads while the caller still opens the store) and keeps at most `batchesAhead` batches
 * ahead of the caller. Ending the iteration early (a store error, a break) stops the worker. An error
 * in the worker is rethrown to the iteration: an EntenteError keeps its code.
 */
export function prepareImportBatchesInWorker(inputs: readonly ImportInput[], options: PipelineOptions): WorkerBatches {
  const request: WorkerRequest = { inputs, options };
  const worker = startTypeScriptWorker(new URL('./import-worker.ts', import.meta.url), 'serveImport', {
    workerData: request,
    stdout: false,
    stderr: false,
  });
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let closed: Promise<void> | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  worker.on('message', (message: WorkerMessage) => {
    queue.push(message);
    notify();
  });
  worker.on('error', (error: Error) => {
    failure = error;
    notify();
  });
  worker.on('exit', (code) => {
    if (code !== 0) failure ??= new Error(`the import worker stopped with exit code ${code}`);
    queue.push({ kind: 'done' });
    notify();
  });
  worker.postMessage({ credit: batchesAhead } satisfies WorkerCredit);
  const close = (): Promise<void> => {
    closed ??= (async () => {
      worker.removeAllListeners('message');
      await worker.terminate();
    })();
    return closed;
  };
  async function* iterate(): AsyncGenerator<PreparedBatch> {
    try {
      for (;;) {
        if (closed !== undefined) throw new Error('the import worker was stopped');
        const message = queue.shift();
        if (message === undefined) {
          if (failure !== undefined) throw failure;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        if (message.kind === 'done') {
          if (failure !== undefined) throw failure;
          return;
        }
        if (message.kind === 'error') throw rebuildError(message);
        yield { ...message.batch, versions: unpackVersions(message.packed) };
        worker.postMessage({ credit: 1 } satisfies WorkerCredit);
      }
    } finally {
      await close();
    }
  }
  return { inputs, close, [Symbol.asyncIterator]: iterate };
}

function rebuildError(message: { code: string | undefined; message: string; stack: string | undefined }): Error {
  if (message.code !== undefined && message.code in errorCatalogue) return new EntenteError(message.code as ErrorCode, message.message);
  const error = new Error(message.message);
  if (message.stack !== undefined) error.stack = message.stack;
  if (message.code !== undefined) (error as NodeJS.ErrnoException).code = message.code;
  return error;
}
