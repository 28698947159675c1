import type { JsonObject, JsonValue } from '../stix/types.ts';
import { TLP2_EXTENSION_DEFINITION_ID, tlpOfMarkingRef, toTlpLevel, type TlpLevel } from './tlp.ts';

/**
 * Entente's own STIX extension for the two markings TLP cannot express. Both are ordinary
 * marking-definition objects (immutable, referenced from `object_marking_refs` or
 * `granular_markings`) carrying this property-extension:
 *
 * - `"marking": "recipients"` with `organisation_refs`: the named recipients of TLP:RED (and, on
 *   any other level, a narrowing to those organisations). Every recipients marking on an object
 *   must name the recipient, so adding one only narrows.
 * - `"marking": "weakness"` with `organisation_refs` and/or `circle_refs`: a weakness disclosure
 *   (an organisation's own vulnerabilities or defensive gaps). Default-deny: released only to the
 *   organisations and through the circles it names. `aggregate_circle_refs` (optional) lets the
 *   owner have it counted, owner removed, in the weakness totals of wider circles.
 */
export const ENTENTE_MARKING_EXTENSION_ID = 'extension-definition--14470295-cc5e-4c4c-93a3-8759ee5effc0';

export type MarkingClass =
  /** `official`: one of the published TLP 1.0/2.0 ids; other TLP definitions may only narrow. */
  | { readonly kind: 'tlp'; readonly level: TlpLevel; readonly official: boolean }
  | { readonly kind: 'recipients'; readonly organisationIds: readonly string[] }
  | {
      readonly kind: 'weakness';
      readonly organisationIds: readonly string[];
      readonly circleIds: readonly string[];
      /** Circles whose members may see this disclosure counted, anonymously, in per-CVE/technique totals. */
      readonly aggregateCircleIds: readonly string[];
    }
  /** Statements (copyright, terms of use) travel with the object and do not restrict release. */
  | { readonly kind: 'statement' }
  | { readonly kind: 'unknown'; readonly reason: string };

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(record: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function stringList(value: JsonValue | undefined): string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return undefined;
  return value as string[];
}

function classifyEntente(ref: string, extension: JsonValue | undefined): MarkingClass {
  if (!isRecord(extension)) return { kind: 'unknown', reason: `${ref}: Entente marking extension is not an object` };
  const marking = own(extension, 'marking');
  const organisationIds = stringList(own(extension, 'organisation_refs'));
  const circleIds = stringList(own(extension, 'circle_refs'));
  const aggregateCircleIds = stringList(own(extension, 'aggregate_circle_refs'));
  if (organisationIds === undefined || circleIds === undefined || aggregateCircleIds === undefined) {
    return { kind: 'unknown', reason: `${ref}: organisation_refs, circle_refs and aggregate_circle_refs must be lists of strings` };
  }
  if (marking === 'recipients') return { kind: 'recipients', organisationIds };
  if (marking === 'weakness') return { kind: 'weakness', organisationIds, circleIds, aggregateCircleIds };
  return { kind: 'unknown', reason: `${ref}: unknown Entente marking ${JSON.stringify(marking)?.slice(0, 40)}` };
}

/**
 * What one marking reference means. Official TLP ids are recognised by id alone, so a forged
 * definition object cannot change what they mean; anything else needs its definition object, and
 * a reference Entente cannot read is `unknown`, which the release decision treats as "withhold"
 * (a marking we cannot read might narrow further than we can tell).
 */
export function classifyMarking(ref: string, definitions: ReadonlyMap<string, JsonObject>): MarkingClass {
  const official = tlpOfMarkingRef(ref);
  if (official !== undefined) return { kind: 'tlp', level: official, official: true };
  const definition = definitions.get(ref);
  if (definition === undefined) return { kind: 'unknown', reason: `${ref}: no marking-definition object is known` };
  if (own(definition, 'type') !== 'marking-definition' || own(definition, 'id') !== ref) {
    return { kind: 'unknown', reason: `${ref}: the definition supplied is not this marking-definition` };
  }
  const extensions = own(definition, 'extensions');
  if (isRecord(extensions)) {
    if (Object.hasOwn(extensions, ENTENTE_MARKING_EXTENSION_ID)) {
      return classifyEntente(ref, own(extensions, ENTENTE_MARKING_EXTENSION_ID));
    }
    const tlp2 = own(extensions, TLP2_EXTENSION_DEFINITION_ID);
    if (tlp2 !== undefined) {
      const level = isRecord(tlp2) ? toTlpLevel(own(tlp2, 'tlp_2_0')) : undefined;
      return level === undefined
        ? { kind: 'unknown', reason: `${ref}: TLP 2.0 extension without a valid tlp_2_0 level` }
        : { kind: 'tlp', level, official: false };
    }
  }
  const definitionType = own(definition, 'definition_type');
  const body = own(definition, 'definition');
  if (definitionType === 'tlp' && isRecord(body)) {
    const level = toTlpLevel(own(body, 'tlp'));
    if (level !== undefined) return { kind: 'tlp', level, official: false };
  }
  if (definitionType === 'statement' && isRecord(body) && typeof own(body, 'statement') === 'string') {
    return { kind: 'statement' };
  }
  return { kind: 'unknown', reason: `${ref}: a marking-definition Entente cannot interpret` };
}
