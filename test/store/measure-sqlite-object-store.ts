/**
 * Measures the SQLite store's disk use per indicator and its insert rate (batches of 1,000).
 * Lives here until bench/ has a runner for it: `node --import tsx test/store/measure-sqlite-object-store.ts [count]`.
 * Prints one JSON line per figure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { generateIndicators } from './generate-indicators.ts';

const count = Number(process.argv[2] ?? 100_000);
const batchSize = 1000;
const dir = mkdtempSync(join(tmpdir(), 'entente-measure-'));
try {
  const store = openSqliteObjectStore({ path: join(dir, 'store.db') });
  await store.createCollection({ id: 'measure', title: 'Measure' }, new Date());
  const indicators = generateIndicators(count, 1);
  const jsonBytes = indicators.reduce((sum, indicator) => sum + Buffer.byteLength(JSON.stringify(indicator)), 0);
  const started = process.hrtime.bigint();
  for (let start = 0; start < indicators.length; start += batchSize) {
    await store.addObjects('measure', indicators.slice(start, start + batchSize));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  store.database.pragma('wal_checkpoint(TRUNCATE)');
  const pageCount = store.database.pragma('page_count', { simple: true }) as number;
  const pageSize = store.database.pragma('page_size', { simple: true }) as number;
  const line = (metric: string, value: number, unit: string): void => {
    process.stdout.write(JSON.stringify({ bench: 'sqlite-object-store', metric, value, unit }) + '\n');
  };
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
