import { describe, expect, it } from 'vitest';
import { OutputTail, replayOverlap } from './replay-overlap.js';

const b = (text: string) => Buffer.from(text);

describe('replayOverlap', () => {
  it('skips everything already printed when the whole session fits in the replay', () => {
    expect(replayOverlap(b('$ echo hi\r\nhi\r\n'), b('$ echo hi\r\nhi\r\n$ '))).toBe(15);
  });

  it('finds where a replay that starts mid-history joins what was printed', () => {
    const history = Array.from({ length: 2000 }, (_, i) => `line ${i}\r\n`).join('');
    const printed = history.slice(0, 15_000);
    const replay = history.slice(10_000) + 'new output';
    expect(replayOverlap(b(printed), b(replay))).toBe(5_000);
  });

  it('answers 0 when the shell printed more while detached than the replay holds', () => {
    expect(replayOverlap(b('line 1\r\nline 2\r\n'), b('line 9000\r\nline 9001\r\n'))).toBe(0);
  });

  it('takes a short chance match for new output, not overlap', () => {
    expect(replayOverlap(b('a long line that ended\r\n'), b('\r\nsomething new'))).toBe(0);
  });

  it('matches across repeated patterns (a suffix that restarts the prefix)', () => {
    expect(replayOverlap(b('xx aaaaaaaaaaaaaaaaaaaab'), b('aaaaaaaaaaaaaaaaaaaab then more'))).toBe(21);
  });
});

describe('OutputTail', () => {
  it('keeps at least the last 128 KiB and drops older chunks', () => {
    const tail = new OutputTail();
    for (let i = 0; i < 100; i++) tail.push(Buffer.alloc(4096, i));
    const kept = tail.bytes();
    expect(kept.length).toBeGreaterThanOrEqual(128 * 1024);
    expect(kept.length).toBeLessThan(128 * 1024 + 4096);
    expect(kept.at(-1)).toBe(99);
  });
});
