// The running node's sync scheduler (docs/federation.md, "Scheduling"): each peer runs every
// interval; failures back off (interval × 2^failures, capped at an hour, ±20 % jitter); a peer that
// has not completed a cycle for `silentAfter` intervals raises one `peer-silent` notice until it
// answers again. The clock, the random source and the cycle itself are injected, so that tests
// drive it tick by tick. Closing aborts the cycles in flight and waits for them: each page is one
// transaction, so nothing is left half-written.
import { isEntenteError } from '../errors/entente-error.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { SyncReport } from './sync-peer.ts';
import { isPeerSilent, nextSyncDelayMs } from './sync-timing.ts';

/** What the scheduler tells the node about a peer gone silent. */
export interface PeerSilentNotice {
  readonly peer: string;
  readonly organisationId: string;
  readonly circleId: string;
  readonly lastSuccessAt: string | undefined;
  /** Seconds since the last success, or since the link was made when there was none. */
  readonly silentForSeconds: number;
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  readonly at: string;
}

export interface SyncSchedulerDeps {
  readonly store: Pick<ObjectStore, 'listPeers' | 'getPeerState'>;
  /** One cycle of one peer (syncPeer in the node). */
  readonly runCycle: (name: string, signal: AbortSignal) => Promise<SyncReport>;
  readonly clock: () => Date;
  /** A number in [0, 1): the jitter. */
  readonly random: () => number;
  readonly onPeerSilent: (notice: PeerSilentNotice) => void;
  /** A cycle's outcome (for the log). */
  readonly onCycle?: (report: SyncReport) => void;
  /** Something went wrong outside a cycle (reading the peer list), or a cycle threw. */
  readonly onError?: (error: unknown, peer: string | undefined) => void;
}

export interface SyncSchedulerOptions {
  /** How often the scheduler looks for due peers; 0: never by itself (tests call tick()). Default 1 s. */
  readonly tickMs?: number;
  /** How often the peer list is read again, for peers added or removed by the command line. Default 30 s. */
  readonly refreshMs?: number;
}

export interface SyncScheduler {
  /** Starts the cycles that are due and checks for silent peers; resolves once they are started. */
  tick(): Promise<void>;
  /** Reads the peer list again at the next tick (a peer was added or removed in this process). */
  refresh(): void;
  /** Resolves when every cycle under way has finished. */
  idle(): Promise<void>;
  /** When each known peer runs next (milliseconds since the epoch), for status and tests. */
  nextRuns(): ReadonlyMap<string, number>;
  /** Stops: no new cycle, the ones under way aborted and awaited. */
  close(): Promise<void>;
}

interface Slot {
  intervalSeconds: number;
  silentAfter: number;
  organisationId: string;
  circleId: string;
  createdAt: string;
  nextRunAt: number;
  failures: number;
  lastSuccessAt: string | undefined;
  lastError: { readonly code: string; readonly message: string } | undefined;
  silentNoticed: boolean;
  running: Promise<void> | undefined;
  controller: AbortController | undefined;
}

export function openSyncScheduler(deps: SyncSchedulerDeps, options: SyncSchedulerOptions = {}): SyncScheduler {
  // Fine enough for sub-second intervals; a tick only compares instants held in memory.
  const tickMs = options.tickMs ?? 100;
  const refreshMs = options.refreshMs ?? 30_000;
  const slots = new Map<string, Slot>();
  let nextRefreshAt = Number.NEGATIVE_INFINITY;
  let closed = false;
  let ticking: Promise<void> | undefined;

  async function readPeers(now: number): Promise<void> {
    const peers = await deps.store.listPeers();
    const names = new Set(peers.map((peer) => peer.name));
    for (const name of slots.keys()) if (!names.has(name) && slots.get(name)?.running === undefined) slots.delete(name);
    for (const peer of peers) {
      const known = slots.get(peer.name);
      if (known !== undefined) {
        known.intervalSeconds = peer.intervalSeconds;
        known.silentAfter = peer.silentAfter;
        continue;
      }
      const state = await deps.store.getPeerState(peer.name);
      const lastAttempt = state.lastAttemptAt === undefined ? Number.NaN : Date.parse(state.lastAttemptAt);
      // A node that restarts does not ask every peer at once: a peer asked recently waits its turn.
      const nextRunAt = Number.isNaN(lastAttempt) ? now : Math.min(now + nextSyncDelayMs(peer.intervalSeconds, state.consecutiveFailures, deps.random), lastAttempt + nextSyncDelayMs(peer.intervalSeconds, state.consecutiveFailures, deps.random));
      slots.set(peer.name, {
        intervalSeconds: peer.intervalSeconds,
        silentAfter: peer.silentAfter,
        organisationId: peer.organisationId,
        circleId: peer.circleId,
        createdAt: peer.createdAt,
        nextRunAt,
        failures: state.consecutiveFailures,
        lastSuccessAt: state.lastSuccessAt,
        lastError: state.lastError === undefined ? undefined : { code: state.lastError.code, message: state.lastError.message },
        silentNoticed: false,
        running: undefined,
        controller: undefined,
      });
    }
  }

  /**
   * A success another cycle recorded in the store (this process's scheduler only sees its own): a
   * peer kept in sync by others while this scheduler's cycles are overtaken is not silent.
   */
  async function takeStoredSuccess(name: string, slot: Slot): Promise<void> {
    try {
      const stored = (await deps.store.getPeerState(name)).lastSuccessAt;
      if (stored === undefined || (slot.lastSuccessAt !== undefined && Date.parse(stored) <= Date.parse(slot.lastSuccessAt))) return;
      slot.lastSuccessAt = stored;
      slot.silentNoticed = false;
    } catch (error: unknown) {
      deps.onError?.(error, name);
    }
  }

  function start(name: string, slot: Slot): void {
    const controller = new AbortController();
    slot.controller = controller;
    slot.running = deps
      .runCycle(name, controller.signal)
      .then(
        async (report) => {
          if (report.ok) {
            slot.failures = 0;
            slot.lastSuccessAt = report.finishedAt;
            slot.lastError = undefined;
            slot.silentNoticed = false;
          } else if (report.error?.code === 'ENT_SYNC_BUSY') {
            // Another process's pull of the peer (`entente sync`, a worker's POST .../sync) wrote
            // what this one fetched: no failure of the peer, which waits its usual turn, and whose
            // successes that process records in the store, not here.
            await takeStoredSuccess(name, slot);
          } else {
            slot.failures += 1;
            slot.lastError = report.error;
          }
          deps.onCycle?.(report);
        },
        async (error: unknown) => {
          if (isEntenteError(error) && error.code === 'ENT_PEER_NOT_FOUND') {
            slots.delete(name);
            return;
          }
          // ENT_SYNC_BUSY: a cycle started elsewhere in this process (POST /api/peers/:name/sync) is
          // running; the peer simply waits for its next turn.
          if (isEntenteError(error) && error.code === 'ENT_SYNC_BUSY') await takeStoredSuccess(name, slot);
          else deps.onError?.(error, name);
        },
      )
      .finally(() => {
        slot.running = undefined;
        slot.controller = undefined;
        slot.nextRunAt = deps.clock().getTime() + nextSyncDelayMs(slot.intervalSeconds, slot.failures, deps.random);
      });
  }

  function checkSilence(now: number): void {
    for (const [name, slot] of slots) {
      if (slot.silentNoticed || !isPeerSilent(slot, now)) continue;
      slot.silentNoticed = true;
      const since = Date.parse(slot.lastSuccessAt ?? slot.createdAt);
      deps.onPeerSilent({
        peer: name,
        organisationId: slot.organisationId,
        circleId: slot.circleId,
        lastSuccessAt: slot.lastSuccessAt,
        silentForSeconds: Math.max(0, Math.floor((now - since) / 1000)),
        lastError: slot.lastError,
        at: new Date(now).toISOString(),
      });
    }
  }

  async function runTick(): Promise<void> {
    if (closed) return;
    const now = deps.clock().getTime();
    if (now >= nextRefreshAt) {
      try {
        await readPeers(now);
        nextRefreshAt = now + refreshMs;
      } catch (error: unknown) {
        deps.onError?.(error, undefined);
      }
    }
    if (closed) return;
    for (const [name, slot] of slots) if (slot.running === undefined && slot.nextRunAt <= now) start(name, slot);
    checkSilence(now);
  }

  function tick(): Promise<void> {
    ticking ??= runTick().finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  const timer = tickMs > 0 ? setInterval(() => void tick(), tickMs) : undefined;
  timer?.unref();

  async function idle(): Promise<void> {
    for (;;) {
      const running = [...slots.values()].map((slot) => slot.running).filter((promise): promise is Promise<void> => promise !== undefined);
      if (running.length === 0 && ticking === undefined) return;
      await Promise.all([...running, ticking]);
    }
  }

  return {
    tick,
    refresh() {
      nextRefreshAt = Number.NEGATIVE_INFINITY;
    },
    idle,
    nextRuns() {
      return new Map([...slots].map(([name, slot]) => [name, slot.nextRunAt]));
    },
    async close() {
      if (closed) return idle();
      closed = true;
      clearInterval(timer);
      for (const slot of slots.values()) slot.controller?.abort();
      await idle();
    },
  };
}
