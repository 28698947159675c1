/**
 * Child process of the flash promotion race test (flash-promotion-race.test.ts): opens the store,
 * says `ready`, waits for a line on stdin, promotes the flash as `entente flash promote` does and
 * prints the note it answered with and whether it made it, as JSON.
 * Usage: flash-promotion-racer.ts <db path> <home organisation id> <flash id>
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { promoteFlash } from '../../src/federation/flash-operations.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const [path, home, flashId] = process.argv.slice(2);
if (path === undefined || home === undefined || flashId === undefined) throw new Error('usage: flash-promotion-racer.ts <db path> <home organisation id> <flash id>');

// Long enough to outwait the test's own hold on the write lock on a loaded machine.
const store = openSqliteObjectStore({ path, busyTimeoutMs: 30_000 });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.pause();
try {
  const deps = {
    store,
    clock: () => new Date(),
    randomUuid: randomUUID,
    homeOrganisationId: home,
    signer: () => Promise.reject(new Error('a promotion signs nothing')),
    post: () => Promise.reject(new Error('a promotion sends nothing')),
  };
  const promoted = await promoteFlash(deps, { name: 'cli', organisationId: home, admin: true, actsForHome: true, grants: [] }, flashId);
  process.stdout.write(`${JSON.stringify({ noteId: promoted.noteId, created: promoted.created })}\n`);
} finally {
  await store.close();
}
