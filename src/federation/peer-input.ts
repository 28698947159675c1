// What an operator gives to link a peer (`entente peer add`, POST /api/peers), read and checked
// before anything is fetched; and the choices made from what the peer answers (which remote
// collection, which keys to pin). Pure: no I/O, no clock.
import { err, ok, type Result } from '../errors/result.ts';
import type { TaxiiCollection } from '../taxii/taxii-client.ts';
import { createKeyDirectory, fingerprintOf, instantOf, isFingerprintOf, isKeyId, isKeyValidAt, isOrganisationId, keyIdOf, parsePublicKey, type PinnedKey } from './node-key.ts';
import { parseSignedMessage, verifyMessage, type SignedMessage } from './signed-message.ts';
import { upperCaseIdProblem } from '../policy/organisation.ts';

/** Peer names: lower-case letters, digits and '-', starting with a letter or digit, at most 63. */
const PEER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DEFAULT_SYNC_INTERVAL_SECONDS = 300;
/** Sub-second polling is for urgent circles on a fast network: an idle cycle costs ~20 ms a side. */
export const MIN_SYNC_INTERVAL_SECONDS = 0.5;
export const MAX_SYNC_INTERVAL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_SILENT_AFTER = 3;
const MAX_SILENT_AFTER = 1000;
const MAX_TOKEN_CHARS = 4096;
const MAX_URL_CHARS = 2048;
const UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** The link as asked for, checked field by field. */
export interface PeerInput {
  readonly name: string;
  readonly url: string;
  readonly token: string;
  readonly circleId: string;
  /** The collection on the peer; absent: chosen from what the token can read. */
  readonly remoteCollectionId: string | undefined;
  readonly push: boolean;
  readonly intervalSeconds: number;
  readonly silentAfter: number;
  /** The peer's key fingerprint as a human read it out (`entente key show` on the peer). */
  readonly fingerprint: string | undefined;
  /** A plain TAXII peer's organisation (an Entente peer says its own). */
  readonly organisationId: string | undefined;
}

/** The raw values, as strings from the command line or JSON values from a REST body. */
export interface RawPeerInput {
  readonly name?: unknown;
  readonly url?: unknown;
  readonly token?: unknown;
  readonly circle?: unknown;
  readonly collection?: unknown;
  readonly push?: unknown;
  readonly interval?: unknown;
  readonly silentAfter?: unknown;
  readonly fingerprint?: unknown;
  readonly organisation?: unknown;
}

export interface PeerInputIssue {
  /** The option or field at fault (`name`, `url`, `interval` …). */
  readonly field: string;
  readonly message: string;
}

function quote(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** A sync interval in seconds (milliseconds precision): a number, or text such as `500ms`, `30s`, `5m`, `1h`, `1d` or `90`. */
export function parseSyncInterval(value: unknown): Result<number, string> {
  let seconds: number | undefined;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string') {
    const match = /^(\d{1,9})(ms|[smhd]?)$/.exec(value.trim());
    if (match !== null) seconds = Number(match[1]) * (UNITS[match[2] === '' || match[2] === undefined ? 's' : match[2]] ?? 1);
  }
  if (seconds === undefined || !Number.isFinite(seconds) || Math.round(seconds * 1000) !== seconds * 1000) {
    return err(`the interval ${typeof value === 'string' ? quote(value) : 'given'} is not a duration such as 500ms, 30s, 5m, 1h or 1d`);
  }
  if (seconds < MIN_SYNC_INTERVAL_SECONDS || seconds > MAX_SYNC_INTERVAL_SECONDS) {
    return err(`the interval must be from ${MIN_SYNC_INTERVAL_SECONDS * 1000}ms to 7d (got ${seconds}s)`);
  }
  return ok(seconds);
}

/** A peer name: what `peer status`, `sync` and provenance rows call the link. */
export function isPeerName(value: unknown): value is string {
  return typeof value === 'string' && PEER_NAME.test(value);
}

function readUrl(value: unknown): Result<string, string> {
  if (typeof value !== 'string' || value === '') return err('the peer URL is required (its TAXII discovery or API root URL)');
  if (value.length > MAX_URL_CHARS) return err(`the peer URL is longer than ${MAX_URL_CHARS} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return err(`${quote(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return err(`the peer URL must be http or https, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') return err('the peer URL must not carry credentials: give them as the token (--token-file or ENTENTE_PEER_TOKEN)');
  if (url.search !== '' || url.hash !== '') return err('the peer URL must not have a query or a fragment');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return ok(url.href);
}

function readToken(value: unknown): Result<string, string> {
  if (typeof value !== 'string' || value === '') return err('a token the peer issued to this node is required (--token, --token-file or ENTENTE_PEER_TOKEN)');
  if (value.length > MAX_TOKEN_CHARS) return err(`the token is longer than ${MAX_TOKEN_CHARS} characters`);
  // Never quoted back: it is a secret.
  if (!/^[\x21-\x7e]+$/.test(value)) return err('the token has spaces or characters that cannot be sent in an HTTP header');
  return ok(value);
}

/**
 * Reads what the operator asked for. Never throws; every problem comes back as an issue naming
 * the field. The token is checked but never quoted in an issue.
 */
export function parsePeerInput(raw: RawPeerInput): Result<PeerInput, PeerInputIssue[]> {
  const issues: PeerInputIssue[] = [];
  const problem = (field: string, message: string): undefined => {
    issues.push({ field, message });
    return undefined;
  };
  const name = isPeerName(raw.name)
    ? raw.name
    : problem('name', typeof raw.name === 'string' ? `the peer name ${quote(raw.name)} must be 1 to 63 of a-z, 0-9 and '-', starting with a letter or digit` : 'the peer name is required');
  const url = readUrl(raw.url);
  if (!url.ok) problem('url', url.error);
  const token = readToken(raw.token);
  if (!token.ok) problem('token', token.error);
  const circleId = typeof raw.circle === 'string' && raw.circle !== '' && raw.circle.length <= 200 ? raw.circle : problem('circle', 'the local circle the peer belongs to is required (--circle)');
  let remoteCollectionId: string | undefined;
  if (raw.collection !== undefined) {
    if (typeof raw.collection === 'string' && raw.collection !== '' && raw.collection.length <= 200) remoteCollectionId = raw.collection;
    else problem('collection', 'the remote collection must be a non-empty id of at most 200 characters');
  }
  let push = false;
  if (raw.push !== undefined) {
    if (typeof raw.push === 'boolean') push = raw.push;
    else problem('push', 'push must be true or false');
  }
  let intervalSeconds = DEFAULT_SYNC_INTERVAL_SECONDS;
  if (raw.interval !== undefined) {
    const interval = parseSyncInterval(raw.interval);
    if (interval.ok) intervalSeconds = interval.value;
    else problem('interval', interval.error);
  }
  let silentAfter = DEFAULT_SILENT_AFTER;
  if (raw.silentAfter !== undefined) {
    const count = typeof raw.silentAfter === 'string' && /^\d{1,4}$/.test(raw.silentAfter) ? Number(raw.silentAfter) : raw.silentAfter;
    if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 1 && count <= MAX_SILENT_AFTER) silentAfter = count;
    else problem('silent_after', `silent-after must be a whole number of intervals from 1 to ${MAX_SILENT_AFTER}`);
  }
  let fingerprint: string | undefined;
  if (raw.fingerprint !== undefined) {
    const typed = typeof raw.fingerprint === 'string' ? raw.fingerprint.toLowerCase().replace(/[\s:]/g, '') : '';
    if (/^[0-9a-f]{64}$/.test(typed)) fingerprint = typed;
    else problem('fingerprint', "the fingerprint must be the 64 hex digits `entente key show` prints on the peer's node (spaces and colons allowed)");
  }
  let organisationId: string | undefined;
  if (raw.organisation !== undefined) {
    const upperCase = isOrganisationId(raw.organisation) ? upperCaseIdProblem(raw.organisation) : undefined;
    if (!isOrganisationId(raw.organisation)) problem('organisation', 'the organisation must be a STIX identity id (identity--<uuid>)');
    else if (upperCase !== undefined) problem('organisation', `the organisation ${upperCase}`);
    else organisationId = raw.organisation;
  }
  if (issues.length > 0 || name === undefined || !url.ok || !token.ok || circleId === undefined) return err(issues);
  return ok({ name, url: url.value, token: token.value, circleId, remoteCollectionId, push, intervalSeconds, silentAfter, fingerprint, organisationId });
}

/** The remote collection the link uses, or why none fits. */
export function chooseRemoteCollection(
  collections: readonly TaxiiCollection[],
  wanted: { readonly requested: string | undefined; readonly circleCollectionId: string; readonly push: boolean },
): Result<TaxiiCollection, string> {
  const describe = (list: readonly TaxiiCollection[]): string =>
    list.length === 0 ? 'none' : list.map((c) => `${c.id}${c.title === '' ? '' : ` (${c.title.slice(0, 60)})`}${c.canRead ? ' r' : ''}${c.canWrite ? ' w' : ''}`).join(', ');
  const readable = collections.filter((collection) => collection.canRead);
  let chosen: TaxiiCollection | undefined;
  if (wanted.requested !== undefined) {
    chosen = collections.find((collection) => collection.id === wanted.requested || collection.alias === wanted.requested);
    if (chosen === undefined) return err(`the peer has no collection ${quote(wanted.requested)} this token can see; it can see: ${describe(collections)}`);
  } else {
    chosen = collections.find((collection) => collection.id === wanted.circleCollectionId);
    if (chosen === undefined && readable.length === 1) chosen = readable[0];
    if (chosen === undefined) {
      return err(
        readable.length === 0
          ? 'the token can read no collection on the peer; ask its operator for a read grant'
          : `the peer has no collection ${quote(wanted.circleCollectionId)} and the token can read several; choose one with --collection: ${describe(readable)}`,
      );
    }
  }
  if (!chosen.canRead) return err(`the token cannot read collection ${quote(chosen.id)} on the peer; ask its operator for a read grant`);
  if (wanted.push && !chosen.canWrite) return err(`--push needs write access, and the token cannot write collection ${quote(chosen.id)} on the peer`);
  return ok(chosen);
}

/** One public key as a peer's node publishes it (GET /api/federation/node). */
export interface PublishedKey {
  readonly keyId: string;
  readonly publicKey: string;
  readonly validFrom: string;
  readonly validUntil: string | undefined;
  /** The `key-rotation` signed message by the key before this one, as published (untrusted). */
  readonly rotationStatement: unknown;
}

/** What this node reads of a peer's node identity: its organisation and its keys, oldest first. */
export interface PeerNodeIdentity {
  readonly organisationId: string;
  readonly organisationName: string | undefined;
  readonly keys: readonly PublishedKey[];
}

const MAX_PUBLISHED_KEYS = 64;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a node identity document (node-identity.ts writes it). Never throws; the problem names its path. */
export function parseNodeIdentity(value: unknown): Result<PeerNodeIdentity, string> {
  if (!isRecord(value)) return err('$: the node identity is not a JSON object');
  const organisation = value['organisation'];
  if (!isRecord(organisation) || organisation['type'] !== 'identity' || !isOrganisationId(organisation['id'])) {
    return err('$.organisation: not a STIX identity with an identity--<uuid> id');
  }
  const upperCase = upperCaseIdProblem(organisation['id']);
  if (upperCase !== undefined) return err(`$.organisation.id: ${upperCase}`);
  const rawKeys = value['keys'];
  if (!Array.isArray(rawKeys) || rawKeys.length > MAX_PUBLISHED_KEYS) return err(`$.keys: expected a list of at most ${MAX_PUBLISHED_KEYS} keys`);
  const keys: PublishedKey[] = [];
  for (const [index, raw] of rawKeys.entries()) {
    const path = `$.keys[${index}]`;
    if (!isRecord(raw)) return err(`${path}: expected a key object`);
    const { key_id: keyId, public_key: publicKey, valid_from: validFrom, valid_until: validUntil } = raw;
    if (!isKeyId(keyId)) return err(`${path}.key_id: not a key id (22 characters of base64url)`);
    if (typeof publicKey !== 'string' || !parsePublicKey(publicKey).ok || keyIdOf(publicKey) !== keyId) return err(`${path}.public_key: not the Ed25519 key with key id ${keyId}`);
    if (typeof validFrom !== 'string' || instantOf(validFrom) === undefined) return err(`${path}.valid_from: not an RFC 3339 timestamp`);
    if (validUntil !== undefined && (typeof validUntil !== 'string' || instantOf(validUntil) === undefined)) return err(`${path}.valid_until: not an RFC 3339 timestamp`);
    keys.push({ keyId, publicKey, validFrom, validUntil: validUntil as string | undefined, rotationStatement: raw['rotation_statement'] });
  }
  const name = organisation['name'];
  return ok({ organisationId: organisation['id'], organisationName: typeof name === 'string' ? name.slice(0, 200) : undefined, keys });
}

/** A key this node will pin for the peer's organisation, and how it came to trust it. */
export interface KeyToPin {
  readonly keyId: string;
  readonly publicKey: string;
  readonly validFrom: string;
  readonly validUntil: string | undefined;
  readonly source: 'peer-add' | 'fingerprint' | 'rotation';
  readonly fingerprint: string;
}

/** `key`'s rotation statement when it is one and names exactly this key of this organisation (its signature not checked yet). */
function rotationStatementOf(key: PublishedKey, organisationId: string): SignedMessage | undefined {
  const parsed = parseSignedMessage(key.rotationStatement);
  if (!parsed.ok || parsed.value.kind !== 'key-rotation' || parsed.value.signer !== organisationId) return undefined;
  const body = parsed.value.body;
  if (body['organisation_id'] !== organisationId || body['key_id'] !== key.keyId || body['public_key'] !== key.publicKey) return undefined;
  return parsed.value;
}

/**
 * A key that may vouch for the key its node rotated to: its window (as pinned here, or as published
 * for a key trusted in this same decision) and whether that window must hold now.
 */
interface Anchor {
  readonly key: PinnedKey;
  readonly mustHoldNow: boolean;
}

/**
 * The one published key whose rotation statement `anchor` signed, for an instant inside the anchor's
 * window, and the instant it names; undefined when there is none, or more than one (a node rotates
 * from a key once, so a second statement by the same key was made by someone else holding a copy).
 */
function successorOf(anchor: PinnedKey, candidates: readonly PublishedKey[], organisationId: string): { readonly key: PublishedKey; readonly validFrom: string } | undefined {
  const directory = createKeyDirectory([anchor]);
  const found: { key: PublishedKey; validFrom: string }[] = [];
  for (const key of candidates) {
    const statement = rotationStatementOf(key, organisationId);
    if (statement === undefined || statement.key_id !== anchor.keyId) continue;
    if (verifyMessage(statement, directory).kind !== 'verified') continue;
    const validFrom = statement.body['valid_from'];
    // A statement naming no instant still counts: the anchor signed it, so it makes the choice ambiguous.
    found.push({ key, validFrom: typeof validFrom === 'string' ? validFrom : '' });
  }
  if (found.length !== 1) return undefined;
  const [only] = found;
  const at = only === undefined ? undefined : instantOf(only.validFrom);
  // The statement speaks for the instant it names: the anchor must have been valid then.
  if (only === undefined || at === undefined || !isKeyValidAt(anchor, at)) return undefined;
  return only;
}

/**
 * Which of the keys a peer's node publishes are pinned when the link is made, or when this node
 * follows the peer's rotations (sync, the header of a signed bundle).
 *
 * - With a fingerprint: the key it names (a human compared it out of band), source `fingerprint`; a
 *   fingerprint that names none of them is refused, and nothing is pinned.
 * - Without one, for an organisation with no key pinned yet: every key it publishes is trusted on
 *   first use (`peer-add`) and printed, so that a human can compare.
 * - Without one, for an organisation that already has pinned keys: the published keys must include
 *   one of them; keys that all differ are refused (that is what a server impersonating the peer
 *   would show).
 *
 * Then, in both of the first and last cases, a later key whose rotation statement is signed by a
 * trusted key is trusted too (source `rotation`): a key that rotated after the one a human compared.
 * What the identity says is untrusted; the keys pinned here are the anchors, with the windows they
 * have here, because whoever holds a copy of an old private key (an old backup of the peer's data
 * directory, say) can write any identity. So a pinned key vouches only
 * - while its pinned window holds `now` (a key rotated out here, once its overlap is over, vouches
 *   for nothing),
 * - when no later key is pinned here for the organisation (it already has its successor: a node
 *   rotates from a key once),
 * - for one key (two keys signed over by the same key: neither), and
 * - for a statement whose `valid_from` lies inside its window.
 * A key trusted that way vouches in turn for the next (two rotations followed at once), within the
 * window it is pinned with. A new key is valid from the later of the instant its statement names (the
 * part its predecessor signed) and the one published, so nobody can backdate it. Keys already pinned
 * are not returned again. `pinned` may hold other organisations' keys (ignored).
 */
export function decidePeerKeys(
  identity: PeerNodeIdentity,
  options: { readonly fingerprint: string | undefined; readonly pinned: readonly PinnedKey[]; readonly now: Date },
): Result<KeyToPin[], string> {
  const organisationId = identity.organisationId;
  const published = identity.keys;
  if (published.length === 0) return err("the peer's node publishes no public key, so nothing it signs could be verified");
  const pinned = options.pinned.filter((key) => key.organisationId === organisationId);
  const pinnedIds = new Set(pinned.map((key) => key.keyId));
  const toPin = (key: PublishedKey, source: KeyToPin['source'], validFrom = key.validFrom): KeyToPin => ({
    keyId: key.keyId,
    publicKey: key.publicKey,
    validFrom,
    validUntil: key.validUntil,
    source,
    fingerprint: fingerprintOf(key.publicKey),
  });
  const asPinned = (key: KeyToPin): PinnedKey => ({ organisationId, keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil });
  const anchors: Anchor[] = [];
  const chosen: KeyToPin[] = [];
  if (options.fingerprint !== undefined) {
    const named = published.find((key) => isFingerprintOf(key.publicKey, options.fingerprint ?? ''));
    if (named === undefined) {
      return err(
        `no key the peer's node publishes has the fingerprint given; it publishes ${published.map((key) => fingerprintOf(key.publicKey)).join(' | ')}. ` +
          'Compare with `entente key show` on the peer before trusting any of them',
      );
    }
    const key = toPin(named, 'fingerprint');
    chosen.push(key);
    anchors.push({ key: asPinned(key), mustHoldNow: false });
  } else if (pinned.length === 0) {
    return ok(published.map((key) => toPin(key, 'peer-add')));
  } else {
    if (!published.some((key) => pinnedIds.has(key.keyId))) {
      return err(
        `the keys the peer's node publishes (${published.map((key) => key.keyId).join(', ')}) are none of the keys already pinned for its organisation ` +
          `(${pinned.map((key) => key.keyId).join(', ')}); give --fingerprint after comparing with \`entente key show\` on the peer`,
      );
    }
    const starts = (key: PinnedKey): number => instantOf(key.validFrom) ?? Number.POSITIVE_INFINITY;
    for (const key of pinned) {
      const hasSuccessor = pinned.some((other) => other.keyId !== key.keyId && starts(other) > starts(key));
      if (!hasSuccessor) anchors.push({ key, mustHoldNow: true });
    }
  }
  // Follow rotations forward from the anchors, as far as the statements reach.
  const now = options.now.getTime();
  const reached = new Set(anchors.map((anchor) => anchor.key.keyId));
  for (let index = 0; index < anchors.length; index += 1) {
    const anchor = anchors[index];
    if (anchor === undefined || (anchor.mustHoldNow && !isKeyValidAt(anchor.key, now))) continue;
    const next = successorOf(anchor.key, published.filter((key) => !reached.has(key.keyId)), organisationId);
    if (next === undefined) continue;
    const signedFrom = instantOf(next.validFrom) ?? Number.POSITIVE_INFINITY;
    const publishedFrom = instantOf(next.key.validFrom) ?? Number.NEGATIVE_INFINITY;
    const key = toPin(next.key, 'rotation', publishedFrom > signedFrom ? next.key.validFrom : next.validFrom);
    reached.add(key.keyId);
    chosen.push(key);
    // A successor pinned here already (a fingerprint named an older key) goes on with the window it has here.
    anchors.push({ key: pinned.find((known) => known.keyId === key.keyId) ?? asPinned(key), mustHoldNow: false });
  }
  return ok(chosen.filter((key) => !pinnedIds.has(key.keyId)));
}

/** A pinned key whose window ends earlier from now on: it was rotated out. */
export interface KeyWindowEnd {
  readonly keyId: string;
  readonly validUntil: string;
  /** The key whose rotation statement it signed. */
  readonly rotatedTo: string;
}

/**
 * Which keys pinned for the peer's organisation now end earlier, after a rotation this node followed.
 * A pinned key that signed the rotation statement of another key pinned here was rotated out: it
 * ends where the peer's node publishes its end (`valid_until`: the rotation plus the overlap), so
 * that once the overlap is over whoever still holds the old private key (a copy of the node's data
 * directory, say) can no longer sign versions this node accepts. The published end is not signed,
 * so it never moves the end before the instant the old key itself signed for (the new key's
 * `valid_from` in its statement), and a window is only ever shortened: a later end, or a key
 * published without one, changes nothing. `pinned` may hold other organisations' keys (ignored).
 */
export function decideRotatedKeyEnds(identity: PeerNodeIdentity, pinned: readonly PinnedKey[]): KeyWindowEnd[] {
  const organisationId = identity.organisationId;
  const pinnedById = new Map(pinned.filter((key) => key.organisationId === organisationId).map((key) => [key.keyId, key]));
  const publishedById = new Map(identity.keys.map((key) => [key.keyId, key]));
  const ends = new Map<string, KeyWindowEnd & { readonly at: number }>();
  for (const key of identity.keys) {
    // Only a rotation this node followed: the new key is pinned here.
    if (!pinnedById.has(key.keyId)) continue;
    const statement = rotationStatementOf(key, organisationId);
    const old = statement === undefined ? undefined : pinnedById.get(statement.key_id);
    if (statement === undefined || old === undefined || old.keyId === key.keyId) continue;
    if (verifyMessage(statement, createKeyDirectory([old])).kind !== 'verified') continue;
    const published = publishedById.get(old.keyId)?.validUntil;
    const rotatedFrom = statement.body['valid_from'];
    const publishedAt = published === undefined ? undefined : instantOf(published);
    const rotatedAt = typeof rotatedFrom === 'string' ? instantOf(rotatedFrom) : undefined;
    if (published === undefined || publishedAt === undefined || typeof rotatedFrom !== 'string' || rotatedAt === undefined) continue;
    const [at, validUntil] = publishedAt >= rotatedAt ? [publishedAt, published] : [rotatedAt, rotatedFrom];
    const pinnedEnd = old.validUntil === undefined ? undefined : instantOf(old.validUntil);
    if (pinnedEnd !== undefined && pinnedEnd <= at) continue;
    if (at <= (instantOf(old.validFrom) ?? Number.NEGATIVE_INFINITY)) continue;
    const known = ends.get(old.keyId);
    if (known === undefined || at < known.at) ends.set(old.keyId, { keyId: old.keyId, validUntil, rotatedTo: key.keyId, at });
  }
  return [...ends.values()].map(({ keyId, validUntil, rotatedTo }) => ({ keyId, validUntil, rotatedTo }));
}
