// What a node says about itself at GET /api/federation/node and at the head of a signed export
// (docs/federation.md, "Keys and signatures"): its organisation, every key it has signed with
// (with validity windows, retired ones included so that old signatures still verify) and each
// newer key's rotation statement. Pure.
import type { NodeKeyRecord } from '../store/federation-store.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';

export const NODE_SOFTWARE = 'entente';
export const NODE_PROTOCOL = 1;

export interface NodeIdentityKey {
  readonly key_id: string;
  /** Raw 32-byte Ed25519 public key, unpadded base64url. */
  readonly public_key: string;
  readonly valid_from: string;
  readonly valid_until?: string;
  /** The `key-rotation` signed message by the key before this one (absent for the first key). */
  readonly rotation_statement?: JsonObject;
}

export interface NodeIdentityDocument {
  readonly organisation: StixObject;
  readonly keys: readonly NodeIdentityKey[];
  readonly software: typeof NODE_SOFTWARE;
  readonly protocol: typeof NODE_PROTOCOL;
}

/** The node identity document; keys oldest first, so that each rotation statement follows the key that signed it. */
export function toNodeIdentityDocument(organisation: StixObject, keys: readonly NodeKeyRecord[]): NodeIdentityDocument {
  const ordered = [...keys].sort((a, b) => (a.validFrom === b.validFrom ? a.createdAt.localeCompare(b.createdAt) : a.validFrom.localeCompare(b.validFrom)));
  return {
    organisation,
    keys: ordered.map((key) => {
      const statement = key.rotationStatement === undefined ? undefined : parseStatement(key.rotationStatement);
      return {
        key_id: key.keyId,
        public_key: key.publicKey,
        valid_from: key.validFrom,
        ...(key.validUntil === undefined ? {} : { valid_until: key.validUntil }),
        ...(statement === undefined ? {} : { rotation_statement: statement }),
      };
    }),
    software: NODE_SOFTWARE,
    protocol: NODE_PROTOCOL,
  };
}

function parseStatement(text: string): JsonObject | undefined {
  try {
    const value = JSON.parse(text) as JsonValue;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
