// The node's own keys over time (docs/federation.md, "Keys and signatures"): the first key made at
// the first start, rotation with an overlap and a statement signed by the previous key, pinning
// another organisation's key by hand (air-gapped exchange), and ending the windows of keys another
// organisation rotated out. Store I/O only; the time is passed in.
import { EntenteError } from '../errors/entente-error.ts';
import type { FederationStore, NodeKeyRecord, PinnedKeyRecord } from '../store/federation-store.ts';
import { createNodeKeyPair, fingerprintOf, instantOf, isOrganisationId, keyIdOf, parsePrivateKey, parsePublicKey, type PinnedKey } from './node-key.ts';
import { currentNodeKey } from './node-signer.ts';
import { decideRotatedKeyEnds, type KeyWindowEnd, type PeerNodeIdentity } from './peer-input.ts';
import { signMessage, type SignedMessage } from './signed-message.ts';

type KeyStore = Pick<FederationStore, 'listNodeKeys' | 'addNodeKey' | 'changeNodeKeys'>;

/** The body of a `key-rotation` signed message: the new key, signed by the key before it. */
export interface RotationStatementBody {
  readonly organisation_id: string;
  readonly key_id: string;
  readonly public_key: string;
  readonly valid_from: string;
  [key: string]: string;
}

/**
 * The first key of a node is valid from the epoch. Receivers check a signature against the key valid
 * at the version's `modified` time, and a node signs what it holds when it is first released, which
 * includes what it held or imported before it had a key (ATT&CK modified years ago, say): the first
 * key vouches for all of that, since the organisation never had another key. Rotated keys are valid
 * from the rotation on, and versions older than that keep being signed with the key of their time.
 */
export const FIRST_KEY_VALID_FROM = '1970-01-01T00:00:00.000Z';

/**
 * Gives the node its first Ed25519 key pair when it has none; a node that has keys keeps them.
 * Returns the key created, or undefined when there was one already. Safe to call at every start.
 */
export async function ensureNodeKey(store: KeyStore, now: Date): Promise<NodeKeyRecord | undefined> {
  if ((await store.listNodeKeys()).length > 0) return undefined;
  const pair = createNodeKeyPair();
  const timestamp = now.toISOString();
  const record: NodeKeyRecord = {
    keyId: pair.keyId,
    publicKey: pair.publicKey,
    privateKey: pair.privateKeyPkcs8,
    validFrom: FIRST_KEY_VALID_FROM,
    validUntil: undefined,
    rotationStatement: undefined,
    createdAt: timestamp,
  };
  await store.addNodeKey(record);
  return record;
}

export interface RotationOutcome {
  readonly previous: NodeKeyRecord;
  readonly created: NodeKeyRecord;
  /** When the previous key stops being valid (now + overlap). */
  readonly previousValidUntil: string;
  readonly statement: SignedMessage<RotationStatementBody>;
}

/**
 * Makes a new key valid from `now`, signs a rotation statement for it with the current key, and
 * ends the validity of every key still valid after `now + overlapMs` at that instant, so that what
 * peers fetched with the old key keeps verifying during the overlap. Throws ENT_KEY_NOT_FOUND when
 * no key is valid now (nothing could vouch for the new one).
 *
 * The keys are read, and the new one signed for, in the write transaction that stores it
 * (changeNodeKeys): a rotation another process makes meanwhile is either wholly before this one,
 * whose statement its key then signs, or wholly after. `now` is not before the newest key's start:
 * the other process's clock can be ahead, or it can have read its clock before this one, and a key
 * made from earlier than a newer one would be rotated out by it at once.
 */
export async function rotateNodeKey(store: KeyStore, input: { readonly organisationId: string; readonly now: Date; readonly overlapMs: number }): Promise<RotationOutcome> {
  if (!Number.isSafeInteger(input.overlapMs) || input.overlapMs < 0) {
    throw new EntenteError('ENT_CLI_USAGE', 'the overlap must be zero or a positive number of milliseconds');
  }
  return store.changeNodeKeys((keys) => {
    const newest = Math.max(0, ...keys.map((key) => instantOf(key.validFrom) ?? 0));
    const now = new Date(Math.max(input.now.getTime(), newest));
    const previous = currentNodeKey(keys, now);
    if (previous === undefined) throw new EntenteError('ENT_KEY_NOT_FOUND', 'No key of this node is valid now, so none can sign a rotation statement');
    const previousKey = parsePrivateKey(previous.privateKey);
    if (!previousKey.ok) throw new EntenteError('ENT_KEY_NOT_FOUND', `The current key ${previous.keyId} cannot be used: ${previousKey.error}`);

    const pair = createNodeKeyPair();
    const validFrom = now.toISOString();
    const body: RotationStatementBody = { organisation_id: input.organisationId, key_id: pair.keyId, public_key: pair.publicKey, valid_from: validFrom };
    const statement = signMessage('key-rotation', body, { organisationId: input.organisationId, keyId: previous.keyId, privateKey: previousKey.value });
    const created: NodeKeyRecord = {
      keyId: pair.keyId,
      publicKey: pair.publicKey,
      privateKey: pair.privateKeyPkcs8,
      validFrom,
      validUntil: undefined,
      rotationStatement: JSON.stringify(statement),
      createdAt: validFrom,
    };
    const end = now.getTime() + input.overlapMs;
    const previousValidUntil = new Date(end).toISOString();
    const ends = keys
      .filter((key) => (key.validUntil === undefined ? Number.POSITIVE_INFINITY : (instantOf(key.validUntil) ?? 0)) > end)
      .map((key) => ({ keyId: key.keyId, validUntil: previousValidUntil }));
    return { add: created, ends, result: { previous, created, previousValidUntil, statement } };
  });
}

/** A node key as `entente key show` and GET /api/federation/node present it (never the private key). */
export interface PublicNodeKey {
  readonly keyId: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly validFrom: string;
  readonly validUntil: string | undefined;
  readonly rotationStatement: string | undefined;
  /** Valid at the instant asked about. */
  readonly current: boolean;
}

/**
 * The node's own keys as keys pinned for its home organisation, retired ones included: what checks a
 * signature this node made (its own versions coming back, a signed file it exported, an audit anchor).
 */
export function ownKeysAsPinned(keys: readonly NodeKeyRecord[], homeOrganisationId: string): PinnedKey[] {
  return keys.map((key) => ({ organisationId: homeOrganisationId, keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil }));
}

export function toPublicNodeKeys(keys: readonly NodeKeyRecord[], at: Date): PublicNodeKey[] {
  const current = currentNodeKey(keys, at);
  return keys.map((key) => ({
    keyId: key.keyId,
    publicKey: key.publicKey,
    fingerprint: fingerprintOf(key.publicKey),
    validFrom: key.validFrom,
    validUntil: key.validUntil,
    rotationStatement: key.rotationStatement,
    current: key.keyId === current?.keyId,
  }));
}

/**
 * A key an operator pins by hand for another organisation (`entente key pin ORG --public-key K`),
 * checked: the organisation must be an identity id, the key 32 raw Ed25519 bytes in base64url,
 * the window RFC 3339. Throws ENT_CLI_USAGE naming what is wrong.
 */
export function manualPin(input: { readonly organisationId: string; readonly publicKey: string; readonly validFrom: string; readonly validUntil?: string | undefined; readonly now: Date }): PinnedKeyRecord {
  if (!isOrganisationId(input.organisationId)) {
    throw new EntenteError('ENT_CLI_USAGE', `"${String(input.organisationId as unknown).slice(0, 80)}" is not an organisation identity id (identity--<uuid>)`);
  }
  const parsed = parsePublicKey(input.publicKey);
  if (!parsed.ok) throw new EntenteError('ENT_CLI_USAGE', `--public-key: ${parsed.error}`);
  if (instantOf(input.validFrom) === undefined) throw new EntenteError('ENT_CLI_USAGE', `--valid-from "${input.validFrom.slice(0, 64)}" is not an RFC 3339 timestamp`);
  if (input.validUntil !== undefined) {
    const until = instantOf(input.validUntil);
    if (until === undefined) throw new EntenteError('ENT_CLI_USAGE', `--valid-until "${input.validUntil.slice(0, 64)}" is not an RFC 3339 timestamp`);
    if (until <= (instantOf(input.validFrom) ?? 0)) throw new EntenteError('ENT_CLI_USAGE', '--valid-until must be after --valid-from');
  }
  return {
    organisationId: input.organisationId,
    keyId: keyIdOf(input.publicKey),
    publicKey: input.publicKey,
    validFrom: input.validFrom,
    validUntil: input.validUntil,
    source: 'manual',
    pinnedAt: input.now.toISOString(),
  };
}

/**
 * After keys of another organisation were pinned from its node identity (`peer add`, the header of
 * a signed bundle): the keys pinned for it that the identity shows rotated out end where its node
 * says they end (peer-input.ts, decideRotatedKeyEnds). Each keeps its source; only the window
 * changes. Returns the ends applied.
 */
export async function endRotatedKeys(store: Pick<FederationStore, 'listPinnedKeys' | 'pinKey'>, identity: PeerNodeIdentity): Promise<KeyWindowEnd[]> {
  const pinned = await store.listPinnedKeys(identity.organisationId);
  const ends = decideRotatedKeyEnds(identity, pinned);
  for (const end of ends) {
    const key = pinned.find((candidate) => candidate.keyId === end.keyId);
    if (key !== undefined) await store.pinKey({ ...key, validUntil: end.validUntil });
  }
  return ends;
}
