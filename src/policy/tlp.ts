/**
 * FIRST Traffic Light Protocol 2.0 (https://www.first.org/tlp/), as STIX 2.1 markings.
 *
 * Levels are ordered from the least to the most restrictive; "stricter" always means a higher
 * rank, so every combination rule below is a maximum and adding a marking can only narrow.
 */

export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpLevel = (typeof TLP_LEVELS)[number];

/** The TLP 2.0 STIX extension every official TLP 2.0 marking-definition carries. */
export const TLP2_EXTENSION_DEFINITION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/**
 * The official TLP 2.0 marking-definition objects (OASIS cti-stix-common-objects,
 * extension-definition-specifications/tlp-2.0; the same ids as python-stix2's TLP 2.0 constants).
 */
export const TLP2_MARKING_IDS: Readonly<Record<TlpLevel, string>> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

/**
 * The TLP 1.0 marking definitions of STIX 2.1 §7.2.1.4. TLP 2.0 renamed WHITE to CLEAR and kept
 * GREEN, AMBER and RED; TLP 1.0 has no AMBER+STRICT.
 */
export const TLP1_MARKING_IDS: Readonly<Record<'white' | 'green' | 'amber' | 'red', string>> = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};

const levelByMarkingId: ReadonlyMap<string, TlpLevel> = new Map<string, TlpLevel>([
  ...TLP_LEVELS.map((level): [string, TlpLevel] => [TLP2_MARKING_IDS[level], level]),
  [TLP1_MARKING_IDS.white, 'clear'],
  [TLP1_MARKING_IDS.green, 'green'],
  [TLP1_MARKING_IDS.amber, 'amber'],
  [TLP1_MARKING_IDS.red, 'red'],
]);

export function tlpRank(level: TlpLevel): number {
  return TLP_LEVELS.indexOf(level);
}

/** True when `a` restricts at least as much as `b`. */
export function isAtLeastAsStrict(a: TlpLevel, b: TlpLevel): boolean {
  return tlpRank(a) >= tlpRank(b);
}

export function stricterOf(a: TlpLevel, b: TlpLevel): TlpLevel {
  return tlpRank(a) >= tlpRank(b) ? a : b;
}

export function isTlpLevel(value: unknown): value is TlpLevel {
  return typeof value === 'string' && (TLP_LEVELS as readonly string[]).includes(value);
}

/**
 * Reads a level as people and other tools write it: `amber+strict`, `TLP:AMBER+STRICT`, and the
 * TLP 1.0 name `white` (which TLP 2.0 calls CLEAR). Anything else is not a level.
 */
export function toTlpLevel(value: unknown): TlpLevel | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.trim().toLowerCase().replace(/^tlp:/, '');
  if (name === 'white') return 'clear';
  return isTlpLevel(name) ? name : undefined;
}

/** The level an official TLP 1.0 or 2.0 marking-definition id stands for. */
export function tlpOfMarkingRef(ref: unknown): TlpLevel | undefined {
  return typeof ref === 'string' ? levelByMarkingId.get(ref) : undefined;
}

/**
 * The strictest official TLP level among an object's `object_marking_refs`, or undefined when it
 * carries none. Two TLP markings on one object are contradictory; the strictest wins because a
 * marking only ever narrows. Callers give an unmarked object its circle's default, never CLEAR.
 */
export function tlpOf(object: unknown): TlpLevel | undefined {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return undefined;
  const refs: unknown = (object as Record<string, unknown>)['object_marking_refs'];
  if (!Array.isArray(refs)) return undefined;
  let found: TlpLevel | undefined;
  for (const ref of refs as unknown[]) {
    const level = tlpOfMarkingRef(ref);
    if (level !== undefined) found = found === undefined ? level : stricterOf(found, level);
  }
  return found;
}
