import { parentPort, workerData } from 'node:worker_threads';
import { isEntenteError } from '../errors/entente-error.ts';
import { packVersions, prepareImportBatches, type WorkerCredit, type WorkerMessage, type WorkerRequest } from './import-pipeline.ts';

/**
 * The worker side of prepareImportBatchesInWorker (import-in-worker.ts): prepares the batches of `workerData` in order and
 * posts each one, never more than the caller's credit allows, so that memory stays bounded however
 * far the reading runs ahead of the store.
 */
export async function serveImport(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveImport runs in a worker thread');
  const request = workerData as WorkerRequest;
  let credit = 0;
  let wake: (() => void) | undefined;
  port.on('message', (message: WorkerCredit) => {
    credit += message.credit;
    const resume = wake;
    wake = undefined;
    resume?.();
  });
  const post = (message: WorkerMessage): void => port.postMessage(message);
  try {
    for await (const batch of prepareImportBatches(request.inputs, request.options)) {
      while (credit <= 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      credit -= 1;
      const { versions, ...rest } = batch;
      post({ kind: 'batch', batch: rest, packed: packVersions(versions) });
    }
    post({ kind: 'done' });
  } catch (error) {
    const code = isEntenteError(error) ? error.code : ((error as NodeJS.ErrnoException | undefined)?.code ?? undefined);
    post({ kind: 'error', code, message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined });
  } finally {
    port.removeAllListeners('message');
  }
}
