// The audit log read in log order, AUDIT_READ_ENTRIES entries at a time (never more in memory), for
// every reader that walks it: `audit verify` and anchors, `audit received`, recalls at a member's
// leaving and on revocation. I/O at the edge: the store is passed in.
import type { AuditQuery, AuditRecord, AuditStore } from '../store/object-store.ts';
import { AUDIT_READ_ENTRIES } from './audit-chain.ts';

/** Every entry the query selects, from the first, in log order. */
export async function* auditRecords(store: Pick<AuditStore, 'readAudit'>, query: Omit<AuditQuery, 'afterSeq' | 'limit'> = {}): AsyncGenerator<AuditRecord> {
  let afterSeq = 0;
  for (;;) {
    const records = await store.readAudit({ ...query, afterSeq, limit: AUDIT_READ_ENTRIES });
    yield* records;
    const last = records.at(-1);
    if (last === undefined || records.length < AUDIT_READ_ENTRIES) return;
    afterSeq = last.seq;
  }
}
