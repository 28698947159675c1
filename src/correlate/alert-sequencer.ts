// The one numbering of the alert stream when several worker processes serve a node (`--workers N`):
// the primary process numbers every event any worker raises and sends it to all of them in that
// order, so that an event has the same id on every worker's stream and a client that reconnects to
// another worker resumes from its Last-Event-ID. It keeps the last `ringSize` events, which a worker
// that starts (or replaces one that died) is given to fill its own ring. Pure: sending is passed in.
import { numberEvent, type BusEvent, type RaisedEvent } from './alert-bus.ts';

/** A worker asks the primary to number an event it raised. */
export interface RaiseMessage {
  readonly entente: 'bus-raise';
  readonly origin: string;
  readonly raised: RaisedEvent;
}

/** The primary sends every numbered event to every worker; `origin` tells the raising worker it is its own. */
export interface EventMessage {
  readonly entente: 'bus-event';
  readonly origin: string;
  readonly event: BusEvent;
}

/** The events a starting worker was not there to receive. */
export interface ReplayMessage {
  readonly entente: 'bus-replay';
  readonly events: readonly BusEvent[];
}

export type BusMessage = RaiseMessage | EventMessage | ReplayMessage;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Messages between the node's own processes; the check only keeps other IPC traffic apart. */
export function isBusMessage(value: unknown): value is BusMessage {
  if (!isRecord(value)) return false;
  switch (value['entente']) {
    case 'bus-raise':
      return typeof value['origin'] === 'string' && isRecord(value['raised']) && (value['raised']['kind'] === 'alert' || value['raised']['kind'] === 'notice');
    case 'bus-event':
      return typeof value['origin'] === 'string' && isRecord(value['event']) && typeof value['event']['id'] === 'number';
    case 'bus-replay':
      return Array.isArray(value['events']);
    default:
      return false;
  }
}

export class AlertSequencer {
  readonly #held: BusEvent[] = [];
  #next = 1;

  constructor(
    readonly ringSize: number,
    private readonly broadcast: (message: EventMessage) => void,
  ) {}

  /** Numbers one raised event and sends it to every worker. */
  sequence(message: RaiseMessage): BusEvent {
    const event = numberEvent(this.#next++, message.raised);
    this.#held.push(event);
    if (this.#held.length > this.ringSize) this.#held.shift();
    this.broadcast({ entente: 'bus-event', origin: message.origin, event });
    return event;
  }

  /** What a worker that starts now needs to resume clients that were connected elsewhere. */
  replay(): ReplayMessage {
    return { entente: 'bus-replay', events: [...this.#held] };
  }
}
