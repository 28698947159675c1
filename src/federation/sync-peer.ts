// One sync cycle with one peer — refresh the circle mirror when the peer coordinates the circle
// (and this node's organisation has not left it), pull, push for `--push` peers — and its outcome
// recorded in the peer's state. Shared by the scheduler of the running node, `entente sync` and
// POST /api/peers/:name/sync.
import { createHash } from 'node:crypto';
import { EntenteError, isEntenteError } from '../errors/entente-error.ts';
import { errorCatalogue, type ErrorCode } from '../errors/catalogue.ts';
import type { PeerRecord } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { ReleaseSigner } from '../release/open-release-gate.ts';
import { refreshesMirror } from './coordinator-link.ts';
import { mirrorCircle, type MirrorOutcome } from './mirror-circle.ts';
import { followKeyRotations, type OpenPeerClient } from './peer-operations.ts';
import { NO_PULL, pullPeer, type PullCounts } from './pull-peer.ts';
import { NO_PUSH, pushPeer, type PushCounts } from './push-peer.ts';

export interface SyncDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
  readonly openClient: OpenPeerClient;
  /** Signs what a push sends (federation/sign-releases.ts). */
  readonly releaseSigner?: ReleaseSigner;
  /** Page size of pulls and pushes, and objects per pull write (tests use small ones: each page is then written on its own). */
  readonly pageSize?: number;
  /** How a push follows the peer's status resource. */
  readonly followStatus?: { readonly pollMs: number; readonly deadlineMs: number };
}

export interface SyncReport {
  readonly peer: string;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The circle was refreshed from the peer (it coordinates the circle). */
  readonly mirror: MirrorOutcome | undefined;
  readonly pull: PullCounts;
  /** Undefined for a peer without --push. */
  readonly push: PushCounts | undefined;
  /** Why the cycle failed; what was written before the failure stays written. */
  readonly error: { readonly code: string; readonly message: string } | undefined;
}

// Cycles under way in this process, per store: a second one for the same peer is refused.
const running = new WeakMap<object, Set<string>>();

function busyPeers(store: object): Set<string> {
  let names = running.get(store);
  if (names === undefined) {
    names = new Set();
    running.set(store, names);
  }
  return names;
}

/** Whether a cycle of this peer is running in this process. */
export function isSyncRunning(store: object, name: string): boolean {
  return running.get(store)?.has(name) === true;
}

function errorOf(error: unknown): { code: ErrorCode | string; message: string } {
  if (isEntenteError(error)) return { code: error.code, message: error.message };
  return { code: 'ENT_HTTP_INTERNAL', message: error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500) };
}

/**
 * Cursors move past what the release decision withheld. When the circle changes — a member is
 * promoted, terms are accepted or widened, a member joins — what was withheld may now be released,
 * on either side: the peer's node releases more to this one, and this one accepts or pushes more. So
 * whenever the circle (members, agreement versions, acceptances) differs from what the last cycle
 * saw, both cursors are reset and the cycle reads the collection again; what is already held comes
 * back as duplicates, which cost a read and nothing else. Returns whether it reset them.
 */
async function resetCursorsIfCircleChanged(deps: SyncDeps, peer: PeerRecord): Promise<boolean> {
  const circle = await deps.store.getCircle(peer.circleId);
  if (circle === undefined) return false;
  const state = await deps.store.getAgreementState(peer.circleId);
  const digest = createHash('sha256').update(JSON.stringify({ circle, state })).digest('hex');
  const key = `sync-circle-state:${peer.name}`;
  const seen = await deps.store.getMeta(key);
  if (seen === digest) return false;
  // First cycle of this peer: its cursors start empty anyway.
  if (seen !== undefined) await deps.store.resetSyncCursors(peer.name);
  await deps.store.setMeta(key, digest);
  return seen !== undefined;
}

/** Whether the circle here is the peer's mirror, to refresh (federation/coordinator-link.ts). */
async function isMirrorOf(deps: SyncDeps, peer: PeerRecord, now: Date): Promise<boolean> {
  const circle = await deps.store.getCircle(peer.circleId);
  return circle !== undefined && refreshesMirror(circle, peer, deps.homeOrganisationId, now);
}

/**
 * Runs one cycle now. Throws ENT_PEER_NOT_FOUND for an unknown peer and ENT_SYNC_BUSY when a cycle
 * of the same peer is already running in this process; any other failure is recorded in the peer's
 * state (last error, consecutive failures) and returned in the report. `signal` aborts between
 * pages and cancels the request in flight; a cycle stopped that way is not recorded as a failure,
 * nor is one whose pull another process overtook (reported with ENT_SYNC_BUSY; that process records its own).
 */
export async function syncPeer(deps: SyncDeps, name: string, options: { readonly signal?: AbortSignal } = {}): Promise<SyncReport> {
  const busy = busyPeers(deps.store);
  if (busy.has(name)) throw new EntenteError('ENT_SYNC_BUSY', `A sync of peer ${name} is already running; wait for it to finish`, { peer: name });
  busy.add(name);
  try {
    const peer = await deps.store.getPeer(name);
    if (peer === undefined) throw new EntenteError('ENT_PEER_NOT_FOUND', `No peer named ${name} (see entente peer list)`, { peer: name });
    const started = deps.clock();
    const client = deps.openClient({ url: peer.apiRootUrl, token: peer.token });
    const abort = (): void => client.close();
    options.signal?.addEventListener('abort', abort, { once: true });
    let mirror: MirrorOutcome | undefined;
    let pull = NO_PULL;
    let push: PushCounts | undefined;
    let failure: { code: string; message: string } | undefined;
    try {
      if (options.signal?.aborted === true) throw new EntenteError('ENT_PEER_UNREACHABLE', `The sync of peer ${name} was stopped before it started`, { peer: name, cancelled: true });
      if (await isMirrorOf(deps, peer, started)) mirror = await mirrorCircle(deps, client, peer.circleId, peer.organisationId);
      await resetCursorsIfCircleChanged(deps, peer);
      // Before the pull: what the peer signs with a key it rotated to must find that key pinned.
      await followKeyRotations(deps.store, client, peer, started);
      const pageOptions = { ...(options.signal === undefined ? {} : { signal: options.signal }), ...(deps.pageSize === undefined ? {} : { pageSize: deps.pageSize, batchSize: deps.pageSize, writeObjects: deps.pageSize }) };
      pull = await pullPeer(deps, peer, client, { ...pageOptions, onPage: (counts) => (pull = counts) });
      if (peer.push) {
        push = NO_PUSH;
        push = await pushPeer(deps, peer, client, { ...pageOptions, ...(deps.followStatus === undefined ? {} : { followStatus: deps.followStatus }), onBatch: (counts) => (push = counts) });
      }
    } catch (error: unknown) {
      failure = errorOf(error);
    } finally {
      options.signal?.removeEventListener('abort', abort);
      client.close();
    }
    const finished = deps.clock();
    // A cycle cut short because the node stops is not the peer's failure: what it wrote stays, nothing is counted against the peer.
    const stopped = failure !== undefined && options.signal?.aborted === true;
    // Nor is a pull whose pages another process's pull of the peer wrote meanwhile (the store refused
    // this one's write, ENT_SYNC_BUSY: the in-process refusal above throws before the try). That
    // process records its own attempt; counted here, contention would back the peer off and mark it
    // failing while it answers.
    const overtaken = failure?.code === 'ENT_SYNC_BUSY';
    if (!stopped && !overtaken) await deps.store.recordSyncAttempt(name, {
      at: finished.toISOString(),
      ok: failure === undefined,
      ...(failure === undefined ? {} : { error: failure }),
      objectsOut: push?.pushed ?? 0,
    });
    return { peer: name, ok: failure === undefined, startedAt: started.toISOString(), finishedAt: finished.toISOString(), mirror, pull, push, error: failure };
  } finally {
    busy.delete(name);
  }
}

/** The report's failure as an EntenteError (for REST answers), or nothing when the cycle succeeded. */
export function assertSyncSucceeded(report: SyncReport): void {
  if (report.error === undefined) return;
  const code = Object.hasOwn(errorCatalogue, report.error.code) ? (report.error.code as ErrorCode) : 'ENT_HTTP_INTERNAL';
  throw new EntenteError(code, `Sync of peer ${report.peer} failed: ${report.error.message}`, {
    peer: report.peer,
    added: report.pull.added,
    duplicates: report.pull.duplicates,
    quarantined: report.pull.quarantined,
    pushed: report.push?.pushed ?? 0,
  });
}

/** The JSON form of a cycle's report (REST, `entente sync --json`). */
export function syncReportJson(report: SyncReport): Record<string, unknown> {
  return {
    peer: report.peer,
    ok: report.ok,
    started_at: report.startedAt,
    finished_at: report.finishedAt,
    circle_refreshed: report.mirror !== undefined,
    // What the circle's refresh refused or queued (null: the circle was not refreshed from this peer).
    rejoins_refused: report.mirror === undefined ? null : [...report.mirror.rejoinsRefused],
    recalls_queued: report.mirror?.recallsQueued ?? null,
    pages: report.pull.pages,
    received: report.pull.received,
    added: report.pull.added,
    duplicates: report.pull.duplicates,
    quarantined: report.pull.quarantined,
    pushed: report.push?.pushed ?? null,
    refused: report.push?.refused ?? null,
    refusals: (report.push?.refusals ?? []).map((refusal) => ({ id: refusal.id, version: refusal.version, message: refusal.message })),
    error: report.error === undefined ? null : { code: report.error.code, message: report.error.message },
  };
}

/** A log line: its level, its fields and its message. */
export interface SyncLogLine {
  readonly level: 'info' | 'warn';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/**
 * What the running node logs of a scheduled cycle (compose.ts): the counts, and, when the circle was
 * refreshed from the peer, the members its view shows as re-joined after this node recorded them as
 * left (refused: a member that left stays gone) and the recall notices queued for members it shows as
 * left. A refused re-joining is a warning: the coordinator's node says something this node does not
 * take, and the administrator should ask why.
 */
export function syncCycleLog(report: SyncReport): SyncLogLine {
  const fields: Record<string, unknown> = {
    peer: report.peer,
    added: report.pull.added,
    duplicates: report.pull.duplicates,
    quarantined: report.pull.quarantined,
    pushed: report.push?.pushed,
    ...(report.mirror === undefined ? {} : { rejoinsRefused: [...report.mirror.rejoinsRefused], recallsQueued: report.mirror.recallsQueued }),
  };
  if (!report.ok) return { level: 'warn', fields: { ...fields, error: report.error }, message: 'peer sync failed' };
  if ((report.mirror?.rejoinsRefused.length ?? 0) > 0) {
    return { level: 'warn', fields, message: 'peer synced; its view of the circle shows members that left as members again: refused, they stay gone' };
  }
  return { level: 'info', fields, message: 'peer synced' };
}
