// Patterns parsed per second on one core. The mix follows the matching benchmark of issue 6 (a million
// equality indicators for ten thousand complex ones), made five times richer in complex patterns:
// equality on IPv4, domain, URL and SHA-256, plus LIKE/WITHIN and ISSUBSET/IN/FOLLOWEDBY/MATCHES
// patterns and the specification examples. Each kind is also measured on its own.
// Run: node --import tsx src/pattern/parse-pattern.bench.ts
import { parsePattern } from './parse-pattern.ts';
import { specificationExamples } from './specification-examples.ts';

const kinds: Record<string, (i: number, hex: string) => string> = {
  ipv4: (i) => `[ipv4-addr:value = '198.51.${i % 256}.${(i * 7) % 256}']`,
  domain: (_i, hex) => `[domain-name:value = 'host-${hex}.example.com']`,
  url: (i, hex) => `[url:value = 'https://cdn-${hex}.example.net/payload/${i}.bin']`,
  sha256: (_i, hex) => `[file:hashes.'SHA-256' = '${hex.repeat(8)}']`,
  like: (i, hex) => `[file:name LIKE '%${hex}%.exe' AND file:size > ${i}] WITHIN 600 SECONDS`,
  complex: (i) => `[network-traffic:dst_ref.value ISSUBSET '10.${i % 256}.0.0/16' AND network-traffic:dst_port IN (443, 8443)] FOLLOWEDBY [process:name MATCHES '^svc${i}\\\\.exe$']`,
};

function build(kind: string, count: number): string[] {
  const make = kinds[kind] as (i: number, hex: string) => string;
  return Array.from({ length: count }, (_, i) => make(i, (Math.imul(i + 1, 2654435761) >>> 0).toString(16).padStart(8, '0')));
}

function rate(patterns: readonly string[]): number {
  for (const pattern of patterns) if (!parsePattern(pattern).ok) throw new Error(`does not parse: ${pattern}`);
  const rounds = 10;
  const started = performance.now();
  for (let round = 0; round < rounds; round++) for (const pattern of patterns) parsePattern(pattern);
  return Math.round((patterns.length * rounds) / ((performance.now() - started) / 1000));
}

const mix = [...build('ipv4', 5000), ...build('domain', 5000), ...build('url', 5000), ...build('sha256', 5000), ...build('like', 500), ...build('complex', 500), ...specificationExamples];
console.log(JSON.stringify({ bench: 'pattern', metric: 'patterns_parsed_per_s', value: rate(mix), unit: 'patterns/s', mix: 'equality 95%, complex 5%' }));
for (const kind of Object.keys(kinds)) {
  console.log(JSON.stringify({ bench: 'pattern', metric: `patterns_parsed_per_s/${kind}`, value: rate(build(kind, 5000)), unit: 'patterns/s' }));
}
console.log(JSON.stringify({ bench: 'pattern', metric: 'patterns_parsed_per_s/specification-examples', value: rate(specificationExamples), unit: 'patterns/s' }));
