// `tail -F` for `entente match --follow`: reads a file to its end, then keeps polling for what is
// appended; a file that shrinks (rotated or truncated in place) is read again from its start. Ends when
// the signal aborts. Reads are bounded chunks, so a huge append never lands in memory at once.
import { open, stat } from 'node:fs/promises';

export interface FollowOptions {
  readonly signal: AbortSignal;
  /** Wait between polls at the end of the file, ms (default 250). */
  readonly pollMs?: number;
  readonly chunkBytes?: number;
}

export async function* followFile(path: string, options: FollowOptions): AsyncGenerator<Buffer> {
  const pollMs = options.pollMs ?? 250;
  const chunk = Buffer.alloc(options.chunkBytes ?? 1024 * 1024);
  let handle = await open(path, 'r');
  let position = 0;
  try {
    while (!options.signal.aborted) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        yield Buffer.from(chunk.subarray(0, bytesRead));
        continue;
      }
      const size = await stat(path).then(
        (s) => s.size,
        () => position,
      );
      if (size < position) {
        // Truncated or replaced by a new, shorter file: start again from its beginning.
        await handle.close();
        handle = await open(path, 'r');
        position = 0;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        options.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  } finally {
    await handle.close();
  }
}
