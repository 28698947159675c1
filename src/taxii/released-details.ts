import { decideRelease } from '../policy/decide-release.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { StatusDetail } from '../store/object-store.ts';

function typeOfId(id: string): string {
  const separator = id.indexOf('--');
  return separator < 0 ? id : id.slice(0, separator);
}

/** Status details (id + version) the release decision lets this recipient see. */
export function releasedDetails(
  details: readonly StatusDetail[],
  recipient: Recipient,
  collectionId: string,
  at: Date,
): StatusDetail[] {
  return details.filter(
    (detail) => decideRelease({ id: detail.id, type: typeOfId(detail.id), version: detail.version }, recipient, { collectionId }, at).kind === 'share',
  );
}
