import { randomBytes } from 'node:crypto';
import { metaKeys } from '../bootstrap-node.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { NodeMetaStore } from '../store/object-store.ts';
import { CURSOR_KEY_BYTES, cursorKeyOf, type CursorKey } from './cursor.ts';

/** Node meta key of the secret that seals TAXII `next` cursors (cursor.ts): 32 bytes, base64. */
export const CURSOR_KEY_META = metaKeys.taxiiCursorKey;

/**
 * The node's cursor key, made at the first start and kept in the store's node meta so that every
 * worker process of `start --workers` (one database) seals and opens cursors with the same key, and
 * cursors survive a restart. ensureNodeInitialised makes it at the first start, which `start
 * --workers` runs once in the primary before forking, so workers only read it (setMeta overwrites:
 * two workers making it at once could each keep a key of their own). Made only when absent, then read
 * back. Throws ENT_CONFIG_INVALID when what is stored
 * is not such a key: the node refuses to serve rather than hand out readable cursors.
 */
export async function loadCursorKey(
  store: Pick<NodeMetaStore, 'getMeta' | 'setMeta'>,
  random: (size: number) => Uint8Array = randomBytes,
): Promise<CursorKey> {
  if ((await store.getMeta(CURSOR_KEY_META)) === undefined) {
    await store.setMeta(CURSOR_KEY_META, Buffer.from(random(CURSOR_KEY_BYTES)).toString('base64'));
  }
  const stored = await store.getMeta(CURSOR_KEY_META);
  const bytes = stored === undefined ? undefined : Buffer.from(stored, 'base64');
  if (stored === undefined || bytes === undefined || bytes.length !== CURSOR_KEY_BYTES || bytes.toString('base64') !== stored) {
    throw new EntenteError(
      'ENT_CONFIG_INVALID',
      `The node's TAXII cursor key (node meta "${CURSOR_KEY_META}") is ${stored === undefined ? 'missing and could not be stored' : `not ${CURSOR_KEY_BYTES} bytes of base64`}; the node will not serve TAXII with readable cursors`,
      { meta_key: CURSOR_KEY_META },
    );
  }
  return cursorKeyOf(bytes);
}
