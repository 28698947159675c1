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

/**
 * The lines of each chunk together: consumers iterate a chunk's lines synchronously, since an async
 * iteration per line (a promise and a turn of the microtask queue each) costs as much as matching a line.
 */
export async function* readLineBatches(chunks: AsyncIterable<string | Buffer>, maxLineChars = defaultMaxLineChars): AsyncGenerator<Line[]> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let skipping = false;
  let skipped = 0;
  let number = 0;
  const finish = (text: string): Line => {
    number++;
    return { number, text: text.endsWith('\r') ? text.slice(0, -1) : text };
  };
  const consume = (text: string): Line[] => {
    const lines: Line[] = [];
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      if (skipping) {
        number++;
        lines.push({ number, overlong: true, length: skipped + newline - start });
        skipping = false;
        skipped = 0;
      } else if (pending.length > 0) {
        const line = pending + text.slice(start, newline);
        pending = '';
        lines.push(line.length > maxLineChars ? { number: ++number, overlong: true, length: line.length } : finish(line));
      } else if (newline - start > maxLineChars) {
        number++;
        lines.push({ number, overlong: true, length: newline - start });
      } else lines.push(finish(text.slice(start, newline)));
      start = newline + 1;
    }
    const rest = text.length - start;
    if (skipping) skipped += rest;
    else if (pending.length + rest > maxLineChars) {
      skipping = true;
      skipped = pending.length + rest;
      pending = '';
    } else if (rest > 0) pending += text.slice(start);
    return lines;
  };
  for await (const chunk of chunks) {
    const lines = consume(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (lines.length > 0) yield lines;
  }
  const last = consume(decoder.end());
  if (skipping) {
    number++;
    last.push({ number, overlong: true, length: skipped });
  } else if (pending.length > 0) last.push(finish(pending));
  if (last.length > 0) yield last;
}

export async function* readLines(chunks: AsyncIterable<string | Buffer>, maxLineChars = defaultMaxLineChars): AsyncGenerator<Line> {
  for await (const lines of readLineBatches(chunks, maxLineChars)) yield* lines;
}
