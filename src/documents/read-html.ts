// HTML → text (pure): the main content of a page, as an analyst would read it in a browser, with
// tables kept as one line per row (cells separated by tabs) and code blocks kept verbatim. parse5
// only builds a tree: no script runs, no style is applied, nothing (images, frames, links) is
// fetched. Text inside script, style, template, noscript, SVG, forms and page chrome (nav, footer,
// aside) is dropped; link targets are not read, only the text the reader sees.
//
// Parsing runs on the caller's thread (the CLI's, or a server's event loop for POST /api/drafts), so
// its cost is bounded (document-limits.ts): tags nested too deep are flattened before parse5 sees
// them, the elements it builds are counted as it builds them, and the page is fed to it in pieces
// with the CPU time checked between pieces.
import { defaultTreeAdapter, Parser } from 'parse5';
import type { DefaultTreeAdapterMap, TreeAdapter } from 'parse5';
import { EntenteError } from '../errors/entente-error.ts';
import { DEFAULT_DOCUMENT_LIMITS } from './document-limits.ts';
import type { DocumentLimits } from './document-limits.ts';
import { TextBuilder } from './document-text.ts';
import type { DocumentText } from './document-text.ts';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];
type Document = DefaultTreeAdapterMap['document'];

const SKIP = new Set([
  'script', 'style', 'noscript', 'template', 'head', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas',
  'select', 'button', 'input', 'textarea', 'nav', 'footer', 'aside', 'form', 'dialog', 'audio', 'video',
]);
const SKIP_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'search']);
const BLOCK = new Set([
  'address', 'article', 'blockquote', 'body', 'dd', 'details', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'ol', 'p', 'section', 'summary', 'table',
  'tbody', 'thead', 'tfoot', 'ul', 'caption', 'center',
]);
const PARAGRAPH = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'pre', 'blockquote', 'ul', 'ol', 'figure']);
// Invisible characters that sites insert to break long tokens (or to defeat extractors).
const INVISIBLE = /\u00ad|\u200b|\u200c|\u200d|\u2060|\ufeff/g;

function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

function children(node: Node): readonly Node[] {
  return 'childNodes' in node ? node.childNodes : [];
}

// Iterative walks: a hostile page can nest elements a hundred thousand deep.
function textLength(root: Node): number {
  let n = 0;
  const stack: Node[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.nodeName === '#text') n += 'value' in node ? node.value.length : 0;
    else if (!(isElement(node) && SKIP.has(node.tagName))) {
      // One at a time: spreading a list of 130,000 children into one call overflows the stack.
      for (const kid of children(node)) stack.push(kid);
    }
  }
  return n;
}

function find(root: Node, pick: (el: Element) => boolean): Element[] {
  const out: Element[] = [];
  const stack: Node[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (isElement(node)) {
      if (pick(node)) {
        out.push(node);
        continue;
      }
      if (SKIP.has(node.tagName) && node.tagName !== 'head') continue;
    }
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) {
      const kid = kids[i];
      if (kid !== undefined) stack.push(kid);
    }
  }
  return out;
}

/**
 * The elements holding the main content: every <main> / role=main, else every <article>, when they
 * hold at least a third of the page's text; otherwise the whole body.
 */
function mainContent(doc: Node): Node[] {
  const total = textLength(doc);
  for (const pick of [
    (el: Element) => el.tagName === 'main' || attr(el, 'role') === 'main',
    (el: Element) => el.tagName === 'article',
  ]) {
    const found = find(doc, pick);
    const n = found.reduce((sum, el) => sum + textLength(el), 0);
    if (found.length > 0 && n >= total / 3) return found;
  }
  return [doc];
}

class HtmlText {
  readonly out = new TextBuilder();
  private pre = 0;
  private pendingSpace = false;

  private text(value: string, start: number | undefined, end: number | undefined): void {
    const clean = value.replace(INVISIBLE, '');
    const where = start === undefined || end === undefined ? {} : { sourceStart: start, sourceEnd: end };
    if (this.pre > 0) {
      this.out.add(clean, where);
      this.pendingSpace = false;
      return;
    }
    const collapsed = clean.replace(/[ \t\n\f\r]+/g, ' ');
    if (collapsed === '') return;
    const last = this.out.lastChar();
    const atLineStart = last === '' || last === '\n' || last === '\t';
    let body = collapsed;
    if (body.startsWith(' ')) {
      body = body.slice(1);
      if (!atLineStart) this.pendingSpace = true;
    }
    const trailing = body.endsWith(' ');
    if (trailing) body = body.slice(0, -1);
    if (body !== '') {
      if (this.pendingSpace && !atLineStart) this.out.separator(' ');
      // Exact offsets when the node's source is its text verbatim (no entities, nothing collapsed).
      const k = start !== undefined && end !== undefined && end - start === value.length ? value.indexOf(body) : -1;
      this.out.add(body, k >= 0 && start !== undefined ? { sourceStart: start + k, sourceEnd: start + k + body.length } : where);
      this.pendingSpace = false;
    }
    if (trailing) this.pendingSpace = true;
  }

  private block(lines: number): void {
    this.pendingSpace = false;
    this.out.breakLines(lines);
  }

  /** Reads `root` and everything under it, without recursion. */
  walk(root: Node): void {
    const stack: { node: Node; exit?: () => void }[] = [{ node: root }];
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      if (item.exit !== undefined) {
        item.exit();
        continue;
      }
      const node = item.node;
      const exit = this.enter(node);
      if (exit === null) continue;
      stack.push({ node, exit });
      const kids = children(node);
      for (let i = kids.length - 1; i >= 0; i--) {
        const kid = kids[i];
        if (kid !== undefined) stack.push({ node: kid });
      }
    }
  }

  /** Handles the start of `node`; returns what to do after its children, or null to skip them. */
  private enter(node: Node): (() => void) | null {
    if (node.nodeName === '#text' && 'value' in node) {
      const loc = node.sourceCodeLocation;
      this.text(node.value, loc?.startOffset, loc?.endOffset);
      return null;
    }
    if (!isElement(node)) return () => {};
    const tag = node.tagName;
    if (SKIP.has(tag)) return null;
    const role = attr(node, 'role');
    if (role !== undefined && SKIP_ROLES.has(role)) return null;
    if (attr(node, 'hidden') !== undefined || attr(node, 'aria-hidden') === 'true') return null;
    if (tag === 'br') {
      this.block(1);
      return null;
    }
    if (tag === 'wbr') return null;
    if (tag === 'td' || tag === 'th') {
      const last = this.out.lastChar();
      if (last !== '' && last !== '\n') this.out.separator('\t');
      this.pendingSpace = false;
      return () => {};
    }
    if (tag === 'tr') {
      this.block(1);
      return () => this.block(1);
    }
    if (tag === 'pre' || tag === 'textarea' || tag === 'xmp' || tag === 'listing' || tag === 'plaintext') {
      this.block(2);
      this.pre++;
      return () => {
        this.pre--;
        this.block(2);
      };
    }
    const lines = PARAGRAPH.has(tag) ? 2 : BLOCK.has(tag) ? 1 : 0;
    if (lines === 0) return () => {};
    this.block(lines);
    return () => this.block(lines);
  }
}

function titleOf(doc: Node): Element | undefined {
  return find(doc, (el) => el.tagName === 'title')[0];
}

/**
 * Deepest nesting of elements handed to parse5 (DocumentLimits.maxHtmlNesting). Its tree construction
 * looks through the stack of open elements at each tag, so a hostile page of 100,000 nested <div>s
 * took 200 s of CPU; a real page nests a few dozen deep.
 */
export const MAX_HTML_NESTING = DEFAULT_DOCUMENT_LIMITS.maxHtmlNesting;
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
// Closed by the next one of their kind (an unclosed <p> or <li> does not deepen the tree).
const IMPLIED_END = new Set(['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'rb', 'rt', 'rp', 'thead', 'tbody', 'tfoot', 'colgroup', 'caption']);
// The name must end where the lookahead says: without it a name that never closes could be split
// between the name and the rest of the tag in every way (quadratic: 40,000 characters took 2 s).
const TAG = /<(\/?)([A-Za-z][A-Za-z0-9-]*)(?![A-Za-z0-9-])[^<>]*>/g;
// Tags scanned between two calls of boundHtmlNesting's `check`.
const CHECK_EVERY_TAGS = 4096;

/**
 * The page with the tags that would nest deeper than `max` blanked out (each replaced by as many
 * spaces, so that offsets into the page stay true), with the end tags that match them: the text
 * stays, only structure below that depth is flattened. Counted on tags as written, an approximation
 * that can only blank more tags, never let a deeper tree through to parse5 than the count says.
 * `check` is called every few thousand tags (to stop a scan that has used up its time by throwing).
 */
export function boundHtmlNesting(html: string, max: number = MAX_HTML_NESTING, check?: () => void): string {
  let depth = 0;
  let blanked = 0;
  let out: string[] | undefined;
  let last = 0;
  let tags = 0;
  for (const m of html.matchAll(TAG)) {
    tags += 1;
    if (check !== undefined && tags % CHECK_EVERY_TAGS === 0) check();
    const name = (m[2] ?? '').toLowerCase();
    if (VOID_ELEMENTS.has(name) || IMPLIED_END.has(name) || m[0].endsWith('/>')) continue;
    const closing = m[1] === '/';
    let blank = false;
    if (closing) {
      if (blanked > 0) {
        blanked -= 1;
        blank = true;
      } else if (depth > 0) depth -= 1;
    } else if (depth >= max) {
      blanked += 1;
      blank = true;
    } else depth += 1;
    if (!blank) continue;
    out ??= [];
    out.push(html.slice(last, m.index), ' '.repeat(m[0].length));
    last = m.index + m[0].length;
  }
  if (out === undefined) return html;
  out.push(html.slice(last));
  return out.join('');
}

// Small enough that one piece costs little even where parse5 is quadratic (it checks each attribute
// of a tag against the ones before it), large enough that checking the clock costs nothing.
const PIECE_CHARS = 4 * 1024;

export interface HtmlReadOptions {
  /** Names the page in errors (a file name, or the e-mail it is the body of). */
  readonly name?: string;
  /** Only the HTML limits are used; DEFAULT_DOCUMENT_LIMITS for those not given. */
  readonly limits?: Partial<DocumentLimits>;
}

type HtmlLimits = Pick<DocumentLimits, 'maxHtmlNodes' | 'maxHtmlNesting' | 'maxHtmlCpuMs'>;

/** Parses `html` within `limits`; throws ENT_EXTRACT_LIMIT_EXCEEDED naming `name` and the limit. */
function parseBounded(html: string, name: string, limits: HtmlLimits): Document {
  const refuse = (what: string): EntenteError => new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: ${what}`, { file: name });
  let nodes = 0;
  const count = (): void => {
    nodes += 1;
    if (nodes > limits.maxHtmlNodes) {
      throw refuse(`the page would build more than ${limits.maxHtmlNodes} elements and comments; the page was abandoned`);
    }
  };
  const treeAdapter: TreeAdapter<DefaultTreeAdapterMap> = {
    ...defaultTreeAdapter,
    createElement(tagName, namespaceURI, attrs) {
      count();
      return defaultTreeAdapter.createElement(tagName, namespaceURI, attrs);
    },
    createCommentNode(data) {
      count();
      return defaultTreeAdapter.createCommentNode(data);
    },
  };
  // parse() writes the whole page at once; the parser's tokenizer also takes it in pieces, the way
  // parse5's own streaming parser feeds it (the source offsets run on across pieces).
  const parser = new Parser<DefaultTreeAdapterMap>({ sourceCodeLocationInfo: true, scriptingEnabled: false, treeAdapter });
  // The budget covers the scan for nesting too: on 64 MiB of tags it alone takes seconds.
  const started = process.cpuUsage();
  const checkTime = (): void => {
    const used = process.cpuUsage(started);
    if ((used.user + used.system) / 1000 > limits.maxHtmlCpuMs) {
      throw refuse(`parsing used more than ${limits.maxHtmlCpuMs} ms of CPU time; the page was abandoned`);
    }
  };
  const input = boundHtmlNesting(html, limits.maxHtmlNesting, checkTime);
  for (let at = 0; ; at += PIECE_CHARS) {
    const last = at + PIECE_CHARS >= input.length;
    parser.tokenizer.write(input.slice(at, at + PIECE_CHARS), last);
    if (last) break;
    checkTime();
  }
  return parser.document;
}

/**
 * Reads an HTML document (already decoded to a string). Throws ENT_EXTRACT_LIMIT_EXCEEDED, naming
 * `options.name` and the limit, for a page past an HTML limit.
 */
export function readHtml(html: string, options: HtmlReadOptions = {}): DocumentText {
  const limits = { ...DEFAULT_DOCUMENT_LIMITS, ...options.limits };
  const doc = parseBounded(html, options.name ?? 'the HTML page', limits);
  const reader = new HtmlText();
  const title = titleOf(doc);
  const roots = mainContent(doc);
  const warnings: string[] = [];
  if (title !== undefined) {
    for (const c of title.childNodes) reader.walk(c);
    reader.out.breakLines(2);
  }
  for (const root of roots) {
    reader.walk(root);
    reader.out.breakLines(2);
  }
  const text = reader.out.toString();
  return { format: 'html', text: text.replace(/\n+$/, '\n'), segments: reader.out.segments, warnings };
}
