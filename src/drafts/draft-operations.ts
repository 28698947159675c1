// What people do with drafts, from the command line and the console alike: make one from a report,
// decide on its items, publish it to a circle or collection through the one ingest path. The pure
// parts (proposal, decisions, the STIX to publish) live beside this file; this one reads and writes
// the store.
import { createHash, randomUUID } from 'node:crypto';
import { findCollection, homeSightingsCollectionOf, readHomeOrganisation } from '../bootstrap-node.ts';
import type { DocumentText } from '../documents/document-text.ts';
import { locateOffset } from '../documents/document-text.ts';
import { readDocument } from '../documents/read-document.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { Observable } from '../extract/extract-observables.ts';
import { loadExtractData } from '../extract/load-extract-data.ts';
import { isAtLeastAsStrict, isTlpLevel, stricterOf, TLP_LEVELS, tlpRank, type TlpLevel } from '../policy/tlp.ts';
import { isShippedCatalogueEntry, shippedCatalogueEntriesOrNone } from '../release/public-catalogue.ts';
import { withoutEntenteSignature } from '../stix/entente-signature.ts';
import type { StixObject } from '../stix/types.ts';
import { ingest } from '../store/ingest.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { latestEntriesIn } from '../store/latest-in-collection.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import { tagText, type TagResult } from '../tagging/tag-text.ts';
import { buildPublication } from './build-publication.ts';
import { extractDocument, withExtractionWarnings } from './extract-document.ts';
import { checkAnalyst, decideDraftItems, type DecisionInput } from './decide-draft-items.ts';
import { strictestTlpLabel, type DocumentTlpLabel } from './document-tlp-label.ts';
import { canSeeDraft, draftRevision, isPublishable, type Draft, type DraftItem, type DraftPublication, type DraftSummary, type DraftViewer, type NewDraft } from './draft.ts';
import { proposeDraftItems, titleOf } from './propose-draft-items.ts';

export interface DraftDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly randomUuid: () => string;
  readonly homeOrganisationId: string;
}

export interface ReportForDraft {
  readonly fileName: string;
  readonly bytes: Uint8Array;
  readonly doc: DocumentText;
  /** What extraction found in doc.text (the caller may already have run it). */
  readonly observables: readonly Observable[];
  readonly createdBy?: string;
}

const MAX_FILE_NAME_CHARS = 255;

/** The file name as the draft keeps it: its last path segment, printable, at most 255 characters. */
export function cleanFileName(fileName: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (fileName.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_FILE_NAME_CHARS);
  return base === '' ? 'report' : base;
}

/**
 * Most characters of a report's text that ATT&CK tagging reads (about 1,000 pages). Tagging costs
 * about a second per million characters on the thread that drafts (for POST /api/drafts a worker
 * thread, DraftWorkerPool, once the event loop): the 32 Mi characters a document may yield held it
 * for about 30 s. Extraction, twenty times cheaper, still reads the whole text.
 */
export const MAX_TAGGED_CHARS = 4 * 1024 * 1024;

/** The text's ATT&CK/ATLAS tags (of its first `maxChars` characters, with a warning past them); undefined, with a warning, when tagging cannot run. */
export function tagReportText(text: string, warnings: string[], maxChars = MAX_TAGGED_CHARS): TagResult | undefined {
  const read = text.length > maxChars ? text.slice(0, maxChars) : text;
  if (read !== text) warnings.push(`ATT&CK tagging read the first ${maxChars} of the ${text.length} characters of the text: techniques, software and groups named only after them are not proposed`);
  try {
    return tagText(read);
  } catch (error) {
    if (!(error instanceof EntenteError)) throw error;
    warnings.push(`ATT&CK tagging did not run: ${error.code}: ${error.message}`);
    return undefined;
  }
}

/** The draft a report proposes (not yet stored): extraction's observables and tagging's techniques, software and groups. */
export function proposeDraft(report: ReportForDraft, now: Date, tags?: TagResult): NewDraft {
  const warnings = [...report.doc.warnings];
  // Said at once, so that the analyst reviews with the author's marking in mind; publication reads
  // the label again from the stored text (publishDraft), whatever this warning became.
  const label = strictestTlpLabel(report.doc.text);
  if (label !== undefined) warnings.push(`the document is marked ${describeLabel(label)}: it is published at TLP:${label.level.toUpperCase()} or stricter`);
  const proposal = proposeDraftItems({
    text: report.doc.text,
    observables: report.observables,
    tags: tags ?? tagReportText(report.doc.text, warnings),
    locate: (offset) => locateOffset(report.doc, offset),
  });
  const fileName = cleanFileName(report.fileName);
  return {
    source: {
      fileName,
      sha256: createHash('sha256').update(report.bytes).digest('hex'),
      format: report.doc.format,
      ...(report.doc.pages === undefined ? {} : { pages: report.doc.pages }),
    },
    title: titleOf(report.doc.text, fileName),
    text: report.doc.text,
    createdAt: now.toISOString(),
    ...(report.createdBy === undefined ? {} : { createdBy: report.createdBy }),
    items: proposal.items,
    warnings: [...warnings, ...proposal.warnings],
  };
}

/**
 * Stores the draft a report proposes, as the work of `by`: an API token's draft is that token's (and
 * administrators'), one the operator makes at the command line administrators' only (canSeeDraft).
 */
export async function createDraft(deps: Pick<DraftDeps, 'store' | 'clock'>, report: ReportForDraft, by: DraftViewer): Promise<Draft> {
  return storeDraft(deps, proposeDraft(report, deps.clock()), by);
}

/** Stores a proposed draft as the work of `by` (createDraft), with a warning when the same file is drafted already. */
export async function storeDraft(deps: Pick<DraftDeps, 'store'>, draft: NewDraft, by: DraftViewer): Promise<Draft> {
  // The same file again (drafted before, or it came by two routes): say so, do not refuse. Only
  // drafts the uploader may see are named: another token's would tell that someone holds the file.
  const earlier = (await listVisibleDrafts(deps, by)).filter((summary) => summary.source.sha256 === draft.source.sha256).map((summary) => summary.id);
  const warnings = earlier.length === 0 ? draft.warnings : [...draft.warnings, `the same file (SHA-256) is already draft ${earlier.slice(0, 5).join(', ')}`];
  return deps.store.createDraft({ ...draft, ...(by === 'operator' ? {} : { createdByToken: by.token }), warnings });
}

/** The drafts this viewer may see, newest first, without text and items. */
export async function listVisibleDrafts(deps: Pick<DraftDeps, 'store'>, viewer: DraftViewer): Promise<DraftSummary[]> {
  return (await deps.store.listDrafts()).filter((summary) => canSeeDraft(viewer, summary));
}

/** A report as uploaded: its bytes in any supported format, and what extraction is told about it. */
export interface DraftUpload {
  readonly fileName: string;
  readonly bytes: Uint8Array;
  readonly createdBy?: string;
  readonly publisherDomains?: readonly string[];
}

/**
 * What turns an upload into the draft it proposes: proposeDraftFromBytes on the caller's thread, or
 * a worker thread running it (DraftWorkerPool, for the HTTP server, whose event loop it would hold).
 */
export type DraftProposer = (upload: DraftUpload) => Promise<NewDraft>;

/**
 * Reads a report's bytes, extracts and tags them: the draft they propose, not stored. CPU-bound for
 * seconds on a dense report; it needs no store, so that it can run on a worker thread. `createdAt`
 * is `now`; createDraftFromBytes replaces it with the node's clock.
 */
export async function proposeDraftFromBytes(upload: DraftUpload, now = new Date()): Promise<NewDraft> {
  const fileName = cleanFileName(upload.fileName);
  const doc = await readDocument(upload.bytes, fileName);
  // The text's observables, and a warning for values in the page chrome the reader did not read.
  const extraction = extractDocument(doc, {
    data: loadExtractData(),
    name: fileName,
    ...(upload.publisherDomains === undefined ? {} : { publisherDomains: upload.publisherDomains }),
  });
  const report = { fileName, bytes: upload.bytes, doc: withExtractionWarnings(doc, extraction), observables: extraction.observables };
  return proposeDraft({ ...report, ...(upload.createdBy === undefined ? {} : { createdBy: upload.createdBy }) }, now);
}

/**
 * Reads a report's bytes (any supported format), extracts, tags and stores the draft: the console's
 * upload. `propose` does the reading, extraction and tagging (on this thread by default).
 */
export async function createDraftFromBytes(deps: Pick<DraftDeps, 'store' | 'clock'>, input: DraftUpload, by: DraftViewer, propose: DraftProposer = proposeDraftFromBytes): Promise<Draft> {
  return storeProposedDraft(deps, await propose(input), by);
}

/**
 * Stores a draft proposed elsewhere (proposeDraftFromBytes, possibly on a worker thread) as the work
 * of `by` (storeDraft), dated by the node's clock.
 */
export async function storeProposedDraft(deps: Pick<DraftDeps, 'store' | 'clock'>, draft: NewDraft, by: DraftViewer): Promise<Draft> {
  // Dated by the node's clock once proposed, as before the proposal could run elsewhere: a worker
  // thread has the machine's clock, not the node's (ENTENTE_CLOCK_OFFSET_MS).
  return storeDraft(deps, { ...draft, createdAt: deps.clock().toISOString() }, by);
}

function draftNotFound(draftId: string): EntenteError {
  return new EntenteError('ENT_DRAFT_NOT_FOUND', `No draft ${JSON.stringify(draftId.slice(0, 40))} (entente draft list shows them)`, { draft: draftId.slice(0, 40) });
}

/**
 * Refuses a draft this viewer may not see exactly as one that does not exist (ENT_DRAFT_NOT_FOUND).
 * Decided on the draft's owner alone (one column of one row): nothing else of the draft is read
 * first, so that neither the answer nor the time it takes tells a hidden draft, or its size, from an
 * unknown id. Callers check this before taking the draft's lock, so that a request for a hidden draft
 * never waits behind its author's work either.
 */
export async function requireVisible(deps: Pick<DraftDeps, 'store'>, draftId: string, viewer: DraftViewer): Promise<void> {
  const owner = await deps.store.getDraftOwner(draftId);
  if (owner === undefined || !canSeeDraft(viewer, owner)) throw draftNotFound(draftId);
}

/**
 * The draft, if this viewer may see it. A draft the viewer may not see is answered exactly as one
 * that does not exist (ENT_DRAFT_NOT_FOUND), so that its existence does not show; visibility is
 * decided (requireVisible) before the draft is read.
 */
export async function requireDraft(deps: Pick<DraftDeps, 'store'>, draftId: string, viewer: DraftViewer): Promise<Draft> {
  await requireVisible(deps, draftId, viewer);
  const draft = await deps.store.getDraft(draftId);
  // Checked again on what was read: the owner may have changed in between (entente draft assign).
  if (draft === undefined || !canSeeDraft(viewer, draft)) throw draftNotFound(draftId);
  return draft;
}

/**
 * Gives a draft to an API token (`entente draft assign`, the operator's): that token then sees,
 * decides on and publishes it, besides administrators. For drafts that belong to no token (made
 * before store schema 9 recorded the uploader, or by `entente extract`) or to the wrong one. The
 * token must exist, be unrevoked and act for the home organisation (drafts are its work only).
 */
export async function assignDraft(deps: Pick<DraftDeps, 'store' | 'homeOrganisationId'>, draftId: string, tokenName: string): Promise<{ previousToken?: string }> {
  const owner = await deps.store.getDraftOwner(draftId);
  if (owner === undefined) throw draftNotFound(draftId);
  const token = (await deps.store.listTokens()).find((candidate) => candidate.name === tokenName);
  const shown = JSON.stringify(tokenName.slice(0, 80));
  if (token === undefined) throw new EntenteError('ENT_TOKEN_NOT_FOUND', `No token ${shown} (entente token list shows them)`, { token: tokenName.slice(0, 80) });
  if (token.revokedAt !== undefined) {
    throw new EntenteError('ENT_DRAFT_OWNER_INVALID', `token ${shown} was revoked at ${token.revokedAt}; assign the draft to a token in use (entente token list)`, { token: token.name });
  }
  if (token.organisationId !== undefined && token.organisationId !== deps.homeOrganisationId) {
    throw new EntenteError('ENT_DRAFT_OWNER_INVALID', `token ${shown} acts for partner ${token.organisationId}; drafts are the home organisation's own work`, { token: token.name });
  }
  await deps.store.setDraftOwner(draftId, token.name);
  return owner.createdByToken === undefined ? {} : { previousToken: owner.createdByToken };
}

/**
 * Accepts, rejects or edits items of a draft; returns the changed items. Refused once the draft is
 * published (ENT_DRAFT_PUBLISHED) and while a publication holds it (ENT_DRAFT_PUBLISHING).
 */
export async function decideOnDraft(
  deps: Pick<DraftDeps, 'store' | 'clock'>,
  draftId: string,
  itemIds: readonly string[],
  input: DecisionInput,
  analyst: string,
  viewer: DraftViewer,
): Promise<DraftItem[]> {
  await requireVisible(deps, draftId, viewer);
  return exclusively(deps.store, draftId, async () => {
    const draft = await requireDraft(deps, draftId, viewer);
    const changed = decideDraftItems(draft, itemIds, input, analyst, deps.clock());
    await deps.store.updateDraftItems(draft.id, changed);
    return changed;
  });
}

export interface PublishRequest {
  readonly draftId: string;
  /** Exactly one of circle and collection (id or alias). */
  readonly circle?: string;
  readonly collection?: string;
  /**
   * TLP 2.0 level; a circle's default TLP when absent, raised to the TLP label the report's text
   * carries when that is stricter. Laxer than that label is refused (ENT_DRAFT_TLP_BELOW_LABEL).
   */
  readonly tlp?: string;
  readonly analyst: string;
  /** Who publishes: only a viewer who may see the draft may publish it (canSeeDraft). */
  readonly viewer: DraftViewer;
  /** Rejects the items still pending (recorded as the analyst's decision) instead of refusing. */
  readonly rejectPending?: boolean;
  /** The report's name (the draft's title when absent). */
  readonly name?: string;
  /**
   * The draft's revision (draftRevision) the publisher reviewed: when a decision changed the draft
   * since, nothing is published (ENT_DRAFT_CHANGED). Absent: whatever the draft holds when it is claimed.
   */
  readonly revision?: string;
  /**
   * May the caller write to this collection? (REST: the token's grants.) `hidden` is answered as an
   * unknown collection, so that existence is not revealed. The command line, run by the operator, omits it.
   */
  readonly access?: (collectionId: string) => 'granted' | 'hidden' | 'forbidden';
  /**
   * May the caller read this collection? (REST: the token's grants.) What other collections hold is
   * kept out of the answer (warnings, refusals). The command line, run by the operator, omits it.
   */
  readonly read?: (collectionId: string) => boolean;
}

export interface PublishOutcome {
  readonly publication: DraftPublication;
  /**
   * Object versions newly added to the collection, and those it already held. For a publisher who
   * cannot read the collection (`read`), `added` counts both and `duplicate` is absent: which objects
   * the collection held already is what it holds.
   */
  readonly added: number;
  readonly duplicate?: number;
  readonly report: StixObject;
  readonly objects: readonly StixObject[];
  /** What was published only in part, and what the circle's latest terms keep from its members (TLP above the ceiling, types out of scope). */
  readonly warnings: readonly string[];
}

/** What members of the circle will not receive under its latest terms, in words (publishing goes ahead). */
async function scopeWarnings(deps: DraftDeps, circleId: string | undefined, tlp: TlpLevel, objects: readonly StixObject[]): Promise<string[]> {
  if (circleId === undefined) return [];
  const state = await deps.store.getAgreementState(circleId);
  const latest = state.agreements.reduce<(typeof state.agreements)[number] | undefined>((best, agreement) => (best === undefined || agreement.version > best.version ? agreement : best), undefined);
  if (latest === undefined) return [`circle ${circleId} has no agreement yet: no member receives anything until one is accepted`];
  const warnings: string[] = [];
  if (tlpRank(tlp) > tlpRank(latest.terms.highestTlp)) {
    // Said as it is: the release decision reads the terms at each read, not at publication.
    warnings.push(`TLP:${tlp.toUpperCase()} is above the highest TLP of circle ${circleId}'s terms (TLP:${latest.terms.highestTlp.toUpperCase()}): no member receives it now, but it stays in the circle's collection and a later version of the terms that allows it releases it to the members bound by it`);
  }
  const outside = new Map<string, number>();
  for (const object of objects) if (!latest.terms.scope.types.includes(object.type)) outside.set(object.type, (outside.get(object.type) ?? 0) + 1);
  if (outside.size > 0) {
    warnings.push(`the terms of circle ${circleId} (version ${latest.version}) leave out ${[...outside].map(([type, count]) => `${type} (${count})`).join(', ')}: members do not receive those objects now, but they stay in the circle's collection and a later version of the terms that allows them releases them to the members bound by it`);
  }
  return warnings;
}

function describeLabel(label: DocumentTlpLabel): string {
  return `${label.label} (line ${label.line} of the draft's text)`;
}

/**
 * The TLP to publish at, given the label the report carries: never laxer than the label. A TLP the
 * analyst asked for that is laxer is refused rather than raised, so that no one is surprised by the
 * marking of what they published; without one, the circle's default is raised to the label.
 */
function tlpUnderLabel(draftId: string, target: ResolvedTarget, label: DocumentTlpLabel | undefined): { tlp: TlpLevel; warnings: string[] } {
  if (label === undefined || isAtLeastAsStrict(target.tlp, label.level)) return { tlp: target.tlp, warnings: [] };
  if (target.requested) {
    throw new EntenteError(
      'ENT_DRAFT_TLP_BELOW_LABEL',
      `draft ${draftId} is marked ${describeLabel(label)}: it cannot be published at TLP:${target.tlp.toUpperCase()}; publish with --tlp ${label.level} or stricter`,
      { draft: draftId, label: label.label, label_tlp: label.level, line: label.line, tlp: target.tlp },
    );
  }
  const tlp = stricterOf(target.tlp, label.level);
  return { tlp, warnings: [`the document is marked ${describeLabel(label)}: published at TLP:${tlp.toUpperCase()}, not at the circle's default TLP:${target.tlp.toUpperCase()}`] };
}

interface ResolvedTarget {
  readonly collectionId: string;
  readonly circleId?: string;
  readonly tlp: TlpLevel;
  /** Whether the publisher asked for this TLP (else it is the circle's default). */
  readonly requested: boolean;
}

function unknownCollection(name: string): EntenteError {
  return new EntenteError('ENT_COLLECTION_NOT_FOUND', `No collection ${JSON.stringify(name.slice(0, 80))}`, { collection: name.slice(0, 80) });
}

function refuseEnded(circle: { readonly id: string; readonly validUntil?: string }, now: Date): void {
  if (circle.validUntil !== undefined && Date.parse(circle.validUntil) <= now.getTime()) {
    throw new EntenteError('ENT_CIRCLE_ENDED', `circle ${circle.id} ended at ${circle.validUntil}; nothing more is published to it`, { circle: circle.id });
  }
}

async function resolveTarget(deps: DraftDeps, request: PublishRequest, now: Date): Promise<ResolvedTarget> {
  if ((request.circle === undefined) === (request.collection === undefined)) {
    throw new EntenteError('ENT_DRAFT_TARGET_INVALID', 'publish to exactly one of a circle (--circle) or a collection (--collection)');
  }
  if (request.tlp !== undefined && !isTlpLevel(request.tlp)) {
    throw new EntenteError('ENT_DRAFT_TARGET_INVALID', `TLP must be one of ${TLP_LEVELS.join(', ')}`, { tlp: request.tlp.slice(0, 40) });
  }
  // May the caller write there? Asked as soon as the collection is known and before anything that
  // depends on it: a collection hidden from the caller answers as an unknown one, word for word,
  // whatever else the request lacks (a TLP, say). (Home tokens see every circle; the circle's
  // collection stays as hidden as any other.)
  const checkAccess = (collectionId: string): void => {
    const access = request.access?.(collectionId) ?? 'granted';
    if (access === 'hidden') throw request.collection !== undefined ? unknownCollection(request.collection) : new EntenteError('ENT_COLLECTION_NOT_FOUND', `No collection ${request.circle ?? ''}`);
    if (access === 'forbidden') throw new EntenteError('ENT_COLLECTION_NOT_WRITABLE', `This token may not add to collection ${collectionId}`, { collection_id: collectionId });
  };
  let collectionId: string;
  let circleId: string | undefined;
  let tlp = request.tlp as TlpLevel | undefined;
  if (request.circle !== undefined) {
    const circle = await deps.store.getCircle(request.circle);
    if (circle === undefined) throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${JSON.stringify(request.circle.slice(0, 80))}`, { circle: request.circle.slice(0, 80) });
    checkAccess(circle.collectionId);
    refuseEnded(circle, now);
    collectionId = circle.collectionId;
    circleId = circle.id;
    tlp ??= circle.defaultTlp;
  } else {
    const name = request.collection as string;
    const collection = await findCollection(deps.store, name);
    if (collection === undefined) throw unknownCollection(name);
    checkAccess(collection.id);
    // Written by the node alone, as a TAXII POST is refused there (post-objects.ts): what it holds is
    // read as the node's own record of its matches, whoever may write elsewhere.
    if (collection.id === (await homeSightingsCollectionOf(deps.store))) {
      throw new EntenteError(
        'ENT_COLLECTION_NOT_WRITABLE',
        `Collection ${name} is the home sightings collection: only this node writes it (its matcher's sightings and their evidence); publish to a collection you may write`,
        { collection_id: collection.id },
      );
    }
    collectionId = collection.id;
    // A circle's collection named as a collection is that circle all the same: once it has ended,
    // nothing more is published to it either way.
    const circle = await deps.store.getCircleByCollection(collection.id);
    if (circle !== undefined) refuseEnded(circle, now);
    circleId = circle?.id;
    if (tlp === undefined) {
      throw new EntenteError('ENT_DRAFT_TARGET_INVALID', `choose the TLP of what is published to collection ${name} (--tlp ${TLP_LEVELS.join('|')})`);
    }
  }
  return { collectionId, ...(circleId === undefined ? {} : { circleId }), tlp, requested: request.tlp !== undefined };
}

/**
 * Publishes a reviewed draft: builds the STIX (build-publication.ts), validates every object as any
 * ingest does, ingests them into the circle's (or the named) collection and records the publication
 * in one transaction, all or none (409 ENT_DRAFT_PUBLICATION_REJECTED when the store refuses one for
 * what it holds; 422 ENT_DRAFT_PUBLICATION_INVALID when an object built is not valid STIX).
 * Refuses while items are pending (ENT_DRAFT_UNDECIDED) unless `rejectPending`, a second publication
 * of the same draft (ENT_DRAFT_PUBLISHED; ENT_DRAFT_PUBLISHING while another, in another process,
 * holds it), and a draft changed since the `revision` named
 * (ENT_DRAFT_CHANGED). The items published are those the draft holds once this publication has
 * claimed it: no decision, from this process or another, lands after that.
 */
export async function publishDraft(deps: DraftDeps, request: PublishRequest): Promise<PublishOutcome> {
  const analyst = checkAnalyst(request.analyst);
  await requireVisible(deps, request.draftId, request.viewer);
  return exclusively(deps.store, request.draftId, async () => {
    const now = deps.clock();
    const seen = await requireDraft(deps, request.draftId, request.viewer);
    if (seen.publication !== undefined) throw alreadyPublished(seen.id, seen.publication);
    const resolved = await resolveTarget(deps, request, now);
    // The text never changes once drafted: the label read here is the one the items come with.
    const underLabel = tlpUnderLabel(seen.id, resolved, strictestTlpLabel(seen.text));
    const target = { ...resolved, tlp: underLabel.tlp };
    // Another process (the node, a second command line) may publish or decide on the same draft. The
    // claim comes before the items are read for publication: from then on the store refuses every
    // decision (updateDraftItems: "being published"), so that the items published are the items the
    // draft records. Read before the claim, a rejection landing in between would be recorded and
    // published all the same. The claim is this publication's own (not deps.randomUuid, which mints the
    // STIX ids): should it go stale and be taken over, this publication can neither finish the draft
    // nor release the new claim.
    const claim = { id: randomUUID(), by: analyst, at: now.toISOString() };
    await deps.store.claimDraftPublication(seen.id, claim, new Date(now.getTime() - STALE_CLAIM_MS).toISOString());
    let built: Awaited<ReturnType<typeof buildUnderClaim>>;
    let result: Awaited<ReturnType<typeof ingest>>;
    try {
      built = await buildUnderClaim(deps, request, target, analyst, now);
      // All or nothing: a report without some of the objects it names, or indicators without their
      // report, would be a half-published draft the publisher is told failed. The publication is
      // recorded in the same transaction: objects stored for a draft left unpublished (the process
      // dying in between) would be stored again, under new ids, by the next publication once this
      // claim went stale; and a publisher that lost the draft to another (its claim taken over) stores nothing.
      const { draft, publication, record, decidedNow } = built;
      result = await ingest(deps.store, { collectionId: target.collectionId, objects: publication.objects, publishesDraft: { draftId: draft.id, publication: record, items: decidedNow, claim: claim.id } });
      if (result.rejected.length > 0) {
        // What the store refuses here it refuses for what it holds (a conflicting version, a revoked
        // object, an immutable marking: AddOutcome's codes, all conflicts): 409, the client's to
        // resolve, never a fault of the node. The store's reasons may speak of what other collections
        // hold: only for a publisher who may read them all.
        if (!(await readsEveryCollection(deps, request))) throw refusedObjects(draft.id, target.collectionId, result.rejected.map((rejection) => rejection.id));
        throw new EntenteError('ENT_DRAFT_PUBLICATION_REJECTED', `the store refused ${result.rejected.length} object(s) of draft ${draft.id}: ${result.rejected[0]?.message ?? ''}`, {
          draft: draft.id,
          rejected: result.rejected.slice(0, 10),
        });
      }
    } catch (error) {
      await deps.store.releaseDraftPublication(seen.id, claim.id);
      throw error;
    }
    const { publication, record, readsTarget } = built;
    const warnings = [...underLabel.warnings, ...(await scopeWarnings(deps, target.circleId, target.tlp, publication.objects))];
    // SCO ids come from their content: which objects were duplicates would tell a publisher who
    // cannot read the target which addresses, domains… it held already.
    const counts = readsTarget ? { added: result.accepted, duplicate: result.duplicate } : { added: result.accepted + result.duplicate };
    return { publication: record, ...counts, report: publication.report, objects: publication.objects, warnings };
  });
}

/**
 * The STIX a draft publishes, built from the draft as read under the publication's claim (no decision
 * can change it any more): pending items rejected when asked, ATT&CK objects, every object validated
 * as any ingest validates it. Throws ENT_DRAFT_UNDECIDED, ENT_DRAFT_EMPTY, ENT_DRAFT_PUBLICATION_INVALID,
 * ENT_DRAFT_PUBLICATION_FAILED (buildPublication's last check).
 */
async function buildUnderClaim(
  deps: DraftDeps,
  request: PublishRequest,
  target: ResolvedTarget,
  analyst: string,
  now: Date,
): Promise<{ draft: Draft; publication: ReturnType<typeof buildPublication>; record: DraftPublication; decidedNow: DraftItem[]; readsTarget: boolean }> {
  const stored = await requireDraft(deps, request.draftId, request.viewer);
  // Compared with the draft as the claim fixes it, before --reject-pending decides anything.
  if (request.revision !== undefined) {
    const revision = draftRevision(stored.items);
    if (revision !== request.revision) {
      throw new EntenteError('ENT_DRAFT_CHANGED', `draft ${stored.id} changed since revision ${JSON.stringify(request.revision.slice(0, 40))} was reviewed (now ${revision}): review its items again, then publish revision ${revision}`, {
        draft: stored.id,
        revision,
      });
    }
  }
  const decidedNow: DraftItem[] = [];
  const items = stored.items.map((item) => {
    if (item.decision.state !== 'pending' || request.rejectPending !== true) return item;
    const rejected: DraftItem = { ...item, decision: { state: 'rejected', analyst, decidedAt: now.toISOString(), reason: 'still pending at publication (--reject-pending)' } };
    decidedNow.push(rejected);
    return rejected;
  });
  const draft: Draft = { ...stored, items };

  const publishable = items.filter(isPublishable);
  const attackIds = [...new Set(publishable.flatMap((item) => (item.stixId === undefined ? [] : [item.stixId])))];
  // Only the target collection's own objects are published as stored: an object from any other
  // collection has had no release decision for this target, and copying it would leak it. For a
  // publisher who may write the target but not read it, the target is one more hidden collection:
  // what it holds would show in the objects published (and their count).
  const readsTarget = request.read === undefined || request.read(target.collectionId);
  const inTarget = readsTarget ? await latestIn(deps.store, target.collectionId, attackIds) : new Map<string, StixObject>();
  const attackObjects = new Map<string, StixObject>(inTarget);
  for (const [id, object] of await publicEntriesHeldElsewhere(deps.store, request, attackIds.filter((id) => !inTarget.has(id)))) attackObjects.set(id, object);
  const home = await readHomeOrganisation(deps.store);

  const publication = buildPublication({
    draft,
    now,
    randomUuid: deps.randomUuid,
    createdByRef: deps.homeOrganisationId,
    tlp: target.tlp,
    analyst,
    ...(request.name === undefined ? {} : { name: request.name }),
    attackObjects,
    ...(home !== undefined && home.id === deps.homeOrganisationId ? { homeIdentity: home } : {}),
  });

  const invalid = publication.objects.flatMap((object) => {
    const report = validateForIngest(object);
    return report.valid ? [] : [{ id: object.id, issues: report.issues.filter((issue) => issue.severity === 'error').slice(0, 5) }];
  });
  if (invalid.length > 0) {
    // The draft's content (an item's value the validator refuses), not a fault of the node: 422, with the issues.
    throw new EntenteError('ENT_DRAFT_PUBLICATION_INVALID', `${invalid.length} object(s) built from draft ${draft.id} are not valid STIX 2.1: ${invalid[0]?.id ?? ''}: ${invalid[0]?.issues[0]?.message ?? ''}`, {
      draft: draft.id,
      invalid: invalid.slice(0, 10),
    });
  }
  const record: DraftPublication = {
    publishedAt: now.toISOString(),
    analyst,
    collectionId: target.collectionId,
    ...(target.circleId === undefined ? {} : { circleId: target.circleId }),
    tlp: target.tlp,
    reportId: publication.report.id,
    objectIds: publication.objects.map((object) => object.id),
  };
  return { draft, publication, record, decidedNow, readsTarget };
}

/** True for a publisher who may read every collection (the operator, an administrator): the store's own reasons may be shown to it. */
async function readsEveryCollection(deps: DraftDeps, request: PublishRequest): Promise<boolean> {
  const read = request.read;
  if (read === undefined) return true;
  return (await deps.store.listCollections()).every((collection) => read(collection.id));
}

/**
 * The answer to objects the store cannot add that the publisher could not foresee: which, and what
 * to do, but not why (the reason may be a copy in a collection hidden from the publisher).
 */
function refusedObjects(draftId: string, collectionId: string, ids: readonly string[]): EntenteError {
  const unique = [...new Set(ids)];
  return new EntenteError(
    'ENT_DRAFT_PUBLICATION_REJECTED',
    `the node cannot add ${unique.length} object(s) built from draft ${draftId} to collection ${collectionId} (${unique.slice(0, 3).join(', ')}${unique.length > 3 ? ', …' : ''}): reject the items they come from, or ask an administrator`,
    { draft: draftId, refused: unique.slice(0, 10) },
  );
}

/**
 * Versions of ATT&CK/ATLAS objects, held in collections the publisher may read, that say nothing but
 * what the shipped catalogue says of them (isShippedCatalogueEntry): public, so they may go beside
 * the report, without the Entente signature they may carry (whoever signed one is not public, and did
 * not sign for this target). Any other version is someone's own (a partner's notes in a technique's
 * description, markings) and stays where it is. Collections the publisher cannot read are left out
 * (whatever they hold), so that whether a copy is published tells nothing of what they hold.
 */
async function publicEntriesHeldElsewhere(store: ObjectStore, request: PublishRequest, ids: readonly string[]): Promise<Map<string, StixObject>> {
  const found = new Map<string, StixObject>();
  if (ids.length === 0) return found;
  const catalogue = shippedCatalogueEntriesOrNone();
  const wanted = ids.filter((id) => catalogue.has(id));
  if (wanted.length === 0) return found;
  const versions = new Map<string, string>();
  for (const [collectionId, entries] of await store.latestEntriesByCollection(wanted)) {
    if (request.read !== undefined && !request.read(collectionId)) continue;
    for (const [id, entry] of entries) {
      const object = JSON.parse(entry.json) as StixObject;
      if (!isShippedCatalogueEntry(object, catalogue)) continue;
      // The latest public version among those the publisher may read.
      const known = versions.get(id);
      if (known !== undefined && known >= entry.version) continue;
      versions.set(id, entry.version);
      found.set(id, withoutEntenteSignature(object));
    }
  }
  return found;
}

/** The latest version of each id that one collection holds, parsed. */
async function latestIn(store: ObjectStore, collectionId: string, ids: readonly string[]): Promise<Map<string, StixObject>> {
  const found = new Map<string, StixObject>();
  for (const [id, entry] of await latestEntriesIn(store, collectionId, ids)) found.set(id, JSON.parse(entry.json) as StixObject);
  return found;
}

function alreadyPublished(draftId: string, publication: DraftPublication): EntenteError {
  return new EntenteError('ENT_DRAFT_PUBLISHED', `draft ${draftId} was already published at ${publication.publishedAt} as ${publication.reportId} in collection ${publication.collectionId}`, {
    draft: draftId,
    report: publication.reportId,
    collection: publication.collectionId,
  });
}

/** A publication that has not finished after this long was abandoned (its process died): another may take over. */
const STALE_CLAIM_MS = 10 * 60 * 1000;

const draftLocks = new WeakMap<ObjectStore, Map<string, Promise<void>>>();

/** Runs decisions and publication of one draft one at a time in this process. */
async function exclusively<T>(store: ObjectStore, draftId: string, work: () => Promise<T>): Promise<T> {
  let locks = draftLocks.get(store);
  if (locks === undefined) {
    locks = new Map();
    draftLocks.set(store, locks);
  }
  const previous = locks.get(draftId) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.then(() => undefined, () => undefined);
  locks.set(draftId, settled);
  try {
    return await run;
  } finally {
    if (locks.get(draftId) === settled) locks.delete(draftId);
  }
}
