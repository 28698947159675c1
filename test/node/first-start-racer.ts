/**
 * Child process of the first-start race test (first-start-race.test.ts): opens the store, says
 * `ready`, waits for a line on stdin, runs ensureNodeInitialised (or, with `sightings`, only
 * ensureHomeSightingsCollection) and prints what it got as JSON.
 * Usage: first-start-racer.ts <db path> [node|sightings]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { ensureHomeSightingsCollection, ensureNodeInitialised } from '../../src/bootstrap-node.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const [path, step = 'node'] = process.argv.slice(2);
if (path === undefined || !['node', 'sightings'].includes(step)) throw new Error('usage: first-start-racer.ts <db path> [node|sightings]');

// Long enough to outwait the test's own hold on the write lock on a loaded machine.
const store = openSqliteObjectStore({ path, busyTimeoutMs: 30_000 });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.pause();
try {
  const inputs = { orgName: 'Racing CERT', now: new Date(), randomUuid: randomUUID, randomBytes: (size: number) => randomBytes(size) };
  const started =
    step === 'sightings'
      ? { homeSightingsCollection: (await ensureHomeSightingsCollection(store, inputs)).id }
      : await ensureNodeInitialised(store, inputs).then((identity) => ({
          homeOrganisation: identity.homeOrganisation.id,
          defaultCollection: identity.defaultCollection.id,
          homeSightingsCollection: identity.homeSightingsCollection.id,
          madeAdminSecret: identity.newAdminSecret !== undefined,
        }));
  process.stdout.write(`${JSON.stringify(started)}\n`);
} finally {
  await store.close();
}
