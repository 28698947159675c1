import type { ReleaseGate } from '../release/open-release-gate.ts';
import type { ObjectStore, StatusDetail } from '../store/object-store.ts';

/**
 * Status details (id + version) the release decision lets this recipient see: each names a stored
 * version, which passes the gate like any other read. A detail whose version is not (or no longer)
 * in the collection is left out, so a status never lists an object the caller could not fetch.
 */
export async function releasedDetails(
  details: readonly StatusDetail[],
  store: Pick<ObjectStore, 'listVersions'>,
  gate: ReleaseGate,
  collectionId: string,
): Promise<StatusDetail[]> {
  const kept: StatusDetail[] = [];
  for (const detail of details) {
    if (!gate.readsObjects) {
      const stub = { id: detail.id, type: detail.id.split('--')[0] ?? '', version: detail.version, specVersion: '2.1', dateAdded: 0, revoked: false, json: '' };
      if ((await gate.decide(stub)).kind !== 'withhold') kept.push(detail);
      continue;
    }
    const page = await store.listVersions(collectionId, detail.id, { versions: [{ kind: 'at', version: detail.version }] }, { limit: 1 });
    const entry = page.entries[0];
    if (entry !== undefined && (await gate.decide(entry)).kind !== 'withhold') kept.push(detail);
  }
  return kept;
}
