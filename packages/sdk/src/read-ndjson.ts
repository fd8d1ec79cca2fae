import { ScaiError } from '@scaibunker/contracts';

/**
 * Yields the value of each line of an NDJSON byte stream as soon as the line is complete,
 * holding only the unfinished line: a line may span chunks, a chunk may hold many lines, and a
 * UTF-8 character may be split between two chunks. Stopping early cancels the stream.
 *
 * @example for await (const event of readNdjson<{ stdout?: string }>(response.body!)) console.log(event);
 */
export async function* readNdjson<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n', start)) {
        const line = pending.slice(start, newline);
        start = newline + 1;
        if (line.trim() !== '') yield parseLine<T>(line);
      }
      pending = pending.slice(start);
      if (done) break;
    }
    if (pending.trim() !== '') yield parseLine<T>(pending);
  } finally {
    // Also when the caller stops early: the server then learns the reader went away.
    await reader.cancel().catch(() => undefined);
  }
}

function parseLine<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new ScaiError('INTERNAL', `The server sent a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}.`);
  }
}
