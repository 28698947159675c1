// A cluster primary that sends to a worker once the worker has exited, through sendToWorker (or, with
// `--plain`, through worker.send as the primary of `start --workers` did): prints what became of the
// message, then "alive" if the primary outlived it. Run by ipc-send.test.ts.
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { sendToWorker } from '../../src/server/ipc-send.ts';

const plain = process.argv.includes('--plain');
cluster.setupPrimary({ exec: fileURLToPath(new URL('./ipc-send-exiting-worker.mjs', import.meta.url)) });
const worker = cluster.fork();
worker.on('exit', () => {
  // After its exit, as a relayed alert or an upload place granted to it late would be.
  setTimeout(() => {
    if (plain) worker.send({ entente: 'bus-event' });
    else sendToWorker(worker, { entente: 'bus-event' }, (error) => process.stdout.write(`dropped ${(error as NodeJS.ErrnoException).code ?? error.message}\n`));
    setTimeout(() => process.stdout.write('alive\n'), 100);
  }, 50);
});
