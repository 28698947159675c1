/**
 * Whether `text` is exactly what JSON.stringify gives for `value` (the result of JSON.parse(text)),
 * decided without serialising: an import can then store the line it read instead of serialising the
 * object again. Conservative: texts it cannot vouch for cheaply get `false`, and the caller serialises.
 *
 * JSON.stringify of a parsed value differs from the text when the text has whitespace between tokens,
 * an escape JSON.stringify would write differently (`\/`, `\u0041`; any backslash is refused here),
 * a number not in its shortest form (`1.0`, `1e3`, `-0`), a key JSON.parse moved (array-index keys
 * such as "7" come first in V8; keys starting with a digit are refused), a duplicate key (JSON.parse
 * keeps the last value, so the value has fewer keys than the text: counted), or a lone surrogate.
 */
export function isStringifyForm(text: string, value: unknown): boolean {
  if (text.indexOf('\\') !== -1 || !(text as unknown as { isWellFormed(): boolean }).isWellFormed()) return false;
  const keys = scanKeys(text);
  return keys !== -1 && keys === countKeys(value);
}

const QUOTE = 0x22;
const COLON = 0x3a;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** 1 for the characters that may stand outside strings and numbers: brackets, commas, literal letters. */
const structural = new Uint8Array(128);
for (const char of '{}[],truefalsn') structural[char.charCodeAt(0)] = 1;

/** Keys in the text (one colon each outside strings), or -1 when the text is not in stringify form. */
function scanKeys(text: string): number {
  const length = text.length;
  let keys = 0;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c <= 0x20) return -1;
    if (c === QUOTE) {
      // No backslash anywhere, so the next quote closes the string.
      const close = text.indexOf('"', i + 1);
      if (close === -1) return -1;
      if (text.charCodeAt(close + 1) === COLON) {
        const first = text.charCodeAt(i + 1);
        if (first >= DIGIT_0 && first <= DIGIT_9) return -1;
        keys += 1;
        i = close + 2;
      } else {
        i = close + 1;
      }
      continue;
    }
    if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      let end = i + 1;
      while (end < length) {
        const d = text.charCodeAt(end);
        if (!((d >= DIGIT_0 && d <= DIGIT_9) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === MINUS)) break;
        end += 1;
      }
      const token = text.slice(i, end);
      if (String(Number(token)) !== token) return -1;
      i = end;
      continue;
    }
    // Outside strings and numbers only brackets, commas and the letters of true, false, null occur.
    if (c >= 128 || structural[c] !== 1) return -1;
    i += 1;
  }
  return keys;
}

function countKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) keys += countKeys(item);
    return keys;
  }
  for (const key in value) {
    keys += 1 + countKeys((value as Record<string, unknown>)[key]);
  }
  return keys;
}
