// Lines from a stream of chunks in bounded memory: a line longer than `maxLineChars` is not kept — the
// reader skips to the next newline and reports the line as over-long — so a 1 GB single line, binary
// garbage without newlines or a file cut off mid-line cost at most one cap of memory. Bytes that are not
// UTF-8 become U+FFFD (and then fail to parse as whatever the line should be). A final line without a
// newline (a truncated file) is still returned.
import { StringDecoder } from 'node:string_decoder';

export type Line =
  | { readonly number: number; readonly text: string; readonly overlong?: undefined }
  | { readonly number: number; readonly overlong: true; readonly length: number };

export const defaultMaxLineChars = 1024 * 1024;

export async function* readLines(chunks: AsyncIterable<string | Buffer>, maxLineChars = defaultMaxLineChars): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let skipping = false;
  let skipped = 0;
  let number = 0;
  const finish = (text: string): Line => {
    number++;
    return { number, text: text.endsWith('\r') ? text.slice(0, -1) : text };
  };
  const consume = function* (text: string): Generator<Line> {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      if (skipping) {
        number++;
        yield { number, overlong: true, length: skipped + newline - start };
        skipping = false;
        skipped = 0;
      } else if (pending.length > 0) {
        const line = pending + text.slice(start, newline);
        pending = '';
        yield line.length > maxLineChars ? { number: ++number, overlong: true, length: line.length } : finish(line);
      } else if (newline - start > maxLineChars) {
        number++;
        yield { number, overlong: true, length: newline - start };
      } else yield finish(text.slice(start, newline));
      start = newline + 1;
    }
    const rest = text.length - start;
    if (skipping) skipped += rest;
    else if (pending.length + rest > maxLineChars) {
      skipping = true;
      skipped = pending.length + rest;
      pending = '';
    } else if (rest > 0) pending += text.slice(start);
  };
  for await (const chunk of chunks) yield* consume(typeof chunk === 'string' ? chunk : decoder.write(chunk));
  yield* consume(decoder.end());
  if (skipping) {
    number++;
    yield { number, overlong: true, length: skipped };
  } else if (pending.length > 0) yield finish(pending);
}
