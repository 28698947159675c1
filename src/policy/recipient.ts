import type { CollectionGrant } from '../store/object-store.ts';

/** Who a release would go to: the party behind an authenticated request (or a peer, later). */
export interface Recipient {
  /** The token (or peer link) name; recorded in the audit, never the secret. */
  readonly name: string;
  /** STIX identity id of the organisation the recipient acts for. */
  readonly organisationId: string;
  /** Node administrators act for the home organisation and may read every collection. */
  readonly admin: boolean;
  /**
   * The recipient acts for the node's home organisation (its own users and administrators), not
   * for a partner: it reads under its grants, while partners receive only through circles.
   */
  readonly actsForHome: boolean;
  readonly grants: readonly CollectionGrant[];
}

export function canReadCollection(recipient: Recipient, collectionId: string): boolean {
  return recipient.admin || recipient.grants.some((grant) => grant.collectionId === collectionId && grant.read);
}

export function canWriteCollection(recipient: Recipient, collectionId: string): boolean {
  return recipient.admin || recipient.grants.some((grant) => grant.collectionId === collectionId && grant.write);
}
