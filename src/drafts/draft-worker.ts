import { parentPort, type MessagePort } from 'node:worker_threads';
import { toPlainError } from '../threads/plain-error.ts';
import { cleanFileName, proposeDraftFromBytes } from './draft-operations.ts';
import { parseDraftUploadBody } from './draft-upload-body.ts';
import type { DraftJob, DraftJobAnswer } from './draft-worker-pool.ts';
import type { NewDraft } from './draft.ts';

/**
 * The worker side of DraftWorkerPool (draft-worker-pool.ts): turns each upload it is sent into the
 * draft it proposes, with the very function the command line and the tests run on their own thread
 * (proposeDraftFromBytes), so that the items, their order and the warnings are the same. The pool
 * sends one job at a time; the thread stays up for the next one (the extraction data and the ATT&CK
 * catalogue it loaded stay loaded).
 */
export function serveDraftProposals(): void {
  const port = parentPort;
  if (port === null) throw new Error('serveDraftProposals runs in a worker thread');
  port.on('message', (request: DraftJob) => {
    void proposeJob(request, port).then(
      (draft) => port.postMessage({ job: request.job, ok: true, draft } satisfies DraftJobAnswer),
      (error: unknown) => port.postMessage({ job: request.job, ok: false, error: toPlainError(error) } satisfies DraftJobAnswer),
    );
  });
}

/** The draft a job proposes; a raw body is read first, and the upload's file name sent back at once. */
async function proposeJob(request: DraftJob, port: MessagePort): Promise<NewDraft> {
  if ('upload' in request) return proposeDraftFromBytes(request.upload);
  const upload = parseDraftUploadBody(request.body);
  port.postMessage({ job: request.job, file: cleanFileName(upload.fileName) } satisfies DraftJobAnswer);
  return proposeDraftFromBytes(upload);
}
