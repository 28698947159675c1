// Signs, in the background, the versions this node originated in circle collections before any
// partner asks for them (docs/federation.md, "Object signatures"). Signing at first release costs
// ~0.1–0.2 ms an object: a partner syncing a million-object circle for the first time would wait
// minutes for signatures the node could have made while idle. The release signer stays the one
// place that decides what is signed and how; this only calls it ahead of time and keeps what it
// made, so that the release path finds the signature already kept.
import type { ReleaseSigner, SignableRelease } from '../release/open-release-gate.ts';
import type { Recipient } from '../policy/recipient.ts';
import { versionKey, type ObjectStore } from '../store/object-store.ts';
import type { JsonValue, StixObject } from '../stix/types.ts';
import { SIGNATURE_EXTENSION_ID } from './signature-extension.ts';

export type PresignStore = Pick<ObjectStore, 'listCircles' | 'scanEntries' | 'contributionsOf' | 'getMeta' | 'setMeta'>;

export interface PresignOptions {
  /** Entries examined per store scan (those that arrived signed are left out in the store). */
  readonly pageSize?: number;
  /** How often the background pass looks for new versions. */
  readonly intervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

/** The organisation name no real recipient has: the signer only needs "not the home organisation". */
const AHEAD_OF_RELEASE: Recipient = { name: 'presign', organisationId: 'identity--00000000-0000-4000-8000-000000000000', admin: false, actsForHome: false, grants: [] };

const cursorKey = (collectionId: string): string => `presign-cursor:${collectionId}`;

/** Pages in a row that signed nothing, read before the cursor is stored anyway. */
const UNSIGNED_PAGES_PER_CURSOR_WRITE = 20;

export class OriginatedPresigner {
  readonly #store: PresignStore;
  readonly #signer: ReleaseSigner;
  readonly #pageSize: number;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = false;

  constructor(store: PresignStore, signer: ReleaseSigner, options: PresignOptions = {}) {
    this.#store = store;
    this.#signer = signer;
    this.#pageSize = options.pageSize ?? 500;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#onError = options.onError ?? (() => undefined);
  }

  start(): void {
    const tick = (): void => {
      if (this.#running !== undefined || this.#stopped) return;
      this.#running = this.runOnce().catch((error: unknown) => {
        this.#onError(error);
        return 0;
      });
      void this.#running.finally(() => (this.#running = undefined));
    };
    this.#timer = setInterval(tick, this.#intervalMs);
    this.#timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#running;
  }

  /**
   * One pass over every circle collection from where the last pass stopped; returns how many
   * entries it examined. A page that signs something has its cursor stored before the next is read;
   * the event loop gets a turn between pages, so a node serving requests is never held up for long.
   */
  async runOnce(): Promise<number> {
    let examined = 0;
    for (const circle of await this.#store.listCircles()) {
      const key = cursorKey(circle.collectionId);
      const stored = await this.#store.getMeta(key);
      let after = stored === undefined ? undefined : Number(stored);
      let unsaved = 0;
      const save = async (): Promise<void> => {
        if (unsaved === 0) return;
        await this.#store.setMeta(key, String(after));
        unsaved = 0;
      };
      for (;;) {
        if (this.#stopped) {
          await save();
          return examined;
        }
        // A version that carries a signature already arrived signed (pulled, pushed, imported): the
        // signer never signs it for itself, so the store leaves it out. On a member's node during an
        // initial sync that is every entry, examined again by each pass while the pull writes them.
        const scan = await this.#store.scanEntries(circle.collectionId, {
          ...(after === undefined || !Number.isFinite(after) ? {} : { after }),
          examine: this.#pageSize,
          textWithout: SIGNATURE_EXTENSION_ID,
        });
        if (scan.scannedTo === undefined) break;
        const unsigned = scan.entries;
        const contributions = await this.#store.contributionsOf(unsigned.map((entry) => ({ id: entry.id, version: entry.version })));
        const releases: SignableRelease[] = [];
        for (const entry of unsigned) {
          const object = parseObject(entry.json);
          if (object === undefined) continue;
          releases.push({ entry, object, redacted: undefined, contributions: contributions.get(versionKey(entry.id, entry.version)) ?? [] });
        }
        // The texts are not needed: the signer keeps every signature it makes for the origin form.
        if (releases.length > 0) await this.#signer.signReleases(releases, { recipient: AHEAD_OF_RELEASE, circle: undefined });
        examined += scan.examined;
        after = scan.scannedTo;
        unsaved += 1;
        // The cursor is stored with every page that signed something, else every few pages: a page of
        // versions that arrived signed costs only its re-reading after a crash, not a durable write.
        if (releases.length > 0 || unsaved >= UNSIGNED_PAGES_PER_CURSOR_WRITE) await save();
        if (!scan.more) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await save();
    }
    return examined;
  }
}

function parseObject(json: string): StixObject | undefined {
  try {
    const value = JSON.parse(json) as JsonValue;
    return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value['id'] === 'string' && typeof value['type'] === 'string'
      ? (value as StixObject)
      : undefined;
  } catch {
    return undefined;
  }
}
