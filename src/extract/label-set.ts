// Membership of a run of a text in a set of lower-case labels (TLDs, file extensions) without
// slicing and lower-casing the run: the dotted-window prefilters ask once per dot, and the strings
// they made cost more than the regexes they spared. Labels of up to five characters are keyed by a
// number; longer ones fall back to a lower-cased slice.

/** Labels of up to this many characters are keyed by a number (6 bits a character: a small integer). */
const KEYED_LENGTH = 5;

/** 1-26 for a-z and A-Z, 27-36 for digits, 37 for "-", 38 for "_"; 0 for any other code unit. */
const CHAR_CODE = new Uint8Array(128);
for (let c = 0; c < 26; c++) {
  CHAR_CODE[97 + c] = c + 1;
  CHAR_CODE[65 + c] = c + 1;
}
for (let c = 0; c < 10; c++) CHAR_CODE[48 + c] = 27 + c;
CHAR_CODE[45] = 37;
CHAR_CODE[95] = 38;

/** The key of text[start, end), case-insensitive; -1 when longer than KEYED_LENGTH or not keyable. */
function keyOf(text: string, start: number, end: number): number {
  if (end - start > KEYED_LENGTH) return -1;
  let key = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const code = c < 128 ? (CHAR_CODE[c] ?? 0) : 0;
    if (code === 0) return -1;
    key = key * 64 + code;
  }
  return key;
}

export interface LabelSet {
  /** Whether text[start, end), lower-cased, is one of the labels. */
  has(text: string, start: number, end: number): boolean;
}

export function createLabelSet(labels: Iterable<string>): LabelSet {
  const keyed = new Set<number>();
  const long = new Set<string>();
  for (const label of labels) {
    const key = label === label.toLowerCase() ? keyOf(label, 0, label.length) : -1;
    if (key >= 0) keyed.add(key);
    else long.add(label);
  }
  return {
    has(text, start, end) {
      const key = keyOf(text, start, end);
      if (key >= 0) return keyed.has(key);
      // Lower-casing can shorten a run or make it ASCII (the Kelvin sign is a "k").
      const lower = text.slice(start, end).toLowerCase();
      const lowerKey = keyOf(lower, 0, lower.length);
      return lowerKey >= 0 ? keyed.has(lowerKey) : long.has(lower);
    },
  };
}
