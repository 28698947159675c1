// Builds data/public-suffix/tlds.txt: the set of top-level domains (ASCII/punycode form) the
// extractor accepts. Run: node scripts/build-public-suffix.mjs [public_suffix_list.dat] [misp tlds list.json]
// Sources: the Public Suffix List shipped by the Debian/Ubuntu `publicsuffix` package (MPL-2.0) and
// the newer IANA root-zone list carried by the MISP warninglists (`tlds`, CC0). We take the union so
// that neither an old PSL snapshot nor a missing file drops a real TLD. Only the last label is
// kept: extraction needs "is this a real TLD", not registrable-domain computation, and the TLD set
// is 15 KB where the full rule list is 240 KB.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, domainToASCII } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pslPath = process.argv[2] ?? '/usr/share/publicsuffix/public_suffix_list.dat';
const mispPath = process.argv[3] ?? join(root, '..', 'shared', 'data', 'misp-warninglists', 'lists', 'tlds', 'list.json');

const tlds = new Set();
let pslCount = 0;
let section = '';
for (const raw of readFileSync(pslPath, 'utf8').split('\n')) {
  const line = raw.trim();
  if (line.startsWith('// ===BEGIN ')) section = line.includes('ICANN') ? 'icann' : 'private';
  if (!line || line.startsWith('//')) continue;
  // Private-section rules (blogspot.com, …) sit under ICANN TLDs, so their last label adds nothing.
  if (section !== 'icann') continue;
  const last = line.replace(/^[!*.]+/, '').split('.').pop();
  const ascii = domainToASCII(last);
  if (ascii) {
    tlds.add(ascii);
    pslCount++;
  }
}
const misp = JSON.parse(readFileSync(mispPath, 'utf8'));
for (const t of misp.list) tlds.add(String(t).toLowerCase());

const outDir = join(root, 'data', 'public-suffix');
mkdirSync(outDir, { recursive: true });
const sorted = [...tlds].sort();
writeFileSync(
  join(outDir, 'tlds.txt'),
  `# Top-level domains accepted by src/extract (one per line, ASCII/punycode form).\n` +
    `# Derived from the Public Suffix List (publicsuffix.org; Debian package publicsuffix 20230209.2326-1),\n` +
    `# Mozilla Public License 2.0 (https://mozilla.org/MPL/2.0/), unioned with the IANA TLD list in\n` +
    `# MISP/misp-warninglists lists/tlds (CC0). Rebuild: node scripts/build-public-suffix.mjs\n` +
    sorted.join('\n') +
    '\n',
);
console.log(`wrote ${sorted.length} TLDs (PSL ICANN rules: ${pslCount}, MISP: ${misp.list.length})`);
