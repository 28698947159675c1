/**
 * Child process of the crash test: adds batches to a SQLite store for ever, each with a status
 * record, until it is killed. Every object names its batch (x_entente_batch) so that the test can
 * check that a batch is stored whole or not at all. Usage: sqlite-crash-writer.ts <db path> <run>
 */
import type { StixObject } from '../../src/stix/types.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const [path, run] = process.argv.slice(2);
if (path === undefined || run === undefined) throw new Error('usage: sqlite-crash-writer.ts <db path> <run>');

const store = openSqliteObjectStore({ path });
if ((await store.getCollection('crash')) === undefined) await store.createCollection({ id: 'crash', title: 'Crash' }, new Date());
process.stdout.write('ready\n');

for (let batch = 0; ; batch += 1) {
  const statusId = `status-${run}-${batch}`;
  const size = 1 + ((batch * 37) % 150);
  const objects: StixObject[] = [];
  for (let index = 0; index < size; index += 1) {
    // Every third object is a new version of an object from an earlier batch of this run.
    const reuse = index % 3 === 0 && batch > 0;
    const objectBatch = reuse ? batch - 1 : batch;
    const modified = new Date(Date.UTC(2024, 0, 1) + batch * 1000 + index).toISOString();
    objects.push({
      type: 'malware',
      spec_version: '2.1',
      id: `malware--${run.padStart(8, '0')}-0000-4000-8000-${(objectBatch * 1000 + index).toString(16).padStart(12, '0')}`,
      created: '2024-01-01T00:00:00.000Z',
      modified,
      name: `Family ${batch} ${index}`,
      description: 'x'.repeat(200 + (index % 50)),
      is_family: true,
      x_entente_batch: statusId,
    });
  }
  await store.addObjects('crash', objects, {
    statusId,
    requestTimestamp: new Date().toISOString(),
    tokenName: 'crash',
    validationFailures: [],
  });
}
