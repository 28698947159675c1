/**
 * Child process of the key rotation race test (key-rotation-race.test.ts): opens the store, says
 * `ready`, waits for a line on stdin, rotates the node key as `entente key rotate` does and prints
 * the key it made and the key that signed its statement as JSON.
 * Usage: key-rotation-racer.ts <db path> <organisation id> <overlap ms>
 */
import { once } from 'node:events';
import { rotateNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const [path, organisationId, overlap] = process.argv.slice(2);
if (path === undefined || organisationId === undefined || overlap === undefined) throw new Error('usage: key-rotation-racer.ts <db path> <organisation id> <overlap ms>');

// Long enough to outwait the test's own hold on the write lock on a loaded machine.
const store = openSqliteObjectStore({ path, busyTimeoutMs: 30_000 });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.pause();
try {
  // The clock read before the lock is waited for, as the command does.
  const outcome = await rotateNodeKey(store, { organisationId, now: new Date(), overlapMs: Number(overlap) });
  process.stdout.write(`${JSON.stringify({ created: outcome.created.keyId, signedBy: outcome.previous.keyId })}\n`);
} finally {
  await store.close();
}
