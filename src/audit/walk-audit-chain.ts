// The whole audit log read in order and checked link by link: what `audit verify` and an anchor
// (audit-anchor.ts) stand on. I/O at the edge: the store is passed in.
import { EntenteError } from '../errors/entente-error.ts';
import type { AuditRecord, AuditStore } from '../store/object-store.ts';
import type { AuditHead } from './audit-anchor.ts';
import { AUDIT_READ_ENTRIES, GENESIS_HASH, verifyChain } from './audit-chain.ts';

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
  for (;;) {
    const records = await store.readAudit({ afterSeq: head.seq, limit: AUDIT_READ_ENTRIES });
    const verified = verifyChain(
      records.map((record) => record.chained),
      head.hash,
    );
    if (!verified.ok) throw auditBroken(records[verified.error.index]?.seq ?? 0, verified.error.reason);
    for (const record of records) visit?.(record);
    entries += records.length;
    const last = records.at(-1);
    if (last !== undefined) head = { seq: last.seq, hash: verified.value.lastHash };
    if (last === undefined || records.length < AUDIT_READ_ENTRIES) return { head, entries };
  }
}
