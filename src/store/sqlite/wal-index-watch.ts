import { fstatSync, openSync, readSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';

/**
 * Notices commits to a WAL-mode database by any connection, in any process, at the cost of one
 * 96-byte read — about a quarter of `PRAGMA data_version`, which opens and ends a read transaction
 * (file locks and a size check) each time. The token cache reads it on every authenticated request.
 *
 * How: SQLite publishes every commit by rewriting the wal-index header at the start of the `-shm`
 * file (https://www.sqlite.org/walformat.html §2.1: two copies of a 48-byte header whose iChange
 * counter is incremented by each transaction, with mxFrame, salts and checksums). A commit is
 * visible to readers only once that header is written, so when two reads of those 96 bytes are
 * equal nothing was committed in between (`PRAGMA data_version` is derived from the same header).
 * Any difference — a commit, a WAL reset, a read torn by a writer — counts as a change: the
 * counter can only be wrong in the safe direction.
 *
 * The descriptor is opened once per `-shm` file and process and never closed: closing any descriptor
 * of a file drops every POSIX lock the process holds on it, and SQLite holds its WAL locks on this
 * file (https://www.sqlite.org/howtocorrupt.html §2.2). Reads are positional, so the stores of one
 * process share it.
 *
 * Returns undefined — the caller keeps using `PRAGMA data_version` — for an in-memory database, a
 * database not in WAL mode, exclusive locking (the wal-index is then in heap memory), or a header
 * that does not look like the documented format (another SQLite version).
 */
export interface WalIndexWatch {
  /** A number that changes whenever any connection has committed since the previous call. */
  changeCount(): number;
}

const HEADER_BYTES = 96;
/** iVersion of the wal-index header (walformat.html §2.1). */
const WAL_INDEX_VERSION = 3007000;
/** One descriptor per -shm file (device and inode), kept for the life of the process; see above. */
const descriptors = new Map<string, number>();

function fileKey(stats: { readonly dev: number; readonly ino: number }): string {
  return `${stats.dev}:${stats.ino}`;
}

function descriptorOf(shmPath: string): number | undefined {
  const key = fileKey(statSync(shmPath));
  const known = descriptors.get(key);
  if (known !== undefined) return known;
  const fd = openSync(shmPath, 'r');
  const opened = fileKey(fstatSync(fd));
  // Kept even when the file was replaced between stat and open: it must not be closed either.
  descriptors.set(opened, fd);
  return opened === key ? fd : undefined;
}

function looksLikeWalIndexHeader(header: Buffer): boolean {
  const version = header.readUInt32LE(0) === WAL_INDEX_VERSION || header.readUInt32BE(0) === WAL_INDEX_VERSION;
  const initialised = header[12] === 1;
  return version && initialised && header.subarray(0, 48).equals(header.subarray(48, 96));
}

export function watchWalIndex(db: Database.Database): WalIndexWatch | undefined {
  if (db.memory) return undefined;
  if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
  if (String(db.pragma('locking_mode', { simple: true })).toLowerCase() !== 'normal') return undefined;
  // A read makes sure this connection has mapped (and, first of all, initialised) the wal-index.
  db.pragma('data_version', { simple: true });
  let fd: number | undefined;
  try {
    fd = descriptorOf(`${db.name}-shm`);
  } catch {
    return undefined;
  }
  if (fd === undefined) return undefined;
  const descriptor = fd;
  const last = Buffer.alloc(HEADER_BYTES);
  const current = Buffer.alloc(HEADER_BYTES);
  if (readSync(descriptor, last, 0, HEADER_BYTES, 0) !== HEADER_BYTES || !looksLikeWalIndexHeader(last)) return undefined;
  let changes = 0;
  return {
    changeCount() {
      const read = readSync(descriptor, current, 0, HEADER_BYTES, 0);
      if (read !== HEADER_BYTES || !current.equals(last)) {
        current.copy(last);
        changes += 1;
      }
      return changes;
    },
  };
}
