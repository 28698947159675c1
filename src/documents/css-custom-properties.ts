// Custom properties for the style sheet reader (html-stylesheet.ts): `--h: none; display: var(--h)`
// hides text as `display: none` does, so var() is resolved as a browser resolves it. A reference to a
// property that is not set takes its fallback (`var(--h, none)`); without one, or in a cycle, the
// declaration is invalid when computed and the property is `unset` (display inline, visibility
// inherited). @property registers a property with an initial value and says whether it inherits.
//
// Bounded: substitution stops MAX_DEPTH references deep, after MAX_REFERENCES references, past
// MAX_VALUE_CHARS characters, or once it has scanned MAX_SCANNED_CHARS (the value is then invalid, as
// a browser makes an over-long one). The caller is told how much it scanned (Budget), to count it
// against the page's matching budget: it resolves values on every element.

const MAX_DEPTH = 16;
const MAX_VALUE_CHARS = 4_096;
/** References followed in resolving one value (`--a: var(--b) var(--b)` down 16 levels would be 65,536). */
const MAX_REFERENCES = 256;
/**
 * Characters scanned in resolving one value. Each nested fallback is scanned again for its closing
 * parenthesis and comma: `var(--u, var(--u, …))` 4,000 deep scanned 256 × 32,000 characters, on every
 * element it applied to (3,000 paragraphs took 14 s).
 */
const MAX_SCANNED_CHARS = 65_536;

/** What resolving one value may still spend: references left, and characters scanned so far. */
export interface Budget {
  left: number;
  scanned: number;
}

/** A fresh budget for resolving one value. */
export function newBudget(): Budget {
  return { left: MAX_REFERENCES, scanned: 0 };
}

/** A custom property registered with @property. */
export interface Registration {
  readonly inherits: boolean;
  readonly initial?: string;
}

/** The name and descriptors of `@property --name { … }`, or undefined if it is not one. */
export function parseAtProperty(prelude: string, block: string): [string, Registration] | undefined {
  const name = /^@property\s+(--[^\s{]+)\s*$/i.exec(prelude)?.[1]?.toLowerCase();
  if (name === undefined) return undefined;
  let inherits = true;
  let initial: string | undefined;
  for (const piece of block.split(';')) {
    const colon = piece.indexOf(':');
    if (colon < 0) continue;
    const descriptor = piece.slice(0, colon).trim().toLowerCase();
    const value = piece.slice(colon + 1).trim().toLowerCase().replace(/\s+/g, ' ');
    if (descriptor === 'inherits') inherits = value !== 'false';
    else if (descriptor === 'initial-value') initial = value;
  }
  return [name, initial === undefined ? { inherits } : { inherits, initial }];
}

/** Index of the `)` that closes the `(` at `open`, or -1 (also past `limit`). */
function closing(value: string, open: number, limit: number): number {
  let depth = 0;
  const end = Math.min(value.length, open + limit);
  for (let i = open; i < end; i++) {
    const c = value[i];
    if (c === '(') depth += 1;
    else if (c === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Whether a value uses var(). */
export function usesVar(value: string): boolean {
  return value.includes('var(');
}

/**
 * `value` with each var() replaced by the property's value (`lookup`, at the element the value is
 * used on) or its fallback, recursively; undefined if the value is invalid when computed.
 */
export function substitute(
  value: string,
  lookup: (name: string) => string | undefined,
  seen: readonly string[] = [],
  budget: Budget = newBudget(),
): string | undefined {
  if (seen.length > MAX_DEPTH || budget.scanned + value.length > MAX_SCANNED_CHARS) return undefined;
  let out = '';
  let from = 0;
  for (let at = value.indexOf('var(', from); at >= 0; at = value.indexOf('var(', from)) {
    // The search for var( and the scan for its closing parenthesis (the comma is found within it).
    budget.scanned += at - from;
    const end = closing(value, at + 3, MAX_SCANNED_CHARS - budget.scanned);
    budget.scanned += (end < 0 ? value.length : end) - at;
    if (end < 0 || budget.scanned > MAX_SCANNED_CHARS) return undefined;
    const inside = value.slice(at + 4, end);
    const comma = inside.indexOf(',');
    const name = (comma < 0 ? inside : inside.slice(0, comma)).trim();
    const fallback = comma < 0 ? undefined : inside.slice(comma + 1).trim();
    let replacement: string | undefined;
    budget.left -= 1;
    if (budget.left < 0) return undefined;
    if (name.startsWith('--') && !seen.includes(name)) {
      const v = lookup(name);
      if (v !== undefined) replacement = substitute(v, lookup, [...seen, name], budget);
    } else if (seen.includes(name)) return undefined;
    if (replacement === undefined && fallback !== undefined) replacement = substitute(fallback, lookup, seen, budget);
    if (replacement === undefined) return undefined;
    out += value.slice(from, at) + replacement;
    if (out.length > MAX_VALUE_CHARS) return undefined;
    from = end + 1;
  }
  budget.scanned += value.length - from;
  out += value.slice(from);
  return out.length > MAX_VALUE_CHARS ? undefined : out.trim();
}
