// Signed messages between nodes that are not STIX objects: flash messages and their receipts and
// acknowledgements, recall notices and their acknowledgements, key-rotation statements, and anchors
// of the audit log (docs/federation.md, "Flash messages and recalls", "Keys and signatures",
// "Audit anchors").
import canonicalize from 'canonicalize';
import { EntenteError } from '../errors/entente-error.ts';
import { err, ok, type Result } from '../errors/result.ts';
import type { JsonObject } from '../stix/types.ts';
import {
  checkPinnedSignature,
  decodeCanonicalBase64url,
  isKeyId,
  isKeyValidAt,
  isOrganisationId,
  signBytes,
  SIGNATURE_BYTES,
  type KeyDirectory,
  type NodeSigner,
  type PinnedKey,
} from './node-key.ts';

export const SIGNED_MESSAGE_KINDS = ['flash', 'flash-receipt', 'flash-ack', 'recall', 'recall-ack', 'key-rotation', 'audit-anchor'] as const;
export type SignedMessageKind = (typeof SIGNED_MESSAGE_KINDS)[number];

/** A message as it travels (JSON, snake_case). The signature covers kind, body, signer and key_id. */
export interface SignedMessage<B extends JsonObject = JsonObject> {
  readonly kind: SignedMessageKind;
  readonly body: B;
  /** The identity id of the signing organisation. */
  readonly signer: string;
  readonly key_id: string;
  /** Unpadded base64url of the 64-byte Ed25519 signature. */
  readonly signature: string;
}

/** One problem of an untrusted message: a JSONPath and what is wrong there. */
export interface MessageIssue {
  readonly path: string;
  readonly message: string;
}

/** Bodies nested deeper than this are refused before anything walks them. */
export const MAX_MESSAGE_DEPTH = 32;
const FIELDS: ReadonlySet<string> = new Set(['kind', 'body', 'signer', 'key_id', 'signature']);

export function isSignedMessageKind(value: unknown): value is SignedMessageKind {
  return typeof value === 'string' && (SIGNED_MESSAGE_KINDS as readonly string[]).includes(value);
}

/**
 * The bytes a message signature covers: `ENTENTE-<KIND>-V1\n` (kind upper-cased, e.g.
 * `ENTENTE-FLASH-RECEIPT-V1`) followed by the RFC 8785 canonical JSON of {kind, body, signer, key_id}.
 * The kind appears in the prefix as well so that no signed message can be replayed as another kind
 * or as an object signature.
 */
export function messageSigningInput(message: Omit<SignedMessage, 'signature'>): Buffer {
  const canonical = canonicalize({ kind: message.kind, body: message.body, signer: message.signer, key_id: message.key_id });
  if (canonical === undefined) throw new EntenteError('ENT_SIGNATURE_INVALID', 'The message has no JSON form to sign');
  return Buffer.from(`ENTENTE-${message.kind.toUpperCase()}-V1\n${canonical}`, 'utf8');
}

/** Signs a message body as the home organisation. Throws ENT_KEY_NOT_FOUND for a signer whose key is not the one it names. */
export function signMessage<B extends JsonObject>(kind: SignedMessageKind, body: B, signer: NodeSigner): SignedMessage<B> {
  const unsigned = { kind, body, signer: signer.organisationId, key_id: signer.keyId };
  return { ...unsigned, signature: signBytes(signer, messageSigningInput(unsigned)) };
}

export type MessageVerdict =
  | { readonly kind: 'verified'; readonly signer: string; readonly keyId: string; readonly key: PinnedKey }
  | { readonly kind: 'unknown-key'; readonly reason: string }
  | { readonly kind: 'bad-signature'; readonly reason: string }
  | { readonly kind: 'key-not-valid'; readonly reason: string };

/**
 * Checks a (parsed) message against the keys pinned for its signer. With `at` (milliseconds since
 * the epoch, e.g. the time the message says it was written, or now) the key must also be valid then,
 * within the usual ±5 minutes. Never throws.
 */
export function verifyMessage(message: SignedMessage, directory: KeyDirectory, at?: number): MessageVerdict {
  let input: Buffer;
  try {
    input = messageSigningInput(message);
  } catch {
    return { kind: 'bad-signature', reason: 'the message has no canonical JSON form' };
  }
  const check = checkPinnedSignature(directory, message.signer, message.key_id, input, message.signature);
  if (check.kind !== 'verified') return check;
  if (at !== undefined && !isKeyValidAt(check.key, at)) {
    return { kind: 'key-not-valid', reason: `key ${message.key_id} of ${message.signer} was not valid at ${new Date(at).toISOString()}` };
  }
  return { kind: 'verified', signer: message.signer, keyId: message.key_id, key: check.key };
}

/** verifyMessage for routes: returns the verified signer's key, or throws ENT_SIGNATURE_INVALID naming why. */
export function assertMessageVerified(message: SignedMessage, directory: KeyDirectory, at?: number): PinnedKey {
  const verdict = verifyMessage(message, directory, at);
  if (verdict.kind === 'verified') return verdict.key;
  throw new EntenteError('ENT_SIGNATURE_INVALID', `The ${message.kind} message from ${message.signer} is refused: ${verdict.reason}`, {
    kind: message.kind,
    signer: message.signer,
    keyId: message.key_id,
    verdict: verdict.kind,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first place a value stops being plain JSON data (or is nested too deep), as an issue. */
function jsonProblem(value: unknown, path: string, depth: number): MessageIssue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, message: 'numbers must be finite' };
  if (depth >= MAX_MESSAGE_DEPTH) return { path, message: `nested deeper than ${MAX_MESSAGE_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const problem = jsonProblem(value[index] as unknown, `${path}[${index}]`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  const prototype: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (typeof value === 'object' && (prototype === Object.prototype || prototype === null)) {
    for (const [key, item] of Object.entries(value)) {
      const problem = jsonProblem(item, `${path}.${key}`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return { path, message: `not JSON data (${typeof value})` };
}

/**
 * Reads an untrusted message (a parsed JSON body). Never throws: every problem is returned with its
 * path. The body must be a JSON object; its meaning per kind is the caller's to read. A message that
 * parses has not been verified yet: pass it to verifyMessage.
 */
export function parseSignedMessage(value: unknown): Result<SignedMessage, MessageIssue[]> {
  try {
    return parseUnguarded(value);
  } catch (error) {
    return err([{ path: '$', message: `the message could not be read as JSON data (${error instanceof Error ? error.message.slice(0, 200) : 'unknown error'})` }]);
  }
}

function parseUnguarded(value: unknown): Result<SignedMessage, MessageIssue[]> {
  if (!isRecord(value)) return err([{ path: '$', message: 'a signed message must be a JSON object' }]);
  const issues: MessageIssue[] = [];
  for (const key of Object.keys(value)) {
    if (!FIELDS.has(key)) issues.push({ path: `$.${key.slice(0, 60)}`, message: 'a signed message has no such field' });
  }
  const kind = value['kind'];
  if (!isSignedMessageKind(kind)) issues.push({ path: '$.kind', message: `must be one of ${SIGNED_MESSAGE_KINDS.join(', ')}` });
  const body = value['body'];
  if (!isRecord(body)) issues.push({ path: '$.body', message: 'must be a JSON object' });
  else {
    const problem = jsonProblem(body, '$.body', 1);
    if (problem !== undefined) issues.push(problem);
  }
  const signer = value['signer'];
  if (!isOrganisationId(signer)) issues.push({ path: '$.signer', message: 'must be a STIX identity id (identity--<RFC 4122 uuid>)' });
  const keyId = value['key_id'];
  if (!isKeyId(keyId)) issues.push({ path: '$.key_id', message: 'must be a key id: 22 characters of base64url' });
  const signature = value['signature'];
  if (typeof signature !== 'string' || decodeCanonicalBase64url(signature, SIGNATURE_BYTES) === undefined) {
    issues.push({ path: '$.signature', message: 'must be 64 bytes in canonical unpadded base64url (86 characters)' });
  }
  if (issues.length > 0 || !isSignedMessageKind(kind) || !isRecord(body) || !isOrganisationId(signer) || !isKeyId(keyId) || typeof signature !== 'string') {
    return err(issues);
  }
  return ok({ kind, body: body as JsonObject, signer, key_id: keyId, signature });
}
