// The TLP label a report carries in its own text ("TLP:RED" in a header, "[TLP:AMBER]" in a
// subject, "TLP: AMBER+STRICT" in a footer). The author marked the document: what is published from
// it must not be laxer than that, whatever the circle's default (draft-operations.ts publishDraft).
// Pure.
import { tlpRank, toTlpLevel, type TlpLevel } from '../policy/tlp.ts';

export interface DocumentTlpLabel {
  readonly level: TlpLevel;
  /** The label as the document writes it, whitespace squeezed (e.g. "TLP: AMBER+STRICT"). */
  readonly label: string;
  /** 1-based line of the draft's text the label is on. */
  readonly line: number;
  /** UTF-16 offset of the label in the draft's text. */
  readonly offset: number;
}

// Only the label form, with its colon: "TLP red" or "the TLP levels" in prose are not labels, and a
// word glued on either side ("XTLP:RED", "TLP:REDACTED", "TLP:AMBER+X") is something else. TLP 1.0's
// WHITE is TLP 2.0's CLEAR; AMBER+STRICT exists in TLP 2.0 only. Horizontal space only, so that a
// label never pairs with a word on the next line.
const LABEL = /(?<![\p{L}\p{N}_])TLP[ \t\u00a0]*:[ \t\u00a0]*(CLEAR|WHITE|GREEN|AMBER(?:[ \t\u00a0]*\+[ \t\u00a0]*STRICT)?|RED)(?![\p{L}\p{N}_+])/giu;

/** The level of a label's word ("AMBER + STRICT", "white"): its spaces squeezed, read as tlp.ts reads levels. */
function levelOf(word: string): TlpLevel | undefined {
  return toTlpLevel(word.replace(/[ \t\u00a0]/g, ''));
}

/** Every TLP label in the text, in order. */
export function documentTlpLabels(text: string): DocumentTlpLabel[] {
  const labels: DocumentTlpLabel[] = [];
  let line = 1;
  let counted = 0;
  for (const match of text.matchAll(LABEL)) {
    const level = levelOf(match[1] ?? '');
    if (level === undefined) continue;
    for (let i = text.indexOf('\n', counted); i !== -1 && i < match.index; i = text.indexOf('\n', i + 1)) line += 1;
    counted = match.index;
    labels.push({ level, label: match[0].replace(/[ \t\u00a0]+/g, ' ').toUpperCase(), line, offset: match.index });
  }
  return labels;
}

/**
 * The strictest TLP label the text carries (the first of them when several are as strict), or
 * undefined. The strictest, not the first: a report whose cover says TLP:GREEN and whose annex says
 * TLP:RED holds RED content.
 */
export function strictestTlpLabel(text: string): DocumentTlpLabel | undefined {
  let strictest: DocumentTlpLabel | undefined;
  for (const label of documentTlpLabels(text)) if (strictest === undefined || tlpRank(label.level) > tlpRank(strictest.level)) strictest = label;
  return strictest;
}
