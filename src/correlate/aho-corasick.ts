// Multi-pattern substring search (Aho–Corasick): every literal of a set is found in one pass over the
// text, whatever the number of literals. Transitions live in one Map keyed by state and UTF-16 unit
// (transitionKey), failure links and outputs in flat arrays, so ten thousand literals cost a few megabytes.
// The automaton is static: adding literals rebuilds it on the next search (`SubstringIndex` below).

export interface AhoCorasick {
  /**
   * Calls `onMatch(literalIndex, end)` for every occurrence of every literal in `text` (repeats
   * included), `end` being the offset just after the occurrence.
   */
  search(text: string, onMatch: (literalIndex: number, end: number) => void): void;
  /** Whether any literal occurs in text[start, end): stops at the first occurrence. */
  occursIn(text: string, start: number, end: number): boolean;
  /**
   * Whether some occurrence of a literal in text[start, end) is accepted: `accept(literalIndex)` is asked
   * per occurrence, in text order, until it answers true.
   */
  someOccurrenceIn(text: string, start: number, end: number, accept: (literalIndex: number) => boolean): boolean;
  readonly states: number;
}

/**
 * A transition's key: state × 128 + unit for ASCII units, which stays a small integer (a Map hashes those
 * fast) for millions of states; other units get negative keys of their own.
 */
function transitionKey(state: number, unit: number): number {
  return unit < 128 ? state * 128 + unit : -(state * 65536 + unit) - 1;
}

/** Dense rows of 128 transitions (512 bytes each) for at most this many of the shallowest states. */
const shallowRowBudget = 1024;

export function createAhoCorasick(literals: readonly string[]): AhoCorasick {
  const next = new Map<number, number>();
  const outputs: number[][] = [[]];
  const parents: number[] = [0];
  const units: number[] = [0];
  let states = 1;
  literals.forEach((literal, index) => {
    let state = 0;
    for (let i = 0; i < literal.length; i++) {
      const unit = literal.charCodeAt(i);
      const key = transitionKey(state, unit);
      let target = next.get(key);
      if (target === undefined) {
        target = states++;
        next.set(key, target);
        outputs.push([]);
        parents.push(state);
        units.push(unit);
      }
      state = target;
    }
    outputs[state]?.push(index);
  });
  // Breadth-first: a state's failure link is the longest proper suffix of its path that is a prefix.
  const fail = new Int32Array(states);
  const children: number[][] = Array.from({ length: states }, () => []);
  const edgeChar = Int32Array.from(units);
  for (let target = 1; target < states; target++) children[parents[target] as number]?.push(target);
  const queue: number[] = [...(children[0] ?? [])];
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head] as number;
    for (const child of children[state] ?? []) {
      const c = edgeChar[child] as number;
      let f = state === 0 ? 0 : (fail[state] as number);
      let target = next.get(transitionKey(f, c));
      while (target === undefined && f !== 0) {
        f = fail[f] as number;
        target = next.get(transitionKey(f, c));
      }
      fail[child] = target !== undefined && target !== child ? target : 0;
      // Outputs of the suffix state belong to this state too.
      const inherited = outputs[fail[child] as number] ?? [];
      if (inherited.length > 0) outputs[child] = [...(outputs[child] ?? []), ...inherited];
      queue.push(child);
    }
  }
  // Scanning text that matches nothing stays at the root: its transitions get a dense table.
  const fromRoot = new Int32Array(65536);
  for (const target of children[0] ?? []) fromRoot[edgeChar[target] as number] = target;
  // Text that matches nothing rarely goes deeper than a few units: the shallowest states (breadth-first,
  // up to shallowRowBudget) get dense rows of their complete ASCII transitions, failure links folded in,
  // so most units cost one array read instead of Map lookups.
  const rowOf = new Int32Array(states).fill(-1);
  const rowCount = Math.min(queue.length, shallowRowBudget);
  const rows = new Int32Array(rowCount * 128);
  for (let row = 0; row < rowCount; row++) {
    const state = queue[row] as number;
    rowOf[state] = row;
    const failure = fail[state] as number;
    // The failure state is shallower, so it is the root or already has its row.
    const failureRow = rowOf[failure] as number;
    for (let c = 0; c < 128; c++) {
      const target = next.get(transitionKey(state, c));
      rows[row * 128 + c] = target ?? (failure === 0 ? (fromRoot[c] as number) : (rows[failureRow * 128 + c] as number));
    }
  }
  const hasOutput = new Uint8Array(states);
  for (let state = 0; state < states; state++) if ((outputs[state]?.length ?? 0) > 0) hasOutput[state] = 1;
  /** The state after reading unit `c` in `state`: the dense tables, else goto and failure links. */
  const advance = (state: number, c: number): number => {
    for (;;) {
      if (state === 0) return fromRoot[c] as number;
      const row = rowOf[state] as number;
      if (row >= 0 && c < 128) return rows[row * 128 + c] as number;
      const target = next.get(transitionKey(state, c));
      if (target !== undefined) return target;
      state = fail[state] as number;
    }
  };
  return {
    states,
    occursIn(text, start, end) {
      let state = 0;
      for (let i = start; i < end; i++) {
        state = advance(state, text.charCodeAt(i));
        if (hasOutput[state] === 1) return true;
      }
      return false;
    },
    someOccurrenceIn(text, start, end, accept) {
      let state = 0;
      for (let i = start; i < end; i++) {
        state = advance(state, text.charCodeAt(i));
        if (hasOutput[state] === 1) for (const index of outputs[state] as number[]) if (accept(index)) return true;
      }
      return false;
    },
    search(text, onMatch) {
      let state = 0;
      for (let i = 0; i < text.length; i++) {
        state = advance(state, text.charCodeAt(i));
        if (hasOutput[state] === 1) for (const index of outputs[state] as number[]) onMatch(index, i + 1);
      }
    },
  };
}

/**
 * Literals with the postings they stand for; a literal can be added or withdrawn at any time, and the
 * automaton is rebuilt lazily at the next search after a change.
 */
export class SubstringIndex<T> {
  private readonly postings = new Map<string, T[]>();
  private literals: string[] = [];
  private automaton: AhoCorasick | undefined;

  add(literal: string, posting: T): void {
    const list = this.postings.get(literal);
    if (list === undefined) {
      this.postings.set(literal, [posting]);
      this.automaton = undefined;
    } else list.push(posting);
  }

  remove(literal: string, posting: T): void {
    const list = this.postings.get(literal);
    if (list === undefined) return;
    const at = list.indexOf(posting);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) {
      this.postings.delete(literal);
      this.automaton = undefined;
    }
  }

  get size(): number {
    return this.postings.size;
  }

  /** Every posting whose literal occurs in `text`, once per occurrence (callers deduplicate). */
  search(text: string, onPosting: (posting: T) => void): void {
    if (this.postings.size === 0) return;
    this.built().search(text, (index) => {
      for (const posting of this.postings.get(this.literals[index] as string) ?? []) onPosting(posting);
    });
  }

  /** Whether some literal occurs in text[start, end) (all of it by default). */
  occursIn(text: string, start = 0, end = text.length): boolean {
    return this.postings.size > 0 && this.built().occursIn(text, start, end);
  }

  private built(): AhoCorasick {
    if (this.automaton === undefined) {
      this.literals = [...this.postings.keys()];
      this.automaton = createAhoCorasick(this.literals);
    }
    return this.automaton;
  }
}

/**
 * Sets of literals, asked whether every literal of some set occurs in a text: the raw-line screen's test
 * for substring anchors, each of which is the set of texts its comparison requires (plan-pattern.ts).
 * One automaton finds each set's longest literal (its trigger); the others are looked for only where a
 * trigger occurs. Sets are counted, so one added twice stays until removed twice; the automaton is rebuilt
 * lazily at the next question after a change.
 */
export class LiteralSets {
  private readonly sets = new Map<string, { readonly literals: readonly string[]; count: number }>();
  private built: { automaton: AhoCorasick; alone: Uint8Array; others: (readonly (readonly string[])[])[] } | undefined;

  get size(): number {
    return this.sets.size;
  }

  add(literals: readonly string[]): void {
    if (literals.length === 0) throw new Error('an empty set of literals would be in every text');
    const key = setKey(literals);
    const held = this.sets.get(key);
    if (held !== undefined) held.count++;
    else {
      this.sets.set(key, { literals: [...literals], count: 1 });
      this.built = undefined;
    }
  }

  remove(literals: readonly string[]): void {
    const key = setKey(literals);
    const held = this.sets.get(key);
    if (held === undefined) return;
    if (--held.count === 0) {
      this.sets.delete(key);
      this.built = undefined;
    }
  }

  // The range being asked about, kept on the instance so that a question allocates no closure.
  private askedText = '';
  private askedStart = 0;
  private askedEnd = 0;

  /** Whether every literal of some set occurs in text[start, end). */
  occursIn(text: string, start: number, end: number): boolean {
    if (this.sets.size === 0) return false;
    this.built ??= this.build();
    this.askedText = text;
    this.askedStart = start;
    this.askedEnd = end;
    return this.built.automaton.someOccurrenceIn(text, start, end, this.completesASet);
  }

  /** Whether the trigger found completes one of its sets: the other literals occur in the range too. */
  private readonly completesASet = (index: number): boolean => {
    const built = this.built as NonNullable<typeof this.built>;
    if (built.alone[index] === 1) return true;
    for (const rest of built.others[index] as (readonly string[])[]) {
      let all = true;
      for (const literal of rest) {
        if (!occursWithin(this.askedText, this.askedStart, this.askedEnd, literal)) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  };

  private build(): { automaton: AhoCorasick; alone: Uint8Array; others: (readonly (readonly string[])[])[] } {
    const triggers = new Map<string, number>();
    const others: (readonly string[])[][] = [];
    const aloneList: boolean[] = [];
    for (const { literals } of this.sets.values()) {
      let trigger = literals[0] as string;
      for (const literal of literals) if (literal.length > trigger.length) trigger = literal;
      let index = triggers.get(trigger);
      if (index === undefined) {
        index = triggers.size;
        triggers.set(trigger, index);
        others.push([]);
        aloneList.push(false);
      }
      const rest = literals.filter((literal) => literal !== trigger);
      if (rest.length === 0) aloneList[index] = true;
      else others[index]?.push(rest);
    }
    return { automaton: createAhoCorasick([...triggers.keys()]), alone: Uint8Array.from(aloneList, (a) => (a ? 1 : 0)), others };
  }
}

function setKey(literals: readonly string[]): string {
  return JSON.stringify([...new Set(literals)].sort());
}

function occursWithin(text: string, start: number, end: number, literal: string): boolean {
  const at = text.indexOf(literal, start);
  return at >= 0 && at + literal.length <= end;
}
