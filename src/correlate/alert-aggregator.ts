// Alerts deduplicated per (indicator version, observable, window) — and, in the running node, per what the
// caller may read: the first match opens an alert, later ones in the same window only move its
// last_seen and count. Windows are fixed slices of observation time
// (`windowSeconds`, aligned on the epoch), so the same logs always give the same alerts.
import type { IndicatorMatch, MatchedObservable } from './bulk-matcher.ts';
import type { LogObservation } from './log-observation.ts';
import { severityOf, type Severity } from './effective-confidence.ts';

export interface Alert {
  readonly key: string;
  readonly indicatorId: string;
  /** The variant of the indicator that matched (IndicatorMatch.variant): which of its versions, as the matcher that opened the alert numbered them. */
  readonly variant: number;
  /** The version (key as written) that variant was compiled from, when the caller told record() it. */
  readonly version?: string;
  readonly name: string | undefined;
  readonly confidence: number | undefined;
  readonly observable: MatchedObservable;
  readonly window: number;
  firstSeen: string;
  lastSeen: string;
  count: number;
  /** The observations of the first match: they become the sighting's observed-data. */
  readonly evidence: readonly LogObservation[];
  /** Where the first match was read. */
  readonly source: string;
  readonly line: number;
}

/** An alert as printed by `entente match` and sent on the node's stream and webhooks (snake_case JSON). */
export interface AlertRecord {
  readonly indicator_id: string;
  readonly indicator_name: string | null;
  readonly observable: MatchedObservable;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly count: number;
  readonly confidence: number;
  readonly severity: Severity;
  readonly input: string;
  readonly line: number;
  readonly sighting_id: string | null;
}

export function toAlertRecord(alert: Alert, sightingId: string | undefined): AlertRecord {
  const confidence = alert.confidence ?? 50;
  return {
    indicator_id: alert.indicatorId,
    indicator_name: alert.name ?? null,
    observable: { type: alert.observable.type, path: alert.observable.path, value: alert.observable.value },
    first_seen: alert.firstSeen,
    last_seen: alert.lastSeen,
    count: alert.count,
    confidence,
    severity: severityOf(confidence),
    input: alert.source,
    line: alert.line,
    sighting_id: sightingId ?? null,
  };
}

/**
 * Alerts held open at most (each with its evidence): what `entente match` closes windows at. A
 * pattern matching many distinct values (a partner's catch-all) opens an alert per value, held
 * until its window is a full window behind (~1 KB each: 200,000 values took 207 MB).
 */
export const maxOpenAlerts = 100_000;

export interface AlertAggregatorOptions {
  /** Open alerts held at most (default maxOpenAlerts). */
  readonly maxOpen?: number;
}

export class AlertAggregator {
  private readonly open = new Map<string, Alert>();
  /** Alerts pushed out by the cap, handed to the next close() whatever their window. */
  private pushedOut: Alert[] = [];
  private evictedCount = 0;
  private readonly maxOpen: number;

  constructor(
    private readonly windowSeconds: number,
    options: AlertAggregatorOptions = {},
  ) {
    this.maxOpen = options.maxOpen ?? maxOpenAlerts;
  }

  /** Alerts closed early because the cap was reached (their counts stop there; a later match opens another). */
  get evicted(): number {
    return this.evictedCount;
  }

  /**
   * Records a match; returns the alert when this match opened it. `scope` separates the windows of
   * callers that may read different things (the node's matcher gives the collections the caller may
   * read, '' for one that reads them all): a window opened by a caller that may not read the
   * indicator, which stores no sighting, must not suppress the alert and sighting of one that may.
   * `version`: the version of the indicator the match's variant was compiled from (its key as
   * written), which the window is then the window of. A variant is a number the loader gives as it
   * compiles, which a rebuild gives again, in another order: a window kept across rebuilds and keyed
   * on it would take the matches of one version into the window of another.
   */
  record(match: IndicatorMatch, scope = '', version?: string): Alert | undefined {
    const trigger = match.observations[match.observations.length - 1] as LogObservation;
    const first = match.observations.reduce((min, o) => (o.firstObserved < min ? o.firstObserved : min), trigger.firstObserved);
    const last = match.observations.reduce((max, o) => (o.lastObserved > max ? o.lastObserved : max), trigger.lastObserved);
    const window = this.windowOf(trigger.firstObserved);
    const variant = match.variant ?? 0;
    // Two versions of one indicator compiled side by side are two alerts: each goes to its own readers.
    const which = version !== undefined ? `\u0001v${version}` : variant === 0 ? '' : `\u0001${variant}`;
    const key = `${match.indicatorId}${which}\u0000${match.observable.path}\u0000${match.observable.value}\u0000${window}${scope === '' ? '' : `\u0000${scope}`}`;
    const held = this.open.get(key);
    if (held !== undefined) {
      if (first < held.firstSeen) held.firstSeen = first;
      if (last > held.lastSeen) held.lastSeen = last;
      held.count += trigger.count;
      return undefined;
    }
    const alert: Alert = {
      key,
      indicatorId: match.indicatorId,
      variant,
      ...(version === undefined ? {} : { version }),
      name: match.name,
      confidence: match.confidence,
      observable: match.observable,
      window,
      firstSeen: first,
      lastSeen: last,
      count: trigger.count,
      evidence: match.observations,
      source: trigger.source,
      line: trigger.line,
    };
    if (this.open.size >= this.maxOpen) {
      // The oldest opened goes (a Map keeps insertion order): closed early rather than dropped, so
      // that its caller still gets its final count, and what it keeps per alert is let go.
      const [oldestKey, oldest] = this.open.entries().next().value as [string, Alert];
      this.open.delete(oldestKey);
      this.pushedOut.push(oldest);
      this.evictedCount++;
    }
    this.open.set(key, alert);
    return alert;
  }

  windowOf(timestamp: string): number {
    return Math.floor(Date.parse(timestamp) / 1000 / this.windowSeconds);
  }

  /**
   * Alerts held: open, and pushed out by the cap but not yet handed to close(). What memory they take,
   * and what `entente match` closes windows on when it passes the cap.
   */
  get size(): number {
    return this.open.size + this.pushedOut.length;
  }

  /**
   * Closes and returns the alerts of windows before `window` (all of them when undefined), oldest
   * first, with those the cap pushed out since the last call. `window` is the caller's "now" less one
   * window (the node's clock, `entente match`'s latest observation): an alert of a window more than
   * one past now was stamped in the future (a first_observed of 2099), and is closed too rather than
   * held until then.
   */
  close(window?: number): Alert[] {
    const out: Alert[] = this.pushedOut;
    this.pushedOut = [];
    for (const [key, alert] of this.open) {
      if (window === undefined || alert.window < window || alert.window > window + 2) {
        out.push(alert);
        this.open.delete(key);
      }
    }
    return out.sort((a, b) => (a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : a.key < b.key ? -1 : 1));
  }
}
