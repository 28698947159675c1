// The ids clients are shown for the alert bus's events (`alert_id`, `notice_id`, the stream's `id:`).
// The bus numbers every event node-wide, including those a token may not see, so a shown number
// would count them: a token posting a guess between two of its own alerts learnt from the gap
// whether the guess matched an indicator of a collection it may not read. Clients are shown the
// number sealed instead, in the TAXII cursor format (taxii/cursor.ts: AES-256-GCM under a key
// derived from the node's cursor key, which every worker shares), so a client hands an id back as
// Last-Event-ID and resumes, but can neither read nor compare ids, nor make one.
//
// The number is zero-padded to a fixed width, so an id's length says nothing either. The iv is an
// HMAC of that plaintext (a synthetic iv, as in AES-SIV): an iv repeats only with its plaintext, and
// an event has one id everywhere — in the POST's answer, on every stream, on every worker.
import { createHmac, hkdfSync } from 'node:crypto';
import { CURSOR_IV_BYTES, cursorKeyOf, openCursor, sealCursorText, type CursorKey } from '../taxii/cursor.ts';

/** Digits of Number.MAX_SAFE_INTEGER: every event number fits. */
const WIDTH = 16;
/** In the cursor's fingerprint place: what the sealed text is (a TAXII cursor is sealed under another key anyway). */
const PURPOSE = 'alert-event';
/** Ids kept sealed: a bus ring's worth and more, so a resumed stream seals nothing again. */
const CACHED = 4096;

function derivedKey(nodeKey: CursorKey, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', nodeKey, Buffer.alloc(0), info, 32));
}

export class AlertEventIds {
  readonly #key: CursorKey;
  readonly #ivKey: Buffer;
  readonly #sealed = new Map<number, string>();

  constructor(nodeKey: CursorKey) {
    this.#key = cursorKeyOf(derivedKey(nodeKey, 'entente alert event id: key'));
    this.#ivKey = derivedKey(nodeKey, 'entente alert event id: iv');
  }

  /** The id clients are shown for the bus's event `number`. */
  shown(number: number): string {
    const cached = this.#sealed.get(number);
    if (cached !== undefined) return cached;
    const plaintext = `${String(number).padStart(WIDTH, '0')}.${PURPOSE}`;
    const iv = createHmac('sha256', this.#ivKey).update(plaintext).digest().subarray(0, CURSOR_IV_BYTES);
    const id = sealCursorText(plaintext, this.#key, iv);
    if (this.#sealed.size >= CACHED) this.#sealed.delete(this.#sealed.keys().next().value as number);
    this.#sealed.set(number, id);
    return id;
  }

  /** The event number of an id this node showed; undefined for anything else (a number, an altered id, another node's). */
  opened(id: string): number | undefined {
    const opened = openCursor(id, this.#key);
    return opened.ok && opened.value.fingerprint === PURPOSE ? opened.value.after : undefined;
  }
}
