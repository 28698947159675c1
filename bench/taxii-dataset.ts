import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseFileName, adminTokenFileName, loadNodeConfig, openNode } from '../src/compose.ts';
import { openSqliteObjectStore, SCHEMA_VERSION } from '../src/store/sqlite/sqlite-object-store.ts';
import { formatTokenSecret, hashTokenSecret } from '../src/policy/token-secret.ts';
import type { StixObject } from '../src/stix/types.ts';
import { createRandom, generateIndicator } from './generate-indicators.ts';
import { log } from './run-stats.ts';

/** A node data directory holding one large collection, written straight through the store (not timed). */
export interface TaxiiDataset {
  readonly dataDir: string;
  readonly count: number;
  readonly collectionId: string;
  readonly defaultCollectionId: string;
  /** Secret of a member token: read on the bench collection, read-write on the default collection. */
  readonly memberToken: string;
  readonly adminToken: string;
  /** dateAdded (µs) of the entry at position round(i * (count - 1) / 1000), i = 0…1000. */
  readonly permille: readonly number[];
}

type StoredDataset = Omit<TaxiiDataset, 'adminToken'>;

const datasetFormat = 1;
const batchSize = 5000;
const seed = 7_031_977;

function isStoredDataset(value: unknown, count: number): value is StoredDataset & { format: number } {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    record['format'] === datasetFormat &&
    record['count'] === count &&
    typeof record['collectionId'] === 'string' &&
    typeof record['defaultCollectionId'] === 'string' &&
    typeof record['memberToken'] === 'string' &&
    Array.isArray(record['permille']) &&
    record['permille'].length === 1001
  );
}

/**
 * Returns the cached dataset for `count` objects, building it first when absent. The cache lives in
 * <tmp>/entente-bench-cache/taxii-<count>-schema<N>/ and is kept between runs on purpose.
 */
export async function ensureTaxiiDataset(count: number): Promise<TaxiiDataset> {
  const root = join(tmpdir(), 'entente-bench-cache', `taxii-${count}-schema${SCHEMA_VERSION}`);
  const dataDir = join(root, 'data');
  const markerPath = join(root, 'dataset.json');
  if (existsSync(markerPath)) {
    try {
      const stored: unknown = JSON.parse(readFileSync(markerPath, 'utf8'));
      if (isStoredDataset(stored, count) && existsSync(join(dataDir, databaseFileName))) {
        log(`reusing the cached dataset of ${count} objects in ${root} (delete it to rebuild)`);
        return { ...stored, dataDir, adminToken: readFileSync(join(dataDir, adminTokenFileName), 'utf8').trim() };
      }
    } catch {
      // Unreadable marker: rebuild below.
    }
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  log(`building the dataset of ${count} objects in ${root} (cached for the next run)`);
  const started = performance.now();

  // Bootstrap exactly as the node does at first start: home organisation, default collection, admin token file.
  const node = await openNode(loadNodeConfig({ dataDir, orgName: 'Entente bench' }, {}));
  const homeOrganisationId = node.identity.homeOrganisation.id;
  const defaultCollectionId = node.identity.defaultCollection.id;
  await node.close();

  const store = openSqliteObjectStore({ path: join(dataDir, databaseFileName) });
  const permille: number[] = [];
  let memberToken: string;
  let collectionId: string;
  try {
    const collection = await store.createCollection(
      { id: randomUUID(), title: 'Benchmark collection', alias: 'bench', description: `${count} generated indicators` },
      new Date(),
    );
    collectionId = collection.id;
    const wanted = Array.from({ length: 1001 }, (_, index) => Math.round((index * (count - 1)) / 1000));
    let nextWanted = 0;
    const random = createRandom(seed);
    for (let start = 0; start < count; start += batchSize) {
      const batch: StixObject[] = [];
      for (let index = start; index < Math.min(count, start + batchSize); index += 1) batch.push(generateIndicator(index, random));
      const outcomes = await store.addObjects(collectionId, batch);
      outcomes.forEach((outcome, offset) => {
        if (outcome.kind !== 'added') throw new Error(`dataset build: object ${outcome.id} was ${outcome.kind}`);
        while (wanted[nextWanted] === start + offset) {
          permille.push(outcome.dateAdded);
          nextWanted += 1;
        }
      });
      if ((start / batchSize) % 40 === 39) log(`  ${start + batch.length} / ${count}`);
    }
    memberToken = formatTokenSecret(randomBytes(32));
    await store.createToken({
      name: 'bench-reader',
      secretHash: hashTokenSecret(memberToken),
      admin: false,
      grants: [
        { collectionId, read: true, write: false },
        { collectionId: defaultCollectionId, read: true, write: true },
      ],
      organisationId: homeOrganisationId,
      createdAt: new Date().toISOString(),
      revokedAt: undefined,
    });
  } finally {
    await store.close();
  }
  if (permille.length !== 1001) throw new Error(`dataset build: recorded ${permille.length} of 1001 positions`);
  const stored: StoredDataset & { format: number } = { format: datasetFormat, dataDir, count, collectionId, defaultCollectionId, memberToken, permille };
  writeFileSync(markerPath, JSON.stringify(stored), { mode: 0o600 });
  log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { ...stored, adminToken: readFileSync(join(dataDir, adminTokenFileName), 'utf8').trim() };
}
