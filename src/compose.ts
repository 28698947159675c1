/**
 * The one composition root: configuration → store → services → HTTP server or CLI command.
 * Only this file picks concrete adapters (SQLite today).
 */
import { mkdirSync, openSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { EntenteError } from './errors/entente-error.ts';
import { resolveNodeConfig, settingsFromEnvironment, type NodeConfig, type RawSettings } from './node-config.ts';
import { ensureNodeInitialised, type NodeIdentity } from './bootstrap-node.ts';
import { openSqliteObjectStore } from './store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from './store/object-store.ts';
import { createNodeSignerProvider, type NodeSignerProvider } from './federation/node-signer.ts';
import { createReleaseSigner } from './federation/sign-releases.ts';
import type { ReleaseSigner } from './release/open-release-gate.ts';
import type { FlashRetrier } from './federation/flash-retry.ts';
import type { RecallSender } from './federation/recall-delivery.ts';
import type { SyncDeps } from './federation/sync-peer.ts';
import type { PeerSilentNotice, SyncScheduler } from './federation/sync-scheduler.ts';
import type { BusRelay } from './correlate/alert-bus.ts';
import type { UploadPlaces } from './server/upload-places.ts';

export const databaseFileName = 'entente.sqlite';
export const adminTokenFileName = 'admin.token';

/** A store opened on the node's data directory, initialised on first use. */
export interface OpenedNode {
  readonly config: NodeConfig;
  readonly store: ObjectStore;
  readonly identity: NodeIdentity;
  /** Where the admin token was written on first start, when this call created it. */
  readonly adminTokenPath: string | undefined;
  /** The node's signing keys, and the signer every release gate opened for a partner uses. */
  readonly signers: NodeSignerProvider;
  readonly releaseSigner: ReleaseSigner;
  close(): Promise<void>;
}

export interface RunningNode extends OpenedNode {
  readonly app: FastifyInstance;
  readonly url: string;
  /** The background senders of federation messages (absent in a worker that does not run them). */
  readonly flashRetrier: FlashRetrier | undefined;
  readonly recallSender: RecallSender | undefined;
}

/**
 * Resolves the configuration from (lowest precedence first) defaults, the file named by --config or
 * ENTENTE_CONFIG, the environment and the command-line flags.
 */
export function loadNodeConfig(flags: RawSettings & { config?: string | undefined }, env: NodeJS.ProcessEnv): NodeConfig {
  const configPath = flags.config ?? env['ENTENTE_CONFIG'];
  const fromFile = configPath === undefined ? {} : readConfigFile(configPath);
  const { config: _ignored, ...flagSettings } = flags;
  return resolveNodeConfig([fromFile, settingsFromEnvironment(env), flagSettings], hostname());
}

function readConfigFile(path: string): RawSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new EntenteError('ENT_CONFIG_INVALID', `cannot read config file ${path}: ${(cause as Error).message}`, { path });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new EntenteError('ENT_CONFIG_INVALID', `config file ${path} is not valid JSON: ${(cause as Error).message}`, { path });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EntenteError('ENT_CONFIG_INVALID', `config file ${path} must hold a JSON object`, { path });
  }
  return parsed as RawSettings;
}

/**
 * The node's clock. ENTENTE_CLOCK_OFFSET_MS, a test aid (docs/operator-guide.md), shifts it by that
 * many milliseconds as if the machine's clock were wrong: the federation tests run nodes whose
 * clocks are minutes ahead of or behind their peers'.
 */
function nodeClock(env: NodeJS.ProcessEnv = process.env): () => Date {
  const text = env['ENTENTE_CLOCK_OFFSET_MS'];
  if (text === undefined || text === '') return () => new Date();
  if (!/^[+-]?\d{1,12}$/.test(text)) {
    throw new EntenteError('ENT_CONFIG_INVALID', `ENTENTE_CLOCK_OFFSET_MS must be a whole number of milliseconds (got ${JSON.stringify(text.slice(0, 40))})`);
  }
  const offsetMs = Number(text);
  return () => new Date(Date.now() + offsetMs);
}

export async function openNode(config: NodeConfig): Promise<OpenedNode> {
  const clock = nodeClock();
  const dataDir = resolve(config.dataDir);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new EntenteError('ENT_STORE_UNAVAILABLE', `cannot create data directory ${dataDir}: ${(cause as Error).message}`);
  }
  const databasePath = join(dataDir, databaseFileName);
  createPrivateFile(databasePath);
  const store = openSqliteObjectStore({ path: databasePath });
  try {
    const identity = await ensureNodeInitialised(store, {
      orgName: config.orgName,
      now: clock(),
      randomUuid: randomUUID,
      randomBytes: (size) => randomBytes(size),
    });
    let adminTokenPath: string | undefined;
    if (identity.newAdminSecret !== undefined) {
      adminTokenPath = join(dataDir, adminTokenFileName);
      writeSecretFile(adminTokenPath, identity.newAdminSecret);
    }
    const signers = createNodeSignerProvider({ store, organisationId: identity.homeOrganisation.id, clock });
    const releaseSigner = createReleaseSigner({ store, keys: signers, homeOrganisationId: identity.homeOrganisation.id });
    return { config, store, identity, adminTokenPath, signers, releaseSigner, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Creates the database file readable by its owner only, before SQLite opens it: SQLite gives its WAL
 * and shared-memory files the same permissions, and the data directory may already exist with looser
 * ones (./data also holds shipped data). An existing file keeps the permissions its operator chose.
 */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new EntenteError('ENT_STORE_UNAVAILABLE', `cannot create ${path}: ${(cause as Error).message}`);
    }
  }
}

/** Writes a secret readable by the owner only; refuses to overwrite (an old token file may still be in use). */
function writeSecretFile(path: string, secret: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, secret + '\n');
  } finally {
    closeSync(fd);
  }
}

export interface StartNodeOptions {
  /**
   * Run the every-minute sweep that queues recall notices of circles that reached their end (on by
   * default). With several worker processes only one runs it.
   */
  readonly sweepRecalls?: boolean;
  /**
   * Run the peer sync scheduler (docs/federation.md, "Scheduling"). Defaults to sweepRecalls: with
   * several worker processes only the one that sweeps syncs, so that no peer is asked twice over.
   */
  readonly syncPeers?: boolean;
  /** A worker of `--workers N`: its alert bus is relayed through the primary process (correlate/process-bus-relay.ts). */
  readonly alertRelay?: BusRelay;
  /** A worker of `--workers N`: uploads are counted against their token's bound node-wide, by the primary process (server/upload-places.ts). */
  readonly uploadPlaces?: UploadPlaces;
}

/**
 * What only a running node needs (the HTTP server, the federation senders and the sync scheduler),
 * loaded when a node starts rather than by every command that opens the store (`entente import`
 * would otherwise load fastify and most of the sources first).
 */
async function loadRunningNodeModules() {
  const [{ default: pino }, { queueRecallsOfEndedCircles }, { createHttpApp }, { FlashRetrier }, { RecallSender }, { postToPeer }, { openTaxiiClient }, { syncPeer, syncCycleLog }, { OriginatedPresigner }, { openSyncScheduler }] =
    await Promise.all([
      import('pino'),
      import('./circles/circle-operations.ts'),
      import('./server/create-http-app.ts'),
      import('./federation/flash-retry.ts'),
      import('./federation/recall-delivery.ts'),
      import('./taxii/post-to-peer.ts'),
      import('./taxii/taxii-client.ts'),
      import('./federation/sync-peer.ts'),
      import('./federation/presign-originated.ts'),
      import('./federation/sync-scheduler.ts'),
    ]);
  return { pino, queueRecallsOfEndedCircles, createHttpApp, FlashRetrier, RecallSender, postToPeer, openTaxiiClient, syncPeer, syncCycleLog, OriginatedPresigner, openSyncScheduler };
}

export async function startNode(config: NodeConfig, options: StartNodeOptions = {}): Promise<RunningNode> {
  const loading = loadRunningNodeModules();
  // Settled here so that a failure to open the store does not leave an unhandled rejection behind.
  loading.catch(() => undefined);
  const node = await openNode(config);
  let modules: Awaited<typeof loading>;
  try {
    modules = await loading;
  } catch (error) {
    await node.close();
    throw error;
  }
  const { pino, queueRecallsOfEndedCircles, createHttpApp, FlashRetrier, RecallSender, postToPeer, openTaxiiClient, syncPeer, syncCycleLog, OriginatedPresigner, openSyncScheduler } = modules;
  const clock = nodeClock();
  const logger = pino({ level: config.logLevel, base: { node: node.identity.homeOrganisation['name'] } });
  let scheduler: SyncScheduler | undefined;
  try {
    const app = await createHttpApp({
      peers: { onPeersChanged: () => scheduler?.refresh() },
      store: node.store,
      logger,
      limits: { maxBodyBytes: config.maxBodyBytes, maxJsonDepth: config.maxJsonDepth },
      clock,
      randomUuid: randomUUID,
      homeOrganisationId: node.identity.homeOrganisation.id,
      releaseSigner: node.releaseSigner,
      messaging: { signer: () => node.signers.current(), post: postToPeer },
      flashLimitPerHour: config.flashLimit,
      draftTimeLimitMs: config.draftTimeLimitMs,
      requestLimits: { headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs },
      maxConnections: config.maxConnections,
      maxUploadsPerToken: config.maxUploadsPerToken,
      shutdownGraceMs: config.shutdownGraceMs,
      node: { title: `Entente node of ${config.orgName}`, apiRootPath: 'api' },
      ...(options.alertRelay === undefined ? {} : { alertRelay: options.alertRelay }),
      ...(options.uploadPlaces === undefined ? {} : { uploadPlaces: options.uploadPlaces }),
      ...(config.tls ? { https: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } } : {}),
    });
    const url = await app.listen({ host: config.host, port: config.port });
    // Circles end on their date: queue their recall notices at start and then every minute.
    const circleDeps = { store: node.store, clock, homeOrganisationId: node.identity.homeOrganisation.id };
    const sweep = (): void => {
      queueRecallsOfEndedCircles(circleDeps).catch((error: unknown) => logger.error({ err: error }, 'queueing recall notices of ended circles failed'));
    };
    const sweeper = options.sweepRecalls === false ? undefined : setInterval(sweep, 60_000);
    if (sweeper !== undefined) {
      sweep();
      sweeper.unref();
    }
    // The same process delivers recall notices and retries undelivered flashes and acknowledgements.
    const messageDeps = { ...circleDeps, signer: () => node.signers.current(), post: postToPeer, randomUuid: randomUUID };
    const onError = (what: string, error: unknown): void => logger.error({ err: error }, `federation: cannot ${what}`);
    const flashRetrier = options.sweepRecalls === false ? undefined : new FlashRetrier(messageDeps, { onError });
    const recallSender =
      options.sweepRecalls === false
        ? undefined
        : new RecallSender(messageDeps, { onError, onOutcome: (outcome) => logger.info({ recall: outcome }, 'recall notices sent') });
    flashRetrier?.start();
    recallSender?.start();
    // What the home organisation publishes into circles is signed while the node is idle, before a
    // partner asks for it (federation/presign-originated.ts).
    const presigner = options.sweepRecalls === false ? undefined : new OriginatedPresigner(node.store, node.releaseSigner, { onError: (error) => onError('sign originated versions ahead of release', error) });
    presigner?.start();
    // Every peer on its interval, with backoff; a silent peer is a notice on the alert stream.
    const syncDeps: SyncDeps = { ...circleDeps, openClient: openTaxiiClient, releaseSigner: node.releaseSigner };
    const onPeerSilent = (notice: PeerSilentNotice): void => {
      logger.warn({ peer: notice.peer, organisation: notice.organisationId, lastSuccessAt: notice.lastSuccessAt, lastError: notice.lastError }, 'peer silent');
      void app.alerting.bus.publishNotice(peerSilentNotice(notice));
    };
    scheduler =
      (options.syncPeers ?? options.sweepRecalls) === false
        ? undefined
        : openSyncScheduler({
            store: node.store,
            runCycle: (name, signal) => syncPeer(syncDeps, name, { signal }),
            clock: circleDeps.clock,
            random: Math.random,
            onPeerSilent,
            onCycle: (report) => {
              // The counts, and what the circle's refresh refused (re-joinings) or queued (recalls).
              const { level, fields, message } = syncCycleLog(report);
              logger[level](fields, message);
            },
            onError: (error, peer) => logger.error({ err: error, peer }, 'peer sync scheduler'),
          });
    void scheduler?.tick();
    return {
      ...node,
      app,
      url,
      flashRetrier,
      recallSender,
      close: async () => {
        clearInterval(sweeper);
        // In-flight fetches are aborted; each page was written in one transaction.
        await scheduler?.close();
        await flashRetrier?.stop();
        await recallSender?.stop();
        await presigner?.stop();
        await app.close();
        await node.close();
      },
    };
  } catch (error) {
    await node.close();
    throw error;
  }
}

/** A silent peer as a notice on the node's alert stream (kind `peer-silent`). */
function peerSilentNotice(notice: PeerSilentNotice): Parameters<FastifyInstance['alerting']['bus']['publishNotice']>[0] {
  const since = notice.lastSuccessAt === undefined ? 'since it was added' : `since ${notice.lastSuccessAt}`;
  return {
    kind: 'peer-silent',
    raised_at: notice.at,
    summary: `Peer ${notice.peer} has not completed a sync ${since}${notice.lastError === undefined ? '' : ` (last error ${notice.lastError.code})`}`,
    details: {
      peer: notice.peer,
      organisation_id: notice.organisationId,
      circle_id: notice.circleId,
      last_success_at: notice.lastSuccessAt ?? null,
      silent_for_seconds: notice.silentForSeconds,
      last_error_code: notice.lastError?.code ?? null,
      last_error_message: notice.lastError?.message ?? null,
    },
  };
}
