// A regular-expression engine for MATCHES whose running time is linear in the input: the expression is
// compiled to a Thompson NFA and simulated breadth-first (every live state advances together), so no
// input can make it backtrack. A pathological expression from a shared indicator — `(a+)+$` on
// 'aaaa…!' — costs O(input × program) like any other.
//
// It accepts the PCRE syntax that needs no backtracking: literals and escapes, `.`, classes (with
// ranges, negation, \d\w\s and POSIX names), anchors ^ $ \A \z \Z \b \B, groups (capturing, named,
// non-capturing), alternation, greedy and lazy quantifiers including {n,m}, and the flags i, m, s
// (`(?i)` or `(?i:…)`). It refuses, with a reason, what would need backtracking or is not worth the
// risk: backreferences, lookaround, atomic groups, possessive quantifiers, recursion, \p{…} classes.
// Counted repetition is expanded, so {n,m} is bounded (m ≤ 1000) and the whole program too.
import { err, ok, type Result } from '../errors/result.ts';

/** Compiled program size limit: bounds both memory and the per-character cost of a search. */
export const maxRegexProgramSize = 10_000;
const maxRepeat = 1000;

export interface LinearRegex {
  /** True when the expression matches somewhere in `input` (PCRE search semantics, not anchored). */
  search(input: string): boolean;
  /**
   * As search, charging `budget` one step per NFA state advanced or visited; undefined (budget left at or
   * below 0) when the budget ran out before the answer was known.
   */
  searchWithin(input: string, budget: { remaining: number }): boolean | undefined;
  /** Number of NFA instructions: a search costs at most input length × size steps. */
  readonly size: number;
}

interface Flags {
  readonly ignoreCase: boolean;
  readonly multiline: boolean;
  readonly dotAll: boolean;
}

type AssertionKind = 'bol' | 'eol' | 'bos' | 'eos' | 'eos-or-final-newline' | 'word-boundary' | 'not-word-boundary';

/** Flat [lo, hi, lo, hi, …] inclusive code point ranges. */
type Ranges = readonly number[];

type Node =
  | { readonly t: 'empty' }
  | { readonly t: 'set'; readonly include: Ranges; readonly exclude: readonly Ranges[]; readonly negated: boolean; readonly ignoreCase: boolean }
  | { readonly t: 'any'; readonly dotAll: boolean }
  | { readonly t: 'assert'; readonly kind: AssertionKind }
  | { readonly t: 'cat'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly items: readonly Node[] }
  | { readonly t: 'repeat'; readonly item: Node; readonly min: number; readonly max: number };

type Instruction =
  | { readonly op: 'set'; readonly node: Extract<Node, { t: 'set' }> }
  | { readonly op: 'any'; readonly dotAll: boolean }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; x: number }
  | { readonly op: 'assert'; readonly kind: AssertionKind }
  | { readonly op: 'match' };

class RegexSyntaxError {
  constructor(readonly message: string) {}
}

const digit: Ranges = [48, 57];
const word: Ranges = [48, 57, 65, 90, 95, 95, 97, 122];
const space: Ranges = [9, 13, 32, 32];
const posixClasses: Readonly<Record<string, Ranges>> = {
  alpha: [65, 90, 97, 122],
  digit,
  alnum: [48, 57, 65, 90, 97, 122],
  upper: [65, 90],
  lower: [97, 122],
  space,
  blank: [9, 9, 32, 32],
  xdigit: [48, 57, 65, 70, 97, 102],
  punct: [33, 47, 58, 64, 91, 96, 123, 126],
  word,
  cntrl: [0, 31, 127, 127],
  print: [32, 126],
  graph: [33, 126],
};

/** Compiles `source`; an expression outside the supported syntax is refused with a reason. */
export function compileLinearRegex(source: string): Result<LinearRegex, string> {
  try {
    const node = new RegexParser(source).parse();
    const machine = toMachine(emitProgram(node));
    return ok({
      search: (input) => runMachine(machine, input, undefined) === true,
      searchWithin: (input, budget) => runMachine(machine, input, budget),
      size: machine.op.length,
    });
  } catch (failure) {
    if (failure instanceof RegexSyntaxError) return err(failure.message);
    return err(`regular expression cannot be compiled (${String(failure)})`);
  }
}

class RegexParser {
  private pos = 0;
  private flags: Flags = { ignoreCase: false, multiline: false, dotAll: false };
  private depth = 0;

  constructor(private readonly source: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.pos < this.source.length) throw new RegexSyntaxError(`unmatched ')' at ${this.pos} in the regular expression`);
    return node;
  }

  private fail(reason: string): never {
    throw new RegexSyntaxError(`${reason} (at ${this.pos} in the regular expression)`);
  }

  private alternation(): Node {
    const outerFlags = this.flags;
    const items = [this.sequence()];
    while (this.source[this.pos] === '|') {
      this.pos++;
      items.push(this.sequence());
    }
    // `(?i)` lasts to the end of the enclosing group.
    this.flags = outerFlags;
    return items.length === 1 ? (items[0] as Node) : { t: 'alt', items };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.pos < this.source.length) {
      const c = this.source[this.pos];
      if (c === '|' || c === ')') break;
      const atom = this.atom();
      if (atom === undefined) continue;
      items.push(this.quantified(atom));
    }
    return items.length === 1 ? (items[0] as Node) : { t: 'cat', items };
  }

  private quantified(atom: Node): Node {
    let node = atom;
    for (;;) {
      const c = this.source[this.pos];
      let min: number;
      let max: number;
      if (c === '*') {
        min = 0;
        max = Infinity;
        this.pos++;
      } else if (c === '+') {
        min = 1;
        max = Infinity;
        this.pos++;
      } else if (c === '?') {
        min = 0;
        max = 1;
        this.pos++;
      } else if (c === '{') {
        const counted = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.pos));
        if (counted === null) return node;
        min = Number(counted[1]);
        max = counted[2] === undefined ? min : counted[3] === '' || counted[3] === undefined ? Infinity : Number(counted[3]);
        if (min > maxRepeat || (max !== Infinity && max > maxRepeat)) this.fail(`repetition counts above ${maxRepeat} are not supported`);
        if (max < min) this.fail('repetition {n,m} needs n ≤ m');
        this.pos += counted[0].length;
      } else {
        return node;
      }
      if (this.source[this.pos] === '+') this.fail('possessive quantifiers are not supported');
      // A lazy quantifier matches the same strings; only which match is reported differs.
      if (this.source[this.pos] === '?') this.pos++;
      node = { t: 'repeat', item: node, min, max };
    }
  }

  private atom(): Node | undefined {
    const c = this.source[this.pos] as string;
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.characterClass();
      case '.':
        this.pos++;
        return { t: 'any', dotAll: this.flags.dotAll };
      case '^':
        this.pos++;
        return { t: 'assert', kind: this.flags.multiline ? 'bol' : 'bos' };
      case '$':
        this.pos++;
        return { t: 'assert', kind: this.flags.multiline ? 'eol' : 'eos-or-final-newline' };
      case '\\':
        return this.escape();
      case '*':
      case '+':
      case '?':
        return this.fail(`'${c}' has nothing to repeat`);
      default: {
        const cp = this.source.codePointAt(this.pos) as number;
        this.pos += cp > 0xffff ? 2 : 1;
        return this.literal(cp);
      }
    }
  }

  private literal(cp: number): Node {
    return { t: 'set', include: [cp, cp], exclude: [], negated: false, ignoreCase: this.flags.ignoreCase };
  }

  private group(): Node | undefined {
    this.pos++;
    this.depth++;
    if (this.depth > 100) this.fail('groups are nested too deeply');
    const outerFlags = this.flags;
    if (this.source[this.pos] === '?') {
      this.pos++;
      const rest = this.source.slice(this.pos);
      if (rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
        this.fail('lookahead and lookbehind are not supported');
      }
      if (rest.startsWith('>')) this.fail('atomic groups are not supported');
      if (rest.startsWith('#')) {
        const close = this.source.indexOf(')', this.pos);
        if (close < 0) this.fail('comment group is not closed');
        this.pos = close + 1;
        this.depth--;
        return undefined;
      }
      const named = /^(P?<[A-Za-z_][A-Za-z0-9_]*>|'[A-Za-z_][A-Za-z0-9_]*')/.exec(rest);
      if (named !== null) {
        this.pos += named[0].length;
      } else if (rest.startsWith(':')) {
        this.pos++;
      } else {
        const flagMatch = /^([ims]*)(?:-([ims]*))?([:)])/.exec(rest);
        if (flagMatch === null) this.fail('unsupported group syntax (backreferences, recursion and conditionals need backtracking)');
        const on = flagMatch[1] ?? '';
        const off = flagMatch[2] ?? '';
        const updated: Flags = {
          ignoreCase: off.includes('i') ? false : on.includes('i') ? true : this.flags.ignoreCase,
          multiline: off.includes('m') ? false : on.includes('m') ? true : this.flags.multiline,
          dotAll: off.includes('s') ? false : on.includes('s') ? true : this.flags.dotAll,
        };
        this.pos += flagMatch[0].length;
        this.depth--;
        if (flagMatch[3] === ')') {
          // Applies to the rest of the enclosing group (restored by alternation()).
          this.flags = updated;
          return undefined;
        }
        this.depth++;
        this.flags = updated;
      }
    }
    const inner = this.alternation();
    this.flags = outerFlags;
    if (this.source[this.pos] !== ')') this.fail("group is not closed with ')'");
    this.pos++;
    this.depth--;
    return inner;
  }

  private escape(): Node {
    this.pos++;
    const c = this.source[this.pos];
    if (c === undefined) return this.fail('pattern ends with a lone backslash');
    switch (c) {
      case 'b':
        this.pos++;
        return { t: 'assert', kind: 'word-boundary' };
      case 'B':
        this.pos++;
        return { t: 'assert', kind: 'not-word-boundary' };
      case 'A':
        this.pos++;
        return { t: 'assert', kind: 'bos' };
      case 'z':
        this.pos++;
        return { t: 'assert', kind: 'eos' };
      case 'Z':
        this.pos++;
        return { t: 'assert', kind: 'eos-or-final-newline' };
      default: {
        const shorthand = this.shorthand(c);
        if (shorthand !== undefined) {
          this.pos++;
          return shorthand;
        }
        return this.literal(this.escapedCodePoint());
      }
    }
  }

  private shorthand(c: string): Extract<Node, { t: 'set' }> | undefined {
    const ranges = c === 'd' || c === 'D' ? digit : c === 'w' || c === 'W' ? word : c === 's' || c === 'S' ? space : undefined;
    if (ranges === undefined) return undefined;
    return { t: 'set', include: ranges, exclude: [], negated: c === 'D' || c === 'W' || c === 'S', ignoreCase: false };
  }

  /** The code point of an escape that stands for one character; `pos` is just after the backslash. */
  private escapedCodePoint(): number {
    const c = this.source[this.pos] as string;
    const simple: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, v: 11, e: 27, a: 7, '0': 0 };
    if (c in simple) {
      this.pos++;
      return simple[c] as number;
    }
    if (c === 'x' || c === 'u') {
      const rest = this.source.slice(this.pos + 1);
      const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(rest);
      const fixed = c === 'x' ? /^[0-9a-fA-F]{2}/.exec(rest) : /^[0-9a-fA-F]{4}/.exec(rest);
      const digits = braced?.[1] ?? fixed?.[0];
      if (digits === undefined) this.fail(`\\${c} needs hex digits`);
      const cp = parseInt(digits, 16);
      if (cp > 0x10ffff) this.fail('code point out of range');
      this.pos += 1 + (braced?.[0].length ?? digits.length);
      return cp;
    }
    if (/[1-9gk]/.test(c)) this.fail('backreferences are not supported (they need backtracking)');
    if (c === 'p' || c === 'P') this.fail('Unicode property classes \\p{…} are not supported');
    if (/[A-Za-z0-9]/.test(c)) this.fail(`unknown escape \\${c}`);
    const cp = this.source.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private characterClass(): Node {
    this.pos++;
    let negated = false;
    if (this.source[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const include: number[] = [];
    const exclude: Ranges[] = [];
    let first = true;
    for (;;) {
      const c = this.source[this.pos];
      if (c === undefined) this.fail("character class is not closed with ']'");
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === '[' && this.source[this.pos + 1] === ':') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.source.slice(this.pos));
        const name = posix?.[2] ?? '';
        // Own names only: an inherited one ('constructor', 'tostring') is no class, and would reach the compiler as a function.
        const ranges = posix !== null && Object.hasOwn(posixClasses, name) ? posixClasses[name] : undefined;
        if (posix === null || ranges === undefined) this.fail('unknown POSIX class');
        this.pos += posix[0].length;
        if (posix[1] === '^') exclude.push(ranges);
        else include.push(...ranges);
        continue;
      }
      let low: number;
      if (c === '\\') {
        this.pos++;
        const e = this.source[this.pos];
        if (e === undefined) this.fail('pattern ends with a lone backslash');
        const shorthand = this.shorthand(e);
        if (shorthand !== undefined) {
          this.pos++;
          if (shorthand.negated) exclude.push(shorthand.include);
          else include.push(...shorthand.include);
          continue;
        }
        low = e === 'b' ? (this.pos++, 8) : this.escapedCodePoint();
      } else {
        low = this.source.codePointAt(this.pos) as number;
        this.pos += low > 0xffff ? 2 : 1;
      }
      let high = low;
      if (this.source[this.pos] === '-' && this.source[this.pos + 1] !== ']' && this.source[this.pos + 1] !== undefined) {
        this.pos++;
        if (this.source[this.pos] === '\\') {
          this.pos++;
          if (this.shorthand(this.source[this.pos] ?? '') !== undefined) this.fail('a range cannot end with a class shorthand');
          high = this.escapedCodePoint();
        } else {
          high = this.source.codePointAt(this.pos) as number;
          this.pos += high > 0xffff ? 2 : 1;
        }
        if (high < low) this.fail('character range is out of order');
      }
      include.push(low, high);
    }
    return { t: 'set', include, exclude, negated, ignoreCase: this.flags.ignoreCase };
  }
}

function emitProgram(root: Node): Instruction[] {
  const program: Instruction[] = [];
  const push = (instruction: Instruction): number => {
    if (program.length >= maxRegexProgramSize) {
      throw new RegexSyntaxError(`regular expression is too large (more than ${maxRegexProgramSize} steps once repetitions are expanded)`);
    }
    program.push(instruction);
    return program.length - 1;
  };
  const emit = (node: Node): void => {
    switch (node.t) {
      case 'empty':
        return;
      case 'set':
        push({ op: 'set', node });
        return;
      case 'any':
        push({ op: 'any', dotAll: node.dotAll });
        return;
      case 'assert':
        push({ op: 'assert', kind: node.kind });
        return;
      case 'cat':
        for (const item of node.items) emit(item);
        return;
      case 'alt': {
        const exits: { op: 'jmp'; x: number }[] = [];
        node.items.forEach((item, index) => {
          if (index === node.items.length - 1) {
            emit(item);
            return;
          }
          const split: { op: 'split'; x: number; y: number } = { op: 'split', x: 0, y: 0 };
          const at = push(split);
          split.x = at + 1;
          emit(item);
          const exit: { op: 'jmp'; x: number } = { op: 'jmp', x: 0 };
          push(exit);
          exits.push(exit);
          split.y = program.length;
        });
        for (const exit of exits) exit.x = program.length;
        return;
      }
      case 'repeat': {
        for (let i = 0; i < node.min; i++) emit(node.item);
        if (node.max === Infinity) {
          const split: { op: 'split'; x: number; y: number } = { op: 'split', x: 0, y: 0 };
          const at = push(split);
          split.x = at + 1;
          emit(node.item);
          push({ op: 'jmp', x: at });
          split.y = program.length;
          return;
        }
        const splits: { op: 'split'; x: number; y: number }[] = [];
        for (let i = node.min; i < node.max; i++) {
          const split: { op: 'split'; x: number; y: number } = { op: 'split', x: 0, y: 0 };
          const at = push(split);
          split.x = at + 1;
          splits.push(split);
          emit(node.item);
        }
        for (const split of splits) split.y = program.length;
        return;
      }
    }
  };
  emit(root);
  push({ op: 'match' });
  return program;
}

function inRanges(ranges: Ranges, cp: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (cp >= (ranges[i] as number) && cp <= (ranges[i + 1] as number)) return true;
  }
  return false;
}

function setHas(node: Extract<Node, { t: 'set' }>, cp: number): boolean {
  if (inRanges(node.include, cp)) return true;
  for (const ranges of node.exclude) if (!inRanges(ranges, cp)) return true;
  return false;
}

function setContains(node: Extract<Node, { t: 'set' }>, cp: number): boolean {
  let found = setHas(node, cp);
  if (!found && node.ignoreCase) {
    const text = String.fromCodePoint(cp);
    const lower = text.toLowerCase().codePointAt(0) as number;
    const upper = text.toUpperCase().codePointAt(0) as number;
    found = (lower !== cp && setHas(node, lower)) || (upper !== cp && setHas(node, upper));
  }
  return found !== node.negated;
}

function isWordCode(cp: number): boolean {
  return inRanges(word, cp);
}

const assertionKinds: readonly AssertionKind[] = ['bol', 'eol', 'bos', 'eos', 'eos-or-final-newline', 'word-boundary', 'not-word-boundary'];
const OP_SET = 0;
const OP_ANY = 1;
const OP_SPLIT = 2;
const OP_JMP = 3;
const OP_ASSERT = 4;
const OP_MATCH = 5;
/** One literal code point, the commonest instruction: no table needed. */
const OP_CHAR = 6;
/** ASCII tables are shared between sets with the same definition; bounded like every cache here. */
const asciiTables = new Map<string, Uint8Array>();

/** The program in flat typed arrays, with each character set's answer for ASCII precomputed. */
interface Machine {
  readonly op: Uint8Array;
  readonly x: Int32Array;
  readonly y: Int32Array;
  readonly ascii: readonly (Uint8Array | undefined)[];
  readonly sets: readonly (Extract<Node, { t: 'set' }> | undefined)[];
}

/** Which ASCII characters a set accepts, computed from its ranges (cheaper than testing all 128). */
function asciiTable(node: Extract<Node, { t: 'set' }>): Uint8Array {
  const table = new Uint8Array(128);
  const include = node.include;
  for (let i = 0; i < include.length; i += 2) {
    const low = include[i] as number;
    const high = Math.min(include[i + 1] as number, 127);
    for (let c = low; c <= high; c++) table[c] = 1;
  }
  for (const ranges of node.exclude) for (let c = 0; c < 128; c++) if (!inRanges(ranges, c)) table[c] = 1;
  if (node.ignoreCase) {
    for (let c = 65; c <= 90; c++) {
      if (table[c] === 1 || table[c + 32] === 1) table[c] = table[c + 32] = 1;
    }
  }
  if (node.negated) for (let c = 0; c < 128; c++) table[c] = table[c] === 1 ? 0 : 1;
  return table;
}

function toMachine(program: readonly Instruction[]): Machine {
  const size = program.length;
  const op = new Uint8Array(size);
  const x = new Int32Array(size);
  const y = new Int32Array(size);
  const ascii: (Uint8Array | undefined)[] = [];
  const sets: (Extract<Node, { t: 'set' }> | undefined)[] = [];
  program.forEach((instruction, pc) => {
    ascii.push(undefined);
    sets.push(undefined);
    switch (instruction.op) {
      case 'set': {
        const node = instruction.node;
        if (node.include.length === 2 && node.include[0] === node.include[1] && node.exclude.length === 0 && !node.negated && !node.ignoreCase) {
          op[pc] = OP_CHAR;
          x[pc] = node.include[0] as number;
          break;
        }
        op[pc] = OP_SET;
        const key = `${node.include.join(',')}|${node.exclude.map((ranges) => ranges.join(',')).join(';')}|${node.negated ? 1 : 0}${node.ignoreCase ? 1 : 0}`;
        let table = asciiTables.get(key);
        if (table === undefined) {
          table = asciiTable(node);
          if (asciiTables.size >= 4096) asciiTables.clear();
          asciiTables.set(key, table);
        }
        ascii[pc] = table;
        sets[pc] = node;
        break;
      }
      case 'any':
        op[pc] = OP_ANY;
        x[pc] = instruction.dotAll ? 1 : 0;
        break;
      case 'split':
        op[pc] = OP_SPLIT;
        x[pc] = instruction.x;
        y[pc] = instruction.y;
        break;
      case 'jmp':
        op[pc] = OP_JMP;
        x[pc] = instruction.x;
        break;
      case 'assert':
        op[pc] = OP_ASSERT;
        x[pc] = assertionKinds.indexOf(instruction.kind);
        break;
      case 'match':
        op[pc] = OP_MATCH;
        break;
    }
  });
  return { op, x, y, ascii, sets };
}

const charCost = 16;

function runMachine(machine: Machine, input: string, budget: { remaining: number } | undefined): boolean | undefined {
  const { op, x, y, ascii, sets } = machine;
  const size = op.length;
  const marks = new Int32Array(size);
  let generation = 0;
  let current = new Int32Array(size);
  let currentLength = 0;
  let next = new Int32Array(size);
  let nextLength = 0;
  const stack = new Int32Array(size * 2 + 2);
  let matched = false;
  const length = input.length;
  /** States visited by addClosure since the budget was last charged. */
  let visited = 0;

  const holds = (kind: number, pos: number): boolean => {
    const before = pos > 0 ? input.charCodeAt(pos - 1) : -1;
    const at = pos < length ? input.charCodeAt(pos) : -1;
    switch (assertionKinds[kind]) {
      case 'bos':
        return pos === 0;
      case 'eos':
        return pos === length;
      case 'eos-or-final-newline':
        return pos === length || (pos === length - 1 && at === 10);
      case 'bol':
        return pos === 0 || before === 10;
      case 'eol':
        return pos === length || at === 10;
      case 'word-boundary':
        return (before >= 0 && isWordCode(before)) !== (at >= 0 && isWordCode(at));
      default:
        return (before >= 0 && isWordCode(before)) === (at >= 0 && isWordCode(at));
    }
  };

  /** Adds `start` and everything reachable from it without consuming input, at position `pos`, to `next`. */
  const addClosure = (start: number, pos: number): void => {
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const pc = stack[--top] as number;
      visited++;
      if (marks[pc] === generation) continue;
      marks[pc] = generation;
      switch (op[pc]) {
        case OP_JMP:
          stack[top++] = x[pc] as number;
          break;
        case OP_SPLIT:
          stack[top++] = y[pc] as number;
          stack[top++] = x[pc] as number;
          break;
        case OP_ASSERT:
          if (holds(x[pc] as number, pos)) stack[top++] = pc + 1;
          break;
        case OP_MATCH:
          matched = true;
          break;
        default:
          next[nextLength++] = pc;
      }
    }
  };

  generation++;
  addClosure(0, 0);
  [current, next] = [next, current];
  currentLength = nextLength;
  let pos = 0;
  while (!matched && pos < length) {
    const cp = input.codePointAt(pos) as number;
    const width = cp > 0xffff ? 2 : 1;
    generation++;
    nextLength = 0;
    for (let i = 0; i < currentLength; i++) {
      const pc = current[i] as number;
      let consumes: boolean;
      const code = op[pc];
      if (code === OP_CHAR) consumes = x[pc] === cp;
      else if (code === OP_ANY) consumes = x[pc] === 1 || cp !== 10;
      else consumes = cp < 128 ? (ascii[pc] as Uint8Array)[cp] === 1 : setContains(sets[pc] as Extract<Node, { t: 'set' }>, cp);
      if (consumes) addClosure(pc + 1, pos + width);
    }
    // Unanchored search: a match may start at every position.
    addClosure(0, pos + width);
    [current, next] = [next, current];
    currentLength = nextLength;
    pos += width;
    if (budget !== undefined) {
      // Charged once a character: the states advanced and visited, plus the fixed cost of a character
      // (reading it, the closure from the start), which is about 16 states' worth: 'evil' on 1 MB
      // costs ~100 ms with one or two live states.
      budget.remaining -= visited + currentLength + charCost;
      visited = 0;
      if (budget.remaining <= 0 && !matched) return undefined;
    }
  }
  return matched;
}
