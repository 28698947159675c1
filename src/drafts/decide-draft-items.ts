// An analyst's decision on draft items: accept, reject, or edit (a new value, checked as strictly
// as the extractor's own, and for observables optionally a STIX pattern that must parse). Pure:
// the time and the analyst come in; the changed items come out.
import { EntenteError } from '../errors/entente-error.ts';
import type { Draft, DraftDecision, DraftItem } from './draft.ts';
import { checkItemValue, checkPattern } from './item-values.ts';

export type DecisionInput =
  | { readonly decision: 'accept' | 'reject'; readonly reason?: string }
  | { readonly decision: 'edit'; readonly value?: string; readonly pattern?: string };

export const MAX_ANALYST_CHARS = 200;
export const MAX_REASON_CHARS = 2000;

/** The items of a draft by id, refusing unknown ids (all of them named) before anything changes. */
export function requireItems(draft: Draft, itemIds: readonly string[]): DraftItem[] {
  if (itemIds.length === 0) throw new EntenteError('ENT_CLI_USAGE', 'name at least one item of the draft');
  const byId = new Map(draft.items.map((item) => [item.id, item]));
  const unknown = itemIds.filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 10).map((id) => JSON.stringify(id.slice(0, 40))).join(', ');
    throw new EntenteError('ENT_DRAFT_ITEM_NOT_FOUND', `draft ${draft.id} has no item ${shown} (items are 1–${draft.items.length})`, {
      draft: draft.id,
      items: unknown.slice(0, 10).map((id) => id.slice(0, 40)),
    });
  }
  return [...new Set(itemIds)].map((id) => byId.get(id) as DraftItem);
}

export function checkAnalyst(analyst: string): string {
  const name = analyst.trim();
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > MAX_ANALYST_CHARS || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new EntenteError('ENT_DRAFT_DECISION_INVALID', `the analyst name must be 1–${MAX_ANALYST_CHARS} printable characters`);
  }
  return name;
}

/**
 * Applies one decision to the named items of a draft and returns the changed items. A published
 * draft is closed (ENT_DRAFT_PUBLISHED); an edit names exactly one item and must check; accepting
 * an edited item keeps the edit.
 */
export function decideDraftItems(draft: Draft, itemIds: readonly string[], input: DecisionInput, analyst: string, now: Date): DraftItem[] {
  if (draft.publication !== undefined) {
    throw new EntenteError('ENT_DRAFT_PUBLISHED', `draft ${draft.id} was published at ${draft.publication.publishedAt}; its decisions are final`, {
      draft: draft.id,
      report: draft.publication.reportId,
    });
  }
  const who = checkAnalyst(analyst);
  const items = requireItems(draft, itemIds);
  const decidedAt = now.toISOString();
  if (input.decision === 'edit') {
    if (items.length !== 1) throw new EntenteError('ENT_DRAFT_DECISION_INVALID', 'an edit names exactly one item');
    const item = items[0] as DraftItem;
    if (input.value === undefined && input.pattern === undefined) {
      throw new EntenteError('ENT_DRAFT_DECISION_INVALID', 'an edit gives a new value (and, for an observable, optionally a STIX pattern)');
    }
    const value = input.value === undefined ? undefined : checkItemValue(item, input.value);
    if (value !== undefined && !value.ok) {
      throw new EntenteError('ENT_DRAFT_VALUE_INVALID', `item ${item.id} (${describe(item)}): ${value.error}`, { draft: draft.id, item: item.id });
    }
    let pattern: string | undefined;
    if (input.pattern !== undefined) {
      if (item.kind !== 'observable') {
        throw new EntenteError('ENT_DRAFT_VALUE_INVALID', `item ${item.id} (${describe(item)}): only observables take a STIX pattern`, { draft: draft.id, item: item.id });
      }
      const checked = checkPattern(input.pattern);
      if (!checked.ok) throw new EntenteError('ENT_DRAFT_VALUE_INVALID', `item ${item.id}: ${checked.error}`, { draft: draft.id, item: item.id });
      pattern = checked.value;
    }
    // An edit changes what it names and keeps the rest of an earlier edit: a pattern given alone
    // must not bring back the value the analyst edited away, nor a value given alone drop their pattern.
    const earlier = item.decision.state === 'edited' ? item.decision : undefined;
    const kept = pattern ?? earlier?.pattern;
    const decision: DraftDecision = {
      state: 'edited',
      value: value?.value ?? earlier?.value ?? item.value,
      ...(kept === undefined ? {} : { pattern: kept }),
      editedBy: who,
      editedAt: decidedAt,
      analyst: who,
      decidedAt,
    };
    return [{ ...item, decision }];
  }
  const reason = input.reason?.trim();
  if (reason !== undefined && reason.length > MAX_REASON_CHARS) {
    throw new EntenteError('ENT_DRAFT_DECISION_INVALID', `the reason is longer than ${MAX_REASON_CHARS} characters`);
  }
  const note = reason === undefined || reason === '' ? {} : { reason };
  if (input.decision === 'reject') return items.map((item) => ({ ...item, decision: { state: 'rejected', analyst: who, decidedAt, ...note } }));
  return items.map((item) => ({ ...item, decision: accepted(item.decision, who, decidedAt, note) }));
}

/**
 * Accepting confirms an item as it stands. An edited item stays edited, with the analyst's value
 * and pattern: an edit is often made to take something out of the proposal (a victim's address in
 * a URL), and accepting it afterwards, alone or in a list of items, must not bring that back. Who
 * accepted and when are recorded, as for any decision; who wrote the edit, and when, are kept
 * beside them (editedBy, editedAt): the value is the editor's, not the accepter's.
 */
function accepted(previous: DraftDecision, analyst: string, decidedAt: string, note: { readonly reason?: string }): DraftDecision {
  if (previous.state !== 'edited') return { state: 'accepted', analyst, decidedAt, ...note };
  return {
    state: 'edited',
    ...(previous.value === undefined ? {} : { value: previous.value }),
    ...(previous.pattern === undefined ? {} : { pattern: previous.pattern }),
    ...(previous.editedBy === undefined ? {} : { editedBy: previous.editedBy }),
    ...(previous.editedAt === undefined ? {} : { editedAt: previous.editedAt }),
    analyst,
    decidedAt,
    ...note,
  };
}

export function describe(item: DraftItem): string {
  if (item.kind === 'observable') return item.subtype === undefined ? item.type : `${item.type}:${item.subtype}`;
  return item.kind;
}
