import type { WeaknessDisclosure } from '../policy/aggregate-weaknesses.ts';
import { originOfVersion } from '../policy/version-origin.ts';
import type { StixObject } from '../stix/types.ts';
import { compareVersions } from '../store/compare-versions.ts';
import type { ProvenanceRecord } from '../store/federation-store.ts';
import { versionKey, type ObjectStore, type StoredEntry } from '../store/object-store.ts';

const WEAKNESS_TYPES = ['vulnerability', 'course-of-action', 'note'];

/**
 * The organisation a version of a disclosure counts for. The home organisation for a version only it
 * wrote, or one it wrote before anyone sent it (`homeOriginalsIn` records that order). Otherwise the
 * organisation that originated it as its arrivals prove it (originOfVersion, rule 3a's attribution):
 * the signer of a verified arrival, or of the version a derived or unsigned copy is a copy of. The
 * signature names its author, however many member nodes delivered it (AMBER may reach this node from its
 * author and second-hand from another member), so that neither a relay nor a member sending it
 * again on purpose can take it from its author. A version that arrived through federation naming no
 * originator (unsigned or a redaction, and no verified version backs it) counts for nobody: the node
 * that delivered it may only have relayed it, and counted for it, it would credit the relay with another's
 * disclosure and charge it with another's gap (two organisations behind a row one alone stands
 * behind). Only for what partners POSTed themselves (no arrival recorded), the partner, when one
 * partner alone sent it; nobody when several sent the identical version or it has more than one
 * originator. The store keeps no order among partners (a contribution is a row per version,
 * collection and organisation, with no time; a partner's TAXII POST has no provenance at all), and
 * any guess — the smallest id, the first row read — lets whoever sends someone's unsigned disclosure
 * again be counted for it, or the original author for the sender's gap.
 */
function firstContributor(sources: VersionSources, homeOrganisationId: string): string | undefined {
  const { partners, originators, homeOriginal, relayedUnattributed } = sources;
  if (homeOriginal) return homeOrganisationId;
  if (originators.size > 0) return originators.size === 1 ? [...originators][0] : undefined;
  if (relayedUnattributed) return undefined;
  if (partners.size === 0) return homeOrganisationId;
  return partners.size === 1 ? [...partners][0] : undefined;
}

/**
 * The organisations a revoked version withdraws the object for: every one that sent or originated it
 * (the home organisation too, for its own write). Unlike counting, withdrawing needs no first:
 * whoever sent a revocation of the object took it back for itself, and it takes nothing from anyone
 * else; its originator (originOfVersion: its verified signer, also through a relay's derived or
 * unsigned copy) withdrew it whichever member node relayed the revocation.
 */
function sendersOf(sources: VersionSources, homeOrganisationId: string): string[] {
  const { partners, originators, homeOriginal } = sources;
  const own = homeOriginal || (partners.size === 0 && originators.size === 0) ? [homeOrganisationId] : [];
  return [...own, ...partners, ...originators];
}

/**
 * Who a version came from: the partners recorded as its contributors, the organisations its arrivals
 * prove originated it (originOfVersion), whether some arrival through federation named no
 * originator, and whether it is the home organisation's original.
 */
interface VersionSources {
  readonly partners: ReadonlySet<string>;
  /** Who its arrivals prove wrote it (originOfVersion): verified signers, traced through copies; a relay only for a copy it signed naming itself creator. */
  readonly originators: ReadonlySet<string>;
  readonly relayedUnattributed: boolean;
  readonly homeOriginal: boolean;
}

/**
 * Every disclosure this node holds that weakness totals may count, each with the one organisation
 * it counts for. Every collection is read, not only the circle's own: an owner keeps its disclosures
 * where they may go (its own or an inner circle's collection) and opts a wider circle in through the
 * marking (`aggregate_circle_refs`), which only the version's contributor wrote. Each version found
 * counts for the one organisation firstContributor names (its originator, when its arrivals prove
 * one), whichever collection holds the copy read, and never pairs one copy's content with another
 * copy's contributor. Of one object, each organisation
 * counts through the latest version it contributed that some collection holds as its latest: a
 * newer version someone else wrote under the same id counts for that writer alone and takes nothing
 * from the owner's. A revoked version (the organisation withdrew what it said; STIX 2.1 lets no
 * version follow it) withdraws the object for every organisation that sent it, whichever collection
 * holds it and whatever older version another collection still holds as its latest. Expiry does not
 * arise: none of the types counted has a valid_until in STIX 2.1.
 */
export async function weaknessDisclosures(store: ObjectStore, homeOrganisationId: string): Promise<WeaknessDisclosure[]> {
  const latest = new Map<string, { object: StixObject; version: string; contributor: string }>();
  const withdrawn = new Set<string>();
  const keep = (entry: StoredEntry, contributor: string): void => {
    const key = `${contributor}\u0000${entry.id}`;
    const held = latest.get(key);
    const order = held === undefined ? 1 : compareVersions(entry.version, held.version);
    // Two keys of one instant ('…:00Z', '…:00.000Z') are two versions: the larger key, so that the order of collections does not decide.
    if (held === undefined || order > 0 || (order === 0 && entry.version > held.version)) {
      latest.set(key, { object: JSON.parse(entry.json) as StixObject, version: entry.version, contributor });
    }
  };
  for (const collection of await store.listCollections()) {
    let after: number | undefined;
    for (;;) {
      // No versions selector: each object's latest version in this collection.
      const page = await store.listEntries(collection.id, { types: WEAKNESS_TYPES }, { limit: 1000, ...(after === undefined ? {} : { after }) });
      // Contributions of each version in every collection, not only this one: whoever sent the same version anywhere sent it.
      const contributions = await store.contributionsOfEntries(collection.id, page.entries);
      const partnersOf = page.entries.map((entry) => new Set((contributions.get(versionKey(entry.id, entry.version)) ?? []).map((c) => c.organisationId)));
      const sent = page.entries.filter((_entry, index) => (partnersOf[index]?.size ?? 0) > 0);
      // Only a version someone sent can have arrived signed, or be anything but the home organisation's own.
      const provenance = sent.length === 0 ? new Map<string, ProvenanceRecord[]>() : await store.provenanceOf(sent.map((entry) => ({ id: entry.id, version: entry.version })));
      const homeOriginals = await store.homeOriginalsIn(sent.map((entry) => ({ id: entry.id, version: entry.version })));
      const homeOriginal = new Map(sent.map((entry, index) => [entry, homeOriginals[index] === true]));
      page.entries.forEach((entry, index) => {
        const origin = originOfVersion(provenance.get(versionKey(entry.id, entry.version)) ?? [], { createdBy: () => createdByOf(entry) });
        const sources: VersionSources = {
          partners: partnersOf[index] ?? new Set<string>(),
          originators: origin.originators,
          relayedUnattributed: origin.unattributed,
          homeOriginal: homeOriginal.get(entry) === true,
        };
        if (entry.revoked) {
          for (const sender of sendersOf(sources, homeOrganisationId)) withdrawn.add(`${sender}\u0000${entry.id}`);
          return;
        }
        const contributor = firstContributor(sources, homeOrganisationId);
        if (contributor !== undefined) keep(entry, contributor);
      });
      const last = page.entries.at(-1);
      if (!page.more || last === undefined) break;
      after = last.dateAdded;
    }
  }
  return [...latest].filter(([key]) => !withdrawn.has(key)).map(([, { object, contributor }]) => ({ object, contributor }));
}

/** The creator a stored version names, read only for a derived copy no verified version backs. */
function createdByOf(entry: StoredEntry): unknown {
  return (JSON.parse(entry.json) as StixObject).created_by_ref;
}
