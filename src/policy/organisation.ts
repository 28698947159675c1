import type { Result } from '../errors/result.ts';
import { err, ok } from '../errors/result.ts';
import type { StixObject } from '../stix/types.ts';
import { validateStixObject } from '../stix/validate.ts';
import { checkIdentifier, hasUppercaseHex, idHasType, IdVerdict } from '../stix/validate/lexical.ts';

/** What kind of party an organisation is; circles mix states and private actors, and agreements may say which. */
export const organisationKinds = ['government', 'military', 'cert', 'company', 'ngo', 'academic'] as const;
export type OrganisationKind = (typeof organisationKinds)[number];

/**
 * A partner organisation (or the home one), as the node knows it. Its identity is a STIX `identity`
 * of class organization; kind and country travel as custom properties because STIX has none for them.
 */
export interface Organisation {
  /** `identity--…`: for a partner, the id its own node uses for itself, so that `created_by_ref` matches. */
  readonly id: string;
  readonly name: string;
  readonly kind: OrganisationKind;
  /** STIX industry-sector-ov values. */
  readonly sectors: readonly string[];
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: string | undefined;
}

export interface OrganisationInput {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly sectors: readonly string[];
  readonly country?: string | undefined;
}

/**
 * Why a well-formed organisation id cannot be taken, if its UUID has upper-case hex: valid STIX, but
 * ingest refuses every object naming such an id (STIX_ID_UPPERCASE, validate-for-ingest.ts), so a
 * partner registered under it could write nothing that names itself. Not lower-cased silently: the
 * partner's node signs its objects with the id as it wrote it.
 */
export function upperCaseIdProblem(id: string): string | undefined {
  if (!hasUppercaseHex(id)) return undefined;
  return `id "${id}" has upper-case hex in its UUID, which the node refuses in every object naming it: write it in lower case (${id.toLowerCase()})`;
}

/** Checks what an operator typed for a partner organisation; every problem is named, none thrown. */
export function parseOrganisationInput(input: OrganisationInput): Result<Organisation, string[]> {
  const problems: string[] = [];
  const name = input.name.trim();
  if (name === '' || name.length > 256) problems.push('the name must be 1-256 characters');
  if (!(organisationKinds as readonly string[]).includes(input.kind)) {
    problems.push(`kind "${input.kind}" must be one of ${organisationKinds.join(', ')}`);
  }
  if (!idHasType(input.id, 'identity') || checkIdentifier(input.id) !== IdVerdict.Ok) {
    problems.push(`id "${input.id}" must be a STIX identity id such as identity--8c6af861-7b20-41ef-9b59-6344fd872a8f`);
  } else {
    const upperCase = upperCaseIdProblem(input.id);
    if (upperCase !== undefined) problems.push(upperCase);
  }
  const sectors: string[] = [];
  for (const sector of input.sectors) {
    if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(sector)) problems.push(`sector "${sector}" must be lower-case words joined by "-" (STIX industry-sector-ov)`);
    else if (!sectors.includes(sector)) sectors.push(sector);
  }
  const country = input.country?.toUpperCase();
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) problems.push(`country "${input.country ?? ''}" must be a two-letter ISO 3166-1 code such as FR`);
  if (problems.length > 0) return err(problems);
  return ok({ id: input.id, name, kind: input.kind as OrganisationKind, sectors, country });
}

/** The organisation as the STIX identity other nodes and TAXII clients see. */
export function toIdentityObject(organisation: Organisation, timestamp: string): StixObject {
  const identity: StixObject = {
    type: 'identity',
    spec_version: '2.1',
    id: organisation.id,
    created: timestamp,
    modified: timestamp,
    name: organisation.name,
    identity_class: 'organization',
    x_entente_organisation_kind: organisation.kind,
  };
  if (organisation.sectors.length > 0) identity['sectors'] = [...organisation.sectors];
  if (organisation.country !== undefined) identity['x_entente_country'] = organisation.country;
  const report = validateStixObject(identity);
  if (!report.valid) throw new Error(`internal: organisation identity is not valid STIX: ${JSON.stringify(report.issues)}`);
  return identity;
}
