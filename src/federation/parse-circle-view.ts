// A circle as a coordinator's node shows it to a member (GET /api/circles/{id}, circleView), read
// so that the member's node can mirror it: the circle document, its agreement versions and the
// acceptances the member may see, and the keys of the members it may see. Pure, never throws.
import { err, ok, type Result } from '../errors/result.ts';
import { parseAgreement, parseAgreementAcceptance, type Agreement, type AgreementAcceptance } from '../policy/agreement.ts';
import { parseCircle, type Circle } from '../policy/circle.ts';
import { instantOf, isKeyId, isOrganisationId, keyIdOf, parsePublicKey } from './node-key.ts';

export interface MemberKey {
  readonly organisationId: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly validFrom: string;
  readonly validUntil: string | undefined;
}

export interface CircleView {
  readonly circle: Circle;
  readonly agreements: readonly Agreement[];
  readonly acceptances: readonly AgreementAcceptance[];
  readonly memberKeys: readonly MemberKey[];
}

const MAX_KEYS = 4096;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One published key (`{organisation_id?, key_id, public_key, valid_from, valid_until?}`), checked: the key id must be the key's hash. */
export function parsePublishedKey(value: unknown, path: string, organisationId?: string): Result<MemberKey, string> {
  if (!isRecord(value)) return err(`${path}: expected a key object`);
  const organisation = organisationId ?? value['organisation_id'];
  if (!isOrganisationId(organisation)) return err(`${path}.organisation_id: not a STIX identity id`);
  const keyId = value['key_id'];
  const publicKey = value['public_key'];
  if (!isKeyId(keyId)) return err(`${path}.key_id: not a key id (22 characters of base64url)`);
  if (!parsePublicKey(publicKey).ok || keyIdOf(publicKey as string) !== keyId) return err(`${path}.public_key: not the Ed25519 key with key id ${keyId}`);
  const validFrom = value['valid_from'];
  if (typeof validFrom !== 'string' || instantOf(validFrom) === undefined) return err(`${path}.valid_from: not an RFC 3339 timestamp`);
  const validUntil = value['valid_until'] ?? undefined;
  if (validUntil !== undefined && (typeof validUntil !== 'string' || instantOf(validUntil) === undefined)) return err(`${path}.valid_until: not an RFC 3339 timestamp`);
  return ok({ organisationId: organisation, keyId, publicKey: publicKey as string, validFrom, validUntil: validUntil as string | undefined });
}

/** Reads the circle view; the first problem is returned with its path. */
export function parseCircleView(value: unknown): Result<CircleView, string> {
  if (!isRecord(value)) return err('$: the circle view is not a JSON object');
  const { agreements: rawAgreements, acceptances: rawAcceptances, member_keys: rawKeys, ...document } = value;
  const circle = parseCircle(document);
  if (!circle.ok) return err(circle.error.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
  const agreements: Agreement[] = [];
  if (rawAgreements !== undefined) {
    if (!Array.isArray(rawAgreements)) return err('$.agreements: expected a list');
    for (const [index, raw] of rawAgreements.entries()) {
      const parsed = parseAgreement(raw);
      if (!parsed.ok) return err(`$.agreements[${index}]: ${parsed.error.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
      if (parsed.value.circleId !== circle.value.id) return err(`$.agreements[${index}]: belongs to circle ${parsed.value.circleId}, not ${circle.value.id}`);
      agreements.push(parsed.value);
    }
  }
  const acceptances: AgreementAcceptance[] = [];
  if (rawAcceptances !== undefined) {
    if (!Array.isArray(rawAcceptances)) return err('$.acceptances: expected a list');
    for (const [index, raw] of rawAcceptances.entries()) {
      const parsed = parseAgreementAcceptance(isRecord(raw) ? { circle_id: circle.value.id, ...raw } : raw);
      if (!parsed.ok) return err(`$.acceptances[${index}]: ${parsed.error.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
      if (parsed.value.circleId !== circle.value.id) return err(`$.acceptances[${index}]: belongs to circle ${parsed.value.circleId}, not ${circle.value.id}`);
      acceptances.push(parsed.value);
    }
  }
  const memberKeys: MemberKey[] = [];
  if (rawKeys !== undefined) {
    if (!Array.isArray(rawKeys) || rawKeys.length > MAX_KEYS) return err(`$.member_keys: expected a list of at most ${MAX_KEYS} keys`);
    for (const [index, raw] of rawKeys.entries()) {
      const parsed = parsePublishedKey(raw, `$.member_keys[${index}]`);
      if (!parsed.ok) return err(parsed.error);
      memberKeys.push(parsed.value);
    }
  }
  return ok({ circle: circle.value, agreements, acceptances, memberKeys });
}
