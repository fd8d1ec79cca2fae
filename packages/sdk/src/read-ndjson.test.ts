import { describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { readNdjson } from './read-ndjson.js';

/** A byte stream that delivers exactly these chunks, one read each. */
function chunked(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(typeof next === 'string' ? encoder.encode(next) : next);
    },
  });
}

async function all<T>(stream: ReadableStream<Uint8Array>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of readNdjson<T>(stream)) values.push(value);
  return values;
}

describe('readNdjson', () => {
  it('joins a line split in the middle across chunks', async () => {
    expect(await all(chunked('{"stdout":"hel', 'lo"}\n{"exit":', '{"exit_code":0}}\n'))).toEqual([{ stdout: 'hello' }, { exit: { exit_code: 0 } }]);
  });

  it('yields every line of a chunk that holds several, and skips blank lines', async () => {
    expect(await all(chunked('{"a":1}\n{"b":2}\n\n{"c":3}\n'))).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('decodes a multi-byte UTF-8 character split between two chunks', async () => {
    const bytes = new TextEncoder().encode('{"stdout":"é€😀"}\n');
    // Cut inside the 2-byte é, the 3-byte € and the 4-byte emoji.
    const cuts = [12, 14, 18];
    const chunks = [bytes.slice(0, cuts[0]), bytes.slice(cuts[0], cuts[1]), bytes.slice(cuts[1], cuts[2]), bytes.slice(cuts[2])];
    expect(await all(chunked(...chunks))).toEqual([{ stdout: 'é€😀' }]);
  });

  it('yields a last line that has no newline', async () => {
    expect(await all(chunked('{"a":1}\n{"b"', ':2}'))).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('yields each line before the next chunk arrives', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('{"first":true}\n{"sec'));
        await gate;
        controller.enqueue(new TextEncoder().encode('ond":true}\n'));
        controller.close();
      },
    });
    const iterator = readNdjson(stream);
    expect((await iterator.next()).value).toEqual({ first: true });
    release();
    expect((await iterator.next()).value).toEqual({ second: true });
    expect((await iterator.next()).done).toBe(true);
  });

  it('cancels the stream when the reader stops early', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new TextEncoder().encode('{"stdout":"y\\n"}\n')),
      cancel: () => { cancelled = true; },
    });
    for await (const event of readNdjson(stream)) if (event) break;
    expect(cancelled).toBe(true);
  });

  it('throws a ScaiError on a line that is not JSON', async () => {
    await expect(all(chunked('{"a":1}\nnot json\n'))).rejects.toBeInstanceOf(ScaiError);
  });
});
