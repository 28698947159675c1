// The running node tries again, a few times, to deliver what did not reach a member's node: a flash
// this node sent (whoever sent it: the REST API here, or `entente flash send` in another process)
// and the acknowledgement of a flash a human here acknowledged. Attempts are counted in memory, and
// only messages younger than the window are looked at, so nothing is retried forever.
import { ackDeliveredKey, deliverFlash, isNotEligible, sendAcknowledgement, type FlashDeps, type FlashDelivery } from './flash-operations.ts';
import { nextRetryAt } from './flash-message.ts';

/** After the first attempt: 2 s, 10 s, 30 s, 2 min, 10 min. */
export const FLASH_RETRY_DELAYS_MS: readonly number[] = [2_000, 10_000, 30_000, 120_000, 600_000];
/** Flashes sent (or acknowledged) longer ago than this are left as they are. */
export const FLASH_RETRY_WINDOW_MS = 60 * 60 * 1000;

export interface FlashRetryOptions {
  readonly delaysMs?: readonly number[];
  readonly windowMs?: number;
  /** How often the store is looked at. */
  readonly intervalMs?: number;
  readonly onError?: (what: string, error: unknown) => void;
}

interface Attempts {
  failures: number;
  nextAt: number | undefined;
}

export class FlashRetrier {
  readonly #deps: FlashDeps;
  readonly #delays: readonly number[];
  readonly #windowMs: number;
  readonly #intervalMs: number;
  readonly #onError: (what: string, error: unknown) => void;
  /** `flash id \0 organisation` (deliveries) or `ack \0 flash id` → attempts so far. */
  readonly #attempts = new Map<string, Attempts>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: FlashDeps, options: FlashRetryOptions = {}) {
    this.#deps = deps;
    this.#delays = options.delaysMs ?? FLASH_RETRY_DELAYS_MS;
    this.#windowMs = options.windowMs ?? FLASH_RETRY_WINDOW_MS;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#onError = options.onError ?? (() => undefined);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One look at the store: every retry that is due is made (concurrently). */
  tick(): Promise<void> {
    this.#running ??= this.#tickOnce()
      .catch((error: unknown) => this.#onError('retry flash deliveries', error))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #tickOnce(): Promise<void> {
    const now = this.#deps.clock().getTime();
    const since = now - this.#windowMs;
    const work: Promise<void>[] = [];
    for (const flash of await this.#deps.store.listFlashes({ limit: 200 })) {
      if (Date.parse(flash.sentAt) < since) continue;
      if (flash.direction === 'sent') {
        const due: string[] = [];
        for (const receipt of flash.receipts) {
          if (receipt.deliveredAt !== undefined || receipt.acknowledgedAt !== undefined) continue;
          // The circle rules kept it from the member at an attempt (deliverFlash re-checks them each time): final.
          if (isNotEligible(receipt)) continue;
          if (this.#due(`${flash.id}\u0000${receipt.organisationId}`, now)) due.push(receipt.organisationId);
        }
        if (due.length > 0) work.push(this.#redeliver(flash.id, due));
      } else if (flash.acknowledged !== undefined && Date.parse(flash.acknowledged.at) >= since) {
        const key = `ack\u0000${flash.id}`;
        // Sent, given up, or in flight in this process: no need to ask the store.
        if (this.#attempts.has(key) && this.#attempts.get(key)?.nextAt === undefined) continue;
        if ((await this.#deps.store.getMeta(ackDeliveredKey(flash.id))) !== undefined) continue;
        if (this.#due(key, now)) work.push(this.#resendAck(flash.id, key));
      }
    }
    await Promise.all(work);
  }

  /**
   * Whether a pending delivery is due now. One first seen here failed once already (elsewhere):
   * it waits the first delay from now.
   */
  #due(key: string, now: number): boolean {
    const attempts = this.#attempts.get(key);
    if (attempts === undefined) {
      this.#attempts.set(key, { failures: 1, nextAt: nextRetryAt(1, now, this.#delays) });
      return false;
    }
    return attempts.nextAt !== undefined && attempts.nextAt <= now;
  }

  #failed(key: string, permanent: boolean): void {
    const attempts = this.#attempts.get(key) ?? { failures: 0, nextAt: undefined };
    attempts.failures += 1;
    attempts.nextAt = permanent ? undefined : nextRetryAt(attempts.failures, this.#deps.clock().getTime(), this.#delays);
    this.#attempts.set(key, attempts);
  }

  async #redeliver(flashId: string, organisations: readonly string[]): Promise<void> {
    for (const organisationId of organisations) {
      const attempts = this.#attempts.get(`${flashId}\u0000${organisationId}`);
      if (attempts !== undefined) attempts.nextAt = undefined; // not picked twice while in flight
    }
    let deliveries: FlashDelivery[];
    try {
      deliveries = await deliverFlash(this.#deps, flashId, organisations);
    } catch (error) {
      for (const organisationId of organisations) this.#failed(`${flashId}\u0000${organisationId}`, false);
      this.#onError(`retry flash ${flashId}`, error);
      return;
    }
    for (const delivery of deliveries) {
      const key = `${flashId}\u0000${delivery.organisationId}`;
      if (delivery.outcome === 'delivered') this.#attempts.set(key, { failures: 0, nextAt: undefined });
      else this.#failed(key, delivery.permanent === true);
    }
  }

  async #resendAck(flashId: string, key: string): Promise<void> {
    const attempts = this.#attempts.get(key);
    if (attempts !== undefined) attempts.nextAt = undefined;
    try {
      const outcome = await sendAcknowledgement(this.#deps, flashId);
      if (outcome.sent) this.#attempts.set(key, { failures: 0, nextAt: undefined });
      else this.#failed(key, false);
    } catch (error) {
      this.#failed(key, false);
      this.#onError(`resend the acknowledgement of flash ${flashId}`, error);
    }
  }
}
