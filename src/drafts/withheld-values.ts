// What a publication must not carry: the values of the items the analyst did not accept (rejected,
// or still pending) and the value an edited item had before the analyst's edit. They are found in
// any text the publication builds (a sentence of evidence, the report's name) however the report
// wrote them: in any case, defanged (hxxp://, [.], [@] … read as the extractor reads them), and as
// the very characters at the item's evidence spans; each is replaced with WITHHELD. Text the analyst
// accepted is left alone: a rejected domain inside an accepted URL, say, goes out as part of that URL
// (the URL is published anyway), while the URL as it was before an edit is withheld whole. Pure.
import { createAhoCorasick, type AhoCorasick } from '../correlate/aho-corasick.ts';
import { refang } from '../extract/refang.ts';
import { effectiveValue, isPublishable, type Draft, type DraftItem } from './draft.ts';

export const WITHHELD = '[withheld]';

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Lower case code unit by code unit, so that offsets stay those of the original text. */
function fold(text: string): string {
  const lower = text.toLowerCase();
  // Almost always: only a few characters (İ, for one) change length in lower case.
  if (lower.length === text.length) return lower;
  let out = '';
  for (const char of text) {
    const lower = char.toLowerCase();
    out += lower.length === char.length ? lower : char;
  }
  return out;
}

function isWordAt(text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return false;
  const code = text.codePointAt(index) ?? 0;
  // A low surrogate belongs to the code point that starts before it.
  const char = code >= 0xdc00 && code <= 0xdfff && index > 0 ? String.fromCodePoint(text.codePointAt(index - 1) ?? 0) : String.fromCodePoint(code);
  return WORD_CHAR.test(char);
}

interface Range {
  readonly start: number;
  readonly end: number;
  readonly item: string;
}

/**
 * Finds whole mentions of a set of strings, in one pass over a text however many strings there are
 * (correlate/aho-corasick.ts): a mention starting (ending) with a letter or digit must not continue a
 * word there, so that 10.0.0.1 is not found in 10.0.0.15.
 */
class Finder {
  /** Folded string (white space as single spaces) → item. */
  private readonly texts = new Map<string, string>();
  private automaton: { readonly literals: readonly string[]; readonly search: AhoCorasick } | undefined;

  add(value: string, item: string): void {
    const text = fold(value.replace(/\s+/g, ' ').trim());
    // A string without a letter or digit names nothing a reader could recognise.
    if (!WORD_CHAR.test(text) || this.texts.has(text)) return;
    this.texts.set(text, item);
    this.automaton = undefined;
  }

  get size(): number {
    return this.texts.size;
  }

  /** Mentions in `folded` (already folded), as offsets into it. */
  find(folded: string): Range[] {
    const found: Range[] = [];
    if (this.texts.size === 0) return found;
    if (this.automaton === undefined) {
      const literals = [...this.texts.keys()];
      this.automaton = { literals, search: createAhoCorasick(literals) };
    }
    const { literals, search } = this.automaton;
    search.search(folded, (index, end) => {
      const text = literals[index] as string;
      const start = end - text.length;
      if (isWordAt(text, 0) && isWordAt(folded, start - 1)) return;
      if (isWordAt(text, text.length - 1) && isWordAt(folded, end)) return;
      found.push({ start, end, item: this.texts.get(text) ?? '' });
    });
    return found;
  }
}

export interface WithheldValues {
  /** True when the draft withholds nothing (every item accepted as proposed). */
  readonly none: boolean;
  /** The text with every withheld mention replaced with WITHHELD. */
  redact(text: string): string;
  /** The item whose withheld value the text still mentions, if any. */
  mentionIn(text: string): string | undefined;
}

/**
 * The characters the report has at an item's evidence spans: how it wrote the value. Not for a
 * span as long as its sentence on an ATT&CK item: tagging's model reads whole sentences, and its
 * evidence is the sentence it read, not the technique written. Taken for the technique's written
 * form, that sentence was kept whole when the technique was accepted (whatever rejected value it
 * named then went out in every description quoting it) and withheld whole when it was rejected. The
 * item's id and name stand for it either way.
 */
function writtenForms(draft: Draft, item: DraftItem): string[] {
  return item.evidence
    .filter((evidence) => item.method.source !== 'tagger' || evidence.end - evidence.start < evidence.sentence.length)
    .map((evidence) => draft.text.slice(evidence.start, evidence.end))
    .filter((form) => form.length > 0 && form.length <= 10_000);
}

/**
 * What `draft` withholds, and the accepted text that stays: `accepted` adds strings built from
 * accepted values (indicator patterns, the values of the SCOs built from them).
 */
export function withheldValuesOf(draft: Draft, accepted: readonly string[] = []): WithheldValues {
  const withheld = new Finder();
  const kept = new Finder();
  for (const item of draft.items) {
    if (isPublishable(item)) {
      const value = effectiveValue(item);
      kept.add(value, item.id);
      if (item.decision.pattern !== undefined) kept.add(item.decision.pattern, item.id);
      if (value === item.value) {
        for (const form of writtenForms(draft, item)) kept.add(form, item.id);
        if (item.name !== undefined) kept.add(item.name, item.id);
      } else {
        // The value before the edit, in every form the report gave it.
        withheld.add(item.value, item.id);
        for (const form of writtenForms(draft, item)) withheld.add(form, item.id);
      }
    } else {
      withheld.add(item.value, item.id);
      if (item.name !== undefined) withheld.add(item.name, item.id);
      for (const form of writtenForms(draft, item)) withheld.add(form, item.id);
    }
  }
  for (const text of accepted) kept.add(text, '');

  /** Withheld mentions in `text` not inside an accepted one, as offsets into `text`, sorted. */
  const mentions = (text: string): Range[] => {
    if (withheld.size === 0) return [];
    const readings: { folded: string; toOriginal: (offset: number) => number }[] = [{ folded: fold(text), toOriginal: (offset) => offset }];
    const refanged = refang(text);
    if (refanged.replacements > 0) readings.push({ folded: fold(refanged.text), toOriginal: (offset) => refanged.toOriginal(offset) });
    const found: Range[] = [];
    const keptRanges: Range[] = [];
    for (const reading of readings) {
      const back = (range: Range): Range => ({ start: reading.toOriginal(range.start), end: reading.toOriginal(range.end), item: range.item });
      found.push(...withheld.find(reading.folded).map(back));
    }
    if (found.length === 0) return found;
    for (const reading of readings) {
      const back = (range: Range): Range => ({ start: reading.toOriginal(range.start), end: reading.toOriginal(range.end), item: range.item });
      keptRanges.push(...kept.find(reading.folded).map(back));
    }
    return found
      .filter((range) => !keptRanges.some((keep) => keep.start <= range.start && range.end <= keep.end))
      .sort((a, b) => a.start - b.start || b.end - a.end);
  };

  return {
    none: withheld.size === 0,
    redact(text) {
      const ranges = mentions(text);
      if (ranges.length === 0) return text;
      let out = '';
      let last = 0;
      for (const range of ranges) {
        if (range.end <= last) continue;
        out += text.slice(last, Math.max(last, range.start));
        if (range.start >= last) out += WITHHELD;
        last = range.end;
      }
      return out + text.slice(last);
    },
    mentionIn(text) {
      return mentions(text)[0]?.item;
    },
  };
}
