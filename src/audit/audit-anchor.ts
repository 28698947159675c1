// Anchors of the audit log (docs/federation.md, "Audit anchors"). The hash chain shows that no entry
// was changed after the ones that follow it were written, but whoever controls the node can rewrite
// the log and compute every hash again. An anchor is the node's signed statement of the chain's head
// at one moment — its last entry's seq and hash — handed to someone outside the node (a partner, a
// notary, a ticket, a printed report). Later, `audit verify --anchor` shows that the log still holds
// that entry with that hash, so the history up to it is the one anchored; a rewrite of anything up to
// that entry, or a truncation below it, is caught by whoever kept the anchor.
//
// An anchor is a signed message of kind `audit-anchor` (signed-message.ts): the kind is in the
// signed bytes, so an anchor can never be replayed as another message or an object signature.
// Pure: the keys, the log's hashes and the time are passed in.
import { err, ok, type Result } from '../errors/result.ts';
import type { KeyDirectory, NodeSigner } from '../federation/node-key.ts';
import { instantOf } from '../federation/node-key.ts';
import { parseSignedMessage, signMessage, verifyMessage, type SignedMessage } from '../federation/signed-message.ts';
import { GENESIS_HASH } from './audit-chain.ts';

/** The head of the chain an anchor names: the last entry's seq and hash (0 and GENESIS_HASH for an empty log). */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** What an anchor's body holds (snake_case as it travels). */
export interface AuditAnchorBody {
  readonly seq: number;
  readonly hash: string;
  /** When the node made the anchor (RFC 3339 UTC). */
  readonly anchored_at: string;
  [key: string]: number | string;
}

export type AuditAnchor = SignedMessage<AuditAnchorBody> & { readonly kind: 'audit-anchor' };

const HASH_PATTERN = /^[0-9a-f]{64}$/;
const BODY_FIELDS: ReadonlySet<string> = new Set(['seq', 'hash', 'anchored_at']);

/** The node's anchor of its log's head, signed with its current key. Throws ENT_KEY_NOT_FOUND for a signer whose key is not the one it names. */
export function makeAuditAnchor(head: AuditHead, signer: NodeSigner, at: Date): AuditAnchor {
  return signMessage('audit-anchor', { seq: head.seq, hash: head.hash, anchored_at: at.toISOString() }, signer) as AuditAnchor;
}

/**
 * Reads an anchor from untrusted JSON (a file someone kept). Never throws; every problem is named.
 * A parsed anchor is not verified yet: see checkAuditAnchor.
 */
export function readAuditAnchor(value: unknown): Result<AuditAnchor, string> {
  const parsed = parseSignedMessage(value);
  if (!parsed.ok) return err(parsed.error.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
  const message = parsed.value;
  if (message.kind !== 'audit-anchor') return err(`$.kind: an audit anchor has kind "audit-anchor", not "${message.kind}"`);
  const body = message.body;
  const problems: string[] = [];
  for (const key of Object.keys(body)) if (!BODY_FIELDS.has(key)) problems.push(`$.body.${key.slice(0, 60)}: an audit anchor has no such field`);
  const { seq, hash, anchored_at: anchoredAt } = body;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) problems.push('$.body.seq: must be an entry number (an integer, 0 or more)');
  if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) problems.push('$.body.hash: must be a SHA-256 hash in lower-case hex (64 characters)');
  if (typeof anchoredAt !== 'string' || instantOf(anchoredAt) === undefined) problems.push('$.body.anchored_at: must be an RFC 3339 UTC timestamp');
  if (seq === 0 && hash !== GENESIS_HASH) problems.push('$.body.hash: the anchor of an empty log names the genesis hash');
  if (problems.length > 0) return err(problems.join('; '));
  return ok(message as AuditAnchor);
}

/** The seq and hash an anchor names. */
export function anchoredHead(anchor: AuditAnchor): AuditHead {
  return { seq: anchor.body.seq, hash: anchor.body.hash };
}

export type AnchorVerdict =
  /** The log holds the anchored entry with the anchored hash: its history up to there is the anchored one. */
  | { readonly kind: 'holds' }
  /** Not an anchor this node made: another signer, a key it never had, a signature that does not verify. */
  | { readonly kind: 'not-ours'; readonly reason: string }
  /** The log holds another hash at the anchored seq, or no entry there although later ones exist. */
  | { readonly kind: 'rewritten'; readonly reason: string }
  /** The log ends before the anchored entry: entries were removed from its end. */
  | { readonly kind: 'truncated'; readonly reason: string };

/** What the verifier read of the log: the hash of an entry by its seq, and the last seq (0 when empty). */
export interface LogView {
  hashAt(seq: number): string | undefined;
  readonly lastSeq: number;
}

/**
 * Whether the log still holds what the anchor states. `home` is this node's organisation and
 * `directory` holds its keys (retired ones too: an anchor made before a rotation stays checkable);
 * the key must have been valid when the anchor says it was made.
 */
export function checkAuditAnchor(anchor: AuditAnchor, home: string, directory: KeyDirectory, log: LogView): AnchorVerdict {
  if (anchor.signer !== home) return { kind: 'not-ours', reason: `it is signed by ${anchor.signer}, not by this node (${home})` };
  const verdict = verifyMessage(anchor, directory, instantOf(anchor.body.anchored_at));
  if (verdict.kind !== 'verified') {
    // Signed in this node's name, yet no key the node now holds made it then: an edited or forged
    // file, or a node whose key table was changed too, by whoever rewrote its log, so that its own
    // anchors read as another's. The keeper can tell which with the keys partners pinned.
    return {
      kind: 'not-ours',
      reason: `${verdict.reason}; if this anchor was kept outside the node since it was made, check it against the keys partners pinned for ${home}: a node whose keys were changed refuses its own anchors`,
    };
  }
  const { seq, hash } = anchoredHead(anchor);
  if (seq === 0) return { kind: 'holds' };
  if (seq > log.lastSeq) return { kind: 'truncated', reason: `the anchor names entry ${seq}, and the log ends at entry ${log.lastSeq}` };
  const held = log.hashAt(seq);
  if (held === undefined) return { kind: 'rewritten', reason: `the log has no entry ${seq}, though it holds later ones` };
  if (held !== hash) return { kind: 'rewritten', reason: `entry ${seq} has hash ${held}, and the anchor states ${hash}` };
  return { kind: 'holds' };
}
