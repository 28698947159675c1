// The one place the extractor touches the file system: the bundled TLD set and warninglists.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FrozenSet } from './frozen-set.ts';
import { buildWarninglistIndex } from './warninglists.ts';
import type { WarninglistData, WarninglistIndex } from './warninglists.ts';

export interface ExtractData {
  readonly tlds: ReadonlySet<string>;
  readonly warninglists: WarninglistIndex;
}

const DATA_DIR = new URL('../../data/', import.meta.url);

export function parseTldList(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const t = line.trim().toLowerCase();
    if (t !== '' && !t.startsWith('#')) out.add(t);
  }
  return out;
}

let cached: ExtractData | undefined;

/** Loads (once per process) data/public-suffix/tlds.txt and data/warninglists/warninglists.json. */
export function loadExtractData(dataDir: string = fileURLToPath(DATA_DIR)): ExtractData {
  if (cached !== undefined && dataDir === fileURLToPath(DATA_DIR)) return cached;
  // Frozen: shared by every caller of the process, and trusted unchanged between extractions.
  const tlds = new FrozenSet(parseTldList(readFileSync(`${dataDir}/public-suffix/tlds.txt`, 'utf8')));
  const wl = JSON.parse(readFileSync(`${dataDir}/warninglists/warninglists.json`, 'utf8')) as WarninglistData;
  const data: ExtractData = { tlds, warninglists: buildWarninglistIndex(wl) };
  if (dataDir === fileURLToPath(DATA_DIR)) cached = data;
  return data;
}
