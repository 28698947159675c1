// The property extension that carries an Entente object signature (docs/federation.md, "Object
// signatures"), and the extension-definition Entente ships for it (data/federation/).
import { err, ok, type Result } from '../errors/result.ts';
import type { StixObject } from '../stix/types.ts';
import { ENTENTE_SIGNATURE_EXTENSION_ID } from '../stix/entente-signature.ts';
import { validateBundle } from '../stix/validate.ts';
import { decodeCanonicalBase64url, isKeyId, isOrganisationId, SIGNATURE_BYTES } from './node-key.ts';

/** The id of the extension-definition "Entente signature" (data/federation/entente-signature-extension.json). */
export const SIGNATURE_EXTENSION_ID = ENTENTE_SIGNATURE_EXTENSION_ID;
/** The identity of the Entente project, creator of the extension-definition. */
export const ENTENTE_PROJECT_IDENTITY_ID = 'identity--65787374-effd-4995-80e9-fea9d026a26c';
export const SIGNATURE_ALGORITHM = 'Ed25519';

/** The extension's body, exactly as it travels under `extensions[SIGNATURE_EXTENSION_ID]`. */
export interface SignatureExtension {
  readonly extension_type: 'property-extension';
  readonly algorithm: 'Ed25519';
  /** The organisation (identity id) whose node signed this form of the version. */
  readonly signer: string;
  /** 22 characters: see keyIdOf. */
  readonly key_id: string;
  /** Unpadded base64url of the 64-byte Ed25519 signature. */
  readonly signature: string;
  /** Present (and true) only when the signer redacted the version it signs (a derived version). */
  readonly derived?: true;
}

/** What an object says about its Entente signature. Never an exception: `malformed` names the problem. */
export type SignatureExtensionReading =
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'ok'; readonly extension: SignatureExtension };

const FIELDS: ReadonlySet<string> = new Set(['extension_type', 'algorithm', 'signer', 'key_id', 'signature', 'derived']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Reads the Entente signature of an object. `absent` when the object has no `extensions`
 * dictionary or no entry under SIGNATURE_EXTENSION_ID (a non-dictionary `extensions` is the
 * validator's to report). The entry must have exactly the fields of SignatureExtension: the
 * extension is not covered by the signature, so nothing unsigned may ride along in it. `derived`
 * is either absent or `true`; the signature must be canonical base64url (one spelling per signature).
 */
export function readSignatureExtension(object: unknown): SignatureExtensionReading {
  if (!isRecord(object)) return { kind: 'absent' };
  const extensions = own(object, 'extensions');
  if (!isRecord(extensions) || !Object.hasOwn(extensions, SIGNATURE_EXTENSION_ID)) return { kind: 'absent' };
  const body = extensions[SIGNATURE_EXTENSION_ID];
  if (!isRecord(body)) return { kind: 'malformed', reason: 'the signature extension is not an object' };
  const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    return { kind: 'malformed', reason: `the signature extension has fields it does not define: ${unknown.slice(0, 5).map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}` };
  }
  const extensionType = own(body, 'extension_type');
  if (extensionType !== 'property-extension') return { kind: 'malformed', reason: 'extension_type must be "property-extension"' };
  const algorithm = own(body, 'algorithm');
  if (algorithm !== SIGNATURE_ALGORITHM) return { kind: 'malformed', reason: `algorithm must be "${SIGNATURE_ALGORITHM}"` };
  const signer = own(body, 'signer');
  if (!isOrganisationId(signer)) return { kind: 'malformed', reason: 'signer must be a STIX identity id (identity--<RFC 4122 uuid>)' };
  const keyId = own(body, 'key_id');
  if (!isKeyId(keyId)) return { kind: 'malformed', reason: 'key_id must be 22 characters of base64url' };
  const signature = own(body, 'signature');
  if (typeof signature !== 'string' || decodeCanonicalBase64url(signature, SIGNATURE_BYTES) === undefined) {
    return { kind: 'malformed', reason: 'signature must be 64 bytes in canonical unpadded base64url (86 characters)' };
  }
  const derived = own(body, 'derived');
  if (derived !== undefined && derived !== true) return { kind: 'malformed', reason: 'derived, when present, must be true' };
  const extension: SignatureExtension = {
    extension_type: 'property-extension',
    algorithm: SIGNATURE_ALGORITHM,
    signer,
    key_id: keyId,
    signature,
    ...(derived === true ? { derived: true as const } : {}),
  };
  return { kind: 'ok', extension };
}

/** The identity and extension-definition Entente ships, read from their bundle. */
export interface SignatureExtensionDefinition {
  readonly identity: StixObject;
  readonly extensionDefinition: StixObject;
}

/**
 * Reads the shipped bundle (data/federation/entente-signature-extension.json): valid STIX 2.1,
 * holding the Entente project identity and the extension-definition SIGNATURE_EXTENSION_ID created
 * by it, defining a property-extension. Never throws; each problem is named.
 */
export function parseSignatureExtensionBundle(value: unknown): Result<SignatureExtensionDefinition, string[]> {
  const report = validateBundle(value);
  const problems = report.issues.filter((issue) => issue.severity === 'error').map((issue) => `${issue.path}: ${issue.message}`);
  if (problems.length > 0 || !isRecord(value) || !Array.isArray(value['objects'])) {
    return err(problems.length > 0 ? problems : ['not a STIX bundle']);
  }
  const objects = value['objects'] as StixObject[];
  const identity = objects.find((object) => object.id === ENTENTE_PROJECT_IDENTITY_ID);
  const definition = objects.find((object) => object.id === SIGNATURE_EXTENSION_ID);
  if (identity === undefined) problems.push(`no identity ${ENTENTE_PROJECT_IDENTITY_ID}`);
  else if (identity['identity_class'] !== 'organization') problems.push('the Entente project identity must have identity_class "organization"');
  if (definition === undefined) problems.push(`no extension-definition ${SIGNATURE_EXTENSION_ID}`);
  else {
    if (definition['created_by_ref'] !== ENTENTE_PROJECT_IDENTITY_ID) problems.push('the extension-definition must be created by the Entente project identity');
    const types = definition['extension_types'];
    if (!Array.isArray(types) || types.length !== 1 || types[0] !== 'property-extension') {
      problems.push('the extension-definition must define exactly a property-extension');
    }
  }
  if (problems.length > 0 || identity === undefined || definition === undefined) return err(problems);
  return ok({ identity, extensionDefinition: definition });
}
