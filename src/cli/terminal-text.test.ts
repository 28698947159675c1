import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { terminalLine } from './terminal-text.ts';

describe('text from a document on its way to a terminal', () => {
  it('shows escape sequences, C1 controls and line breaks as visible escapes, so that nothing acts on the terminal', () => {
    assert.equal(terminalLine('a\u001b]52;c;ZXZpbA==\u0007b'), 'a\\u001b]52;c;ZXZpbA==\\u0007b');
    assert.equal(terminalLine('x\u009b2Jy\u007f'), 'x\\u009b2Jy\\u007f');
    assert.equal(terminalLine('one\r\n  3  accepted  forged'), 'one\\u000d\\u000a  3  accepted  forged');
  });

  it('shows bidi overrides and isolates, so that a value is never displayed reversed', () => {
    assert.equal(terminalLine('invoice\u202efdp.exe'), 'invoice\\u202efdp.exe');
    assert.equal(terminalLine('\u2066a\u2069\u200f'), '\\u2066a\\u2069\\u200f');
  });

  it('leaves tabs (column separators), printable text and other scripts as they are', () => {
    const line = '  1  pending  url\thttps://пример.рф/ä?q=1\textractor:url 0.95';
    assert.equal(terminalLine(line), line);
  });
});
