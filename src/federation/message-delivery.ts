// Sending signed messages (flashes, acknowledgements, recalls) to another organisation's node over a
// peer link, and reading the signed answer. The HTTP client is passed in (compose.ts wires the TAXII
// client's postJson), so that this layer neither imports the TAXII client nor opens sockets itself.
import { EntenteError, isEntenteError } from '../errors/entente-error.ts';
import type { FederationStore, PeerRecord } from '../store/federation-store.ts';
import type { JsonObject } from '../stix/types.ts';
import { createKeyDirectory } from './node-key.ts';
import { parseSignedMessage, verifyMessage, type SignedMessage, type SignedMessageKind } from './signed-message.ts';
import { describeIssues } from './flash-message.ts';

/**
 * POSTs a JSON body to a path on the origin of a peer's server (`/api/federation/…`) with the
 * peer's token; resolves with the parsed answer. Failures are EntenteErrors with ENT_PEER_* codes
 * (a refusal carries the HTTP status in `details.status`).
 */
export type PeerPost = (peer: PeerRecord, path: string, body: unknown, options: { readonly timeoutMs: number }) => Promise<unknown>;

/** The Entente peer link through which this node reaches an organisation: one of the circle's first, else any. */
export async function findPeerLink(store: Pick<FederationStore, 'listPeers'>, organisationId: string, circleId: string | undefined): Promise<PeerRecord | undefined> {
  const links = (await store.listPeers()).filter((peer) => peer.kind === 'entente' && peer.organisationId === organisationId);
  return links.find((peer) => peer.circleId === circleId) ?? links[0];
}

/** Entente peer links of a circle, one per organisation (the first by name when there are several). */
export async function peerLinksOfCircle(store: Pick<FederationStore, 'listPeers'>, circleId: string): Promise<Map<string, PeerRecord>> {
  const links = new Map<string, PeerRecord>();
  const peers = (await store.listPeers()).filter((peer) => peer.kind === 'entente' && peer.circleId === circleId);
  for (const peer of peers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!links.has(peer.organisationId)) links.set(peer.organisationId, peer);
  }
  return links;
}

/**
 * A failure that sending again will not mend: the peer's node read the message and refused it
 * (HTTP 4xx other than 408 and 429), or its signed answer does not verify.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (!isEntenteError(error)) return false;
  if (error.code === 'ENT_SIGNATURE_INVALID') return true;
  const status = error.details?.['status'];
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** `CODE: message` of a failure, short enough for a receipt row and a console line. */
export function describeFailure(error: unknown): string {
  const text = isEntenteError(error) ? `${error.code}: ${error.message}` : `unexpected: ${error instanceof Error ? error.message : String(error)}`;
  return text.length <= 500 ? text : `${text.slice(0, 499)}…`;
}

/**
 * Reads and verifies the signed answer of a peer's node: a message of `kind`, signed by `signer`
 * with a key this node pinned for it (valid now). Throws ENT_SIGNATURE_INVALID.
 */
export async function verifiedAnswer(
  store: Pick<FederationStore, 'listPinnedKeys'>,
  answer: unknown,
  kind: SignedMessageKind,
  signer: string,
  now: Date,
): Promise<SignedMessage> {
  const parsed = parseSignedMessage(answer);
  if (!parsed.ok) throw new EntenteError('ENT_SIGNATURE_INVALID', `The answer of ${signer} is not a signed message: ${describeIssues(parsed.error)}`);
  const message = parsed.value;
  if (message.kind !== kind || message.signer !== signer) {
    throw new EntenteError('ENT_SIGNATURE_INVALID', `The answer of ${signer} is a ${message.kind} signed by ${message.signer}, not a ${kind} signed by ${signer}`);
  }
  const verdict = verifyMessage(message, createKeyDirectory(await store.listPinnedKeys(signer)), now.getTime());
  if (verdict.kind !== 'verified') throw new EntenteError('ENT_SIGNATURE_INVALID', `The ${kind} of ${signer} is refused: ${verdict.reason}`, { verdict: verdict.kind });
  return message;
}

/** A message body as JSON text (kept as evidence). */
export function messageJson(message: SignedMessage<JsonObject>): string {
  return JSON.stringify(message);
}
