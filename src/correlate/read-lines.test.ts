import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readLines, type Line } from './read-lines.ts';

async function collect(chunks: readonly (string | Buffer)[], max?: number): Promise<Line[]> {
  const out: Line[] = [];
  for await (const line of readLines(
    (async function* () {
      yield* chunks;
    })(),
    max,
  ))
    out.push(line);
  return out;
}

describe('reading lines in bounded memory', () => {
  it('splits on LF and CRLF, numbers lines from 1, keeps blank lines, and returns a last line without newline', async () => {
    assert.deepEqual(await collect(['a\r\nb', 'c\n\nd']), [
      { number: 1, text: 'a' },
      { number: 2, text: 'bc' },
      { number: 3, text: '' },
      { number: 4, text: 'd' },
    ]);
  });

  it('a UTF-8 character split across two chunks is decoded whole; invalid bytes become U+FFFD', async () => {
    const euro = Buffer.from('x€y\n');
    assert.deepEqual(await collect([euro.subarray(0, 2), euro.subarray(2)]), [{ number: 1, text: 'x€y' }]);
    assert.deepEqual(await collect([Buffer.from([0xff, 0xfe, 0x41, 0x0a])]), [{ number: 1, text: '\ufffd\ufffdA' }]);
  });

  it('a line longer than the cap is reported as over-long with its length, and the next line is read normally', async () => {
    const lines = await collect(['short\n', 'x'.repeat(30), 'y'.repeat(30), '\nafter\n'], 50);
    assert.deepEqual(lines, [
      { number: 1, text: 'short' },
      { number: 2, overlong: true, length: 60 },
      { number: 3, text: 'after' },
    ]);
  });

  it('an over-long line inside one chunk, and one that never ends, are both reported', async () => {
    assert.deepEqual(await collect(['a\n' + 'z'.repeat(80) + '\nb\n'], 50), [
      { number: 1, text: 'a' },
      { number: 2, overlong: true, length: 80 },
      { number: 3, text: 'b' },
    ]);
    assert.deepEqual(await collect(['ok\n', 'q'.repeat(40), 'q'.repeat(40)], 50), [
      { number: 1, text: 'ok' },
      { number: 2, overlong: true, length: 80 },
    ]);
  });

  it('a 1 GiB line without newline is skipped while streaming: memory stays bounded', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const before = process.memoryUsage().rss;
    let peak = before;
    const lines: Line[] = [];
    for await (const line of readLines(
      (async function* () {
        for (let i = 0; i < 1024; i++) {
          yield chunk;
          if (i % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        }
        yield '\nnext\n';
      })(),
    ))
      lines.push(line);
    assert.deepEqual(lines, [
      { number: 1, overlong: true, length: 1024 * 1024 * 1024 },
      { number: 2, text: 'next' },
    ]);
    assert.ok(peak - before < 200 * 1024 * 1024, `resident memory grew by ${((peak - before) / 1048576).toFixed(0)} MiB`);
  });
});
