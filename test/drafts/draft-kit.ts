/**
 * Drafts made for tests straight in the store, as `entente extract` and the API record them: a
 * text file (its SHA-256 that of the text), no items and no warnings unless the test gives some.
 * And the circle the publication tests publish drafts into, made through the circle API.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { DraftItem, NewDraft } from '../../src/drafts/draft.ts';
import { ORG, type CircleApiNode, type Partner } from '../api/circle-api-kit.ts';

/** A draft of `fields.text`; `fields` are what the test is about, the rest is neutral. */
export function newDraft(fields: Partial<NewDraft> & Pick<NewDraft, 'text'>): NewDraft {
  return {
    source: { fileName: 'report.txt', sha256: createHash('sha256').update(fields.text).digest('hex'), format: 'text' },
    title: 'Report',
    createdAt: '2026-11-23T02:00:00.000Z',
    items: [],
    warnings: [],
    ...fields,
  };
}

/** An extracted IPv4 observable, item `id`, quoted once as a C2; pending unless `decision` says otherwise. */
export function ipv4Item(id: string, value: string, decision: DraftItem['decision'] = { state: 'pending' }): DraftItem {
  return {
    id,
    kind: 'observable',
    type: 'ipv4-addr',
    value,
    confidence: 0.9,
    method: { source: 'extractor', detail: 'ipv4-addr' },
    occurrences: 1,
    evidence: [{ start: 0, end: value.length, sentence: `C2 ${value}.` }],
    decision,
  };
}

/** The decision of an item the analyst ana accepted before publication. */
export const ACCEPTED_BY_ANA: DraftItem['decision'] = { state: 'accepted', analyst: 'ana', decidedAt: '2026-11-23T02:30:00.000Z' };

export function expectStatus(response: LightMyRequestResponse, status: number): LightMyRequestResponse {
  assert.equal(response.statusCode, status, response.body.slice(0, 600));
  return response;
}

/**
 * The circle `wide` (tacit, open, AMBER by default) made by the node administrator through the
 * API, with `members` added as consumers and terms proposed (version 1): `types` in scope, up to
 * AMBER, no onward sharing. No member has accepted them yet.
 */
export async function proposeWideCircle(node: CircleApiNode, members: readonly Partner[], types: readonly string[]): Promise<void> {
  expectStatus(await node.call('admin', 'POST', '/api/circles', { id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' }), 201);
  for (const member of members) expectStatus(await node.call('admin', 'POST', '/api/circles/wide/members', { organisation_id: ORG[member], role: 'consumer' }), 200);
  const terms = {
    scope: { types },
    highest_tlp: 'amber',
    onward_sharing: 'none',
    attribution: 'keep',
    expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' },
    end_rule: 'retain',
  };
  expectStatus(await node.call('admin', 'POST', '/api/circles/wide/agreements', { terms }), 201);
}
