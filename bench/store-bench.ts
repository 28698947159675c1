/**
 * `npm run bench -- store`: the SQLite store alone (no parsing, no validation) — insert rate in batches
 * of 1,000 and disk use per indicator, with a bare table (same JSON, same unique index, same pragmas)
 * measured in the same run as the baseline, so the ratio says what the store's own work costs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StixObject } from '../src/stix/types.ts';
import { openSqliteObjectStore } from '../src/store/sqlite/sqlite-object-store.ts';
import { createRandom, generateIndicator } from './generate-indicators.ts';
import { benchScale, reportFigure } from './report-figure.ts';

const batchSize = 1000;

export async function runStoreBench(): Promise<void> {
  const count = Math.round(100_000 * benchScale());
  const dir = mkdtempSync(join(tmpdir(), 'entente-store-bench-'));
  try {
    await measure(dir, count);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(dir: string, count: number): Promise<void> {
  const store = openSqliteObjectStore({ path: join(dir, 'store.db') });
  await store.createCollection({ id: 'measure', title: 'Measure' }, new Date());

  const random = createRandom(1);
  const indicators = Array.from({ length: count }, (_, index) => generateIndicator(index, random));
  const jsonBytes = indicators.reduce((sum, indicator) => sum + Buffer.byteLength(JSON.stringify(indicator)), 0);
  const started = process.hrtime.bigint();
  for (let start = 0; start < indicators.length; start += batchSize) {
    await store.addObjects('measure', indicators.slice(start, start + batchSize));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  store.database.pragma('wal_checkpoint(TRUNCATE)');
  const pageCount = store.database.pragma('page_count', { simple: true }) as number;
  const pageSize = store.database.pragma('page_size', { simple: true }) as number;
  line('json_bytes_per_indicator', Math.round(jsonBytes / count), 'bytes');
  line('disk_bytes_per_indicator', Math.round((pageCount * pageSize) / count), 'bytes');
  for (const row of store.database
    .prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC")
    .all() as { name: string; bytes: number }[]) {
    const perIndicator = Math.round(row.bytes / count);
    if (perIndicator > 0) line(`table_bytes_per_indicator:${row.name}`, perIndicator, 'bytes');
  }
  await store.close();

  const baseline = baselineInsertRate(join(dir, 'baseline.db'), indicators);
  reportFigure({
    bench: 'store',
    metric: 'insert_objects_per_s',
    value: count / seconds,
    unit: 'objects/s',
    ratio: count / seconds / baseline,
    baseline: `bare_table_objects_per_s=${Math.round(baseline)}`,
    note: `${count} indicators in batches of ${batchSize}, WAL, synchronous=FULL`,
  });
}

function line(metric: string, value: number, unit: string): void {
  reportFigure({ bench: 'store', metric, value, unit });
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
