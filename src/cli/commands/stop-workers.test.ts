import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { stopWorkers, type StoppableWorker } from './stop-workers.ts';

/** A worker that exits on the signals in `exitsOn`, a moment after it is sent one, and records all it was sent. */
function fakeWorker(pid: number, exitsOn: readonly NodeJS.Signals[], dead = false): StoppableWorker & { signals: NodeJS.Signals[] } {
  const emitter = new EventEmitter();
  const signals: NodeJS.Signals[] = [];
  let exited = dead;
  return Object.assign(emitter, {
    signals,
    isDead: () => exited,
    process: {
      pid,
      kill(signal: NodeJS.Signals) {
        signals.push(signal);
        if (exited || !exitsOn.includes(signal)) return true;
        setTimeout(() => {
          exited = true;
          emitter.emit('exit');
        }, 5);
        return true;
      },
    },
  });
}

describe('stopping the workers of start --workers', () => {
  it('sends each worker SIGTERM and resolves once all have exited, killing none that exits in time', async () => {
    const workers = [fakeWorker(1, ['SIGTERM']), fakeWorker(2, ['SIGTERM'])];
    const killed: number[] = [];
    await stopWorkers(workers, 60_000, (worker) => killed.push(worker.process.pid ?? 0));
    assert.deepEqual(workers.map((worker) => worker.signals), [['SIGTERM'], ['SIGTERM']]);
    assert.deepEqual(killed, []);
  });

  it('kills a worker still running past the bound (stuck, or ignoring SIGTERM), so that the stop ends', async () => {
    const stuck = fakeWorker(7, ['SIGKILL']);
    const workers = [fakeWorker(1, ['SIGTERM']), stuck];
    const killed: number[] = [];
    const started = performance.now();
    await stopWorkers(workers, 100, (worker) => killed.push(worker.process.pid ?? 0));
    assert.ok(performance.now() - started >= 95, 'killed before the bound');
    assert.deepEqual(killed, [7]);
    assert.deepEqual(stuck.signals, ['SIGTERM', 'SIGKILL']);
    assert.deepEqual(workers[0]?.signals, ['SIGTERM'], 'a worker that exited is not killed');
  });

  it('does not wait for a worker that had exited already (cluster still lists it until its channel closes)', async () => {
    const workers = [fakeWorker(1, ['SIGTERM'], true), fakeWorker(2, ['SIGTERM'])];
    const stopped = stopWorkers(workers, 60_000, () => undefined).then(() => 'stopped' as const);
    assert.equal(await Promise.race([stopped, delay(1000).then(() => 'held' as const)]), 'stopped', 'the stop waited for an exit that had happened');
    assert.deepEqual(workers[0]?.signals, [], 'an exited worker is not signalled');
  });

  it('resolves at once with no worker running', async () => {
    await stopWorkers([undefined, fakeWorker(1, [], true)], 60_000, () => assert.fail('killed a dead worker'));
  });
});
