// How the bulk matcher finds the observations a pattern may match without evaluating it on each one.
// Every `[…]` of the pattern (a "leaf") gets a set of anchors — equality keys, IP blocks or substrings on
// an object path — such that any SCO satisfying the leaf hits at least one of them: OR needs the anchors
// of both sides, AND the anchors of one side (the more selective), and a test that no key can witness
// (!=, <, NOT, EXISTS, a MATCHES with no required literal) leaves the leaf without anchors: it is then
// evaluated on every observation. A leaf whose anchors decide it outright (`=`, IN, ISSUBSET, LIKE without
// wildcards, and ORs of those) is "exact": a hit is a match and needs no evaluation.
import type { ComparisonExpression, ObjectPath, Observation, ObservationExpression, PathStep, PatternAst } from '../pattern/pattern-ast.ts';
import { parseIpRange } from '../pattern/parse-ip-range.ts';

/** `objectType:steps` as the pattern names it, e.g. `file:hashes.'SHA-256'`: the key of every index. */
export function pathKey(path: ObjectPath): string {
  let text = `${path.objectType}:`;
  path.steps.forEach((step, index) => {
    if (step.kind === 'key') {
      const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(step.name) ? step.name : `'${step.name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      text += index === 0 ? name : `.${name}`;
    } else text += step.kind === 'index' ? `[${step.index}]` : '[*]';
  });
  return text;
}

export interface AnchorPath {
  readonly key: string;
  readonly objectType: string;
  readonly steps: readonly PathStep[];
}

/**
 * Whether every value the path selects lies inside the SCO it starts from (its own object or objects
 * nested in it): no key step follows a reference — a `…_ref` property or an element of a `…_refs`
 * list — which select-path-values.ts resolves to another SCO.
 */
export function staysInItsSco(path: AnchorPath): boolean {
  let reference = false;
  let referenceList = false;
  for (const step of path.steps) {
    if (step.kind === 'key') {
      if (reference) return false;
      reference = step.name.endsWith('_ref');
      referenceList = step.name.endsWith('_refs');
    } else {
      reference = referenceList;
      referenceList = false;
    }
  }
  return true;
}

export type Anchor =
  | { readonly kind: 'equal'; readonly path: AnchorPath; readonly value: string | number }
  | { readonly kind: 'cidr'; readonly path: AnchorPath; readonly block: string }
  | {
      readonly kind: 'substring';
      readonly path: AnchorPath;
      /** The longest required text: what the matcher's per-path automaton looks for in a probed value. */
      readonly literal: string;
      /**
       * Every text a matching value must contain (`literal` among them), each marked when it must start
       * or end the value: the raw-line screen asks for all of them, where one alone is often too common
       * (`^zz[0-9]{6}\.com$` needs `.com` at the end and `zz` at the start, not `.com` anywhere).
       */
      readonly required: readonly RequiredText[];
    };

/**
 * A text every matching value contains. `atStart`/`atEnd`: it starts/ends the value — for MATCHES, or
 * precedes a final newline, which `$` allows and a value on a line the screen passes over cannot hold.
 */
export interface RequiredText {
  readonly text: string;
  readonly atStart: boolean;
  readonly atEnd: boolean;
}

export interface PlannedLeaf {
  readonly node: Observation;
  /** Undefined: no anchor can witness this leaf, so it is evaluated on every observation. */
  readonly anchors: readonly Anchor[] | undefined;
  /** A hit on an anchor is a match of the leaf by itself. */
  readonly exact: boolean;
}

export interface MatchPlan {
  readonly leaves: readonly PlannedLeaf[];
  /**
   * The pattern is one `[…]`, or `[…] OR […] …`, without qualifiers: one observation on which a leaf holds
   * is a match of the whole pattern. Otherwise matches need the pattern evaluated over several observations.
   */
  readonly anyLeafMatches: boolean;
  /** The widest WITHIN of the pattern, bounding how long its observations are worth keeping. */
  readonly withinSeconds: number | undefined;
}

/** Substrings shorter than this would hit nearly every value; such a leaf is evaluated everywhere instead. */
export const shortestSubstringAnchor = 3;

function anchorPath(path: ObjectPath): AnchorPath {
  return { key: pathKey(path), objectType: path.objectType, steps: path.steps };
}

function isBinaryPath(path: ObjectPath): boolean {
  const last = path.steps[path.steps.length - 1];
  return last?.kind === 'key' && (last.name.endsWith('_hex') || last.name.endsWith('_bin'));
}

interface LeafAnchors {
  readonly anchors: readonly Anchor[];
  readonly exact: boolean;
}

/** The literal text LIKE requires, when `%` and `_` leave some: the longest run between wildcards. */
export function likeRequiredLiteral(pattern: string): string {
  return longestText(likeRequiredTexts(pattern));
}

/**
 * Every run between wildcards of a LIKE pattern (which covers the whole value): the first starts the
 * value unless the pattern starts with a wildcard, the last ends it unless it ends with one.
 */
export function likeRequiredTexts(pattern: string): RequiredText[] {
  const parts = pattern.split(/[%_]/);
  const texts: RequiredText[] = [];
  parts.forEach((text, index) => {
    if (text !== '') texts.push({ text, atStart: index === 0, atEnd: index === parts.length - 1 && parts.length > 1 });
  });
  return texts;
}

function longestText(texts: readonly RequiredText[]): string {
  let best = '';
  for (const { text } of texts) if (text.length > best.length) best = text;
  return best;
}

/**
 * A run of text that every match of the regular expression contains, or '' when none can be shown
 * simply: the longest of regexRequiredTexts.
 */
export function regexRequiredLiteral(source: string): string {
  return longestText(regexRequiredTexts(source));
}

/** A counted repetition as the MATCHES engine reads one; any other `{` is a literal character there. */
const countedRepetition = /^\{\d+(,\d*)?\}/;

/**
 * Runs of text that every match of the regular expression contains (none when none can be shown simply).
 * Conservative: alternation at the top level, inline flags or lookaround give up; groups, classes, `.`,
 * anchors and escapes such as `\d` end a run; a character made optional by `?`, `*` or `{…}` is dropped
 * from its run. A run right after a leading `^` starts the value, one right before a final `$` ends it
 * (without the `m` flag, which needs `(?`, refused above).
 */
export function regexRequiredTexts(source: string): RequiredText[] {
  if (source.includes('(?')) return [];
  const runs: RequiredText[] = [];
  let run = '';
  let runAtStart = source.startsWith('^');
  let depth = 0;
  const endRun = (atEnd: boolean): void => {
    if (run.length > 0) runs.push({ text: run, atStart: runAtStart, atEnd });
    run = '';
    runAtStart = false;
  };
  for (let i = runAtStart ? 1 : 0; i < source.length; i++) {
    const c = source[i] as string;
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '[') i = skipClass(source, i);
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '|') return [];
    if (c === '\\') {
      const e = source[i + 1];
      i++;
      if (e === undefined) return [];
      if (/[A-Za-z0-9]/.test(e)) {
        endRun(false); // \d, \w, \x41, \b, back-references…: not a plain literal
        continue;
      }
      run += e;
      continue;
    }
    if (c === '[') {
      endRun(false);
      i = skipClass(source, i);
      continue;
    }
    if (c === '(') {
      endRun(false);
      depth++;
      continue;
    }
    if (c === '{' && !countedRepetition.test(source.slice(i))) {
      run += c; // not a repetition: the engine reads it as itself
      continue;
    }
    if (c === '*' || c === '?' || c === '{') {
      run = run.slice(0, -1); // the previous character may be absent
      endRun(false);
      if (c === '{') while (i < source.length && source[i] !== '}') i++;
      continue;
    }
    if (c === '+') {
      endRun(false); // the run's last character may repeat: the run does not end the value
      continue;
    }
    if (c === '$') {
      endRun(i === source.length - 1);
      continue;
    }
    if (c === '.' || c === '^' || c === ')') {
      endRun(false);
      continue;
    }
    // A quantifier right after the next character makes that character optional; handled above.
    run += c;
  }
  endRun(false);
  return runs;
}

function skipClass(source: string, open: number): number {
  let i = open + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  for (; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']') return i;
  }
  return source.length;
}

function comparisonAnchors(node: ComparisonExpression): LeafAnchors | undefined {
  switch (node.kind) {
    case 'exists':
      return undefined;
    case 'comparison-or': {
      const left = comparisonAnchors(node.left);
      const right = comparisonAnchors(node.right);
      if (left === undefined || right === undefined) return undefined;
      return { anchors: [...left.anchors, ...right.anchors], exact: left.exact && right.exact };
    }
    case 'comparison-and': {
      const left = comparisonAnchors(node.left);
      const right = comparisonAnchors(node.right);
      const chosen = left === undefined ? right : right === undefined ? left : selectivity(right) > selectivity(left) ? right : left;
      // One side's anchors are necessary, never sufficient: the other side must still be evaluated.
      return chosen === undefined ? undefined : { anchors: chosen.anchors, exact: false };
    }
    case 'comparison': {
      if (node.negated || isBinaryPath(node.path)) return undefined;
      const path = anchorPath(node.path);
      const value = node.value;
      switch (node.operator) {
        case '=':
          if (value.kind === 'string') return { anchors: [{ kind: 'equal', path, value: value.value.normalize('NFC') }], exact: true };
          if (value.kind === 'integer' || value.kind === 'float') return { anchors: [{ kind: 'equal', path, value: value.value }], exact: true };
          return undefined;
        case 'IN': {
          if (value.kind !== 'set' || value.elements.length === 0) return undefined;
          const anchors: Anchor[] = [];
          for (const element of value.elements) {
            if (element.kind === 'string') anchors.push({ kind: 'equal', path, value: element.value.normalize('NFC') });
            else if (element.kind === 'integer' || element.kind === 'float') anchors.push({ kind: 'equal', path, value: element.value });
            else return undefined;
          }
          return { anchors, exact: true };
        }
        case 'ISSUBSET':
          if (value.kind !== 'string' || parseIpRange(value.value) === undefined) return undefined;
          return { anchors: [{ kind: 'cidr', path, block: value.value }], exact: true };
        case 'LIKE': {
          if (value.kind !== 'string') return undefined;
          const text = value.value.normalize('NFC');
          if (!/[%_]/.test(text)) return { anchors: [{ kind: 'equal', path, value: text }], exact: true };
          const required = likeRequiredTexts(text);
          const literal = longestText(required);
          if (literal.length < shortestSubstringAnchor) return undefined;
          return { anchors: [{ kind: 'substring', path, literal, required }], exact: false };
        }
        case 'MATCHES': {
          if (value.kind !== 'string') return undefined;
          const required = regexRequiredTexts(value.value.normalize('NFC'));
          const literal = longestText(required);
          if (literal.length < shortestSubstringAnchor) return undefined;
          return { anchors: [{ kind: 'substring', path, literal, required }], exact: false };
        }
        default:
          return undefined;
      }
    }
  }
}

/** Higher is more selective: equality keys beat IP blocks beat substrings; fewer anchors beat more. */
function selectivity(candidate: LeafAnchors): number {
  const weight = (anchor: Anchor): number => (anchor.kind === 'equal' ? 1 : anchor.kind === 'cidr' ? 4 : 16);
  return -candidate.anchors.reduce((sum, anchor) => sum + weight(anchor), 0);
}

function collectLeaves(node: ObservationExpression, into: PlannedLeaf[]): number | undefined {
  switch (node.kind) {
    case 'observation': {
      const found = comparisonAnchors(node.comparison);
      into.push({ node, anchors: found?.anchors, exact: found?.exact ?? false });
      return undefined;
    }
    case 'qualified': {
      const inner = collectLeaves(node.expression, into);
      const own = node.qualifier.kind === 'within' ? node.qualifier.seconds : undefined;
      return own === undefined ? inner : Math.max(own, inner ?? 0);
    }
    default: {
      const left = collectLeaves(node.left, into);
      const right = collectLeaves(node.right, into);
      return left === undefined ? right : right === undefined ? left : Math.max(left, right);
    }
  }
}

export function planPattern(ast: PatternAst): MatchPlan {
  const leaves: PlannedLeaf[] = [];
  const withinSeconds = collectLeaves(ast, leaves);
  return { leaves, anyLeafMatches: isOrOfObservations(ast), withinSeconds };
}

function isOrOfObservations(node: ObservationExpression): boolean {
  if (node.kind === 'observation') return true;
  return node.kind === 'observation-or' && isOrOfObservations(node.left) && isOrOfObservations(node.right);
}

/**
 * What one SCO must have for a comparison to hold on it: its `type` is `objectType` and it holds its
 * own property `property` (the first key of the path, even one that then follows a reference).
 */
export interface ScoNeed {
  readonly objectType: string;
  /** Undefined for a path that does not start with a key (the grammar makes none): the type alone. */
  readonly property: string | undefined;
}

/**
 * The needs of a `[…]`'s comparison expression: it holds on an SCO only if the SCO meets one of them (the
 * evaluator tests a comparison or EXISTS only on an SCO of its type, and selects nothing from one without
 * the path's first key). For a leaf without anchors, evaluated on every observation, this is what an
 * observation must hold for it to be worth evaluating, and what the raw-line screen looks for in a line.
 * OR needs what either side needs; AND what one side needs (the one with fewer needs): both sides hold on
 * the same SCO. Recursive, as the expression's depth is within patternLimits.depth (checked before).
 */
export function scoNeedsOf(node: ComparisonExpression): ScoNeed[] {
  switch (node.kind) {
    case 'exists':
    case 'comparison': {
      const first = node.path.steps[0];
      return [{ objectType: node.path.objectType, property: first?.kind === 'key' ? first.name : undefined }];
    }
    case 'comparison-or': {
      const needs = scoNeedsOf(node.left);
      for (const need of scoNeedsOf(node.right)) if (!needs.some((held) => held.objectType === need.objectType && held.property === need.property)) needs.push(need);
      return needs;
    }
    case 'comparison-and': {
      const left = scoNeedsOf(node.left);
      const right = scoNeedsOf(node.right);
      return right.length < left.length ? right : left;
    }
  }
}
