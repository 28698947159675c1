// The whole audit log read in order and checked link by link: what `audit verify` and an anchor
// (audit-anchor.ts) stand on. I/O at the edge: the store is passed in.
import { EntenteError } from '../errors/entente-error.ts';
import type { AuditRecord, AuditStore } from '../store/object-store.ts';
import type { AuditHead } from './audit-anchor.ts';
import { GENESIS_HASH, verifyChain } from './audit-chain.ts';
import { auditRecords } from './read-audit-log.ts';

/** ENT_AUDIT_BROKEN naming the first entry that does not verify. */
export function auditBroken(seq: number, reason: string): EntenteError {
  return new EntenteError('ENT_AUDIT_BROKEN', `audit entry ${seq} does not verify (${reason}); the log was changed after it was written`, { seq });
}

export interface WalkedChain {
  /** The last entry's seq and hash; 0 and GENESIS_HASH for an empty log. */
  readonly head: AuditHead;
  readonly entries: number;
}

/**
 * Reads every entry from the first, checking each link, and shows each verified record to `visit`.
 * Throws ENT_AUDIT_BROKEN at the first entry that does not verify: nothing after it is visited.
 */
export async function walkAuditChain(store: Pick<AuditStore, 'readAudit'>, visit?: (record: AuditRecord) => void): Promise<WalkedChain> {
  let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  let entries = 0;
  for await (const record of auditRecords(store)) {
    const verified = verifyChain([record.chained], head.hash);
    if (!verified.ok) throw auditBroken(record.seq, verified.error.reason);
    visit?.(record);
    entries += 1;
    head = { seq: record.seq, hash: verified.value.lastHash };
  }
  return { head, entries };
}
