import { Command } from 'commander';
import type { CliIo } from '../cli-context.ts';
import { writeLine } from '../cli-context.ts';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { loadNodeConfig, openNode, startNode, type RunningNode } from '../../compose.ts';
import { AlertSequencer, isBusMessage } from '../../correlate/alert-sequencer.ts';
import { openProcessBusRelay } from '../../correlate/process-bus-relay.ts';
import type { NodeConfig } from '../../node-config.ts';
import type { RawSettings } from '../../node-config.ts';
import { stopWorkers } from './stop-workers.ts';
import { answerUploadPlaceRequest, isUploadPlaceRequest, openProcessUploadPlaces, UploadPlaceLedger } from '../../server/upload-places.ts';
import { sendToPrimary, sendToWorker } from '../../server/ipc-send.ts';

interface StartOptions {
  host?: string;
  port?: string;
  data?: string;
  orgName?: string;
  logLevel?: string;
  config?: string;
  tlsCert?: string;
  tlsKey?: string;
  workers?: string;
  flashLimit?: string;
  draftTimeLimit?: string;
  headersTimeout?: string;
  requestTimeout?: string;
  maxConnections?: string;
  maxUploadsPerToken?: string;
  shutdownGrace?: string;
}

export function startCommand(io: CliIo): Command {
  return new Command('start')
    .description('start the node: TAXII 2.1 server, REST API and health check')
    .option('--host <host>', 'address to listen on (env ENTENTE_HOST)', undefined)
    .option('--port <port>', 'port to listen on, 0 for any free port (env ENTENTE_PORT)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .option('--org-name <name>', 'home organisation name, used at first start (env ENTENTE_ORG_NAME; default: host name)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env ENTENTE_LOG_LEVEL)')
    .option('--config <file>', 'JSON config file with the same settings (env ENTENTE_CONFIG)')
    .option('--tls-cert <file>', 'TLS certificate (PEM); required to listen beyond loopback')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--flash-limit <n>', 'new flash messages one member\'s node may deliver here in an hour (env ENTENTE_FLASH_LIMIT; default 60)')
    .option('--draft-time-limit <ms>', 'longest one report may take to become a draft over REST, in ms (env ENTENTE_DRAFT_TIME_LIMIT_MS; default 60000)')
    .option('--headers-timeout <ms>', "longest a request's headers may take to arrive, in ms (env ENTENTE_HEADERS_TIMEOUT_MS; default 30000)")
    .option('--request-timeout <ms>', 'longest a whole request (headers and body) may take to arrive, in ms (env ENTENTE_REQUEST_TIMEOUT_MS; default 300000)')
    .option('--max-connections <n>', 'connections one HTTP process holds at once; past it a new one is closed unanswered (env ENTENTE_MAX_CONNECTIONS; default 1000)')
    .option('--max-uploads-per-token <n>', 'uploads (request bodies over 64 KiB) one token may have received or handled at once, across all workers; past it 429 (env ENTENTE_MAX_UPLOADS_PER_TOKEN; default 4)')
    .option('--shutdown-grace <ms>', 'on stop, how long requests still receiving their body may go on, in ms; then 503 and closed (env ENTENTE_SHUTDOWN_GRACE_MS; default 10000)')
    .option('--workers <n>', `HTTP worker processes sharing the port and the database (env ENTENTE_WORKERS; default 1; this machine has ${availableParallelism()} CPUs)`)
    .addHelpText(
      'after',
      '\nExample:\n  $ entente start --port 8443 --org-name "CERT-EU" --data /var/lib/entente\n\n' +
        'At first start the node creates its SQLite database, its home organisation, a default collection\n' +
        'and an admin token written to <data>/admin.token (mode 0600). The token itself is never logged.',
    )
    .action(async (options: StartOptions) => {
      const flags: RawSettings & { config?: string } = {
        ...(options.host !== undefined ? { host: options.host } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.data !== undefined ? { dataDir: options.data } : {}),
        ...(options.orgName !== undefined ? { orgName: options.orgName } : {}),
        ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
        ...(options.config !== undefined ? { config: options.config } : {}),
        ...(options.tlsCert !== undefined ? { tlsCert: options.tlsCert } : {}),
        ...(options.tlsKey !== undefined ? { tlsKey: options.tlsKey } : {}),
        ...(options.workers !== undefined ? { workers: options.workers } : {}),
        ...(options.flashLimit !== undefined ? { flashLimit: options.flashLimit } : {}),
        ...(options.draftTimeLimit !== undefined ? { draftTimeLimitMs: options.draftTimeLimit } : {}),
        ...(options.headersTimeout !== undefined ? { headersTimeoutMs: options.headersTimeout } : {}),
        ...(options.requestTimeout !== undefined ? { requestTimeoutMs: options.requestTimeout } : {}),
        ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
        ...(options.maxUploadsPerToken !== undefined ? { maxUploadsPerToken: options.maxUploadsPerToken } : {}),
        ...(options.shutdownGrace !== undefined ? { shutdownGraceMs: options.shutdownGrace } : {}),
      };
      const config = loadNodeConfig(flags, io.env);
      if (cluster.isWorker) {
        // A worker of `--workers N`: serve, and tell the primary where.
        const relay = openProcessBusRelay();
        const uploadPlaces = openProcessUploadPlaces();
        const node = await startNode(config, {
          sweepRecalls: cluster.worker?.id === 1,
          ...(relay === undefined ? {} : { alertRelay: relay }),
          ...(uploadPlaces === undefined ? {} : { uploadPlaces }),
        });
        sendToPrimary(process, { entente: 'listening', url: node.url });
        await untilStopped(node, { boundMs: workerStopBoundMs(config), repeatsIgnored: true });
        // Past the bound a worker leaves whatever it still serves: every write is a committed
        // transaction already, so leaving loses nothing acknowledged.
        process.exit(0);
      }
      if (config.workers > 1) {
        await runWorkers(io, config);
        return;
      }
      const node = await startNode(config);
      if (node.adminTokenPath !== undefined) {
        writeLine(io.stderr, `New node: admin token written to ${node.adminTokenPath} (mode 0600)`);
      }
      writeLine(io.stderr, `Entente node "${config.orgName}" listening on ${node.url} (TAXII discovery: ${node.url}/taxii2/)`);
      await untilStopped(node);
    });
}

/** Events the primary keeps for workers that start later: the ring of each worker's bus (api/alerts-routes.ts). */
const ALERT_RING_SIZE = 1024;

/**
 * How long past its `shutdownGraceMs` a worker goes on after SIGTERM before it exits anyway: the
 * grace is the uploads' (then they are answered 503 ENT_NODE_SHUTTING_DOWN, as by a single process),
 * this margin is for what came whole by then to be handled and answered, and the 503s delivered.
 * A worker that is done sooner exits sooner (when its server has closed).
 */
const WORKER_STOP_MARGIN_MS = 3000;
/** How long past a worker's own bound the primary waits before it kills the worker (SIGKILL): a worker stuck in a handler never holds the stop. */
const PRIMARY_KILL_MARGIN_MS = 2000;

/** The longest a worker takes to exit after SIGTERM (the primary waits for it that long, plus PRIMARY_KILL_MARGIN_MS). */
function workerStopBoundMs(config: NodeConfig): number {
  return config.shutdownGraceMs + WORKER_STOP_MARGIN_MS;
}

/**
 * Resolves once the node has closed after SIGINT or SIGTERM, or at `boundMs` after it. A second
 * signal ends a single process at once (the signal's default), as an operator pressing Ctrl-C twice
 * expects; a worker ignores it (`repeatsIgnored`): Ctrl-C signals the whole process group, so a
 * worker is told twice (by the terminal, then by the primary) and would lose its grace.
 */
function untilStopped(node: RunningNode, options: { readonly boundMs?: number; readonly repeatsIgnored?: boolean } = {}): Promise<void> {
  return new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      if (options.repeatsIgnored !== true) {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      if (options.boundMs !== undefined) setTimeout(resolveStop, options.boundMs).unref();
      void node.close().then(resolveStop, resolveStop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * `--workers N`: the first start (database, home organisation, admin token) happens here, once;
 * then N processes serve the same port (node:cluster) over the same SQLite database (WAL lets them
 * read at once; writes take the write lock in turn, and every invariant — date_added order, the
 * audit chain — is kept inside a write transaction). A worker that dies is replaced. The primary
 * numbers the events of the workers' alert buses and sends each to all of them, so that every
 * stream shows every alert (correlate/alert-sequencer.ts).
 */
async function runWorkers(io: CliIo, config: NodeConfig): Promise<void> {
  const opened = await openNode(config);
  if (opened.adminTokenPath !== undefined) writeLine(io.stderr, `New node: admin token written to ${opened.adminTokenPath} (mode 0600)`);
  await opened.close();
  let stopping = false;
  let announced = false;
  // The uploads every token has under way, node-wide: the workers take their places here (server/upload-places.ts).
  const uploadPlaces = new UploadPlaceLedger<number>(config.maxUploadsPerToken);
  const sequencer = new AlertSequencer(ALERT_RING_SIZE, (message) => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      // A worker that is exiting misses the event; its replacement is given the recent ones.
      if (worker?.isConnected() === true) sendToWorker(worker, message);
    }
  });
  const fork = (): void => {
    const worker = cluster.fork();
    worker.on('message', (message: unknown) => {
      if (isUploadPlaceRequest(message)) {
        answerUploadPlaceRequest(uploadPlaces, worker.id, message, worker);
        return;
      }
      if (isBusMessage(message)) {
        if (message.entente === 'bus-raise') sequencer.sequence(message);
        return;
      }
      // Listening: its alert bus is ready for the events raised before it started.
      if (typeof message === 'object' && message !== null && (message as { entente?: unknown }).entente === 'listening') sendToWorker(worker, sequencer.replay());
      const url = typeof message === 'object' && message !== null && 'url' in message ? String((message as { url: unknown }).url) : undefined;
      if (url === undefined || announced) return;
      announced = true;
      writeLine(io.stderr, `Entente node "${config.orgName}" listening on ${url} with ${config.workers} workers (TAXII discovery: ${url}/taxii2/)`);
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    // Its uploads ended with it: a worker that died mid-upload would otherwise hold its places for good.
    uploadPlaces.giveAll(worker.id);
    if (stopping) return;
    writeLine(io.stderr, `entente: worker ${worker.process.pid ?? '?'} exited (${signal ?? code}); starting another`);
    fork();
  });
  for (let n = 0; n < config.workers; n += 1) fork();
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      stopping = true;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // Each worker answers what still arrives after the grace 503 and exits on its own (within
      // workerStopBoundMs); one that has not by then is stuck, and is killed, so a stop never hangs.
      const killAfterMs = workerStopBoundMs(config) + PRIMARY_KILL_MARGIN_MS;
      void stopWorkers(Object.values(cluster.workers ?? {}), killAfterMs, (worker) => {
        writeLine(io.stderr, `entente: worker ${worker.process.pid ?? '?'} still running ${killAfterMs} ms after SIGTERM; killed`);
      }).then(resolveStop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
