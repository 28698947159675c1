// Who alerts are for at the moment they are sent, read for many senders at once. Every send of an
// alert — a live stream's push, a webhook's first attempt and its retries, a resumed stream's replay —
// asks again who the alert is for (NodeMatcher.audiencesNow), since its indicator version may have been
// recalled, deleted or superseded since it was raised. One batch of observations raises its alerts
// together and every subscriber (each open stream, the webhook dispatcher) is handed them in the same
// turn of the event loop: the questions asked in that turn are answered by one read of the store, not
// one per alert and subscriber. A question asked once that read has started waits for the next one, so
// no answer predates the question: what is sent is decided on the store as it is after it was asked.
import type { AlertEvent } from './alert-bus.ts';

/** Who an alert is for (AlertEvent.collections and newerIn), as the one rule (isAlertForReader) reads it. */
export type AlertAudience = Pick<AlertEvent, 'collections' | 'newerIn'>;

/** What an audience is read for: the indicator and the version that matched. */
export type AudienceQuestion = Pick<AlertEvent, 'alert' | 'version'>;

/** Reads the audiences of many alerts at once, in their order (NodeMatcher.audiencesNow). */
export type ReadAudiences = (events: readonly AudienceQuestion[]) => Promise<readonly AlertAudience[]>;

interface Waiting {
  readonly events: readonly AudienceQuestion[];
  readonly resolve: (audiences: AlertAudience[]) => void;
  readonly reject: (error: unknown) => void;
}

export class AudienceBatch {
  readonly #read: ReadAudiences;
  /** Questions not yet read: they are read together at the end of this turn. */
  #waiting: Waiting[] = [];

  constructor(read: ReadAudiences) {
    this.#read = read;
  }

  /** Who each alert is for now, in their order; rejects when the store could not be read (send nothing then). */
  audiencesNow(events: readonly AudienceQuestion[]): Promise<AlertAudience[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) setImmediate(() => this.#flush());
      this.#waiting.push({ events, resolve, reject });
    });
  }

  /** audiencesNow for one alert. */
  async audienceNow(event: AudienceQuestion): Promise<AlertAudience> {
    const [audience] = await this.audiencesNow([event]);
    return audience ?? { collections: [] };
  }

  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    const events = waiting.flatMap((w) => w.events);
    // A read that throws rather than rejects still answers every question waiting (with its error).
    Promise.resolve()
      .then(() => this.#read(events))
      .then(
        (audiences) => {
          let at = 0;
          for (const w of waiting) {
            // A reader answering fewer than asked leaves the rest for no one, never for everyone.
            w.resolve(w.events.map((_, i) => audiences[at + i] ?? { collections: [] }));
            at += w.events.length;
          }
        },
        (error: unknown) => {
          for (const w of waiting) w.reject(error);
        },
      );
  }
}
