import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { cursorKeyOf, encodeCursor, fingerprintQuery, openCursor, parseCursor, type QueryCursor } from './cursor.ts';
import { CURSOR_KEY_META, loadCursorKey } from './cursor-key.ts';
import { isEntenteError } from '../errors/entente-error.ts';

const NOT_ISSUED = /^next is not a cursor this server issued$/;

function refusedAs(parsed: ReturnType<typeof parseCursor>, message: RegExp): void {
  assert.equal(parsed.ok, false);
  assert.match(parsed.ok ? '' : parsed.error.message, message);
  assert.equal(parsed.ok ? '' : parsed.error.parameter, 'next');
}

describe('next cursor', () => {
  const key = cursorKeyOf(randomBytes(32));
  const cursor: QueryCursor = { fingerprint: fingerprintQuery(['collection', 'objects', 'indicator']), key };
  const dateAdded = 1_795_000_000_123_456;

  it('round-trips any dateAdded for the same query', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (after) => {
        const parsed = parseCursor(encodeCursor(after, cursor), cursor);
        assert.deepEqual(parsed, { ok: true, value: after });
      }),
    );
  });

  it('fits in the length a cursor may have, and never repeats (random iv)', () => {
    const one = encodeCursor(Number.MAX_SAFE_INTEGER, cursor);
    assert.ok(one.length <= 128, `${one.length} characters`);
    assert.match(one, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(encodeCursor(dateAdded, cursor), encodeCursor(dateAdded, cursor));
  });

  it('shows neither the dateAdded nor the fingerprint it carries', () => {
    for (let n = 0; n < 50; n += 1) {
      const text = encodeCursor(dateAdded + n, cursor);
      for (const view of [text, Buffer.from(text, 'base64url').toString('latin1'), Buffer.from(text, 'base64url').toString('hex')]) {
        assert.ok(!view.includes(String(dateAdded + n)), view);
        assert.ok(!view.includes(String(dateAdded + n).slice(0, 10)), view);
        assert.ok(!view.includes(cursor.fingerprint), view);
      }
    }
  });

  it('refuses a cursor issued for another query as such', () => {
    const other: QueryCursor = { fingerprint: fingerprintQuery(['collection', 'objects', 'malware']), key };
    refusedAs(parseCursor(encodeCursor(42, other), cursor), /different query/);
  });

  it('refuses a cursor sealed with another key as not issued here', () => {
    const elsewhere: QueryCursor = { fingerprint: cursor.fingerprint, key: cursorKeyOf(randomBytes(32)) };
    refusedAs(parseCursor(encodeCursor(dateAdded, elsewhere), cursor), NOT_ISSUED);
  });

  it('refuses a cursor with any byte flipped, or cut short, as not issued here', () => {
    const bytes = Buffer.from(encodeCursor(dateAdded, cursor), 'base64url');
    for (let i = 0; i < bytes.length; i += 1) {
      const flipped = Buffer.from(bytes);
      flipped[i] = (flipped[i] as number) ^ 0x01;
      refusedAs(parseCursor(flipped.toString('base64url'), cursor), NOT_ISSUED);
    }
    for (let length = 0; length < bytes.length; length += 1) {
      refusedAs(parseCursor(bytes.subarray(0, length).toString('base64url'), cursor), NOT_ISSUED);
    }
    // Longer: a byte appended, and the same bytes spelled with a stray bit in the last character.
    refusedAs(parseCursor(Buffer.concat([bytes, Buffer.from([0])]).toString('base64url'), cursor), NOT_ISSUED);
    const text = bytes.toString('base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const stray = text.slice(0, -1) + alphabet[alphabet.indexOf(text.slice(-1)) ^ 1];
    assert.deepEqual(Buffer.from(stray, 'base64url'), bytes, 'the same bytes, spelled otherwise');
    refusedAs(parseCursor(stray, cursor), NOT_ISSUED);
  });

  it('refuses the plain cursors of earlier versions as not issued here', () => {
    for (const after of [0, 42, dateAdded]) {
      const plain = Buffer.from(`${after}.${cursor.fingerprint}`, 'latin1').toString('base64url');
      refusedAs(parseCursor(plain, cursor), NOT_ISSUED);
    }
  });

  it('refuses garbage without throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        assert.equal(parseCursor(text, cursor).ok, false);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 100 }), (bytes) => {
        assert.equal(parseCursor(Buffer.from(bytes).toString('base64url'), cursor).ok, false);
      }),
    );
    refusedAs(parseCursor('', cursor), NOT_ISSUED);
    refusedAs(parseCursor('x'.repeat(500), cursor), NOT_ISSUED);
  });

  it('opens a cursor to what it carries, for the node that sealed it', () => {
    assert.deepEqual(openCursor(encodeCursor(dateAdded, cursor), key), { ok: true, value: { after: dateAdded, fingerprint: cursor.fingerprint } });
  });
});

describe('cursor key', () => {
  function metaStore(initial: Record<string, string> = {}) {
    const meta = new Map(Object.entries(initial));
    return {
      meta,
      getMeta: async (name: string) => meta.get(name),
      setMeta: async (name: string, value: string) => {
        meta.set(name, value);
      },
    };
  }

  it('is made once, stored as base64, and the stored one is used ever after', async () => {
    const store = metaStore();
    const first = await loadCursorKey(store);
    const stored = store.meta.get(CURSOR_KEY_META);
    assert.equal(Buffer.from(stored ?? '', 'base64').length, 32);
    const again = await loadCursorKey(store, () => {
      throw new Error('no new key when one is stored');
    });
    assert.equal(store.meta.get(CURSOR_KEY_META), stored);
    const fingerprint = fingerprintQuery(['c']);
    assert.deepEqual(parseCursor(encodeCursor(7, { fingerprint, key: first }), { fingerprint, key: again }), { ok: true, value: 7 });
  });

  it('uses the key it reads back (another process may have written after it), not the one it made', async () => {
    const theirs = Buffer.alloc(32, 7).toString('base64');
    const store = metaStore();
    let reads = 0;
    const racing = {
      getMeta: async (name: string) => (reads++ === 0 ? undefined : store.meta.get(name)),
      setMeta: async (name: string, value: string) => {
        await store.setMeta(name, value);
        store.meta.set(name, theirs); // the other process wrote just after
      },
    };
    const key = await loadCursorKey(racing);
    assert.deepEqual(key.export(), Buffer.alloc(32, 7));
  });

  it('refuses to go on with a stored value that is not a 32-byte key', async () => {
    for (const bad of ['', 'short', Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64')]) {
      await assert.rejects(loadCursorKey(metaStore({ [CURSOR_KEY_META]: bad })), (error: unknown) => isEntenteError(error) && error.code === 'ENT_CONFIG_INVALID' && /cursor key/.test(error.message));
    }
    const silent = { getMeta: async () => undefined, setMeta: async () => undefined };
    await assert.rejects(loadCursorKey(silent), (error: unknown) => isEntenteError(error) && error.code === 'ENT_CONFIG_INVALID' && /missing/.test(error.message));
  });
});
