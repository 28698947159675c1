import type { Result } from '../errors/result.ts';
import { err, ok } from '../errors/result.ts';
import type { CollectionGrant } from '../store/object-store.ts';

/**
 * Parses the grant list of `entente token create --collections C1:rw,C2:r`.
 * Each item is `COLLECTION:r`, `COLLECTION:w` or `COLLECTION:rw`; a collection may appear once.
 */
export function parseTokenGrants(spec: string): Result<CollectionGrant[], string> {
  const grants: CollectionGrant[] = [];
  const seen = new Set<string>();
  for (const rawItem of spec.split(',')) {
    const item = rawItem.trim();
    if (item === '') continue;
    const colon = item.lastIndexOf(':');
    if (colon <= 0) return err(`"${item}" must be COLLECTION:r, COLLECTION:w or COLLECTION:rw`);
    const collectionId = item.slice(0, colon);
    const rights = item.slice(colon + 1);
    if (!/^(r|w|rw|wr)$/.test(rights)) {
      return err(`"${item}": rights must be r, w or rw, not "${rights}"`);
    }
    if (seen.has(collectionId)) return err(`collection "${collectionId}" is granted twice`);
    seen.add(collectionId);
    grants.push({ collectionId, read: rights.includes('r'), write: rights.includes('w') });
  }
  if (grants.length === 0) return err('at least one COLLECTION:rights grant is needed');
  return ok(grants);
}

export function formatTokenGrants(grants: readonly CollectionGrant[]): string {
  return grants.map((grant) => `${grant.collectionId}:${grant.read ? 'r' : ''}${grant.write ? 'w' : ''}`).join(',');
}
