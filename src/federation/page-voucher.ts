// Page vouching (docs/federation.md, "Page vouching"): when one Entente node serves a page of objects
// to another, it signs the page — the exact bytes of the response body, bound to the requester, the
// collection, a nonce the requester chose for this one request, and the time. The receiver checks
// one signature per page with the sender's pinned key; objects on the page that the sender itself
// signed, with the very key that signed the page, are then authenticated by the page signature and
// need not be verified one by one (decide-pull-page.ts samples a few anyway). Plain TAXII clients
// never send the nonce header, so they see nothing different.
import { createHash, randomBytes } from 'node:crypto';
import { EntenteError } from '../errors/entente-error.ts';
import { checkPinnedSignature, instantOf, isKeyId, isKeyValidAt, isOrganisationId, KEY_VALIDITY_SKEW_MS, signBytes, type KeyDirectory, type NodeSigner, type PinnedKey } from './node-key.ts';
import type { NodeSignerProvider } from './node-signer.ts';

/** Sent by a requester that asks for a vouched page: a fresh random value for this one request. */
export const PAGE_NONCE_HEADER = 'x-entente-page-nonce';
/** Sent back by an Entente server with the page: `key_id=…; signed_at=…; signature=…`. */
export const PAGE_SIGNATURE_HEADER = 'x-entente-page-signature';
/** Domain separator: no object signature, message or statement can pass for a page signature. */
export const PAGE_SIGNATURE_PREFIX = 'ENTENTE-TAXII-PAGE-V1\n';
/** How far the page's `signed_at` may be from the receiver's clock (the nonce already makes each page single-use). */
export const PAGE_FRESHNESS_MS = 5 * 60 * 1000;

/** 16 to 48 random bytes, unpadded base64url. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
const SIGNED_AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
/** A TAXII collection id as it appears in the request path; newlines would break the signed lines. */
const COLLECTION_ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** Everything a page signature covers. */
export interface PageStatement {
  /** The organisation whose node served (and signs) the page. */
  readonly signer: string;
  readonly keyId: string;
  /** The organisation the page was served to (the requester's token). */
  readonly requester: string;
  /** The collection id as the request named it. */
  readonly collectionId: string;
  readonly nonce: string;
  /** RFC 3339 UTC. */
  readonly signedAt: string;
  /** SHA-256 (hex) of the exact response body bytes. */
  readonly bodySha256: string;
}

/** A fresh nonce for one page request (128 random bits). */
export function createPageNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function isPageNonce(value: unknown): value is string {
  return typeof value === 'string' && NONCE_PATTERN.test(value);
}

/** SHA-256 (hex) of a response body, as both ends compute it. */
export function pageBodySha256(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * The bytes a page signature covers: PAGE_SIGNATURE_PREFIX, then one line per field of the statement
 * in a fixed order. Every field is checked to hold no line break, so no two statements share bytes.
 * Throws ENT_PEER_INVALID for a field that is not what it claims to be.
 */
export function pageSigningInput(statement: PageStatement): Buffer {
  const problems: string[] = [];
  if (!isOrganisationId(statement.signer)) problems.push('signer');
  if (!isKeyId(statement.keyId)) problems.push('key id');
  if (!isOrganisationId(statement.requester)) problems.push('requester');
  if (!COLLECTION_ID_PATTERN.test(statement.collectionId)) problems.push('collection id');
  if (!isPageNonce(statement.nonce)) problems.push('nonce');
  if (!SIGNED_AT_PATTERN.test(statement.signedAt)) problems.push('signed_at');
  if (!SHA256_HEX_PATTERN.test(statement.bodySha256)) problems.push('body digest');
  if (problems.length > 0) throw new EntenteError('ENT_PEER_INVALID', `A page statement needs a valid ${problems.join(', ')}`);
  const lines = [statement.signer, statement.keyId, statement.requester, statement.collectionId, statement.nonce, statement.signedAt, statement.bodySha256];
  return Buffer.from(PAGE_SIGNATURE_PREFIX + lines.join('\n'), 'utf8');
}

/** The header value that carries a page signature. */
export function formatPageSignatureHeader(keyId: string, signedAt: string, signature: string): string {
  return `key_id=${keyId}; signed_at=${signedAt}; signature=${signature}`;
}

interface PageSignatureHeader {
  readonly keyId: string;
  readonly signedAt: string;
  readonly signature: string;
}

/** Reads a page signature header; undefined unless it has exactly the three fields, each once. */
export function parsePageSignatureHeader(text: string): PageSignatureHeader | undefined {
  if (text.length > 400) return undefined;
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    const match = /^\s*([a-z_]+)=([^\s;]+)\s*$/.exec(part);
    if (match === null || match[1] === undefined || match[2] === undefined || fields.has(match[1])) return undefined;
    fields.set(match[1], match[2]);
  }
  const keyId = fields.get('key_id');
  const signedAt = fields.get('signed_at');
  const signature = fields.get('signature');
  if (fields.size !== 3 || keyId === undefined || signedAt === undefined || signature === undefined) return undefined;
  return { keyId, signedAt, signature };
}

/** One page as the TAXII server is about to send it. */
export interface PageToVouch {
  /** The requester's PAGE_NONCE_HEADER, if it sent one. */
  readonly nonce: string | undefined;
  readonly requesterOrganisationId: string;
  /** The collection id as the request path named it. */
  readonly collectionId: string;
  /** The exact response body. */
  readonly body: string | Uint8Array;
}

/** The server side: headers to add to a page response (none when the requester did not ask). */
export type PageVoucher = (page: PageToVouch) => Promise<Readonly<Record<string, string>>>;

/**
 * Signs pages with the node's current key for requesters that send a well-formed nonce; a request
 * without one (any plain TAXII client) gets no header and costs nothing.
 */
export function createPageVoucher(deps: { readonly signers: Pick<NodeSignerProvider, 'current'>; readonly clock: () => Date }): PageVoucher {
  return async (page) => {
    if (!isPageNonce(page.nonce) || !isOrganisationId(page.requesterOrganisationId) || !COLLECTION_ID_PATTERN.test(page.collectionId)) return {};
    let signer: NodeSigner;
    try {
      signer = await deps.signers.current();
    } catch {
      // A node without a usable key serves its pages unvouched: the requester verifies each object.
      return {};
    }
    const signedAt = deps.clock().toISOString();
    const input = pageSigningInput({
      signer: signer.organisationId,
      keyId: signer.keyId,
      requester: page.requesterOrganisationId,
      collectionId: page.collectionId,
      nonce: page.nonce,
      signedAt,
      bodySha256: pageBodySha256(page.body),
    });
    return { [PAGE_SIGNATURE_HEADER]: formatPageSignatureHeader(signer.keyId, signedAt, signBytes(signer, input)) };
  };
}

/** A page as the requester received it (taxii-client.ts, when it sent a nonce). */
export interface ReceivedPageProof {
  readonly nonce: string;
  /** The PAGE_SIGNATURE_HEADER as received; undefined when the server sent none. */
  readonly signatureHeader: string | undefined;
  readonly bodySha256: string;
}

/** What a page signature proves: that `key` of the peer signed these body bytes for this request. */
export type PageVouching = { readonly kind: 'vouched'; readonly signer: string; readonly key: PinnedKey } | { readonly kind: 'unvouched'; readonly reason: string };

/**
 * Checks a received page's signature: made by a key pinned for the peer's organisation, valid now,
 * over this body, this requester, this collection and the nonce this requester sent, at a time
 * within PAGE_FRESHNESS_MS of `now`. Never throws: `unvouched` says why (the page is then verified
 * object by object, as a page from a server that does not vouch).
 */
export function checkPageVouching(
  proof: ReceivedPageProof | undefined,
  expected: { readonly peerOrganisationId: string; readonly requesterOrganisationId: string; readonly collectionId: string; readonly now: Date },
  directory: KeyDirectory,
): PageVouching {
  if (proof === undefined) return { kind: 'unvouched', reason: 'no nonce was sent' };
  if (proof.signatureHeader === undefined) return { kind: 'unvouched', reason: 'the peer sent no page signature' };
  const header = parsePageSignatureHeader(proof.signatureHeader);
  if (header === undefined) return { kind: 'unvouched', reason: 'the page signature header cannot be read' };
  const signedAt = SIGNED_AT_PATTERN.test(header.signedAt) ? instantOf(header.signedAt) : undefined;
  if (signedAt === undefined) return { kind: 'unvouched', reason: 'the page signature has no readable signed_at' };
  if (Math.abs(signedAt - expected.now.getTime()) > PAGE_FRESHNESS_MS) return { kind: 'unvouched', reason: `the page was signed at ${header.signedAt}, too far from now` };
  let input: Buffer;
  try {
    input = pageSigningInput({
      signer: expected.peerOrganisationId,
      keyId: header.keyId,
      requester: expected.requesterOrganisationId,
      collectionId: expected.collectionId,
      nonce: proof.nonce,
      signedAt: header.signedAt,
      bodySha256: proof.bodySha256,
    });
  } catch (error) {
    return { kind: 'unvouched', reason: error instanceof Error ? error.message : 'the page statement cannot be formed' };
  }
  const check = checkPinnedSignature(directory, expected.peerOrganisationId, header.keyId, input, header.signature);
  if (check.kind !== 'verified') return { kind: 'unvouched', reason: check.reason };
  if (!isKeyValidAt(check.key, expected.now.getTime(), KEY_VALIDITY_SKEW_MS)) return { kind: 'unvouched', reason: `key ${header.keyId} is not valid now` };
  return { kind: 'vouched', signer: expected.peerOrganisationId, key: check.key };
}
