// Delivering recall notices (docs/federation.md, "Flash messages and recalls"): the running node
// takes the queued notices that no receiver has acknowledged, groups them per circle and receiving
// organisation, signs one 'recall' per group and POSTs it to that organisation's node over its
// peer link. A 2xx marks them delivered; the signed 'recall-ack' in the answer (the receiver removed
// the versions) marks them acknowledged. A group that fails waits longer each time, up to an hour,
// and is never given up: a recall is owed until it is confirmed.
import { EntenteError } from '../errors/entente-error.ts';
import type { ObjectStore, RecallNotice } from '../store/object-store.ts';
import { versionKey } from '../store/object-store.ts';
import { describeIssues } from './flash-message.ts';
import { describeFailure, findPeerLink, isPermanentFailure, verifiedAnswer, type PeerPost } from './message-delivery.ts';
import type { NodeSigner } from './node-key.ts';
import { createRecallBody, groupRecallNotices, parseRecallAckBody, type RecallGroup } from './recall-message.ts';
import { queueRevocationRecalls } from './recall-revocations.ts';
import { signMessage } from './signed-message.ts';

export const RECALL_PATH = '/api/federation/recalls';
export const RECALL_TIMEOUT_MS = 30_000;
/** After a failure a group waits 30 s, then 2 min, 10 min, and one hour from then on. */
export const RECALL_RETRY_DELAYS_MS: readonly number[] = [30_000, 120_000, 600_000, 3_600_000];
/** Delivered notices still unacknowledged are sent again this often. */
export const RECALL_RECONFIRM_MS = 3_600_000;

export interface RecallDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
  readonly signer: () => Promise<NodeSigner>;
  readonly post: PeerPost;
  readonly timeoutMs?: number;
}

export interface RecallSendOutcome {
  readonly circleId: string;
  readonly organisationId: string;
  readonly versions: number;
  readonly outcome: 'acknowledged' | 'delivered' | 'failed' | 'no-peer';
  readonly acknowledged: number;
  readonly error?: string;
}

/** Sends one group's recall and records what the receiver said. Never throws. */
export async function sendRecall(deps: RecallDeps, group: RecallGroup): Promise<RecallSendOutcome & { permanent: boolean }> {
  const base = { circleId: group.circleId, organisationId: group.organisationId, versions: group.versions.length, acknowledged: 0 };
  const peer = await findPeerLink(deps.store, group.organisationId, group.circleId);
  if (peer === undefined) {
    return { ...base, outcome: 'no-peer', error: `no Entente peer link to ${group.organisationId} (entente peer add)`, permanent: false };
  }
  let answer: unknown;
  try {
    const message = signMessage('recall', createRecallBody(group, deps.clock().toISOString()), await deps.signer());
    answer = await deps.post(peer, RECALL_PATH, message, { timeoutMs: deps.timeoutMs ?? RECALL_TIMEOUT_MS });
  } catch (error) {
    return { ...base, outcome: 'failed', error: describeFailure(error), permanent: isPermanentFailure(error) };
  }
  const filter = { circleId: group.circleId, organisationId: group.organisationId, versions: group.versions };
  await deps.store.markRecalls(filter, { deliveredAt: deps.clock().toISOString() });
  try {
    const ack = await verifiedAnswer(deps.store, answer, 'recall-ack', group.organisationId, deps.clock());
    const body = parseRecallAckBody(ack.body);
    if (!body.ok) throw new EntenteError('ENT_SIGNATURE_INVALID', `The recall acknowledgement is malformed: ${describeIssues(body.error)}`);
    if (body.value.circle_id !== group.circleId || body.value.recipient !== group.organisationId) {
      throw new EntenteError('ENT_SIGNATURE_INVALID', `The recall acknowledgement is for circle ${body.value.circle_id} of ${body.value.recipient}`);
    }
    const sent = new Set(group.versions.map((version) => versionKey(version.id, version.version)));
    const confirmed = body.value.versions.filter((version) => sent.has(versionKey(version.id, version.version)));
    const acknowledged =
      confirmed.length === 0 ? 0 : await deps.store.markRecalls({ ...filter, versions: confirmed }, { acknowledgedAt: body.value.acknowledged_at });
    return { ...base, outcome: confirmed.length === sent.size ? 'acknowledged' : 'delivered', acknowledged, permanent: false };
  } catch (error) {
    return { ...base, outcome: 'delivered', error: describeFailure(error), permanent: false };
  }
}

export interface RecallSenderOptions {
  readonly intervalMs?: number;
  readonly delaysMs?: readonly number[];
  readonly reconfirmMs?: number;
  readonly onError?: (what: string, error: unknown) => void;
  /** Called with what each group's attempt gave (logs). */
  readonly onOutcome?: (outcome: RecallSendOutcome) => void;
}

/**
 * The running node's recall sender: every interval it queues the recalls of new revocations by the
 * home organisation, then sends every group that is due. Started with the node (with --workers, by
 * the one worker that runs the recall sweep).
 */
export class RecallSender {
  readonly #deps: RecallDeps;
  readonly #options: RecallSenderOptions;
  /** circle \0 organisation → failures and when to try next. */
  readonly #backoff = new Map<string, { failures: number; nextAt: number }>();
  #lastReconfirm = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RecallSendOutcome[]> | undefined;
  #next: Promise<RecallSendOutcome[]> | undefined;

  constructor(deps: RecallDeps, options: RecallSenderOptions = {}) {
    this.#deps = deps;
    this.#options = options;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    void this.tick();
    this.#timer = setInterval(() => void this.tick(), this.#options.intervalMs ?? 15_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#next;
  }

  /**
   * One pass that starts after this call: while a pass runs, callers wait for it and share the
   * one that follows (so what was queued just before the call is seen).
   */
  tick(): Promise<RecallSendOutcome[]> {
    if (this.#running === undefined) return this.#pass();
    this.#next ??= this.#running.then(() => {
      this.#next = undefined;
      return this.#pass();
    });
    return this.#next;
  }

  #pass(): Promise<RecallSendOutcome[]> {
    const running = this.#tickOnce()
      .catch((error: unknown) => {
        this.#options.onError?.('deliver recall notices', error);
        return [];
      })
      .finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
    this.#running = running;
    return running;
  }

  async #tickOnce(): Promise<RecallSendOutcome[]> {
    try {
      await queueRevocationRecalls(this.#deps);
    } catch (error) {
      this.#options.onError?.('queue the recalls of revoked objects', error);
    }
    const now = this.#deps.clock().getTime();
    let notices: RecallNotice[] = await this.#deps.store.listRecalls({ undeliveredOnly: true });
    if (now - this.#lastReconfirm >= (this.#options.reconfirmMs ?? RECALL_RECONFIRM_MS)) {
      this.#lastReconfirm = now;
      notices = (await this.#deps.store.listRecalls({})).filter((notice) => notice.acknowledgedAt === undefined);
    }
    const outcomes: RecallSendOutcome[] = [];
    const delays = this.#options.delaysMs ?? RECALL_RETRY_DELAYS_MS;
    for (const group of groupRecallNotices(notices)) {
      const key = `${group.circleId}\u0000${group.organisationId}`;
      const waiting = this.#backoff.get(key);
      if (waiting !== undefined && waiting.nextAt > now) continue;
      const { permanent: _permanent, ...outcome } = await sendRecall(this.#deps, group);
      outcomes.push(outcome);
      this.#options.onOutcome?.(outcome);
      if (outcome.outcome === 'failed' || outcome.outcome === 'no-peer') {
        const failures = (waiting?.failures ?? 0) + 1;
        const delay = delays[Math.min(failures, delays.length) - 1] ?? 3_600_000;
        this.#backoff.set(key, { failures, nextAt: this.#deps.clock().getTime() + delay });
      } else {
        this.#backoff.delete(key);
      }
    }
    return outcomes;
  }
}
