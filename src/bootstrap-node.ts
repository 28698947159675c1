import type { ObjectStore, CollectionRecord } from './store/object-store.ts';
import type { StixObject } from './stix/types.ts';
import { formatTokenSecret, hashTokenSecret } from './policy/token-secret.ts';
import { ensureNodeKey } from './federation/node-key-lifecycle.ts';

/** Node metadata keys; stored with the data so that a node keeps its identity across restarts. */
export const metaKeys = {
  homeOrganisation: 'home_organisation',
  defaultCollection: 'default_collection',
  /** The collection holding home sightings that have no other home place (ensureHomeSightingsCollection). */
  homeSightingsCollection: 'home_sightings_collection',
  /** The AES-256 key TAXII `next` cursors are sealed with: 32 bytes, base64 (taxii/cursor-key.ts reads it). */
  taxiiCursorKey: 'taxii_cursor_key',
} as const;

export const adminTokenName = 'admin';
export const defaultCollectionAlias = 'default';
/** The alias of the home sightings collection: `entente token create --collections home-sightings:r` grants it. */
export const homeSightingsCollectionAlias = 'home-sightings';

export interface BootstrapInputs {
  readonly orgName: string;
  readonly now: Date;
  readonly randomUuid: () => string;
  readonly randomBytes: (size: number) => Uint8Array;
}

export interface NodeIdentity {
  readonly homeOrganisation: StixObject;
  readonly defaultCollection: CollectionRecord;
  /** Where a home sighting goes when no collection of the home's holds its indicator (ensureHomeSightingsCollection). */
  readonly homeSightingsCollection: CollectionRecord;
  /** Set only on the very first start: the admin secret, to be written to <data>/admin.token. */
  readonly newAdminSecret: string | undefined;
}

/**
 * Gives a fresh database what a node needs (its home organisation as a STIX identity, one default
 * collection, the home sightings collection, an admin token) and leaves an initialised one as it is,
 * adding only what a node made by an earlier version lacks (the home sightings collection). Safe to
 * call at every start, and from several processes starting at once.
 */
export async function ensureNodeInitialised(store: ObjectStore, inputs: BootstrapInputs): Promise<NodeIdentity> {
  // Every step reads, then writes what it did not find. Two processes first-starting one data
  // directory (`entente start` beside `entente import`: opening a node initialises it) each read
  // nothing and each made their own home organisation, admin token and node key, the last written
  // winning the meta key while the other ran as an identity the node no longer has. In one write
  // transaction the second reads what the first made.
  return store.exclusively(() => initialised(store, inputs));
}

async function initialised(store: ObjectStore, inputs: BootstrapInputs): Promise<NodeIdentity> {
  const timestamp = inputs.now.toISOString();
  let homeOrganisation = await readHomeOrganisation(store);
  if (homeOrganisation === undefined) {
    homeOrganisation = {
      type: 'identity',
      spec_version: '2.1',
      id: `identity--${inputs.randomUuid()}`,
      created: timestamp,
      modified: timestamp,
      name: inputs.orgName,
      identity_class: 'organization',
    };
    await store.setMeta(metaKeys.homeOrganisation, JSON.stringify(homeOrganisation));
  }

  let defaultCollection: CollectionRecord | undefined;
  const defaultCollectionId = await store.getMeta(metaKeys.defaultCollection);
  if (defaultCollectionId !== undefined) defaultCollection = await store.getCollection(defaultCollectionId);
  if (defaultCollection === undefined) {
    defaultCollection = await store.createCollection(
      {
        id: inputs.randomUuid(),
        alias: defaultCollectionAlias,
        title: `${inputs.orgName} — default collection`,
        description: 'Created at first start. Holds the home organisation and whatever is imported without --collection.',
      },
      inputs.now,
    );
    await store.setMeta(metaKeys.defaultCollection, defaultCollection.id);
    await store.addObjects(defaultCollection.id, [homeOrganisation]);
  }
  const homeSightingsCollection = await ensureHomeSightingsCollection(store, inputs);

  let newAdminSecret: string | undefined;
  const tokens = await store.listTokens();
  if (!tokens.some((token) => token.name === adminTokenName)) {
    newAdminSecret = formatTokenSecret(inputs.randomBytes(32));
    await store.createToken({
      name: adminTokenName,
      secretHash: hashTokenSecret(newAdminSecret),
      admin: true,
      grants: [],
      organisationId: homeOrganisation.id,
      createdAt: timestamp,
      revokedAt: undefined,
    });
  }
  // The node's Ed25519 key pair (docs/federation.md), made once.
  await ensureNodeKey(store, inputs.now);
  // The key TAXII cursors are sealed with, made here because `start --workers` runs this once in the
  // primary before forking: workers then only read it, and no two can each store a key of their own.
  // Made without the TAXII modules, which a command such as `entente import` does not load.
  if ((await store.getMeta(metaKeys.taxiiCursorKey)) === undefined) {
    await store.setMeta(metaKeys.taxiiCursorKey, Buffer.from(inputs.randomBytes(32)).toString('base64'));
  }
  return { homeOrganisation, defaultCollection, homeSightingsCollection, newAdminSecret };
}

/**
 * Makes the home sightings collection unless the node has it (a data directory made before it
 * existed gets it at its next start: this step, not a store migration, since it needs the node's
 * name, a fresh id and the meta key, as the default collection does).
 *
 * It holds the home sighting, with its evidence, of a match on an indicator that only circles'
 * collections hold (correlate/home-sighting-placement.ts): received from partners, with no home
 * place beside which the sighting could be kept. It carries no circle and can never carry one
 * (circle-operations.ts refuseUnfitCircleCollection; a mirrored circle never takes an existing
 * collection), so the release decision gives partners nothing of it, whatever their grants, and no
 * peer syncs it; no token is granted it, so a home token reads it only when an administrator grants it
 * explicitly (`--collections home-sightings:r`). That grant alone gives no indicator away: such a
 * reader receives a sighting there only with the indicator it names, the evidence only with such a
 * sighting (release/home-sightings-gate.ts, policy/decide-release.ts decideHomeSightingsRelease);
 * administrators read it whole.
 *
 * The alias `home-sightings` is left out when a collection already answers to it (as its alias or its
 * id): findCollection would find that one first. Grants then name the collection by its id.
 */
export async function ensureHomeSightingsCollection(
  store: ObjectStore,
  inputs: Pick<BootstrapInputs, 'orgName' | 'now' | 'randomUuid'>,
): Promise<CollectionRecord> {
  // One transaction reads the key and makes the collection under it: two processes first-starting an
  // older data directory at once each made and recorded one of their own when these were separate steps.
  return store.recordedCollection(
    metaKeys.homeSightingsCollection,
    {
      id: inputs.randomUuid(),
      alias: homeSightingsCollectionAlias,
      title: `${inputs.orgName} — home sightings`,
      description:
        'Created by the node. Holds the sightings, with their evidence, of matches on indicators that only circles\' collections hold. ' +
        'Never shared, carries no circle; read only by tokens an administrator grants it explicitly.',
    },
    inputs.now,
  );
}

/**
 * The id found per store: the release gate asks for it on every request of a home reader, and the
 * node records it once (ensureHomeSightingsCollection) and never changes it. Only a found id is kept,
 * so a collection made after the first question is still found.
 */
const homeSightingsIds = new WeakMap<object, string>();

/** The id of the home sightings collection, if the node has made it. */
export async function homeSightingsCollectionOf(store: Pick<ObjectStore, 'getMeta'>): Promise<string | undefined> {
  const known = homeSightingsIds.get(store);
  if (known !== undefined) return known;
  const id = await store.getMeta(metaKeys.homeSightingsCollection);
  if (id !== undefined) homeSightingsIds.set(store, id);
  return id;
}

export async function readHomeOrganisation(store: Pick<ObjectStore, 'getMeta'>): Promise<StixObject | undefined> {
  const text = await store.getMeta(metaKeys.homeOrganisation);
  return text === undefined ? undefined : (JSON.parse(text) as StixObject);
}

/** Finds a collection by id, or by alias (the default collection answers to `default`). */
export async function findCollection(store: ObjectStore, idOrAlias: string): Promise<CollectionRecord | undefined> {
  const byId = await store.getCollection(idOrAlias);
  if (byId !== undefined) return byId;
  const all = await store.listCollections();
  return all.find((collection) => collection.alias === idOrAlias);
}
