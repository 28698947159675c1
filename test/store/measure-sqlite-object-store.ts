/**
 * Measures the SQLite store's disk use per indicator and its insert rate (batches of 1,000).
 * Lives here until bench/ has a runner for it: `node --import tsx test/store/measure-sqlite-object-store.ts [count] [named]`.
 * Prints one JSON line per figure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StixObject } from '../../src/stix/types.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { generateIndicators } from './generate-indicators.ts';

const count = Number(process.argv[2] ?? 100_000);
const batchSize = 1000;
const named = process.argv[3] === 'named';
const dir = mkdtempSync(join(tmpdir(), 'entente-measure-'));
try {
  const store = openSqliteObjectStore({ path: join(dir, 'store.db') });
  await store.createCollection({ id: 'measure', title: 'Measure' }, new Date());

  const indicators = generateIndicators(count, 1, { named });
  const jsonBytes = indicators.reduce((sum, indicator) => sum + Buffer.byteLength(JSON.stringify(indicator)), 0);
  const started = process.hrtime.bigint();
  for (let start = 0; start < indicators.length; start += batchSize) {
    await store.addObjects('measure', indicators.slice(start, start + batchSize));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  store.database.pragma('wal_checkpoint(TRUNCATE)');
  const pageCount = store.database.pragma('page_count', { simple: true }) as number;
  const pageSize = store.database.pragma('page_size', { simple: true }) as number;
  line('indicators', count, 'objects');
  line('json_bytes_per_indicator', Math.round(jsonBytes / count), 'bytes');
  line('disk_bytes_per_indicator', Math.round((pageCount * pageSize) / count), 'bytes');
  line('insert_rate', Math.round(count / seconds), 'objects/s');
  for (const row of store.database
    .prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC")
    .all() as { name: string; bytes: number }[]) {
    line(`table_bytes_per_indicator:${row.name}`, Math.round(row.bytes / count), 'bytes');
  }
  await store.close();

  const baseline = baselineInsertRate(join(dir, 'baseline.db'), indicators);
  line('baseline_insert_rate', Math.round(baseline), 'objects/s');
  line('insert_rate_ratio_to_baseline', Number((count / seconds / baseline).toFixed(2)), 'ratio');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function line(metric: string, value: number, unit: string): void {
  process.stdout.write(JSON.stringify({ bench: named ? 'sqlite-object-store:named-indicators' : 'sqlite-object-store', metric, value, unit }) + '\n');
}

/**
 * The floor on this machine: the same JSON into one table with the same unique (id, version) index,
 * same pragmas, same batches, nothing else. The ratio is what the store's own work costs.
 */
function baselineInsertRate(path: string, objects: readonly StixObject[]): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  db.exec('CREATE TABLE versions (vid INTEGER PRIMARY KEY, object_id TEXT NOT NULL, version TEXT NOT NULL, json TEXT NOT NULL, UNIQUE (object_id, version))');
  const insert = db.prepare('INSERT INTO versions (object_id, version, json) VALUES (?, ?, ?)');
  const insertBatch = db.transaction((batch: readonly StixObject[]) => {
    for (const object of batch) insert.run(object.id, object['modified'], JSON.stringify(object));
  });
  const started = process.hrtime.bigint();
  for (let start = 0; start < objects.length; start += batchSize) insertBatch(objects.slice(start, start + batchSize));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return objects.length / seconds;
}
