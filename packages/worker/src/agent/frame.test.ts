import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, MAX_PAYLOAD, encodeFrame } from './frame.js';
import { Key, TlvFields, encodeTlv } from './tlv.js';

describe('frame codec', () => {
  it('round-trips frames split at every byte boundary', () => {
    const bytes = Buffer.concat([
      encodeFrame(FrameType.OPEN, 7, encodeTlv([[Key.OP, 'ping']])),
      encodeFrame(FrameType.DATA, 7, Buffer.from('hello'), 1),
      encodeFrame(FrameType.EOF, 7, undefined, 1),
    ]);
    for (let split = 0; split <= bytes.length; split++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(bytes.subarray(0, split)), ...decoder.push(bytes.subarray(split))];
      expect(frames.map((f) => [f.type, f.stream, f.channel, f.payload.toString('latin1')])).toEqual([
        [FrameType.OPEN, 7, 0, encodeTlv([[Key.OP, 'ping']]).toString('latin1')],
        [FrameType.DATA, 7, 1, 'hello'],
        [FrameType.EOF, 7, 1, ''],
      ]);
    }
  });

  it('skips garbage and an oversized length, then finds the next good frame', () => {
    const bad = encodeFrame(FrameType.DATA, 1, Buffer.from('x'));
    bad.writeUInt32LE(MAX_PAYLOAD + 1, 8);
    const decoder = new FrameDecoder();
    const frames = decoder.push(Buffer.concat([Buffer.from('garbage!'), bad.subarray(0, 16), encodeFrame(FrameType.DONE, 3)]));
    expect(frames.map((f) => [f.type, f.stream])).toEqual([[FrameType.DONE, 3]]);
    expect(decoder.droppedBytes).toBe(8 + 16);
  });

  it('refuses to encode a payload over the limit', () => {
    expect(() => encodeFrame(FrameType.DATA, 1, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(/exceeds/);
  });
});

describe('TLV', () => {
  it('round-trips strings, repeated keys, numbers and signed numbers', () => {
    const payload = encodeTlv([[Key.ARGV, ['sh', '-c', 'echo hi']], [Key.TIMEOUT_MS, 1500], [Key.EXIT_CODE, -1], [Key.CWD, undefined]]);
    const fields = TlvFields.decode(payload);
    expect(fields.all(Key.ARGV).map(String)).toEqual(['sh', '-c', 'echo hi']);
    expect(fields.number(Key.TIMEOUT_MS)).toBe(1500);
    expect(fields.signed(Key.EXIT_CODE)).toBe(-1);
    expect(fields.string(Key.CWD)).toBeUndefined();
  });

  it('rejects a value that runs past the payload', () => {
    const payload = encodeTlv([[Key.PATH, '/etc/hosts']]);
    expect(() => TlvFields.decode(payload.subarray(0, payload.length - 1))).toThrow(/runs past/);
  });
});
