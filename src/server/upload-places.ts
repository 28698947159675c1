// Where the uploads a token has under way are counted (maxUploadsPerToken, request-guard.ts).
//
// One process counts them itself. With `--workers N` each worker counting its own let a token have
// N times the bound, so the places are the primary's: a worker asks it for one over the cluster IPC
// channel and gives it back when the upload is answered or its connection closes; the primary gives
// back every place a worker held when that worker exits, so that a worker that dies mid-upload loses
// no place for good. Why this rather than the shared database: a row per upload would outlive a
// worker killed before it could delete it, needing leases and a sweeper to find it; the primary
// sees every worker's exit and holds nothing a crash can leave behind (when the primary goes, the
// workers go with it). An IPC round trip is well under a millisecond (as for the alert bus), paid
// only by uploads (bodies over 64 KiB), never by the requests of the hot path.

import { sendToPrimary, sendToWorker, type WorkerChannel } from './ipc-send.ts';

/** The outcome of asking for a place. */
export type UploadPlaceAnswer =
  | { readonly taken: true }
  /** The token has `underWay` uploads already, the bound. */
  | { readonly taken: false; readonly reason: 'full'; readonly underWay: number }
  /** The primary did not answer within UPLOAD_PLACE_WAIT_MS (it is stuck, or going): not counted, so not taken. */
  | { readonly taken: false; readonly reason: 'unanswered' };

export interface UploadPlaces {
  /** Takes one of the token's places, or says why not. A local count answers at once (the place is taken before this returns). */
  take(tokenKey: string): UploadPlaceAnswer | Promise<UploadPlaceAnswer>;
  /** Gives back a place `take` gave. */
  give(tokenKey: string): void;
}

/**
 * The count itself: per token, the places taken, and per holder (a worker, or the one process)
 * which of them it holds, so that a holder's places can all be given back when it goes.
 */
export class UploadPlaceLedger<Holder> {
  readonly #maxPerToken: number;
  readonly #underWay = new Map<string, number>();
  readonly #held = new Map<Holder, Map<string, number>>();

  constructor(maxPerToken: number) {
    this.#maxPerToken = maxPerToken;
  }

  take(holder: Holder, tokenKey: string): UploadPlaceAnswer {
    const underWay = this.#underWay.get(tokenKey) ?? 0;
    if (underWay >= this.#maxPerToken) return { taken: false, reason: 'full', underWay };
    this.#underWay.set(tokenKey, underWay + 1);
    let places = this.#held.get(holder);
    if (places === undefined) this.#held.set(holder, (places = new Map()));
    places.set(tokenKey, (places.get(tokenKey) ?? 0) + 1);
    return { taken: true };
  }

  /** Gives back one place of the holder's; nothing when it holds none of the token's (given back already when it went). */
  give(holder: Holder, tokenKey: string): void {
    const places = this.#held.get(holder);
    const held = places?.get(tokenKey) ?? 0;
    if (places === undefined || held === 0) return;
    if (held === 1) places.delete(tokenKey);
    else places.set(tokenKey, held - 1);
    if (places.size === 0) this.#held.delete(holder);
    this.#release(tokenKey, 1);
  }

  /** Gives back every place the holder has (a worker that exited). */
  giveAll(holder: Holder): void {
    const places = this.#held.get(holder);
    if (places === undefined) return;
    this.#held.delete(holder);
    for (const [tokenKey, held] of places) this.#release(tokenKey, held);
  }

  /** Uploads of the token under way (tests, diagnostics). */
  underWay(tokenKey: string): number {
    return this.#underWay.get(tokenKey) ?? 0;
  }

  #release(tokenKey: string, count: number): void {
    const left = (this.#underWay.get(tokenKey) ?? 0) - count;
    if (left <= 0) this.#underWay.delete(tokenKey);
    else this.#underWay.set(tokenKey, left);
  }
}

/** Places counted in this process: a node served by one process. */
export function localUploadPlaces(maxPerToken: number): UploadPlaces {
  const ledger = new UploadPlaceLedger<'self'>(maxPerToken);
  return { take: (tokenKey) => ledger.take('self', tokenKey), give: (tokenKey) => ledger.give('self', tokenKey) };
}

/**
 * Longest a worker waits for the primary's answer. The primary does little else (it numbers alert
 * events) and answers in well under a millisecond; one that has not answered in a second is stuck
 * or exiting, and the upload is refused 503 ENT_HTTP_UPLOAD_UNCOUNTED rather than let through
 * uncounted (the bound is for the node's memory: failing open would let a token past it exactly when
 * the node is in trouble). A late answer's place is given back at once.
 */
export const UPLOAD_PLACE_WAIT_MS = 1000;

/** Worker to primary: take a place (answered with the same id), or give one back. */
export type UploadPlaceRequest = { readonly entente: 'upload-take'; readonly id: number; readonly tokenKey: string } | { readonly entente: 'upload-give'; readonly tokenKey: string };
/** Primary to worker: the answer to the take of that id. */
export interface UploadPlaceReply { readonly entente: 'upload-taken'; readonly id: number; readonly tokenKey: string; readonly answer: UploadPlaceAnswer }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isUploadPlaceRequest(value: unknown): value is UploadPlaceRequest {
  if (!isRecord(value) || typeof value['tokenKey'] !== 'string') return false;
  return value['entente'] === 'upload-give' || (value['entente'] === 'upload-take' && typeof value['id'] === 'number');
}

function isUploadPlaceReply(value: unknown): value is UploadPlaceReply {
  return isRecord(value) && value['entente'] === 'upload-taken' && typeof value['id'] === 'number' && typeof value['tokenKey'] === 'string' && isRecord(value['answer']) && typeof value['answer']['taken'] === 'boolean';
}

/**
 * The primary's side: answers a worker's request from the ledger. A worker that is exiting or has
 * exited is given no place: its exit may have given back its places already, and this one would be
 * lost for good. Both are asked, as the channel outlives the process: a take the worker sent just
 * before it died is read after its 'exit' (cluster's exit handler has run giveAll then) while the
 * channel still reads connected.
 */
export function answerUploadPlaceRequest<Holder>(
  ledger: UploadPlaceLedger<Holder>,
  holder: Holder,
  request: UploadPlaceRequest,
  worker: WorkerChannel & { isConnected(): boolean; isDead(): boolean },
): void {
  if (request.entente === 'upload-give') {
    ledger.give(holder, request.tokenKey);
    return;
  }
  if (!worker.isConnected() || worker.isDead()) return;
  const answer = ledger.take(holder, request.tokenKey);
  // A grant that cannot be written (the worker died since the check) never reaches it: given back here.
  sendToWorker(worker, { entente: 'upload-taken', id: request.id, tokenKey: request.tokenKey, answer } satisfies UploadPlaceReply, () => {
    if (answer.taken) ledger.give(holder, request.tokenKey);
  });
}

/** A worker's places, the primary's, over this process's IPC channel; undefined when the process has none (one process serves the node). */
export function openProcessUploadPlaces(channel: NodeJS.Process = process, waitMs = UPLOAD_PLACE_WAIT_MS): UploadPlaces | undefined {
  if (channel.send === undefined) return undefined;
  let lastId = 0;
  /** Takes awaiting their answer; those whose wait passed are no longer here, and a place they are given is given back. */
  const waiting = new Map<number, (answer: UploadPlaceAnswer) => void>();
  const send = (message: UploadPlaceRequest, dropped?: () => void): boolean => sendToPrimary(channel, message, dropped);
  channel.on('message', (message: unknown) => {
    if (!isUploadPlaceReply(message)) return;
    const deliver = waiting.get(message.id);
    waiting.delete(message.id);
    if (deliver !== undefined) deliver(message.answer);
    else if (message.answer.taken) send({ entente: 'upload-give', tokenKey: message.tokenKey });
  });
  return {
    take(tokenKey) {
      const id = (lastId += 1);
      return new Promise<UploadPlaceAnswer>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve({ taken: false, reason: 'unanswered' });
        }, waitMs);
        const unanswered = (): void => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve({ taken: false, reason: 'unanswered' });
        };
        waiting.set(id, (answer) => {
          clearTimeout(timer);
          resolve(answer);
        });
        // Not written (the primary is gone): no answer will come, so none is waited for.
        if (!send({ entente: 'upload-take', id, tokenKey }, unanswered)) unanswered();
      });
    },
    give(tokenKey) {
      send({ entente: 'upload-give', tokenKey });
    },
  };
}
