// `npm run bench -- NAME [NAME…]` runs the named benchmarks (all when none is named).
import { openSourceBundle } from '../bin/source-bundle.mjs';

const benches: Record<string, () => Promise<void>> = {
  ingest: async () => (await import('./ingest-bench.ts')).runIngestBench(),
  taxii: async () => (await import('./taxii-bench.ts')).runTaxiiBench(),
  extract: async () => (await import('./extract-bench.ts')).runExtractBench(),
  store: async () => (await import('./store-bench.ts')).runStoreBench(),
  match: async () => (await import('./match-bench.ts')).runMatchBench(),
  alerts: async () => (await import('./alerts-bench.ts')).runAlertsBench(),
  'alerts-workers': async () => (await import('./alerts-workers-bench.ts')).runAlertsWorkersBench(),
  flash: async () => (await import('./flash-bench.ts')).runFlashBench(),
  sync: async () => (await import('./sync-bench.ts')).runSyncBench(),
  reputation: async () => (await import('./reputation-bench.ts')).runReputationBench(),
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in benches));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
// Nodes and CLI children run as bin/entente.js runs them, from the bundle of the sources: built
// here, once, so that no measured child pays for the build.
const bundle = await openSourceBundle();
process.stderr.write(
  bundle.kind === 'bundle'
    ? `# children run the bundle of the sources in ${bundle.directory}, as bin/entente.js does\n`
    : `# no bundle of the sources (${bundle.reason}): nodes run the sources through tsx, CLI children fail\n`,
);
for (const name of requested.length > 0 ? requested : Object.keys(benches)) {
  process.stderr.write(`# bench ${name}\n`);
  await benches[name]?.();
}
