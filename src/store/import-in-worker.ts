import { fromPlainError } from '../threads/plain-error.ts';
import type { ImportInput, ImportStep, PipelineOptions, TransferSlots, WorkerMessage, WorkerRelease, WorkerRequest } from './import-pipeline.ts';
import { unpackVersions } from './import-pipeline.ts';
import { startTypeScriptWorker } from './typescript-worker.ts';

// The caller's side of an import prepared on a worker thread (the worker's side: import-worker.ts).
// Apart from import-pipeline.ts, the preparation itself, which runs on either side.

/**
 * Slots of the memory the worker hands texts over in, so batches it may have handed over ahead of
 * the store: one being written, one ready (import-pipeline.ts, TransferSlots). A slot holds a batch's
 * JSON and search texts: 16 MiB of JSON characters (the largest batch) and their search texts fit
 * in 32 MiB unless the text is far from ASCII, and a batch that does not fit goes in parts. Pages of
 * the shared memory are touched, so faulted in, only as far as batches fill it.
 */
const transferSlots = 2;
const transferSlotBytes = 32 * 1024 * 1024;

/** Steps prepared by a worker thread that started at once; `close` stops it (iterating to the end does too). */
export interface WorkerSteps extends AsyncIterable<ImportStep> {
  readonly inputs: readonly ImportInput[];
  close(): Promise<void>;
}

/**
 * The same steps as prepareImportSteps, prepared by a worker thread that starts now (so that it
 * loads and reads while the caller still opens the store) and keeps at most `transferSlots` batches
 * ahead of the caller (`slotBytes`: the size of a slot, for tests). Ending the iteration early (a store error, a break) stops the worker. An error
 * in the worker is rethrown to the iteration: an EntenteError keeps its code.
 */
export function prepareImportStepsInWorker(inputs: readonly ImportInput[], options: PipelineOptions, slotBytes = transferSlotBytes): WorkerSteps {
  const transfer: TransferSlots = { shared: new SharedArrayBuffer(transferSlots * slotBytes), slotBytes, slots: transferSlots };
  const request: WorkerRequest = { inputs, options, transfer };
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
  const close = (): Promise<void> => {
    closed ??= (async () => {
      worker.removeAllListeners('message');
      await worker.terminate();
    })();
    return closed;
  };
  async function* iterate(): AsyncGenerator<ImportStep> {
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
        if (message.kind === 'error') throw fromPlainError(message.error);
        if (message.kind === 'step') {
          yield message.step;
          continue;
        }
        yield { kind: 'batch', batch: { ...message.batch, versions: unpackVersions(message.packed, transfer) } };
        // Asked for the next step, the caller has stored this batch: the store copied its texts.
        if (message.packed.slot >= 0) worker.postMessage({ release: message.packed.slot } satisfies WorkerRelease);
      }
    } finally {
      await close();
    }
  }
  return { inputs, close, [Symbol.asyncIterator]: iterate };
}
