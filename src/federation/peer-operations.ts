// What operators do with peers — add, list, status, remove — for the CLI and the REST API alike
// (docs/federation.md, "Words" and "Sync"). Adding a peer talks to it: discovery and API root, its
// collections, its node identity (an Entente node, whose keys are pinned) and, for a circle this node
// does not have yet, the circle itself from the peer that coordinates it.
import { EntenteError, isEntenteError } from '../errors/entente-error.ts';
import { membershipAt, type Circle } from '../policy/circle.ts';
import type { PeerRecord, PeerState, PullCursor } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { TaxiiClient, TaxiiClientOptions } from '../taxii/taxii-client.ts';
import { assertMirrorable, fetchCircleView, storeCircleMirror, type MirrorOutcome } from './mirror-circle.ts';
import { endRotatedKeys } from './node-key-lifecycle.ts';
import type { CircleView } from './parse-circle-view.ts';
import { chooseRemoteCollection, decidePeerKeys, parseNodeIdentity, parsePeerInput, type KeyToPin, type KeyWindowEnd, type PeerNodeIdentity, type RawPeerInput } from './peer-input.ts';
import { lagSeconds } from './sync-timing.ts';

/** Opens a TAXII client for a peer (openTaxiiClient in the node; another in tests). */
export type OpenPeerClient = (options: TaxiiClientOptions) => TaxiiClient;

/** Where an Entente node publishes its identity, on the same origin as its TAXII server. */
export const NODE_IDENTITY_PATH = '/api/federation/node';

export interface PeerDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
  readonly openClient: OpenPeerClient;
}

/** A peer as shown to operators: everything but the token. */
export type PeerSummary = Omit<PeerRecord, 'token'>;

export interface AddedPeer {
  readonly peer: PeerSummary;
  /** Keys pinned for the peer's organisation, with their fingerprints (to compare out of band). */
  readonly pinned: readonly KeyToPin[];
  /** Keys pinned here before that the peer's node shows rotated out: trusted until the end it gives them, no longer. */
  readonly ended: readonly KeyWindowEnd[];
  /** The circle taken from the peer, when it was new here. */
  readonly mirror: MirrorOutcome | undefined;
  readonly organisationName: string | undefined;
}

export function toPeerSummary(peer: PeerRecord): PeerSummary {
  const { token: _token, ...summary } = peer;
  return summary;
}

function invalid(message: string, details: Record<string, unknown> = {}): EntenteError {
  return new EntenteError('ENT_PEER_INVALID', message, details);
}

/** Reads the peer's node identity; undefined for a plain TAXII server (no such endpoint). */
async function readNodeIdentity(client: Pick<TaxiiClient, 'getJson'>, organisationGiven: boolean): Promise<PeerNodeIdentity | undefined> {
  let answer: unknown;
  try {
    answer = await client.getJson(NODE_IDENTITY_PATH);
  } catch (error) {
    // A plain TAXII server may answer an unknown path with anything (an HTML page, 403). With the
    // organisation named, that is what it is; without, say what was expected.
    if (organisationGiven && isEntenteError(error) && (error.code === 'ENT_PEER_BAD_RESPONSE' || error.code === 'ENT_PEER_AUTH_REFUSED')) return undefined;
    if (isEntenteError(error) && (error.code === 'ENT_PEER_BAD_RESPONSE' || error.code === 'ENT_PEER_AUTH_REFUSED')) {
      throw new EntenteError(error.code, `${error.message}; the peer does not publish an Entente node identity at ${NODE_IDENTITY_PATH}: for a plain TAXII server give --organisation identity--… naming its organisation`, error.details);
    }
    throw error;
  }
  if (answer === undefined) return undefined;
  const identity = parseNodeIdentity(answer);
  if (!identity.ok) throw new EntenteError('ENT_PEER_BAD_RESPONSE', `The peer's node identity (${NODE_IDENTITY_PATH}) cannot be read: ${identity.error}`);
  return identity.value;
}

/**
 * Links a peer. Everything the peer says is checked before anything is written: the API root, the
 * node identity and the keys to pin, the circle (mirrored from the peer when it is new here and the
 * peer coordinates it), the remote collection and its grants. Then the keys are pinned, the circle
 * stored, and the peer recorded. The token is never part of an answer or a message.
 */
export async function addPeer(deps: PeerDeps, raw: RawPeerInput): Promise<AddedPeer> {
  const parsed = parsePeerInput(raw);
  if (!parsed.ok) {
    throw invalid(parsed.error.map((issue) => `${issue.field}: ${issue.message}`).join('; '), { issues: parsed.error.map((issue) => ({ field: issue.field, message: issue.message })) });
  }
  const input = parsed.value;
  const { store } = deps;
  if ((await store.getPeer(input.name)) !== undefined) throw new EntenteError('ENT_PEER_EXISTS', `A peer named ${input.name} exists already (entente peer remove ${input.name} first)`, { peer: input.name });
  const now = deps.clock();
  const client = deps.openClient({ url: input.url, token: input.token });
  try {
    const discovery = await client.discover();
    await client.apiRoot();

    // Who the peer is.
    const identity = await readNodeIdentity(client, input.organisationId !== undefined);
    let organisationId: string;
    if (identity === undefined) {
      if (input.organisationId === undefined) {
        throw invalid(`The peer is a plain TAXII server (no Entente node identity at ${NODE_IDENTITY_PATH}); give --organisation identity--… naming the organisation that runs it`);
      }
      organisationId = input.organisationId;
    } else {
      if (input.organisationId !== undefined && input.organisationId !== identity.organisationId) {
        throw invalid(`--organisation ${input.organisationId} does not match the organisation the peer's node says it is (${identity.organisationId})`);
      }
      organisationId = identity.organisationId;
    }
    if (organisationId === deps.homeOrganisationId) throw invalid(`The peer is this node's own organisation (${organisationId}); a node does not peer with itself`);
    if ((await store.getOrganisation(organisationId)) === undefined) {
      throw new EntenteError('ENT_ORG_NOT_FOUND', `The peer's organisation ${organisationId}${identity?.organisationName === undefined ? '' : ` (${identity.organisationName})`} is not a known partner; register it first: entente org add NAME --kind K --id ${organisationId}`, { organisationId });
    }

    // The keys to pin (nothing is stored when they do not fit).
    let pinned: KeyToPin[] = [];
    if (identity !== undefined) {
      const decided = decidePeerKeys(identity, { fingerprint: input.fingerprint, pinned: await store.listPinnedKeys(organisationId), now });
      if (!decided.ok) throw new EntenteError('ENT_PEER_KEY_MISMATCH', decided.error, { organisationId });
      pinned = decided.value;
    } else if (input.fingerprint !== undefined) {
      throw new EntenteError('ENT_PEER_KEY_MISMATCH', 'A fingerprint was given, but the peer publishes no Entente node identity and so no key to compare it with');
    }

    // The circle: here already, or mirrored from the peer that coordinates it.
    let circle: Circle | undefined = await store.getCircle(input.circleId);
    let view: CircleView | undefined;
    if (circle === undefined) {
      if (identity === undefined) {
        throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${input.circleId} here, and a plain TAXII peer cannot provide one: create it first (entente circle create)`, { circleId: input.circleId });
      }
      view = await fetchCircleView(client, input.circleId);
      assertMirrorable(view, undefined, organisationId, deps.homeOrganisationId, now);
      circle = view.circle;
    } else if (membershipAt(circle, organisationId, now).kind !== 'member') {
      throw new EntenteError('ENT_CIRCLE_NOT_MEMBER', `The peer's organisation ${organisationId} is not a member of circle ${circle.id} now; invite it first (entente circle invite ${circle.id} --org ${organisationId})`, { circleId: circle.id, organisationId });
    }

    // The collection on the peer.
    const chosen = chooseRemoteCollection(await client.collections(), { requested: input.remoteCollectionId, circleCollectionId: circle.collectionId, push: input.push });
    if (!chosen.ok) throw new EntenteError('ENT_PEER_NO_COLLECTION', chosen.error);

    // Everything checked: write.
    for (const key of pinned) {
      await store.pinKey({ organisationId, keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil, source: key.source, pinnedAt: now.toISOString() });
    }
    const ended = identity === undefined ? [] : await endRotatedKeys(store, identity);
    const mirror = view === undefined ? undefined : await storeCircleMirror(deps, view, organisationId);
    const local = await store.getCircle(input.circleId);
    if (local === undefined) throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${input.circleId}`, { circleId: input.circleId });
    const record: PeerRecord = {
      name: input.name,
      url: input.url,
      apiRootUrl: discovery.apiRootUrl,
      token: input.token,
      circleId: local.id,
      localCollectionId: local.collectionId,
      remoteCollectionId: chosen.value.id,
      organisationId,
      kind: identity === undefined ? 'plain' : 'entente',
      push: input.push,
      intervalSeconds: input.intervalSeconds,
      silentAfter: input.silentAfter,
      createdAt: now.toISOString(),
    };
    await store.addPeer(record);
    return { peer: toPeerSummary(record), pinned, ended, mirror, organisationName: identity?.organisationName };
  } finally {
    client.close();
  }
}

/**
 * Follows the key rotations an Entente peer published since it was linked: reads its node identity
 * again, pins the keys its rotation statements chain to from keys already pinned (never a key
 * nothing pinned vouches for: that needs a human and --fingerprint; and never one vouched for by a
 * pinned key whose window here is over, or that already has its successor pinned: peer-input.ts,
 * decidePeerKeys), and ends rotated-out keys at their published end. Returns the keys pinned and
 * ended; a plain peer or an unreadable identity changes nothing (the next cycle tries again).
 */
export async function followKeyRotations(
  store: Pick<ObjectStore, 'listPinnedKeys' | 'pinKey'>,
  client: Pick<TaxiiClient, 'getJson'>,
  peer: PeerRecord,
  now: Date,
): Promise<{ readonly pinned: readonly string[]; readonly ended: readonly KeyWindowEnd[] }> {
  const unchanged = { pinned: [], ended: [] };
  if (peer.kind !== 'entente') return unchanged;
  // An identity that cannot be read now must not stop the sync itself: the pull says whether the peer answers.
  const identity = await readNodeIdentity(client, true).catch(() => undefined);
  if (identity === undefined || identity.organisationId !== peer.organisationId) return unchanged;
  const decided = decidePeerKeys(identity, { fingerprint: undefined, pinned: await store.listPinnedKeys(peer.organisationId), now });
  if (!decided.ok) return unchanged;
  for (const key of decided.value) {
    await store.pinKey({ organisationId: peer.organisationId, keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil, source: key.source, pinnedAt: now.toISOString() });
  }
  return { pinned: decided.value.map((key) => key.keyId), ended: await endRotatedKeys(store, identity) };
}

export async function listPeers(deps: Pick<PeerDeps, 'store'>): Promise<PeerSummary[]> {
  return (await deps.store.listPeers()).map(toPeerSummary);
}

export interface PeerStatus {
  readonly name: string;
  readonly kind: PeerRecord['kind'];
  readonly circleId: string;
  readonly organisationId: string;
  readonly url: string;
  readonly push: boolean;
  readonly intervalSeconds: number;
  /** Seconds since the last successful cycle; undefined before the first. */
  readonly lagSeconds: number | undefined;
  readonly lastAttemptAt: string | undefined;
  readonly lastSuccessAt: string | undefined;
  readonly lastError: PeerState['lastError'];
  readonly consecutiveFailures: number;
  readonly objectsIn: number;
  readonly objectsOut: number;
  readonly quarantined: number;
  readonly pullCursor: PullCursor | undefined;
  /** The push cursor as an instant (this node's date_added), when something was pushed. */
  readonly pushCursor: string | undefined;
}

function statusOf(peer: PeerRecord, state: PeerState, now: Date): PeerStatus {
  return {
    name: peer.name,
    kind: peer.kind,
    circleId: peer.circleId,
    organisationId: peer.organisationId,
    url: peer.url,
    push: peer.push,
    intervalSeconds: peer.intervalSeconds,
    lagSeconds: lagSeconds(state.lastSuccessAt, now.getTime()),
    lastAttemptAt: state.lastAttemptAt,
    lastSuccessAt: state.lastSuccessAt,
    lastError: state.lastError,
    consecutiveFailures: state.consecutiveFailures,
    objectsIn: state.objectsIn,
    objectsOut: state.objectsOut,
    quarantined: state.quarantined,
    pullCursor: state.pullCursor,
    pushCursor: state.pushCursor === undefined ? undefined : new Date(Math.floor(state.pushCursor / 1000)).toISOString(),
  };
}

/** The status of one peer, or of every peer when no name is given. Throws ENT_PEER_NOT_FOUND. */
export async function peerStatus(deps: Pick<PeerDeps, 'store' | 'clock'>, name?: string): Promise<PeerStatus[]> {
  const now = deps.clock();
  let peers: PeerRecord[];
  if (name === undefined) peers = await deps.store.listPeers();
  else {
    const peer = await deps.store.getPeer(name);
    if (peer === undefined) throw new EntenteError('ENT_PEER_NOT_FOUND', `No peer named ${name} (see entente peer list)`, { peer: name });
    peers = [peer];
  }
  const statuses: PeerStatus[] = [];
  for (const peer of peers) statuses.push(statusOf(peer, await deps.store.getPeerState(peer.name), now));
  return statuses;
}

/** Removes the link and its sync state; what it brought stays, with its provenance, and so do the pinned keys. */
export async function removePeer(deps: Pick<PeerDeps, 'store'>, name: string): Promise<void> {
  await deps.store.removePeer(name);
}

/** The JSON form of a peer (REST, `--json`): snake_case, never the token. */
export function peerJson(peer: PeerSummary): Record<string, unknown> {
  return {
    name: peer.name,
    kind: peer.kind,
    url: peer.url,
    api_root_url: peer.apiRootUrl,
    circle_id: peer.circleId,
    local_collection_id: peer.localCollectionId,
    remote_collection_id: peer.remoteCollectionId,
    organisation_id: peer.organisationId,
    push: peer.push,
    interval_seconds: peer.intervalSeconds,
    silent_after: peer.silentAfter,
    created_at: peer.createdAt,
  };
}

export function peerStatusJson(status: PeerStatus): Record<string, unknown> {
  return {
    name: status.name,
    kind: status.kind,
    circle_id: status.circleId,
    organisation_id: status.organisationId,
    url: status.url,
    push: status.push,
    interval_seconds: status.intervalSeconds,
    lag_seconds: status.lagSeconds ?? null,
    last_attempt_at: status.lastAttemptAt ?? null,
    last_success_at: status.lastSuccessAt ?? null,
    last_error: status.lastError === undefined ? null : { code: status.lastError.code, message: status.lastError.message, at: status.lastError.at },
    consecutive_failures: status.consecutiveFailures,
    objects_in: status.objectsIn,
    objects_out: status.objectsOut,
    quarantined: status.quarantined,
    pull_cursor: status.pullCursor === undefined ? null : { added_after: status.pullCursor.addedAfter ?? null, next: status.pullCursor.next ?? null },
    push_cursor: status.pushCursor ?? null,
  };
}

/** The answer to an added peer: the link (never its token), the keys pinned with their fingerprints, the circle mirrored. */
export function addedPeerJson(added: AddedPeer): Record<string, unknown> {
  return {
    peer: peerJson(added.peer),
    organisation_name: added.organisationName ?? null,
    pinned_keys: added.pinned.map((key) => ({ key_id: key.keyId, fingerprint: key.fingerprint, source: key.source, valid_from: key.validFrom, valid_until: key.validUntil ?? null })),
    ended_keys: added.ended.map((end) => ({ key_id: end.keyId, valid_until: end.validUntil, rotated_to: end.rotatedTo })),
    mirrored_circle:
      added.mirror === undefined
        ? null
        : { circle_id: added.mirror.circleId, collection_created: added.mirror.collectionCreated, agreements: added.mirror.agreementsAdded, acceptances: added.mirror.acceptancesAdded, keys_pinned: added.mirror.keysPinned },
  };
}
