import { parentPort, workerData } from 'node:worker_threads';
import { toPlainError } from '../threads/plain-error.ts';
import { packVersions, prepareImportSteps, type WorkerMessage, type WorkerRelease, type WorkerRequest } from './import-pipeline.ts';

/**
 * The worker side of prepareImportStepsInWorker (import-in-worker.ts): prepares the steps of
 * `workerData` in order and posts each one. A batch's texts go into a free slot of the shared memory
 * (a batch too large for one slot goes in parts, each a batch of its own), so the reading runs ahead
 * of the store by at most the slots, and memory stays bounded however large the input.
 */
export async function serveImport(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveImport runs in a worker thread');
  const request = workerData as WorkerRequest;
  const { transfer } = request;
  const free: number[] = Array.from({ length: transfer.slots }, (_, slot) => slot);
  let wake: (() => void) | undefined;
  port.on('message', (message: WorkerRelease) => {
    free.push(message.release);
    const resume = wake;
    wake = undefined;
    resume?.();
  });
  const takeSlot = async (): Promise<number> => {
    for (;;) {
      const slot = free.shift();
      if (slot !== undefined) return slot;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  const post = (message: WorkerMessage): void => port.postMessage(message);
  try {
    for await (const step of prepareImportSteps(request.inputs, request.options)) {
      if (step.kind !== 'batch') {
        post({ kind: 'step', step });
        continue;
      }
      const { versions, ...rest } = step.batch;
      if (versions.length === 0) {
        post({ kind: 'batch', batch: rest, packed: packVersions(versions, 0, new Uint8Array(0), -1).packed });
        continue;
      }
      // Problems and rejections with the first part, the bytes read with the last.
      let from = 0;
      while (from < versions.length) {
        const slot = await takeSlot();
        const view = new Uint8Array(transfer.shared, slot * transfer.slotBytes, transfer.slotBytes);
        const { packed, next } = packVersions(versions, from, view, slot);
        if (packed.slot < 0) free.unshift(slot);
        const first = from === 0;
        const last = next >= versions.length;
        post({
          kind: 'batch',
          batch: { input: rest.input, problems: first ? rest.problems : [], rejections: first ? rest.rejections : [], warnings: first ? rest.warnings : 0, bytes: last ? rest.bytes : 0 },
          packed,
        });
        from = next;
      }
    }
    post({ kind: 'done' });
  } catch (error) {
    post({ kind: 'error', error: toPlainError(error) });
  } finally {
    port.removeAllListeners('message');
  }
}
