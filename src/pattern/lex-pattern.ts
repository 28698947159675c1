// The lexer of STIX 2.1 patterns. It scans on demand (the parser pulls one token at a time), so that
// the one context-dependent choice — `.5` after an operator is a float, `.name` after a path is a key
// step — is made from the previous token, and so that a syntax error stops the scan at once.
import { timestampFractionDigits } from '../stix/validate/lexical.ts';

export type TokenKind =
  | 'lbrack'
  | 'rbrack'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'colon'
  | 'dot'
  | 'star'
  | 'operator'
  | 'keyword'
  | 'identifier'
  | 'string'
  | 'integer'
  | 'float'
  | 'timestamp'
  | 'binary'
  | 'hex'
  | 'eof';

/** Keywords are upper case only in STIX 2.1 (`within` is an identifier, not WITHIN). */
export const keywords: ReadonlySet<string> = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'LAST', 'IN',
  'START', 'STOP', 'SECONDS', 'TRUE', 'FALSE', 'WITHIN', 'REPEATS', 'TIMES',
]);

export interface Token {
  readonly kind: TokenKind;
  /** Source text; for string-like literals the decoded content, for operators the canonical form. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** A lexical error: the offset where it was found and what is wrong. */
export interface LexError {
  readonly offset: number;
  readonly found: string;
  readonly reason: string;
}

/** Whatever pulls tokens: `next()` returns a token or the first lexical error. */
export interface PatternLexer {
  next(): Token | LexError;
}

export function isLexError(value: Token | LexError): value is LexError {
  return (value as LexError).reason !== undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentifierStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || isDigit(c) || c === 45;
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 43 || c === 47;
}
/** The grammar's whitespace: ASCII blanks plus the Unicode spaces it lists. */
function isSpace(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/** Describes the text at `offset` for an error message: one token-ish word, shortened. */
export function describeTextAt(text: string, offset: number): string {
  if (offset >= text.length) return 'end of pattern';
  let end = offset + 1;
  if (isIdentifierPart(text.charCodeAt(offset))) {
    while (end < text.length && isIdentifierPart(text.charCodeAt(end))) end++;
  }
  const word = text.slice(offset, Math.min(end, offset + 24));
  return `'${word}${end > offset + 24 ? '…' : ''}'`;
}

const maxSafe = Number.MAX_SAFE_INTEGER;

export function createPatternLexer(text: string): PatternLexer {
  return new PatternScanner(text);
}

// A class rather than closures: one parse creates one object, which keeps parsing cheap when a million
// indicators are compiled.
class PatternScanner implements PatternLexer {
  private pos = 0;
  private previous: TokenKind | undefined;
  private readonly length: number;

  constructor(private readonly text: string) {
    this.length = text.length;
  }

  private token(kind: TokenKind, tokenText: string, start: number): Token {
    this.previous = kind;
    return { kind, text: tokenText, start, end: this.pos };
  }

  private fail(offset: number, reason: string): LexError {
    return { offset, found: describeTextAt(this.text, offset), reason };
  }

  private unexpected(start: number): LexError {
    return this.fail(start, `unexpected character '${String.fromCodePoint(this.text.codePointAt(start) ?? 0)}'`);
  }

  private skipSpaceAndComments(): LexError | undefined {
    const text = this.text;
    while (this.pos < this.length) {
      const c = text.charCodeAt(this.pos);
      if (isSpace(c)) {
        this.pos++;
      } else if (c === 47 && text.charCodeAt(this.pos + 1) === 42) {
        const close = text.indexOf('*/', this.pos + 2);
        if (close < 0) return this.fail(this.pos, 'comment is not closed with */');
        this.pos = close + 2;
      } else if (c === 47 && text.charCodeAt(this.pos + 1) === 47) {
        while (this.pos < this.length && text.charCodeAt(this.pos) !== 10 && text.charCodeAt(this.pos) !== 13) this.pos++;
      } else {
        return undefined;
      }
    }
    return undefined;
  }

  /** Reads `'…'` from `pos` (at the quote); returns the decoded content. */
  private readQuoted(start: number, what: string): string | LexError {
    const text = this.text;
    this.pos++;
    let out = '';
    let chunkStart = this.pos;
    while (this.pos < this.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 39) {
        out += text.slice(chunkStart, this.pos);
        this.pos++;
        return out;
      }
      if (c === 92) {
        const n = text.charCodeAt(this.pos + 1);
        if (n !== 39 && n !== 92) {
          return this.fail(this.pos, `${what} may only escape \\' and \\\\ (write a backslash as \\\\)`);
        }
        out += text.slice(chunkStart, this.pos) + String.fromCharCode(n);
        this.pos += 2;
        chunkStart = this.pos;
        continue;
      }
      this.pos++;
    }
    return this.fail(start, `${what} is not closed with '`);
  }

  private readNumber(start: number): Token | LexError {
    const text = this.text;
    if (text.charCodeAt(this.pos) === 43 || text.charCodeAt(this.pos) === 45) this.pos++;
    const digitsStart = this.pos;
    while (this.pos < this.length && isDigit(text.charCodeAt(this.pos))) this.pos++;
    const intDigits = this.pos - digitsStart;
    if (text.charCodeAt(this.pos) === 46 && isDigit(text.charCodeAt(this.pos + 1))) {
      this.pos++;
      while (this.pos < this.length && isDigit(text.charCodeAt(this.pos))) this.pos++;
      const value = Number(text.slice(start, this.pos));
      if (!Number.isFinite(value)) return this.fail(start, 'number is too large');
      return this.token('float', text.slice(start, this.pos), start);
    }
    if (intDigits === 0) return this.fail(start, 'a sign must be followed by digits');
    if (intDigits > 1 && text.charCodeAt(digitsStart) === 48) return this.fail(start, 'integers have no leading zeros');
    if (isIdentifierStart(text.charCodeAt(this.pos))) return this.fail(start, 'a number must not run into letters');
    const value = Number(text.slice(start, this.pos));
    if (Math.abs(value) > maxSafe) return this.fail(start, 'integer is outside the STIX integer range (±2^53−1)');
    return this.token('integer', text.slice(start, this.pos), start);
  }

  private readPrefixedLiteral(start: number, prefix: number): Token | LexError {
    this.pos++;
    const content = this.readQuoted(this.pos, prefix === 116 ? 'timestamp' : prefix === 98 ? 'binary literal' : 'hex literal');
    if (typeof content !== 'string') return content;
    if (prefix === 116) {
      if (timestampFractionDigits(content) < 0) {
        return this.fail(start, `t'${content}' is not a UTC timestamp such as t'2026-01-31T00:00:00Z' with a real date`);
      }
      return this.token('timestamp', content, start);
    }
    if (prefix === 104) {
      if (!isHexPairs(content)) return this.fail(start, `h'…' must hold pairs of hex digits`);
      return this.token('hex', content, start);
    }
    if (!isPaddedBase64(content)) return this.fail(start, `b'…' must hold padded base64`);
    return this.token('binary', content, start);
  }

  private single(kind: TokenKind, tokenText: string, start: number, width: number): Token {
    this.pos += width;
    return this.token(kind, tokenText, start);
  }

  next(): Token | LexError {
    const problem = this.skipSpaceAndComments();
    if (problem !== undefined) return problem;
    const text = this.text;
    const start = this.pos;
    if (start >= this.length) return this.token('eof', '', start);
    const c = text.charCodeAt(start);
    const n = text.charCodeAt(start + 1);
    switch (c) {
      case 91:
        return this.single('lbrack', '[', start, 1);
      case 93:
        return this.single('rbrack', ']', start, 1);
      case 40:
        return this.single('lparen', '(', start, 1);
      case 41:
        return this.single('rparen', ')', start, 1);
      case 44:
        return this.single('comma', ',', start, 1);
      case 58:
        return this.single('colon', ':', start, 1);
      case 42:
        return this.single('star', '*', start, 1);
      case 61:
        return this.single('operator', '=', start, n === 61 ? 2 : 1);
      case 33:
        return n === 61 ? this.single('operator', '!=', start, 2) : this.unexpected(start);
      case 60:
        if (n === 61) return this.single('operator', '<=', start, 2);
        if (n === 62) return this.single('operator', '!=', start, 2);
        return this.single('operator', '<', start, 1);
      case 62:
        return n === 61 ? this.single('operator', '>=', start, 2) : this.single('operator', '>', start, 1);
      case 39: {
        const content = this.readQuoted(start, 'string');
        if (typeof content !== 'string') return content;
        return this.token('string', content, start);
      }
      case 46:
        // After a path component a dot starts a key step; anywhere else `.5` is a float.
        if (isDigit(n) && this.previous !== 'identifier' && this.previous !== 'string' && this.previous !== 'rbrack') {
          return this.readNumber(start);
        }
        return this.single('dot', '.', start, 1);
      case 43:
      case 45:
        return this.readNumber(start);
      default:
        break;
    }
    if (isDigit(c)) return this.readNumber(start);
    if ((c === 116 || c === 98 || c === 104) && n === 39) return this.readPrefixedLiteral(start, c);
    if (isIdentifierStart(c)) {
      this.pos++;
      while (this.pos < this.length && isIdentifierPart(text.charCodeAt(this.pos))) this.pos++;
      const word = text.slice(start, this.pos);
      return this.token(keywords.has(word) ? 'keyword' : 'identifier', word, start);
    }
    return this.unexpected(start);
  }
}

function isHexPairs(s: string): boolean {
  if (s.length % 2 !== 0) return false;
  for (let i = 0; i < s.length; i++) if (!isHexDigit(s.charCodeAt(i))) return false;
  return true;
}

/** Padded RFC 4648 base64, possibly empty, as the 2.1 grammar's BinaryLiteral. */
function isPaddedBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end -= s.charCodeAt(end - 2) === 61 ? 2 : 1;
  for (let i = 0; i < end; i++) if (!isBase64Char(s.charCodeAt(i))) return false;
  return true;
}
