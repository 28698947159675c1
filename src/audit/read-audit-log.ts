// The audit log read in log order, AUDIT_READ_ENTRIES entries at a time (never more in memory), for
// every reader that walks it: `audit verify` and anchors, `audit received`, recalls at a member's
// leaving and on revocation. I/O at the edge: the store is passed in.
import type { AuditQuery, AuditRecord, AuditStore } from '../store/object-store.ts';
import { AUDIT_READ_ENTRIES } from './audit-chain.ts';

type WalkQuery = Omit<AuditQuery, 'afterSeq' | 'throughSeq' | 'limit'>;

/** Every entry the query selects, from the first, in log order. */
export function auditRecords(store: Pick<AuditStore, 'readAudit'>, query?: Omit<WalkQuery, 'from' | 'to'>): AsyncGenerator<AuditRecord>;
/** A --from/--to window's entries, walked only where the store says they lie (auditWindow). */
export function auditRecords(store: Pick<AuditStore, 'readAudit' | 'auditWindow'>, query: WalkQuery): AsyncGenerator<AuditRecord>;
export async function* auditRecords(store: Pick<AuditStore, 'readAudit'> & Partial<Pick<AuditStore, 'auditWindow'>>, query: WalkQuery = {}): AsyncGenerator<AuditRecord> {
  let afterSeq = 0;
  let throughSeq: number | undefined;
  if ((query.from !== undefined || query.to !== undefined) && store.auditWindow !== undefined) {
    // Asked once for the walk, not by every page: the window's bounds are the log's as the walk
    // starts, and an entry appended meanwhile is after them, as it would be after the walk's end.
    const window = await store.auditWindow(query);
    if (window === undefined) return;
    ({ afterSeq, throughSeq } = window);
  }
  for (;;) {
    const records = await store.readAudit({ ...query, afterSeq, ...(throughSeq === undefined ? {} : { throughSeq }), limit: AUDIT_READ_ENTRIES });
    yield* records;
    const last = records.at(-1);
    if (last === undefined || records.length < AUDIT_READ_ENTRIES) return;
    afterSeq = last.seq;
  }
}
