// The file format of a signed export for an air-gapped partner (docs/federation.md, "Air-gapped
// networks"): one STIX 2.1 bundle whose first property after `type` and `id` is the node identity
// (the same document as GET /api/federation/node), followed by `objects`, each of which left
// through the release gate for the partner and carries its signature:
//
//   {"type":"bundle","id":"bundle--…",
//    "x_entente_node":{"organisation":{…identity…},"keys":[{"key_id":…,"public_key":…,"valid_from":…}],
//                      "software":"entente","protocol":1},
//    "objects":[ …signed objects… ]}
//
// Any STIX reader sees an ordinary bundle (the custom property is ignored); an Entente node reads the
// header to name the sender, but trusts only the keys it pinned for that organisation beforehand.
// Pure.
import { err, ok, type Result } from '../errors/result.ts';
import type { JsonValue } from '../stix/types.ts';
import type { NodeIdentityDocument } from './node-identity.ts';
import { parseNodeIdentity, type PeerNodeIdentity } from './peer-input.ts';

export const SIGNED_BUNDLE_NODE_PROPERTY = 'x_entente_node';

/** The text before the first object: the bundle's type, id and the node identity, then `"objects":[`. */
export function signedBundleOpening(bundleId: string, identity: NodeIdentityDocument): string {
  return `{"type":"bundle","id":${JSON.stringify(bundleId)},${JSON.stringify(SIGNED_BUNDLE_NODE_PROPERTY)}:${JSON.stringify(identity)},"objects":[`;
}

function isRecord(value: JsonValue | undefined): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the node identity at the head of a signed bundle (a claim: objects are checked against the
 * keys pinned for the organisation, never against these); never throws. `undefined` value when the
 * document is a bundle without one (an ordinary export), an error when the header is unreadable.
 */
export function readSignedBundleHeader(document: JsonValue): Result<PeerNodeIdentity | undefined, string> {
  if (!isRecord(document) || document['type'] !== 'bundle') return err('not a STIX bundle');
  const node = document[SIGNED_BUNDLE_NODE_PROPERTY];
  if (node === undefined) return ok(undefined);
  const identity = parseNodeIdentity(node);
  return identity.ok ? identity : err(`${SIGNED_BUNDLE_NODE_PROPERTY}: ${identity.error.replace(/^\$/, '')}`);
}
