// Alerts raised in the running node, numbered and fanned out to subscribers (the SSE stream, webhooks).
// A bounded ring of recent events lets a reconnecting SSE client resume from its Last-Event-ID.
import type { AlertRecord } from './alert-aggregator.ts';

/** An alert as the node publishes it: the record `entente match` prints, with its event id and when it was raised. */
export interface AlertJson extends AlertRecord {
  readonly alert_id: string;
  readonly raised_at: string;
}

export interface AlertEvent {
  /** Strictly increasing within this process, from 1. */
  readonly id: number;
  readonly alert: AlertJson;
  /** Collections holding the indicator: a subscriber sees the alert when it may read one of them. */
  readonly collections: readonly string[];
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

export class AlertBus {
  readonly #ring: (BusEvent | undefined)[];
  readonly #listeners = new Set<AlertListener>();
  readonly #noticeListeners = new Set<NoticeListener>();
  #next = 1;

  constructor(readonly ringSize = 1024) {
    this.#ring = new Array<BusEvent | undefined>(ringSize);
  }

  /** The id the next event will get. */
  get nextId(): number {
    return this.#next;
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  publish(alert: Omit<AlertJson, 'alert_id'>, collections: readonly string[]): AlertEvent {
    const id = this.#next++;
    const event: AlertEvent = { id, alert: { alert_id: String(id), ...alert }, collections };
    this.#ring[id % this.ringSize] = event;
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // One subscriber's failure never reaches the matcher or the other subscribers.
      }
    }
    return event;
  }

  subscribe(listener: AlertListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Publishes a notice to the notice subscribers (alert subscribers such as webhooks never see it). */
  publishNotice(notice: Omit<NoticeJson, 'notice_id'>): NoticeEvent {
    const id = this.#next++;
    const event: NoticeEvent = { id, notice: { notice_id: String(id), ...notice } };
    this.#ring[id % this.ringSize] = event;
    for (const listener of [...this.#noticeListeners]) {
      try {
        listener(event);
      } catch {
        // As for alerts: one subscriber's failure reaches nobody else.
      }
    }
    return event;
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
}
