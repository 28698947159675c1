// How the primary of `start --workers N` stops its workers (start-command.ts): SIGTERM to each, then
// it waits for them, and kills any still running past the bound so that a stop never hangs.

/** What of a cluster worker the stop uses (node:cluster's Worker). */
export interface StoppableWorker {
  isDead(): boolean;
  once(event: 'exit', listener: () => void): unknown;
  readonly process: { readonly pid?: number | undefined; kill(signal: NodeJS.Signals): unknown };
}

/**
 * Sends SIGTERM to each worker still running and resolves once they have all exited; one still
 * running `killAfterMs` after is killed (SIGKILL; `onKill` says so first). A worker that has exited
 * already is not waited for: cluster keeps a worker in `cluster.workers` from its 'exit' until its
 * channel closes, and its 'exit' is not emitted again, so counting it held the stop for ever (the
 * kill passes over dead workers, and nothing else ended the wait).
 */
export function stopWorkers(workers: readonly (StoppableWorker | undefined)[], killAfterMs: number, onKill: (worker: StoppableWorker) => void): Promise<void> {
  const running = workers.filter((worker): worker is StoppableWorker => worker !== undefined && !worker.isDead());
  return new Promise<void>((resolveStop) => {
    let left = running.length;
    if (left === 0) {
      resolveStop();
      return;
    }
    const kill = setTimeout(() => {
      for (const worker of running) {
        if (worker.isDead()) continue;
        onKill(worker);
        worker.process.kill('SIGKILL');
      }
    }, killAfterMs);
    for (const worker of running) {
      worker.once('exit', () => {
        left -= 1;
        if (left > 0) return;
        clearTimeout(kill);
        resolveStop();
      });
      // The signal itself, not worker.kill(): that disconnects first, and a disconnecting worker
      // waits for every keep-alive connection to close before its own shutdown can end them.
      worker.process.kill('SIGTERM');
    }
  });
}
