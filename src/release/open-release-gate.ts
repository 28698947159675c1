import { pageAuditEntries, pageRelease, type PageRelease } from '../audit/audit-chain.ts';
import { bindingAgreement, ONWARD_SHARING_LEVELS, stricterOnwardSharing } from '../policy/agreement.ts';
import { decideForEveryObject, prepareRelease, type ReleaseDecision, type ReleaseSubject } from '../policy/decide-release.ts';
import { scoIdsNamedBy, type CircleStanding } from '../policy/decide-circle-release.ts';
import { originOfVersion } from '../policy/version-origin.ts';
import type { Circle } from '../policy/circle.ts';
import type { Recipient } from '../policy/recipient.ts';
import { stricterOf, TLP1_MARKING_IDS, TLP2_MARKING_IDS, type TlpLevel } from '../policy/tlp.ts';
import { publicCatalogueIds } from './public-catalogue.ts';
import { homeSightingsCollectionOf, readHomeOrganisation } from '../bootstrap-node.ts';
import { openHomeSightingsGate } from './home-sightings-gate.ts';
import { versionKey, type Contribution, type ObjectStore, type StoredEntry } from '../store/object-store.ts';
import { latestEntriesIn } from '../store/latest-in-collection.ts';
import { addMarkingRefs } from '../stix/add-marking-refs.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';

/**
 * The I/O edge of the release decision for one request: it loads what the pure decision needs (the
 * circle the collection carries, its agreement state, the recipient's sectors, marking definitions,
 * the decisions about referenced objects), asks the release decision (`prepareRelease`, i.e.
 * `decideRelease` with its recipient-level steps done once) about each entry, and records every
 * release to a partner in the audit log before anything is returned. Every read path uses one.
 */
export interface ReleaseGate {
  /**
   * The entries the recipient may receive, in order, up to `room` of them; a redacted entry
   * carries the redacted JSON. Withheld entries are simply absent, exactly as if they did not
   * exist. `consumed` says how many input entries were examined (all, unless `room` ran out), so
   * that a pager knows where the next page starts. An entry that is not the collection's latest
   * version of its object is withheld whenever that latest version is (see `openReleaseGate`).
   */
  release(entries: readonly StoredEntry[], room?: number): Promise<{ released: StoredEntry[]; consumed: number }>;
  /**
   * False when the decision never reads an object's JSON (the home organisation's users), so that
   * callers holding only ids and versions need not load the objects.
   */
  readonly readsObjects: boolean;
  /**
   * True when the decision shares every entry of the collection with this recipient whole, without
   * reading it (decideForEveryObject: the home organisation's readers with the read grant): a pager
   * may then serve the stored texts as they are (ObjectStore.listEntryTexts). Nothing is audited or
   * signed for such readers, since nothing leaves for another party.
   */
  readonly sharesEveryEntry: boolean;
  /**
   * The decision about one entry, without auditing (for checks such as "may the caller see it before
   * deleting"), the rule on newer versions included, as `release` decides it.
   */
  decide(entry: StoredEntry): Promise<ReleaseDecision>;
  /**
   * The circle standing every decision of this gate is taken under (PreparedRelease.standing): the
   * circle's window, the recipient's membership and binding agreement, worked out once when the gate
   * opened. Absent when no circle rules apply (the home organisation's readers, a collection carrying
   * no circle). For callers that must know it besides the decisions (a push stops when it is refused)
   * without reading the circle and its agreements a second time.
   */
  readonly standing?: CircleStanding;
}

export type GateStore = Pick<
  ObjectStore,
  | 'getCircleByCollection'
  | 'getAgreementState'
  | 'getOrganisation'
  | 'markingDefinitions'
  | 'listEntries'
  | 'evidenceReferrersOf'
  | 'appendAudit'
  | 'contributionsOf'
  | 'contributionsOfEntries'
  | 'homeOriginalsIn'
  | 'provenanceOf'
  | 'getMeta'
  | 'listCircles'
>;

type ReceivedVia = NonNullable<ReleaseSubject['receivedVia']>;
/** What termsOfContribution works out: the terms binding the contributor now, without those it arrived under. */
type TermsNow = Omit<ReceivedVia, 'arrivalOnwardSharing'>;

/** How far the gate follows references (relationship → indicator → …) before calling the target unknown. */
const MAX_REFERENCE_DEPTH = 4;
const REFERENCE_KEY = /_refs?$/;
/** The types whose release depends on what they point to (src/policy/README.md rules 12 and 15). */
const REVEALING_TYPES = new Set(['relationship', 'sighting', 'observed-data', 'report', 'grouping', 'note', 'opinion']);
const NOT_REVEALING = new Set(['created_by_ref', 'object_marking_refs']);
const TLP_IDS = new Set<string>([...Object.values(TLP2_MARKING_IDS), ...Object.values(TLP1_MARKING_IDS)]);

type Verdict = ReleaseDecision['kind'] | undefined;

/**
 * A version's counted contributions (countedContributions in openReleaseGate), whether it is provably
 * the home organisation's own, and the circle members whose version a partner relayed into the
 * collection (originatorsOf in openReleaseGate; read only when rule 3a could hold one back).
 */
interface CountedContributions {
  readonly contributions: readonly Contribution[];
  readonly homeOriginal: boolean;
  readonly originators: readonly string[];
}
const NO_CONTRIBUTIONS: CountedContributions = { contributions: [], homeOriginal: false, originators: [] };
const NO_ORIGINATORS: readonly string[] = [];

export interface ReleaseGateOptions {
  /**
   * Record releases in the audit log (default). Off only for paths that return no content to the
   * recipient — the manifest, version lists and status details name ids and versions but are not a
   * release of the object; what they list still passes the same decision.
   */
  readonly audit?: boolean;
  /**
   * Signs what leaves for another organisation (federation/sign-releases.ts): applied after the
   * decision to every entry released to a recipient that is not the home organisation. Without it
   * entries leave exactly as stored (or as redacted).
   */
  readonly signer?: ReleaseSigner;
  /**
   * Acceptances stamped up to this far in this node's future still bind: for releases decided on
   * a circle mirrored from another node, whose clock may be ahead (push to a peer). Default 0.
   */
  readonly agreementClockSkewMs?: number;
  /**
   * STIX ids of public catalogue objects (public-catalogue.ts) that may be named even when this
   * collection does not hold them. Default: the ATT&CK and ATLAS catalogues shipped with Entente.
   */
  readonly publicCatalogue?: ReadonlySet<string>;
}

/** One entry the decision released to another organisation, as the gate read it. */
export interface SignableRelease {
  readonly entry: StoredEntry;
  /** The stored version, as the gate parsed it from `entry.json`. */
  readonly object: StixObject;
  /** The redacted copy when the decision redacts; undefined when the version is shared whole. */
  readonly redacted: StixObject | undefined;
  /**
   * The partner contributions that say where this entry of the collection came from, as the gate
   * counted them (see `countedContributions` in openReleaseGate): empty when the home organisation
   * put the version here as its own.
   */
  readonly contributions: readonly Contribution[];
  /**
   * True when the gate found the version provably the home organisation's own although partners sent
   * it elsewhere (store.homeOriginalsIn): the signer signs it as the origin, whatever was received
   * of it through other collections.
   */
  readonly homeOriginal?: boolean;
}

export interface ReleaseSigner {
  /** The JSON text to send for each released entry, in order: signed, re-signed as derived, or as it is. */
  signReleases(releases: readonly SignableRelease[], context: { readonly recipient: Recipient; readonly circle: Circle | undefined }): Promise<string[]>;
}

/**
 * The release gate for one recipient on one collection at one instant (see ReleaseGate).
 *
 * One rule is added here to the decision about each version, because it is about the other versions
 * of the object and the pure decision sees one: when the collection's latest version of an object is
 * withheld from the recipient, every version of that object is withheld from it. The object then
 * reads as a deleted or recalled one does, on every path (objects, one object with any
 * match[version], its versions, the manifest, status details, search, export, push). Deciding each
 * version alone would let the default read (the latest) answer 404 while /versions/ and
 * match[version]=first|all still served an older version: "a newer version exists and is hidden from
 * you", and, polled, when it came. A latest version that is shared or redacted leaves every older
 * version to its own decision. Listed entries say whether they are the latest (StoredEntry.latest),
 * so a page of latest versions — every default list — costs nothing more; any other page costs one
 * store read of its objects' latest versions, and their decisions, for the whole page.
 */
export async function openReleaseGate(
  store: GateStore,
  recipient: Recipient,
  collectionId: string,
  at: Date,
  options: ReleaseGateOptions = {},
): Promise<ReleaseGate> {
  if (recipient.actsForHome) {
    // The home sightings collection is the one a home reader's grant does not settle unread: a
    // sighting there goes to it only with the indicator it names (home-sightings-gate.ts). One meta
    // read, and only for readers the grant would otherwise give every entry (administrators read
    // every collection, every indicator with it).
    if (!recipient.admin && decideForEveryObject(recipient, collectionId)?.kind === 'share' && collectionId === (await homeSightingsCollectionOf(store))) {
      return openHomeSightingsGate(store, recipient, collectionId);
    }
    return homeGate(recipient, collectionId);
  }

  const circle = await store.getCircleByCollection(collectionId);
  const releasing = await releasingOrganisation(store);
  const base =
    circle === undefined
      ? undefined
      : {
          circle,
          agreements: await store.getAgreementState(circle.id),
          recipientSectors: (await store.getOrganisation(recipient.organisationId))?.sectors ?? [],
          ...releasing,
        };
  // What depends on the recipient, the circle and the instant alone is worked out once for the gate;
  // each entry still passes the whole decision.
  const decideFor = prepareRelease(
    recipient,
    {
      collectionId,
      ...(base === undefined
        ? {}
        : { circle: { ...base, ...(options.agreementClockSkewMs === undefined ? {} : { agreementClockSkewMs: options.agreementClockSkewMs }) } }),
    },
    at,
  );
  const markingDefinitions = new Map<string, JsonObject>();
  const verdicts = new Map<string, Promise<Verdict>>();
  const publicCatalogue = options.publicCatalogue ?? publicCatalogueIds();

  /**
   * The circle's members by their id in lower case (a signature names its signer as its node wrote
   * it), when rule 3a holds back some member's contributions from this recipient; undefined when it
   * holds back none. Then who relayed a version cannot change a decision (every organisation that
   * could be added to its contributors is let through), and provenance is not read (originatorsOf).
   * Asked of the very standing the decision applies (prepareRelease's), whose answers it caches.
   */
  // Worked out at the first version a partner relayed here, not for every request the gate serves.
  let originatorMembersFound: { readonly members: ReadonlyMap<string, string> | undefined } | undefined;
  const originatorMembers = (): ReadonlyMap<string, string> | undefined => {
    originatorMembersFound ??= { members: findOriginatorMembers() };
    return originatorMembersFound.members;
  };
  function findOriginatorMembers(): ReadonlyMap<string, string> | undefined {
    const standing = decideFor.standing;
    // Without a standing (no circle, or none binding the recipient) nothing goes to it at all.
    if (base === undefined || standing?.kind !== 'bound') return undefined;
    if (!base.circle.members.some((member) => standing.contributorRefusal(member.organisationId) !== undefined)) return undefined;
    return new Map(base.circle.members.map((member) => [member.organisationId.toLowerCase(), member.organisationId]));
  }

  /** The marking definitions this object references that are not loaded yet (TLP ids need none). */
  function missingMarkings(object: StixObject): string[] {
    const refs = new Set<string>();
    addMarkingRefs(object, refs);
    return [...refs].filter((ref) => !TLP_IDS.has(ref) && !markingDefinitions.has(ref));
  }

  /**
   * Marking definitions are read from the collection released, not the node: a definition held only
   * in a collection the recipient cannot read would otherwise decide the release of what it wrote
   * here, and so tell it that the definition is held (an existence oracle). TLP 2.0 and 1.0 ids need
   * no definition (decided by the id alone); definitions of the shipped public catalogue are public
   * and read wherever they are held. A definition the collection does not hold stays unknown, and
   * what it marks is withheld. store.markingDefinitions still picks the version (one per id,
   * node-wide: an id stored in several versions is trusted in none); the collection must hold it.
   * The arrival checks read them from the target collection too (federation/load-arrival-context.ts);
   * the weakness totals of a circle read them node-wide (circles/circle-operations.ts, over every
   * collection's weakness objects, as the totals are).
   */
  async function loadMarkings(wanted: readonly string[]): Promise<void> {
    const found = await store.markingDefinitions(wanted);
    const held = await latestEntriesIn(store, collectionId, [...found.keys()].filter((id) => !publicCatalogue.has(id)));
    for (const [id, definition] of found) if (held.has(id) || publicCatalogue.has(id)) markingDefinitions.set(id, definition);
  }

  /** The verdict on the latest version of a referenced object in this collection; undefined when not held or too deep. */
  function verdictOf(id: string, depth: number, path: ReadonlySet<string>): Promise<Verdict> {
    if (depth > MAX_REFERENCE_DEPTH || path.has(id)) return Promise.resolve(undefined);
    const cached = verdicts.get(id);
    if (cached !== undefined) return cached;
    const pending = (async (): Promise<Verdict> => {
      const page = await store.listEntries(collectionId, { ids: [id], versions: [{ kind: 'last' }] }, { limit: 1 });
      const entry = page.entries[0];
      // Not held here: unknown, unless it is a public catalogue object that anyone may name.
      if (entry === undefined) return publicCatalogue.has(id) ? 'share' : undefined;
      return (await decideEntry(entry, depth, new Set([...path, id]))).decision.kind;
    })();
    // A verdict cut short by a cycle is 'unknown' (withhold): caching it can only narrow, never widen.
    verdicts.set(id, pending);
    return pending;
  }

  const sourceTerms = new Map<string, Promise<TermsNow>>();
  /**
   * What a contribution arrived under: the contributor's binding terms in that circle, and the
   * circle's default TLP — the level an unmarked version stood at there — as the circle says now.
   * The terms are those both sides agreed to (bindingAgreement, `agreedBy`: this node's
   * organisation), as for a release to the contributor: in a circle mirrored from its coordinator's
   * node the contributor's acceptances are the coordinator's word, and a version widening onward
   * sharing that this node never accepted must not let what the contributor sent into other circles.
   * Terms as they bind now: the terms a contribution arrived under are the store's record of it
   * (Contribution.arrivalOnwardSharing), and the decision takes the stricter of the two, so that a
   * version both sides accepted later, widening onward sharing, does not apply to what came before.
   */
  function termsOfContribution(collection: string, contributor: string): Promise<TermsNow> {
    const key = `${collection}\u0000${contributor}`;
    let pending = sourceTerms.get(key);
    if (pending === undefined) {
      pending = (async (): Promise<TermsNow> => {
        const source = await store.getCircleByCollection(collection);
        // Received outside any circle (or the collection no longer carries one): no terms were
        // agreed, so nothing allows passing it on, and no default says what level the sender meant
        // for an unmarked version — take the strictest (fail closed).
        if (source === undefined) return { circleId: `collection:${collection}`, onwardSharing: 'none', arrivalDefaultTlp: 'red' };
        const binding = bindingAgreement(await store.getAgreementState(source.id), source, contributor, at, 0, releasing.releasingOrganisationId);
        return {
          circleId: source.id,
          onwardSharing: binding.kind === 'bound' ? binding.agreement.terms.onwardSharing : 'none',
          arrivalDefaultTlp: source.defaultTlp,
        };
      })();
      sourceTerms.set(key, pending);
    }
    return pending;
  }

  /**
   * Of every partner contribution of a version (through any collection), those that bind its release
   * from this collection; `homeOriginal`: the version is provably the home organisation's own
   * (store.homeOriginalsIn).
   *
   * The home organisation's own original: only what partners brought into this very collection
   * counts — what anyone sends of it through another collection changes nothing here.
   *
   * Anything else: the contributions recorded for this collection, and those of every other
   * organisation that sent the same version through another collection. Onward-sharing terms bind a
   * partner's content wherever it reappears — an administrator's copy, or another member posting
   * what it received through a circle it shares with that partner — so the strictest terms it arrived
   * under apply (fail closed). An organisation that contributed the version here is its own source
   * here: its contributions elsewhere add nothing. The price: a partner that sends a version someone
   * else shared here, through a circle with stricter terms, withholds it here too.
   * `created_by_ref` proves nothing: anyone can write it.
   */
  function countedContributions(all: readonly Contribution[], homeOriginal: boolean): readonly Contribution[] {
    const here = all.filter((contribution) => contribution.collectionId === collectionId);
    if (homeOriginal || here.length === all.length) return here;
    const sourcesHere = new Set(here.map((contribution) => contribution.organisationId));
    return all.filter((contribution) => contribution.collectionId === collectionId || !sourcesHere.has(contribution.organisationId));
  }

  /** Whether a version needs store.homeOriginalsIn to count its contributions: some came through another collection. */
  function needsOriginCheck(all: readonly Contribution[]): boolean {
    return all.some((contribution) => contribution.collectionId !== collectionId);
  }

  /**
   * Whether whose version this is in the circle (contributorsOf) depends on store.homeOriginalsIn:
   * an organisation other than the recipient contributed it to this very collection, and the home
   * organisation may have written it here first (a member's node sending back what it pulled).
   */
  function needsOwnerCheck(all: readonly Contribution[]): boolean {
    return all.some((contribution) => contribution.collectionId === collectionId && contribution.organisationId !== recipient.organisationId);
  }

  /** countedContributions for entries loaded one by one (references, `decide`). */
  async function contributionsCountedFor(entry: StoredEntry): Promise<CountedContributions> {
    const all = (await store.contributionsOf([{ id: entry.id, version: entry.version }])).get(versionKey(entry.id, entry.version)) ?? [];
    if (!needsOriginCheck(all) && !needsOwnerCheck(all)) return { contributions: countedContributions(all, false), homeOriginal: false, originators: NO_ORIGINATORS };
    const [original] = await store.homeOriginalsIn([{ id: entry.id, version: entry.version }]);
    const homeOriginal = original === true;
    const originators = needsOriginators(all, homeOriginal) ? ((await originatorsOf([entry])).get(versionKey(entry.id, entry.version)) ?? NO_ORIGINATORS) : NO_ORIGINATORS;
    return { contributions: countedContributions(all, homeOriginal), homeOriginal, originators };
  }

  /**
   * Whether contributorsOf could name the version's originators (originatorsOf): partners sent it
   * into this collection, the recipient not among them, and it is not the home organisation's own —
   * and rule 3a holds back some member's contributions from this recipient.
   */
  function needsOriginators(all: readonly Contribution[], homeOriginal: boolean): boolean {
    if (homeOriginal) return false;
    let partners = false;
    for (const contribution of all) {
      if (contribution.collectionId !== collectionId) continue;
      if (contribution.organisationId === recipient.organisationId) return false;
      partners = true;
    }
    return partners && originatorMembers() !== undefined;
  }

  /**
   * The circle members that originated each version a partner relayed into this collection, by
   * versionKey, as its arrivals into this collection prove it (originOfVersion, the one attribution
   * rule): the organisation whose node signed it, as the arrival checks verified that signature
   * against its pinned key and provenance recorded it (`verification: verified`), also for a derived
   * or unsigned copy of a version a member signed held anywhere here (the same content, re-signed or
   * stripped by the relay: either way the member's consent is asked). A version reaches
   * this node from the peer that delivered it, recorded as its contributor: a coordinator's node
   * passing on what a member posted there, a member's node pushing what it pulled. Rule 3a asks each
   * contributor's consent, and the originator is one: it put the version into the circle, wherever
   * it entered. Only members count: a version that entered the circle through the relay's own
   * onward sharing (its originator no member, its terms with the relay allowing it) is the relay's
   * contribution. Unsigned input and a redaction no verified version backs name no originator: the
   * consent of the partner that delivered it is still asked (contributorsOf), never dropped, since an
   * unknown originator cannot give it. What the object claims (`created_by_ref`) adds no one, except
   * that a derived copy naming its own signer as creator is that signer's (originOfVersion).
   * A member this node does not see (a hidden circle mirrored here) cannot be asked, and is not.
   */
  async function originatorsOf(versions: readonly StoredEntry[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    const members = versions.length === 0 ? undefined : originatorMembers();
    if (members === undefined) return found;
    const byKey = new Map(versions.map((entry) => [versionKey(entry.id, entry.version), entry]));
    for (const [key, records] of await store.provenanceOf(versions.map(({ id, version }) => ({ id, version })))) {
      const entry = byKey.get(key);
      const origin = originOfVersion(records, { collectionId, createdBy: () => (entry === undefined ? undefined : parseObject(entry.json)?.['created_by_ref']) });
      for (const originator of origin.originators) {
        const member = members.get(originator.toLowerCase());
        if (member === undefined) continue;
        const originators = found.get(key);
        if (originators === undefined) found.set(key, [member]);
        else if (!originators.includes(member)) originators.push(member);
      }
    }
    return found;
  }

  /**
   * Whose version this is in the circle (ReleaseSubject.contributors, src/policy/README.md rule 3a),
   * from its counted contributions: the recipient's alone when it sent it here itself (it has it
   * already); the home organisation's (undefined: the decision takes the releasing organisation)
   * when no partner sent it here or the home provably wrote it first; else that of every partner
   * that sent it here, and of every member whose version one of them relayed (originatorsOf) — each
   * must have agreed to terms with the recipient in the circle (fail closed: a copy re-sent by a
   * second member does not make the first one's consent, nor does a relay make the originator's).
   */
  function contributorsOf(counted: CountedContributions): readonly string[] | undefined {
    const here = counted.contributions.filter((contribution) => contribution.collectionId === collectionId);
    if (here.some((contribution) => contribution.organisationId === recipient.organisationId)) return [recipient.organisationId];
    if (counted.homeOriginal || here.length === 0) return undefined;
    return [...new Set([...here.map((contribution) => contribution.organisationId), ...counted.originators])];
  }

  /**
   * How other organisations than the recipient sent this entry's version to the node, from its
   * counted contributions. `secondHand`: any did. `via`: set when one did through another collection
   * (the home organisation copied it here), so that releasing it here is onward sharing, under the
   * strictest terms it arrived with (what arrived through this very circle is not), and an unmarked
   * version stands at no lower level than the strictest default of the circles it arrived through.
   */
  async function receivedFrom(contributions: readonly Contribution[]): Promise<{ via: ReceivedVia | undefined; secondHand: boolean }> {
    // What the recipient itself wrote into this very collection comes back to it as it sent it:
    // someone else holding the same version, here or through another circle, neither makes it
    // second-hand for its source nor puts it under another circle's terms.
    if (contributions.some((contribution) => contribution.collectionId === collectionId && contribution.organisationId === recipient.organisationId)) {
      return { via: undefined, secondHand: false };
    }
    let strictest: Omit<ReceivedVia, 'arrivalDefaultTlp'> | undefined;
    // Apart from the terms: the strictest default may come from another circle than the strictest terms.
    let arrivalDefaultTlp: TlpLevel | undefined;
    let secondHand = false;
    for (const contribution of contributions) {
      if (contribution.organisationId === recipient.organisationId) continue;
      secondHand = true;
      if (contribution.collectionId === collectionId) continue;
      const now = await termsOfContribution(contribution.collectionId, contribution.organisationId);
      const terms = { circleId: now.circleId, onwardSharing: now.onwardSharing, arrivalOnwardSharing: contribution.arrivalOnwardSharing };
      if (strictest === undefined || onwardRank(terms) < onwardRank(strictest)) strictest = terms;
      arrivalDefaultTlp = arrivalDefaultTlp === undefined ? now.arrivalDefaultTlp : stricterOf(arrivalDefaultTlp, now.arrivalDefaultTlp);
    }
    return { via: strictest === undefined || arrivalDefaultTlp === undefined ? undefined : { ...strictest, arrivalDefaultTlp }, secondHand };
  }

  /**
   * How far a contribution may travel on: the stricter of the terms it arrived under and those
   * binding now, as the decision reads them (rule 6). The contribution ranked lowest is handed over,
   * so the decision meets the strictest of all.
   */
  function onwardRank(terms: Omit<ReceivedVia, 'arrivalDefaultTlp'>): number {
    return ONWARD_SHARING_LEVELS.indexOf(stricterOnwardSharing(terms.onwardSharing, terms.arrivalOnwardSharing));
  }

  async function decideEntry(
    entry: StoredEntry,
    depth: number,
    path: ReadonlySet<string>,
    loaded?: CountedContributions,
  ): Promise<{ decision: ReleaseDecision; object?: StixObject }> {
    const object = parseObject(entry.json);
    if (object === undefined) return { decision: { kind: 'withhold', reasons: ['object: stored JSON is not an object'] } };
    // Awaited only when there is something to load: most entries need no store call here.
    const wanted = missingMarkings(object);
    if (wanted.length > 0) await loadMarkings(wanted);
    const referenced = new Map<string, Verdict>();
    for (const id of referencesOf(object)) referenced.set(id, await verdictOf(id, depth + 1, path));
    const counted = loaded ?? (await contributionsCountedFor(entry));
    // No partner contribution of this version: not onward sharing, not second-hand.
    const received = counted.contributions.length === 0 ? undefined : await receivedFrom(counted.contributions);
    const receivedVia = received?.via;
    const contributors = contributorsOf(counted);
    const decision = decideFor(
      {
        id: entry.id, type: entry.type, version: entry.version, object, markingDefinitions,
        ...(receivedVia === undefined ? {} : { receivedVia }),
        ...(received?.secondHand === true ? { secondHand: true } : {}),
        ...(contributors === undefined ? {} : { contributors }),
      },
      (id) => referenced.get(id),
    );
    return { decision, object };
  }

  /**
   * The counted contributions of each entry (by versionKey), read for all of them at once: one store
   * call, one more to tell the home organisation's originals among the entries partners sent
   * elsewhere or (rule 3a) here, and, when rule 3a holds back some member from this recipient, one
   * for the originators of what partners relayed here (originatorsOf). `homeOriginals`: the keys of
   * the originals of versions partners sent elsewhere (SignableRelease.homeOriginal).
   */
  async function contributionsOfAll(entries: readonly StoredEntry[]): Promise<{ counted: Map<string, CountedContributions>; homeOriginals: Set<string> }> {
    const counted = new Map<string, CountedContributions>();
    const homeOriginals = new Set<string>();
    if (entries.length === 0) return { counted, homeOriginals };
    const contributions = await store.contributionsOfEntries(collectionId, entries);
    const originals = new Set<string>();
    const unsure = entries.filter((entry) => {
      const all = contributions.get(versionKey(entry.id, entry.version)) ?? [];
      return needsOriginCheck(all) || needsOwnerCheck(all);
    });
    if (unsure.length > 0) {
      const found = await store.homeOriginalsIn(unsure.map((entry) => ({ id: entry.id, version: entry.version })));
      unsure.forEach((entry, index) => {
        if (found[index] === true) originals.add(versionKey(entry.id, entry.version));
      });
    }
    const relayed = await originatorsOf(
      entries.filter((entry) => {
        const key = versionKey(entry.id, entry.version);
        return needsOriginators(contributions.get(key) ?? [], originals.has(key));
      }),
    );
    for (const entry of entries) {
      const key = versionKey(entry.id, entry.version);
      const all = contributions.get(key) ?? [];
      const homeOriginal = originals.has(key);
      if (homeOriginal && needsOriginCheck(all)) homeOriginals.add(key);
      counted.set(key, { contributions: countedContributions(all, homeOriginal), homeOriginal, originators: relayed.get(key) ?? NO_ORIGINATORS });
    }
    return { counted, homeOriginals };
  }

  function newerVersionWithheld(latest: StoredEntry): ReleaseDecision {
    return {
      kind: 'withhold',
      reasons: [`version: the collection's latest version of ${latest.id} (${latest.version}) is withheld from the recipient, and so is every version of it`],
    };
  }

  /**
   * The entries of a page that the rule on newer versions withholds: those whose object's latest
   * version in the collection is another one, withheld from the recipient. One store read for the
   * latest versions the page does not hold itself, one for their contributions, whatever the page size.
   */
  async function withheldForNewer(entries: readonly StoredEntry[]): Promise<ReadonlySet<StoredEntry>> {
    const withheld = new Set<StoredEntry>();
    const unsure = entries.filter((entry) => entry.latest !== true);
    if (unsure.length === 0) return withheld;
    const latest = new Map<string, StoredEntry>();
    for (const entry of entries) if (entry.latest === true) latest.set(entry.id, entry);
    const missing = [...new Set(unsure.map((entry) => entry.id))].filter((id) => !latest.has(id));
    for (const [id, entry] of await latestEntriesIn(store, collectionId, missing)) latest.set(id, entry);
    // Not held at all any more (deleted meanwhile): nothing newer stands above it, the entry is decided alone.
    const above = new Map<string, StoredEntry>();
    for (const entry of unsure) {
      const newest = latest.get(entry.id);
      if (newest !== undefined && newest.version !== entry.version) above.set(newest.id, newest);
    }
    if (above.size === 0) return withheld;
    const { counted } = await contributionsOfAll([...above.values()]);
    const hidden = new Set<string>();
    for (const newest of above.values()) {
      const { decision } = await decideEntry(newest, 0, new Set([newest.id]), counted.get(versionKey(newest.id, newest.version)));
      if (decision.kind === 'withhold') hidden.add(newest.id);
    }
    for (const entry of unsure) if (hidden.has(entry.id) && above.get(entry.id)?.version !== entry.version) withheld.add(entry);
    return withheld;
  }

  /** For `decide`, entry by entry: the collection's latest version of each id and whether it is withheld, read once per id. */
  const latestVerdicts = new Map<string, Promise<{ readonly latest: StoredEntry; readonly withheld: boolean } | undefined>>();
  function latestVerdictOf(id: string): Promise<{ readonly latest: StoredEntry; readonly withheld: boolean } | undefined> {
    let pending = latestVerdicts.get(id);
    if (pending === undefined) {
      pending = (async () => {
        const latest = (await latestEntriesIn(store, collectionId, [id])).get(id);
        if (latest === undefined) return undefined;
        return { latest, withheld: (await decideEntry(latest, 0, new Set([id]))).decision.kind === 'withhold' };
      })();
      latestVerdicts.set(id, pending);
    }
    return pending;
  }

  return {
    readsObjects: true,
    sharesEveryEntry: false,
    ...(decideFor.standing === undefined ? {} : { standing: decideFor.standing }),
    async decide(entry) {
      if (entry.latest !== true) {
        const verdict = await latestVerdictOf(entry.id);
        if (verdict !== undefined && verdict.withheld && verdict.latest.version !== entry.version) return newerVersionWithheld(verdict.latest);
      }
      return (await decideEntry(entry, 0, new Set([entry.id]))).decision;
    },
    async release(entries, room = Number.POSITIVE_INFINITY) {
      const released: StoredEntry[] = [];
      const signable: SignableRelease[] = [];
      const audit: PageRelease[] = [];
      let consumed = 0;
      const atText = at.toISOString();
      const newer = await withheldForNewer(entries);
      // One store call for the whole page instead of one per entry (contributionsOfAll).
      const { counted, homeOriginals } = await contributionsOfAll(newer.size === 0 ? entries : entries.filter((entry) => !newer.has(entry)));
      for (const entry of entries) {
        // Entries waiting for their signature are released too: they count against the room.
        if (released.length + signable.length >= room) break;
        consumed += 1;
        if (newer.has(entry)) continue;
        const key = versionKey(entry.id, entry.version);
        const contributed = counted.get(key) ?? NO_CONTRIBUTIONS;
        const { decision, object } = await decideEntry(entry, 0, new Set([entry.id]), contributed);
        if (decision.kind === 'withhold' || object === undefined) continue;
        if (options.signer === undefined) released.push(decision.kind === 'redact' ? { ...entry, json: JSON.stringify(decision.redacted) } : entry);
        else signable.push({ entry, object, redacted: decision.kind === 'redact' ? decision.redacted : undefined, contributions: contributed.contributions, homeOriginal: homeOriginals.has(key) });
        if (circle !== undefined && options.audit !== false) audit.push(pageRelease(object, decision));
      }
      if (options.signer !== undefined && signable.length > 0) {
        const texts = await options.signer.signReleases(signable, { recipient, circle });
        signable.forEach((item, index) => released.push(texts[index] === item.entry.json ? item.entry : { ...item.entry, json: texts[index] ?? item.entry.json }));
      }
      // Recorded before anything leaves: a release the log cannot hold does not happen. One entry for the page.
      if (circle !== undefined) await store.appendAudit(pageAuditEntries(recipient.organisationId, circle.id, atText, audit));
      return { released, consumed };
    },
  };
}

/**
 * This node's organisation, as the bootstrap recorded it: the releasing side of every agreement the
 * gate applies (decide-release.ts, CircleChannel.releasingOrganisationId). Nothing when none is
 * recorded (a store made by hand, in tests).
 */
async function releasingOrganisation(store: Pick<ObjectStore, 'getMeta'>): Promise<{ releasingOrganisationId?: string }> {
  const id = (await readHomeOrganisation(store))?.id;
  return typeof id === 'string' ? { releasingOrganisationId: id } : {};
}

/**
 * The home organisation's own users: the grant decides, once for the whole collection (it depends on
 * nothing in the entry); no JSON needs reading, nothing is a release to a party.
 */
function homeGate(recipient: Recipient, collectionId: string): ReleaseGate {
  // Steps 1 and 2 always settle a home reader; should they not, nothing is shared (fail closed).
  const decision: ReleaseDecision = decideForEveryObject(recipient, collectionId) ?? { kind: 'withhold', reasons: ['home: the grant did not settle the decision'] };
  const shares = decision.kind === 'share';
  return {
    readsObjects: false,
    sharesEveryEntry: shares,
    // Methods, not arrow functions: tsx (esbuild keepNames) renames each arrow function it creates
    // with Object.defineProperty, which cost a status request about 5 µs here, on every request.
    async decide() {
      return decision;
    },
    async release(entries, room = Number.POSITIVE_INFINITY) {
      if (!shares) return { released: [], consumed: entries.length };
      const consumed = Math.min(entries.length, room);
      return { released: entries.slice(0, consumed), consumed };
    },
  };
}

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseObject(json: string): StixObject | undefined {
  const value = JSON.parse(json) as JsonValue;
  return isRecord(value) && typeof value['id'] === 'string' && typeof value['type'] === 'string' ? (value as StixObject) : undefined;
}

/**
 * Ids this object reveals by naming them: every `*_ref(s)` but the creator and markings of the types
 * whose release depends on what they point to, and, in any object, every id of an SCO whose id is
 * derived from its content (an id that names an address leaves only with the address).
 */
function referencesOf(object: StixObject): string[] {
  const ids = new Set<string>();
  for (const named of scoIdsNamedBy(object).values()) for (const id of named) ids.add(id);
  if (!REVEALING_TYPES.has(object.type)) return [...ids];
  for (const [key, value] of Object.entries(object)) {
    if (!REFERENCE_KEY.test(key) || NOT_REVEALING.has(key)) continue;
    for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'string') ids.add(id);
  }
  return [...ids];
}
