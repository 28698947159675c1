// The JSON form of drafts for the console and `entente draft … --json`: snake_case, as the node's
// other documents are. Pure.
import { draftRevision, summariseDraft, type Draft, type DraftItem, type DraftPublication, type DraftSummary } from './draft.ts';

export function itemJson(item: DraftItem): Record<string, unknown> {
  const decision = item.decision;
  return {
    id: item.id,
    kind: item.kind,
    type: item.type,
    ...(item.subtype === undefined ? {} : { subtype: item.subtype }),
    value: item.value,
    ...(item.name === undefined ? {} : { name: item.name }),
    ...(item.stixId === undefined ? {} : { stix_id: item.stixId }),
    confidence: item.confidence,
    method: item.method,
    occurrences: item.occurrences,
    // Each occurrence that held invisible characters says so itself (`invisible: true`).
    evidence: item.evidence,
    // The report disguised the value (invisible characters inside it, stripped by extraction).
    ...(item.invisible === true ? { invisible: true } : {}),
    decision: {
      state: decision.state,
      ...(decision.value === undefined ? {} : { value: decision.value }),
      ...(decision.pattern === undefined ? {} : { pattern: decision.pattern }),
      // Who wrote an edited item's value or pattern, apart from `analyst`, who made the decision as it
      // stands (the accept of that edit, possibly by someone else).
      ...(decision.editedBy === undefined ? {} : { edited_by: decision.editedBy }),
      ...(decision.editedAt === undefined ? {} : { edited_at: decision.editedAt }),
      ...(decision.analyst === undefined ? {} : { analyst: decision.analyst }),
      ...(decision.decidedAt === undefined ? {} : { decided_at: decision.decidedAt }),
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    },
  };
}

export function publicationJson(publication: DraftPublication): Record<string, unknown> {
  return {
    published_at: publication.publishedAt,
    analyst: publication.analyst,
    collection_id: publication.collectionId,
    ...(publication.circleId === undefined ? {} : { circle_id: publication.circleId }),
    tlp: publication.tlp,
    report_id: publication.reportId,
    object_ids: publication.objectIds,
  };
}

/**
 * `administrator`: the reader administers the node (an admin token, the operator at the command line)
 * and is shown created_by_token, the API token the draft belongs to (absent: no token, administrators
 * only). Others never see it: it names a token.
 */
export function summaryJson(summary: DraftSummary, administrator = false): Record<string, unknown> {
  return {
    id: summary.id,
    source: {
      file_name: summary.source.fileName,
      sha256: summary.source.sha256,
      format: summary.source.format,
      ...(summary.source.pages === undefined ? {} : { pages: summary.source.pages }),
    },
    title: summary.title,
    created_at: summary.createdAt,
    ...(summary.createdBy === undefined ? {} : { created_by: summary.createdBy }),
    ...(administrator && summary.createdByToken !== undefined ? { created_by_token: summary.createdByToken } : {}),
    counts: summary.counts,
    ...(summary.publication === undefined ? {} : { publication: publicationJson(summary.publication) }),
  };
}

export function draftJson(draft: Draft, withText: boolean, administrator = false): Record<string, unknown> {
  return {
    ...summaryJson(summariseDraft(draft), administrator),
    // What a publication names to publish this state of the draft or nothing (ENT_DRAFT_CHANGED).
    revision: draftRevision(draft.items),
    warnings: draft.warnings,
    items: draft.items.map(itemJson),
    ...(withText ? { text: draft.text } : {}),
  };
}
