// Messages between the primary and the workers of `start --workers` (cluster IPC).
//
// Node reports a send that fails without a callback as an 'error' event on the cluster worker (in the
// primary) or on the process (in a worker), and nothing listens for one there: the process ends. A
// check of the channel before sending leaves a window: a worker killed (SIGKILL, out of memory) is
// seen as gone only once its channel's end is read, and a write to it before then fails (EPIPE).
// The primary ending on such a write took every worker, so the whole node, down with it. Every send
// goes through these, with a callback: a message to a process that is gone is dropped, and the caller
// is told when it needs to undo what the message carried.

/** The primary's handle on one worker (cluster.Worker). */
export interface WorkerChannel {
  send(message: unknown, sendHandle: undefined, callback: (error: Error | null) => void): unknown;
}

/** Sends to a worker; `dropped` runs when the message could not be written (the worker is gone). */
export function sendToWorker(worker: WorkerChannel, message: unknown, dropped?: (error: Error) => void): void {
  worker.send(message, undefined, (error) => {
    if (error !== null) dropped?.(error);
  });
}

/**
 * Sends to the primary over this process's channel; false when there is none or it is closed (then
 * nothing is sent). `dropped` runs when a send that was made could not be written (the primary is gone).
 */
export function sendToPrimary(channel: NodeJS.Process, message: unknown, dropped?: (error: Error) => void): boolean {
  if (channel.connected !== true || channel.send === undefined) return false;
  channel.send(message, undefined, undefined, (error: Error | null) => {
    if (error !== null) dropped?.(error);
  });
  return true;
}
