import type { StixObject } from '../../src/stix/types.ts';

/**
 * Deterministic, typical-looking STIX 2.1 indicators (~450 bytes of JSON each, no name, like most
 * feed indicators). `seed` separates independent sets; ids come from the seed and the index.
 */
export function generateIndicators(count: number, seed: number, options: { named?: boolean } = {}): StixObject[] {
  const indicators: StixObject[] = [];
  for (let index = 0; index < count; index += 1) {
    const hex = ((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0).toString(16).padStart(8, '0');
    const serial = index.toString(16).padStart(12, '0');
    const timestamp = new Date(Date.UTC(2024, 0, 1) + index * 1000).toISOString();
    const octets = [10 + (index >>> 24), (index >>> 16) & 255, (index >>> 8) & 255, index & 255].join('.');
    indicators.push({
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${hex}-${seed.toString(16).padStart(4, '0').slice(-4)}-4000-8000-${serial}`,
      created: timestamp,
      modified: timestamp,
      created_by_ref: 'identity--f431f809-377b-45e0-aa1c-6a4751cae5ff',
      ...(options.named === true ? { name: `C2 server ${octets}`, description: 'Command and control server seen in botnet traffic' } : {}),
      indicator_types: ['malicious-activity'],
      pattern: `[ipv4-addr:value = '${octets}']`,
      pattern_type: 'stix',
      valid_from: timestamp,
      object_marking_refs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'],
    });
  }
  return indicators;
}
