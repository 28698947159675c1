// `entente flash promote`: a flash message becomes a STIX note in its circle's collection, so that
// the warning syncs like any other intelligence. Pure: the note's id and time are passed in.
import { TLP2_MARKING_IDS, type TlpLevel } from '../policy/tlp.ts';
import type { StixObject } from '../stix/types.ts';
import type { FlashRecord } from '../store/federation-store.ts';

/** The longest abstract; the full text is the note's content. */
export const MAX_NOTE_ABSTRACT = 200;

/** The external reference that ties a note to the flash it was promoted from. */
export const FLASH_SOURCE_NAME = 'entente-flash';

/** The first non-blank line of the text, shortened to MAX_NOTE_ABSTRACT characters. */
export function abstractOf(text: string): string {
  const line = text.split(/\r\n|\r|\n/).map((part) => part.trim()).find((part) => part !== '') ?? '';
  const chars = [...line];
  return chars.length <= MAX_NOTE_ABSTRACT ? line : `${chars.slice(0, MAX_NOTE_ABSTRACT - 1).join('')}…`;
}

/**
 * The note: abstract = first line, content = the whole text, object_refs = the indicator the flash
 * names (else the sender's identity: a note must refer to something, and the warning is the
 * sender's), marked with the circle's default TLP, created by the home organisation (which
 * publishes it), with an external reference carrying the flash id.
 *
 * No free text names the sender: the release decision removes an attribution it must not give
 * (created_by_ref under anonymising terms, organisations a hidden circle hides) from properties it
 * knows, never from prose, and the terms in force when the note is released may not be those of
 * the day it was promoted. Who sent it is recorded where the release gate reads it (the sender's
 * contribution, see promoteFlash); only object_refs may still name the sender, which promoteFlash
 * allows only where the circle neither hides members nor anonymises.
 */
export function toFlashNote(
  flash: Pick<FlashRecord, 'id' | 'text' | 'indicatorId' | 'senderOrganisationId'>,
  options: { readonly noteId: string; readonly now: Date; readonly homeOrganisationId: string; readonly tlp: Exclude<TlpLevel, 'clear'> },
): StixObject {
  const timestamp = options.now.toISOString();
  return {
    type: 'note',
    spec_version: '2.1',
    id: options.noteId,
    created: timestamp,
    modified: timestamp,
    created_by_ref: options.homeOrganisationId,
    abstract: abstractOf(flash.text),
    content: flash.text,
    object_refs: [flash.indicatorId ?? flash.senderOrganisationId],
    object_marking_refs: [TLP2_MARKING_IDS[options.tlp]],
    external_references: [{ source_name: FLASH_SOURCE_NAME, external_id: flash.id, description: 'Promoted from an Entente flash message' }],
  } as StixObject;
}
