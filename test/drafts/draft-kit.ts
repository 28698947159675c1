/**
 * Drafts made for tests straight in the store, as `entente extract` and the API record them: a
 * text file (its SHA-256 that of the text), no items and no warnings unless the test gives some.
 */
import { createHash } from 'node:crypto';
import type { NewDraft } from '../../src/drafts/draft.ts';

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
