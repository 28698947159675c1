// When a peer's next sync cycle runs and when its silence is worth a notice (docs/federation.md,
// "Scheduling"). Pure: the random source and the instants are passed in.

/**
 * How far apart two nodes' clocks may be (docs/federation.md: ±5 minutes are normal). Acceptances
 * mirrored from a coordinator whose clock is ahead bind this much before this node's clock reaches them.
 */
export const PEER_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** A failing peer is retried at least this often, however long its backoff grew. */
export const MAX_BACKOFF_SECONDS = 3600;
/** Each delay is moved by up to this fraction either way, so that peers never fall into step. */
export const SYNC_JITTER = 0.2;

/**
 * The delay before a peer's next cycle: its interval after a success, interval × 2^failures after
 * `failures` consecutive failures, capped at one hour (or at the interval itself when an operator
 * chose one longer than an hour: a failure never makes a peer be asked less often than success
 * does), then moved by ±20 % with `random` (a number in [0, 1)).
 */
export function nextSyncDelayMs(intervalSeconds: number, consecutiveFailures: number, random: () => number): number {
  const interval = Math.max(0.5, intervalSeconds);
  const failures = Math.max(0, Math.floor(consecutiveFailures));
  const cap = Math.max(MAX_BACKOFF_SECONDS, interval);
  // 2^failures overflows nothing here: past 13 doublings every interval of at least 0.5 s is capped.
  const base = Math.min(cap, interval * 2 ** Math.min(failures, 32));
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * 1000 * (1 + (draw * 2 - 1) * SYNC_JITTER));
}

/** What the silence check reads of a peer. */
export interface SilenceInput {
  readonly intervalSeconds: number;
  readonly silentAfter: number;
  /** When the link was made: a peer that never answered is silent from then on. */
  readonly createdAt: string;
  readonly lastSuccessAt: string | undefined;
}

/**
 * Whether a peer has not completed a cycle for `silentAfter` intervals (since its last success, or
 * since it was added when it never had one). `now` in milliseconds since the epoch.
 */
export function isPeerSilent(peer: SilenceInput, now: number): boolean {
  const since = Date.parse(peer.lastSuccessAt ?? peer.createdAt);
  if (Number.isNaN(since)) return false;
  return now - since >= peer.silentAfter * peer.intervalSeconds * 1000;
}

/** Seconds since the last successful cycle, or undefined when there was none (the status's lag). */
export function lagSeconds(lastSuccessAt: string | undefined, now: number): number | undefined {
  if (lastSuccessAt === undefined) return undefined;
  const at = Date.parse(lastSuccessAt);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.floor((now - at) / 1000));
}
