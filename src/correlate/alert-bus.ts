// Alerts raised in the running node, numbered and fanned out to subscribers (the SSE stream, webhooks).
// A bounded ring of recent events lets a reconnecting SSE client resume from its Last-Event-ID.
// With `entente start --workers N` the buses of the workers are relayed through the primary process
// (alert-bus-relay.ts): it numbers every event, so an event has one id on every worker's stream and
// a client may resume on any worker; each worker's stream shows the events raised on all of them.
import type { AlertRecord } from './alert-aggregator.ts';
import type { ConfidenceBasis } from './effective-confidence.ts';

/** An alert as the node publishes it: the record `entente match` prints, with its event id and when it was raised. */
export interface AlertJson extends AlertRecord {
  /** The bus's number, as webhooks get it; tokens are shown it sealed (api/alert-event-ids.ts), as its gaps count the alerts they may not see. */
  readonly alert_id: string;
  readonly raised_at: string;
}

export interface AlertEvent {
  /** Strictly increasing within this process, from 1. */
  readonly id: number;
  readonly alert: AlertJson;
  /** Collections whose latest version of the indicator is the one that matched: a subscriber sees the alert when it may read one of them… */
  readonly collections: readonly string[];
  /**
   * …and none of these: the collections whose latest version of the indicator is newer than the one
   * that matched and has its creator and provably its origin (correlate/version-origin.ts; a newer one
   * by another creator or of another or unknown origin is another object, alerted on apart). A reader of one of them gets the alerts of the newest version it may read instead (or
   * none, when that one is revoked, expired or does not match). Absent when there are none.
   */
  readonly newerIn?: readonly string[];
  /**
   * What `alert.confidence` (counting every collection's evidence) is made of, by collection: a
   * subscriber is shown the confidence of the collections it may read (confidenceIn). Absent when no
   * collection holds evidence about the indicator: every subscriber is shown `alert.confidence`.
   */
  readonly basis?: ConfidenceBasis;
  /**
   * The key (as written) of the indicator version that matched, never shown: what a subscriber acting
   * later — a webhook's retry, a resumed stream's replay — needs to read again who the alert is for (NodeMatcher.audiencesNow), as
   * a recall, a deletion or a newer version may have withdrawn it since. Absent when none is known.
   */
  readonly version?: string;
}

export type AlertListener = (event: AlertEvent) => void;

/**
 * A notice: something the home organisation must see that is not a match — a flash message from a
 * circle member, a silent peer, a recall carried out. Shares the alert events' numbering and ring,
 * so a reconnecting stream resumes both; only the home organisation's subscribers receive notices.
 */
export interface NoticeJson {
  readonly notice_id: string;
  readonly kind: 'flash' | 'peer-silent' | 'recall';
  readonly raised_at: string;
  /** One line a human reads first. */
  readonly summary: string;
  /** What the notice is about (flash id, circle, sender, peer …), per kind. */
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface NoticeEvent {
  readonly id: number;
  readonly notice: NoticeJson;
}

export type NoticeListener = (event: NoticeEvent) => void;

/** Either kind of event the bus numbers. */
export type BusEvent = AlertEvent | NoticeEvent;

export function isNoticeEvent(event: BusEvent): event is NoticeEvent {
  return 'notice' in event;
}

/** An event raised in one process, before it has its number. */
export type RaisedEvent =
  | {
      readonly kind: 'alert';
      readonly alert: Omit<AlertJson, 'alert_id'>;
      readonly collections: readonly string[];
      readonly basis?: ConfidenceBasis;
      readonly newerIn?: readonly string[];
      readonly version?: string;
    }
  | { readonly kind: 'notice'; readonly notice: Omit<NoticeJson, 'notice_id'> };

/** The numbered event of a raised one: the one place an id is given, whichever process numbers it. */
export function numberEvent(id: number, raised: RaisedEvent): BusEvent {
  return raised.kind === 'alert'
    ? {
        id,
        alert: { alert_id: String(id), ...raised.alert },
        collections: raised.collections,
        ...(raised.basis === undefined ? {} : { basis: raised.basis }),
        ...(raised.newerIn === undefined || raised.newerIn.length === 0 ? {} : { newerIn: raised.newerIn }),
        ...(raised.version === undefined ? {} : { version: raised.version }),
      }
    : { id, notice: { notice_id: String(id), ...raised.notice } };
}

/**
 * How a bus shares one numbering with the buses of other processes: events raised here are sent to
 * be numbered, and every numbered event — raised here or elsewhere — comes back, in order, with the
 * `origin` it was sent with. `replayed` events were raised before this process listened: they fill
 * its ring (for clients resuming here) and reach no subscriber.
 */
export interface BusRelay {
  /** False when the event could not be sent (the channel is closed): the bus then numbers it itself. */
  send(origin: string, raised: RaisedEvent): boolean;
  listen(deliver: (event: BusEvent, origin: string | undefined, replayed: boolean) => void): void;
}

let busesMade = 0;

export class AlertBus {
  readonly #ring: (BusEvent | undefined)[];
  readonly #listeners = new Set<AlertListener>();
  readonly #raisedHereListeners = new Set<AlertListener>();
  readonly #noticeListeners = new Set<NoticeListener>();
  readonly #relay: BusRelay | undefined;
  /** origin → the publish call waiting for its event to come back numbered. */
  readonly #waiting = new Map<string, (event: BusEvent) => void>();
  /** Unique to this bus among the node's processes: the primary hands each event back with it. */
  readonly #originPrefix = `${process.pid}.${++busesMade}:`;
  #origins = 0;
  #next = 1;

  constructor(
    readonly ringSize = 1024,
    relay?: BusRelay,
  ) {
    this.#ring = new Array<BusEvent | undefined>(ringSize);
    this.#relay = relay;
    relay?.listen((event, origin, replayed) => (replayed ? this.#hold(event) : this.#accept(event, origin)));
  }

  /** True when the events of other processes come through this bus too (`--workers N`). */
  get relayed(): boolean {
    return this.#relay !== undefined;
  }

  /** The id the next event will get (as far as this process knows). */
  get nextId(): number {
    return this.#next;
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Raises an alert; resolves with it numbered, once its subscribers here have been called. `basis`, `newerIn`, `version`: see AlertEvent. */
  async publish(alert: Omit<AlertJson, 'alert_id'>, collections: readonly string[], basis?: ConfidenceBasis, newerIn?: readonly string[], version?: string): Promise<AlertEvent> {
    return (await this.#raise({
      kind: 'alert',
      alert,
      collections,
      ...(basis === undefined ? {} : { basis }),
      ...(newerIn === undefined || newerIn.length === 0 ? {} : { newerIn }),
      ...(version === undefined ? {} : { version }),
    })) as AlertEvent;
  }

  /** Publishes a notice to the notice subscribers (alert subscribers such as webhooks never see it). */
  async publishNotice(notice: Omit<NoticeJson, 'notice_id'>): Promise<NoticeEvent> {
    return (await this.#raise({ kind: 'notice', notice })) as NoticeEvent;
  }

  /** Every alert, wherever it was raised (the SSE stream). */
  subscribe(listener: AlertListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Only the alerts raised in this process: what happens once per node (webhooks) subscribes here, so that N workers do not do it N times. */
  subscribeRaisedHere(listener: AlertListener): () => void {
    this.#raisedHereListeners.add(listener);
    return () => this.#raisedHereListeners.delete(listener);
  }

  subscribeNotices(listener: NoticeListener): () => void {
    this.#noticeListeners.add(listener);
    return () => this.#noticeListeners.delete(listener);
  }

  /**
   * Events after `lastId` still held in the ring, oldest first; `complete` is false when some were
   * already overwritten (the client missed them).
   */
  since(lastId: number): { events: AlertEvent[]; complete: boolean } {
    const { events, complete } = this.eventsSince(lastId);
    return { events: events.filter((event): event is AlertEvent => !isNoticeEvent(event)), complete };
  }

  /** Like since(), with the notices among the alerts, in their order. */
  eventsSince(lastId: number): { events: BusEvent[]; complete: boolean } {
    const from = Math.max(lastId + 1, 1);
    const oldestHeld = Math.max(1, this.#next - this.ringSize);
    const events: BusEvent[] = [];
    for (let id = Math.max(from, oldestHeld); id < this.#next; id++) {
      const event = this.#ring[id % this.ringSize];
      if (event !== undefined && event.id === id) events.push(event);
    }
    return { events, complete: from >= oldestHeld };
  }

  #raise(raised: RaisedEvent): Promise<BusEvent> {
    const origin = `${this.#originPrefix}${++this.#origins}`;
    if (this.#relay !== undefined) {
      const numbered = new Promise<BusEvent>((resolve) => this.#waiting.set(origin, resolve));
      if (this.#relay.send(origin, raised)) return numbered;
      this.#waiting.delete(origin);
    }
    const event = numberEvent(this.#next, raised);
    this.#accept(event, origin, true);
    return Promise.resolve(event);
  }

  /** Keeps an event raised before this process listened, for clients that resume here; nobody is notified. */
  #hold(event: BusEvent): void {
    const slot = event.id % this.ringSize;
    if ((this.#ring[slot]?.id ?? 0) >= event.id || event.id <= this.#next - this.ringSize) return;
    this.#ring[slot] = event;
    this.#next = Math.max(this.#next, event.id + 1);
  }

  /** Takes a numbered event into the ring and hands it to the subscribers; an id already held is not taken twice. */
  #accept(event: BusEvent, origin: string | undefined, raisedHere = origin !== undefined && this.#waiting.has(origin)): void {
    if (event.id < this.#next && this.#ring[event.id % this.ringSize]?.id === event.id) return;
    this.#ring[event.id % this.ringSize] = event;
    this.#next = Math.max(this.#next, event.id + 1);
    if (isNoticeEvent(event)) notify(this.#noticeListeners, event);
    else {
      notify(this.#listeners, event);
      if (raisedHere) notify(this.#raisedHereListeners, event);
    }
    if (origin !== undefined) {
      const resolve = this.#waiting.get(origin);
      this.#waiting.delete(origin);
      resolve?.(event);
    }
  }
}

function notify<E>(listeners: ReadonlySet<(event: E) => void>, event: E): void {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch {
      // One subscriber's failure never reaches the matcher or the other subscribers.
    }
  }
}
