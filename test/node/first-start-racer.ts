/**
 * Child process of the first-start race test (first-start-race.test.ts): opens the store, says
 * `ready`, waits for a line on stdin, runs ensureNodeInitialised and prints what it got as JSON.
 * Usage: first-start-racer.ts <db path>
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { ensureNodeInitialised } from '../../src/bootstrap-node.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const [path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: first-start-racer.ts <db path>');

// Long enough to outwait the test's own hold on the write lock on a loaded machine.
const store = openSqliteObjectStore({ path, busyTimeoutMs: 30_000 });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.pause();
try {
  const identity = await ensureNodeInitialised(store, { orgName: 'Racing CERT', now: new Date(), randomUuid: randomUUID, randomBytes: (size) => randomBytes(size) });
  process.stdout.write(
    `${JSON.stringify({
      homeOrganisation: identity.homeOrganisation.id,
      defaultCollection: identity.defaultCollection.id,
      homeSightingsCollection: identity.homeSightingsCollection.id,
      madeAdminSecret: identity.newAdminSecret !== undefined,
    })}\n`,
  );
} finally {
  await store.close();
}
