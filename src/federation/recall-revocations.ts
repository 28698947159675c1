// A creator's revocation is a recall (docs/federation.md, "Flash messages and recalls"): when the
// home organisation stores a revoked version of an object it originated — a TAXII POST by one of its
// own tokens, or `entente import` — every organisation the audit says received the object gets a
// recall notice for the versions it received. The write paths are left as they are: the running
// node's recall sender reads what each collection gained since it last looked (a keyset cursor kept
// in node_meta per collection), as the alert matcher does for observed-data.
import { releasesIn, type AuditEntry } from '../audit/audit-chain.ts';
import { auditRecords } from '../audit/read-audit-log.ts';
import { versionKey, type ObjectStore, type RecallNotice } from '../store/object-store.ts';

export const REVOCATION_REASON = 'revoked by its creator';
// Examining an entry in the store costs well under a microsecond; only the revoked ones are read.
const SCAN_WINDOW = 10_000;

function cursorKey(collectionId: string): string {
  return `recall-revocations-after:${collectionId}`;
}

/**
 * Where a collection's first scan starts: the instant (µs, the store's date_added clock) this node
 * first looked for revocations. What was stored before recalls existed is not scanned — on a node
 * holding millions of objects that would be one long read for revocations nobody was promised a
 * recall of — while a collection created later is scanned from its first entry.
 */
const SINCE_KEY = 'recall-revocations-since';

export interface RevocationDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
}

/**
 * Revoked versions the home organisation stored, in every collection, since the last call: no
 * partner contributed them and no peer delivered them, and the object's origin is the home
 * organisation (or unknown: never signed by anyone else). Advances the cursors.
 */
async function newHomeRevocations(deps: RevocationDeps): Promise<{ ids: Set<string>; revokedVersions: Set<string> }> {
  const revoked: { id: string; version: string; collectionId: string }[] = [];
  let since = await deps.store.getMeta(SINCE_KEY);
  if (since === undefined) {
    since = String(deps.clock().getTime() * 1000);
    await deps.store.setMeta(SINCE_KEY, since);
  }
  for (const collection of await deps.store.listCollections()) {
    const stored = await deps.store.getMeta(cursorKey(collection.id));
    let after = Number(stored ?? since);
    const start = after;
    for (;;) {
      // Only the revoked versions leave the store: the rest of a large import or initial sync is
      // examined there, not read back.
      const scan = await deps.store.scanEntries(collection.id, { after, examine: SCAN_WINDOW, revokedOnly: true });
      if (scan.scannedTo === undefined) break;
      after = Math.max(after, scan.scannedTo);
      for (const entry of scan.entries) revoked.push({ id: entry.id, version: entry.version, collectionId: collection.id });
      if (!scan.more) break;
      // A long scan (a large import) gives other work a turn between pages.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (after !== start) await deps.store.setMeta(cursorKey(collection.id), String(after));
  }
  if (revoked.length === 0) return { ids: new Set(), revokedVersions: new Set() };
  const versions = revoked.map(({ id, version }) => ({ id, version }));
  const contributions = await deps.store.contributionsOf(versions);
  const provenance = await deps.store.provenanceOf(versions);
  const origins = await deps.store.originSignersOf([...new Set(revoked.map((entry) => entry.id))]);
  const ids = new Set<string>();
  for (const { id, version } of revoked) {
    const key = versionKey(id, version);
    if ((contributions.get(key)?.length ?? 0) > 0 || (provenance.get(key)?.length ?? 0) > 0) continue;
    const origin = origins.get(id);
    if (origin !== undefined && origin !== deps.homeOrganisationId) continue;
    ids.add(id);
  }
  return { ids, revokedVersions: new Set(revoked.map(({ id, version }) => versionKey(id, version))) };
}

/**
 * Queues a recall notice (reason 'revoked by its creator') for every version of a newly revoked
 * home object that the audit says was shared with or redacted for an organisation, per circle.
 * Returns how many notices were new.
 */
export async function queueRevocationRecalls(deps: RevocationDeps): Promise<number> {
  const { ids, revokedVersions } = await newHomeRevocations(deps);
  if (ids.size === 0) return 0;
  const queuedAt = deps.clock().toISOString();
  const notices = new Map<string, RecallNotice>();
  const add = (entry: AuditEntry): void => {
    if (entry.decision === 'withhold' || !ids.has(entry.objectId) || entry.recipientOrganisationId === deps.homeOrganisationId) return;
    // The revoked version is what tells the members the object is withdrawn: it is not recalled.
    if (revokedVersions.has(versionKey(entry.objectId, entry.objectModified))) return;
    const key = `${entry.circleId}\u0000${entry.recipientOrganisationId}\u0000${entry.objectId}\u0000${entry.objectModified}`;
    if (notices.has(key)) return;
    notices.set(key, {
      circleId: entry.circleId,
      organisationId: entry.recipientOrganisationId,
      objectId: entry.objectId,
      version: entry.objectModified,
      reason: REVOCATION_REASON,
      queuedAt,
    });
  };
  // A flash sent names no object version to recall (releasesIn gives none).
  for await (const record of auditRecords(deps.store)) for (const release of releasesIn(record.chained.entry)) add(release);
  return notices.size === 0 ? 0 : deps.store.queueRecalls([...notices.values()]);
}
