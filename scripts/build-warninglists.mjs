// Builds data/warninglists/warninglists.json: the subset of the MISP warninglists that matters for
// observable extraction, in a compact form the extractor can ship. Run:
//   node scripts/build-warninglists.mjs [/work/shared/data/misp-warninglists]
// The output is deterministic (sorted keys, sorted entries) so a rebuild from the same snapshot is
// byte-identical.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = process.argv[2] ?? join(root, '..', 'shared', 'data', 'misp-warninglists');
const outDir = join(root, 'data', 'warninglists');

// Which lists, and which observable types each one may suppress. We choose the types ourselves
// rather than trusting `matching_attributes`: MISP applies e.g. url-shortener to URLs, but a
// shortened URL in a report is an indicator; only the bare shortener domain is noise. Lists left
// out are either too large to ship (public-dns-hostname 1.3 MB, vpn-ipv4 0.9 MB, ti-falsepositives
// 1.3 MB, icloud-private-relay 0.4 MB, mozilla-IntermediateCA 0.4 MB) or describe infrastructure
// that attackers rent and that therefore must not hide indicators (dynamic-dns, scanners, hosting
// providers such as amazon-aws, ovh-cluster).
const IP = ['ipv4-addr', 'ipv6-addr'];
const HASH = ['file'];
const KEEP = {
  rfc1918: IP,
  rfc5735: IP,
  rfc6598: IP,
  rfc3849: IP,
  multicast: IP,
  'ipv6-linklocal': IP,
  'public-dns-v6': IP,
  sinkholes: IP,
  cloudflare: IP,
  fastly: IP,
  akamai: IP,
  'google-gcp': IP,
  'microsoft-office365-ip': IP,
  'umbrella-blockpage-v4': IP,
  'umbrella-blockpage-v6': IP,
  rfc6761: ['domain-name'],
  majestic_million: ['domain-name'],
  google: ['domain-name'],
  microsoft: ['domain-name'],
  'microsoft-office365': ['domain-name'],
  'microsoft-win10-connection-endpoints': ['domain-name'],
  'security-provider-blogpost': ['domain-name', 'url'],
  'url-shortener': ['domain-name'],
  'whats-my-ip': ['domain-name'],
  'crl-hostname': ['domain-name'],
  'public-dns-hostname': null, // handled below: only the well-known resolver names
  'empty-hashes': HASH,
  'eicar.com': HASH,
  'common-ioc-false-positive': HASH,
  'mozilla-CA': HASH,
};

// public-dns-v4 holds 62k open resolvers, most of them random (often compromised) hosts; we keep
// only the entries inside the anycast prefixes of the well-known public resolver operators.
const WELL_KNOWN_RESOLVER_PREFIXES = [
  '1.0.0.0/24', '1.1.1.0/24', '8.8.4.0/24', '8.8.8.0/24', '9.9.9.0/24', '149.112.112.0/24',
  '208.67.216.0/21', '94.140.14.0/23', '76.76.2.0/24', '76.76.10.0/24', '185.228.168.0/23',
  '64.6.64.0/22', '156.154.70.0/23', '77.88.8.0/24', '8.26.56.0/24', '4.2.2.0/24', '45.90.28.0/22',
];

function ipv4ToInt(s) {
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function inPrefixes(ip) {
  const v = ipv4ToInt(ip.split('/')[0]);
  return WELL_KNOWN_RESOLVER_PREFIXES.some((p) => {
    const [base, len] = p.split('/');
    const size = 2 ** (32 - Number(len));
    const b = ipv4ToInt(base);
    return v >= b && v < b + size;
  });
}

function read(name) {
  return JSON.parse(readFileSync(join(source, 'lists', name, 'list.json'), 'utf8'));
}

const lists = [];
for (const [name, appliesTo] of Object.entries(KEEP)) {
  if (appliesTo === null) continue;
  const l = read(name);
  lists.push({
    name,
    kind: l.type === 'cidr' ? 'cidr' : l.type === 'hostname' ? 'hostname' : 'string',
    appliesTo,
    description: l.description,
    entries: [...new Set(l.list.map((e) => String(e).trim().toLowerCase()).filter(Boolean))].sort(),
  });
}
const dns = read('public-dns-v4');
lists.push({
  name: 'public-dns-v4',
  kind: 'cidr',
  appliesTo: IP,
  description: `${dns.description} (entries inside well-known resolver operators' prefixes only)`,
  entries: [...new Set(dns.list.filter((e) => !e.includes(':') && inPrefixes(e)))].sort(),
});
lists.sort((a, b) => a.name.localeCompare(b.name));

const out = {
  source: 'MISP/misp-warninglists @ 84f0610aaf3b32159285c9b85510d0f415ea6b27',
  licence: 'CC0-1.0 (see LICENCE.md); majestic_million is Majestic Million data, CC BY 3.0, credit Majestic',
  lists,
};
mkdirSync(outDir, { recursive: true });
const text = JSON.stringify(out);
writeFileSync(join(outDir, 'warninglists.json'), text + '\n');
writeFileSync(join(outDir, 'SOURCE-README.md'), readFileSync(join(source, 'README.md')));
writeFileSync(
  join(outDir, 'LICENCE.md'),
  `# Licence of data/warninglists\n\nwarninglists.json is derived from MISP/misp-warninglists\n(https://github.com/MISP/misp-warninglists, commit 84f0610aaf3b32159285c9b85510d0f415ea6b27),\nwhich its authors dedicate to the public domain under CC0 1.0 Universal\n(https://creativecommons.org/publicdomain/zero/1.0/).\n\nThe majestic_million list is compiled from the Majestic Million (https://majestic.com/reports/majestic-million),\npublished by Majestic under Creative Commons Attribution 3.0: credit Majestic.\n\nRegenerate with \`node scripts/build-warninglists.mjs\`. SOURCE-README.md is the snapshot's README.\n`,
);
const counts = lists.map((l) => `${l.name}:${l.entries.length}`).join(' ');
console.log(`wrote ${text.length} bytes, ${lists.length} lists: ${counts}`);
