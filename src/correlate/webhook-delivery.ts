// Alerts pushed to the home organisation's webhooks: a JSON POST signed with HMAC-SHA256
// (`X-Entente-Signature: sha256=<hex>` over the exact body, `X-Entente-Timestamp` in Unix seconds),
// retried with exponential backoff and jitter up to a bounded number of attempts, every outcome
// written to the delivery log. Deliveries run beside matching and never hold it up: the bus hands an
// alert over synchronously and the POSTs happen later; past `maxPending` deliveries are refused
// (logged as failed) rather than queued without bound. An alert on a version no collection holds
// any more (its event names no collection) is not delivered. A webhook limited to some collections
// gets the alerts a reader of those collections gets, as that reader is shown them. The webhooks are read from the store for every
// alert and again before every retry, so that removing one (say, because its receiver was
// compromised) or changing its URL or secret stops what was scheduled for it: those deliveries are
// logged as abandoned. So is an alert withdrawn since it was raised: before every attempt, the first
// included, who the alert is for is read again from the store (NodeMatcher.audiencesNow, batched with
// the other alerts of the turn: audience-batch.ts) and put to the rule the alert stream applies
// (isAlertForReader): a version its source partner recalled, that was deleted from the collections the
// webhook reads, or that a newer version by its creator superseded there is not sent, as no token
// reading those collections would be sent it by a batch matched now.
import { createHmac } from 'node:crypto';
import type { WebhookDelivery, WebhookRecord, WebhookStore } from '../store/object-store.ts';
import type { AlertBus, AlertEvent, AlertJson } from './alert-bus.ts';
import type { Severity } from './effective-confidence.ts';
import { alertAsReadBy, isAlertForReader } from './alert-for-reader.ts';

export const signatureHeader = 'x-entente-signature';
export const timestampHeader = 'x-entente-timestamp';

export interface WebhookDeliveryOptions {
  readonly store: Pick<WebhookStore, 'listWebhooks' | 'recordWebhookDelivery'>;
  readonly bus: AlertBus;
  readonly clock: () => Date;
  /** Attempts per delivery (the first included); 6. */
  readonly maxAttempts?: number;
  /** Delay before the second attempt, doubled each time, with jitter; 1000 ms. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Per attempt; 10 s. */
  readonly timeoutMs?: number;
  /** Deliveries waiting or in flight at once; 10,000. */
  readonly maxPending?: number;
  readonly random?: () => number;
  readonly onError?: (what: string, error: unknown) => void;
  /**
   * The id a token is shown for a bus number (api/alert-event-ids.ts: sealed). A scoped webhook is
   * shown that id, not the number: the bus numbers every alert, so the gaps between the numbers it
   * gets would count the alerts raised outside its scope. An unscoped one reads everything and
   * keeps the number its delivery log records. Without this option (tests), numbers throughout.
   */
  readonly shownId?: (alertId: string) => string;
  /**
   * Who the alert is for now (AlertEvent.collections and newerIn), read from the store before every
   * attempt, the first included (NodeMatcher.audiencesNow through an AudienceBatch): a delivery whose
   * alert the webhook would no longer take — the version recalled, deleted or superseded in the
   * collections it reads — is logged as abandoned, and a failure to read it abandons it too.
   * Without this option (tests of the transport), the audience the alert was raised with.
   */
  readonly audienceNow?: (event: AlertEvent) => Promise<Pick<AlertEvent, 'collections' | 'newerIn'>>;
}

const severityRank: Record<Severity, number> = { none: 0, low: 1, medium: 2, high: 3 };

/** `sha256=<hex HMAC-SHA256 of body>` under the webhook's secret. */
/** What a delivery POSTs, every attempt alike: the body and the alert id the webhook is shown. */
interface SentAlert {
  readonly body: string;
  readonly alertId: string;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function readerOf(webhook: WebhookRecord): (collectionId: string) => boolean {
  const scope = webhook.collections;
  return (collectionId) => scope === undefined || scope.includes(collectionId);
}

/**
 * The alert as the webhook is sent it. Without a scope, as the node raised it: the administrator's
 * view. With one, as a token that reads those collections is shown it (alertAsReadBy), under the
 * sealed id a token is shown.
 */
export function alertForWebhook(webhook: WebhookRecord, event: AlertEvent, shownId?: (alertId: string) => string): AlertJson {
  const scope = webhook.collections;
  if (scope === undefined) return event.alert;
  const scoped = alertInScope(scope, event);
  return shownId === undefined ? scoped : { ...scoped, alert_id: shownId(scoped.alert_id) };
}

function alertInScope(scope: readonly string[], event: AlertEvent): AlertJson {
  return alertAsReadBy(event.alert, event.basis, (collectionId) => scope.includes(collectionId));
}

/**
 * Whether the webhook takes the alert: the alert is one a reader of its collections is sent
 * (node-matcher.ts, AlertEvent): a version one of them holds as its latest, and none of them holds a
 * newer one by its creator and origin, at or above its minimum severity as it is shown (alertForWebhook). Without a scope it
 * reads every collection, as the home organisation does.
 */
export function webhookTakes(webhook: WebhookRecord, event: AlertEvent): boolean {
  if (!isAlertForReader(event, readerOf(webhook))) return false;
  return severityRank[alertForWebhook(webhook, event).severity] >= severityRank[webhook.minSeverity];
}

/** Why a retry must not be sent to what the webhook is now, or undefined when it may. */
function abandonReason(captured: WebhookRecord, current: WebhookRecord | undefined, event: AlertEvent): string | undefined {
  if (current === undefined) return 'webhook removed';
  // A secret changed because it leaked, or a URL moved: what was meant for the old endpoint goes to neither.
  if (current.url !== captured.url || current.secret !== captured.secret) return 'webhook URL or secret changed';
  // The body was shaped for the old scope (alertForWebhook): it may show what the new one does not read.
  if (JSON.stringify(current.collections) !== JSON.stringify(captured.collections)) return 'webhook collections changed';
  if (!webhookTakes(current, event)) return 'webhook no longer takes this alert (minimum severity raised)';
  return undefined;
}

/**
 * Why an alert the webhook took is no longer one for it, now that `audience` holds it (or undefined
 * when it still is): the rule of its first attempt (webhookTakes), put to who the alert is for now.
 */
function withdrawnReason(webhook: WebhookRecord, audience: Pick<AlertEvent, 'collections' | 'newerIn'>): string | undefined {
  const reads = readerOf(webhook);
  if (isAlertForReader(audience, reads)) return undefined;
  if (!audience.collections.some(reads)) return 'alert withdrawn: no collection the webhook reads holds the indicator version that matched as its latest any more (recalled, removed or superseded)';
  return 'alert withdrawn: a newer version of the indicator by its creator is held in a collection the webhook reads';
}

/** Whether an attempt that ended with this status (undefined: no response) is worth repeating. */
function retryable(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 408 || status === 429;
}

export class WebhookDispatcher {
  readonly #options: WebhookDeliveryOptions;
  /** Retries waiting, with how to log them as failed if the node stops first. */
  readonly #timers = new Map<NodeJS.Timeout, () => Promise<void>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  #pending = 0;
  #stopped = false;

  constructor(options: WebhookDeliveryOptions) {
    this.#options = options;
    // Alerts raised in this process only: with several workers each alert is delivered once, by the worker that raised it.
    this.#unsubscribe = options.bus.subscribeRaisedHere((event) => this.#onAlert(event));
  }

  get pending(): number {
    return this.#pending;
  }

  /** Stops taking alerts and cancels waiting retries (they are logged as failed); waits for POSTs in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    const abandoned = [...this.#timers];
    this.#timers.clear();
    for (const [timer] of abandoned) clearTimeout(timer);
    await Promise.allSettled([...this.#inFlight, ...abandoned.map(([, giveUp]) => giveUp())]);
  }

  #onAlert(event: AlertEvent): void {
    if (this.#stopped) return;
    const task = this.#deliverAlert(event).catch((error: unknown) => this.#options.onError?.('webhook delivery', error));
    this.#track(task);
  }

  #track(task: Promise<void>): void {
    this.#inFlight.add(task);
    void task.finally(() => this.#inFlight.delete(task));
  }

  async #deliverAlert(event: AlertEvent): Promise<void> {
    // An alert no collection holds as its latest reaches no reader, and so no webhook (webhookTakes).
    if (event.collections.length === 0) return;
    const webhooks = (await this.#options.store.listWebhooks()).filter((webhook) => webhookTakes(webhook, event));
    if (webhooks.length === 0) return;
    // Raised a moment ago, the alert may have been withdrawn since (a recall landing while the batch
    // published, or while the webhooks were read): who it is for is asked again before the first
    // attempt too, once for every webhook taking it (and with the other alerts of this turn).
    const withdrawn = await this.#withdrawnNow(event);
    for (const webhook of webhooks) {
      const reason = withdrawn(webhook);
      if (reason !== undefined) {
        await this.#record(webhook, event, { attempts: 0, outcome: 'abandoned', status: undefined, error: `${reason} before attempt 1` });
        continue;
      }
      if (this.#pending >= (this.#options.maxPending ?? 10_000)) {
        await this.#record(webhook, event, { attempts: 0, outcome: 'failed', status: undefined, error: 'too many deliveries pending; alert not sent' });
        continue;
      }
      this.#pending++;
      const shown = alertForWebhook(webhook, event, this.#options.shownId);
      this.#track(this.#attempt(webhook, event, { body: JSON.stringify({ type: 'alert', ...shown }), alertId: shown.alert_id }, 1));
    }
  }

  /**
   * Before a retry: why the delivery stops here (logged as abandoned), or undefined when it goes on —
   * the webhook as it is now still takes the alert, and the alert is still one for it (withdrawnReason).
   */
  async #stillWanted(webhook: WebhookRecord, event: AlertEvent): Promise<string | undefined> {
    let current: WebhookRecord | undefined;
    try {
      current = (await this.#options.store.listWebhooks()).find((candidate) => candidate.name === webhook.name);
    } catch (cause) {
      // Unable to tell whether it was removed: send nothing rather than risk a removed endpoint.
      return `cannot read the webhooks: ${(cause as Error).message}`;
    }
    const changed = abandonReason(webhook, current, event);
    if (changed !== undefined || current === undefined) return changed;
    return (await this.#withdrawnNow(event))(current);
  }

  /**
   * Asks who the alert is for now (audienceNow) and tells, for a webhook, why it is withdrawn for it
   * (withdrawnReason), or undefined when it may be sent. Unable to read it, every webhook is told the
   * alert is withdrawn: sending nothing rather than risk sending what was taken back.
   */
  async #withdrawnNow(event: AlertEvent): Promise<(webhook: WebhookRecord) => string | undefined> {
    const audienceNow = this.#options.audienceNow;
    if (audienceNow === undefined) return () => undefined;
    try {
      const audience = await audienceNow(event);
      return (webhook) => withdrawnReason(webhook, audience);
    } catch (cause) {
      const reason = `cannot read which collections hold the indicator: ${(cause as Error).message}`;
      return () => reason;
    }
  }

  async #attempt(webhook: WebhookRecord, event: AlertEvent, sent: SentAlert, attempt: number, previous?: { readonly status: number | undefined }): Promise<void> {
    if (attempt > 1) {
      const reason = await this.#stillWanted(webhook, event);
      if (reason !== undefined) {
        this.#pending--;
        await this.#record(webhook, event, { attempts: attempt - 1, outcome: 'abandoned', status: previous?.status, error: `${reason} before attempt ${attempt}` });
        return;
      }
    }
    let status: number | undefined;
    let error: string | undefined;
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'entente-webhook/1',
          [signatureHeader]: signBody(webhook.secret, sent.body),
          [timestampHeader]: String(Math.floor(this.#options.clock().getTime() / 1000)),
          'x-entente-delivery': `${sent.alertId}-${attempt}`,
        },
        body: sent.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
      if (status >= 200 && status < 300) {
        this.#pending--;
        await this.#record(webhook, event, { attempts: attempt, outcome: 'delivered', status, error: undefined });
        return;
      }
      error = `HTTP ${status}`;
    } catch (cause) {
      error = (cause as Error).name === 'TimeoutError' ? 'timed out' : ((cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).message);
    }
    const maxAttempts = this.#options.maxAttempts ?? 6;
    if (!retryable(status) || attempt >= maxAttempts || this.#stopped) {
      this.#pending--;
      await this.#record(webhook, event, { attempts: attempt, outcome: 'failed', status, error: this.#stopped && attempt < maxAttempts ? `${error ?? ''}; node stopping` : (error ?? '') });
      return;
    }
    const base = this.#options.baseDelayMs ?? 1000;
    const ceiling = Math.min(this.#options.maxDelayMs ?? 60_000, base * 2 ** (attempt - 1));
    // Equal jitter: half the backoff fixed, half random, so receivers recovering are not hit in step.
    const delay = ceiling / 2 + (this.#options.random ?? Math.random)() * (ceiling / 2);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#track(this.#attempt(webhook, event, sent, attempt + 1, { status }));
    }, delay);
    this.#timers.set(timer, async () => {
      this.#pending--;
      await this.#record(webhook, event, { attempts: attempt, outcome: 'failed', status, error: `${error ?? ''}; node stopping before attempt ${attempt + 1}` });
    });
  }

  async #record(webhook: WebhookRecord, event: AlertEvent, result: Pick<WebhookDelivery, 'attempts' | 'outcome' | 'status' | 'error'>): Promise<void> {
    const delivery: WebhookDelivery = {
      webhook: webhook.name,
      alertId: event.alert.alert_id,
      ...result,
      error: result.error?.slice(0, 500),
      at: this.#options.clock().toISOString(),
    };
    try {
      await this.#options.store.recordWebhookDelivery(delivery);
    } catch (cause) {
      this.#options.onError?.('record webhook delivery', cause);
    }
  }
}
