// Throughput of the pre-parse scan and of parseJson against plain JSON.parse, on MITRE ATT&CK
// Enterprise (50 MB of real STIX). Run: node --import tsx src/stix/parse-json.bench.ts
// Reads ../shared/data, which exists on dev machines and CI only; says so and exits when it is absent.
import { existsSync, readFileSync } from 'node:fs';
import { parseJson, scanJson } from './parse-json.ts';

const path = new URL('../../../shared/data/mitre-attack/enterprise-attack-18.1.json', import.meta.url);
if (!existsSync(path)) {
  console.log(JSON.stringify({ bench: 'parse-json', skipped: `data set absent: ${path.pathname}` }));
  process.exit(0);
}
const pretty = readFileSync(path, 'utf8');
const compact = JSON.stringify(JSON.parse(pretty));

function measure(run: () => unknown): number {
  for (let i = 0; i < 3; i++) run();
  const runs = 10;
  const start = performance.now();
  for (let i = 0; i < runs; i++) run();
  return (performance.now() - start) / runs;
}

for (const [layout, text] of [['pretty', pretty], ['compact', compact]] as const) {
  const megabytes = Buffer.byteLength(text, 'utf8') / 1e6;
  const baseline = measure(() => JSON.parse(text));
  const scan = measure(() => scanJson(text, 64, true));
  const full = measure(() => parseJson(text, { maxDepth: 64 }));
  const figure = (metric: string, ms: number, extra: Record<string, number> = {}): void => {
    console.log(JSON.stringify({ bench: `parse-json/${layout}`, metric, value: Math.round(megabytes / (ms / 1000)), unit: 'MB/s', ...extra }));
  };
  figure('JSON.parse', baseline);
  figure('scanJson', scan);
  figure('parseJson', full, { ratio_to_JSON_parse: Number((baseline / full).toFixed(2)) });
}
