/** Frame types of guest protocol v1 (docs/guest-protocol.md). */
export const FrameType = { HELLO: 1, OPEN: 2, REPLY: 3, DATA: 4, EOF: 5, CREDIT: 6, CONTROL: 7, DONE: 8, ERROR: 9 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const PROTO_VERSION = 1;
export const HEADER_BYTES = 16;
export const MAX_PAYLOAD = 256 * 1024;
export const MAX_DATA_CHUNK = 64 * 1024;
export const INITIAL_CREDIT = 256 * 1024;
const MAGIC = 0x5342;

/** Channels of a stream. */
export const Channel = { IN: 0, OUT: 1, ERR: 2 } as const;

/** One frame on the link. */
export interface Frame {
  type: FrameType;
  stream: number;
  channel: number;
  payload: Buffer;
}

/** Encodes one frame. */
export function encodeFrame(type: FrameType, stream: number, payload: Buffer = Buffer.alloc(0), channel = 0): Buffer {
  if (payload.length > MAX_PAYLOAD) throw new Error(`frame payload ${payload.length} exceeds ${MAX_PAYLOAD}`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16LE(MAGIC, 0);
  header.writeUInt8(PROTO_VERSION, 2);
  header.writeUInt8(type, 3);
  header.writeUInt32LE(stream, 4);
  header.writeUInt32LE(payload.length, 8);
  header.writeUInt8(channel, 12);
  return payload.length === 0 ? header : Buffer.concat([header, payload]);
}

/**
 * Splits a byte stream into frames. A malformed header is skipped byte by byte until the
 * next plausible header (the same resynchronisation the agent does), and counted.
 */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes dropped while resynchronising after malformed input. */
  droppedBytes = 0;

  push(chunk: Buffer): Frame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Frame[] = [];
    let offset = 0;
    while (this.buffer.length - offset >= HEADER_BYTES) {
      if (!isPlausibleHeader(this.buffer, offset)) {
        offset += 1;
        this.droppedBytes += 1;
        continue;
      }
      const length = this.buffer.readUInt32LE(offset + 8);
      if (this.buffer.length - offset < HEADER_BYTES + length) break;
      frames.push({
        type: this.buffer.readUInt8(offset + 3) as FrameType,
        stream: this.buffer.readUInt32LE(offset + 4),
        channel: this.buffer.readUInt8(offset + 12),
        payload: Buffer.from(this.buffer.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length)),
      });
      offset += HEADER_BYTES + length;
    }
    this.buffer = this.buffer.subarray(offset);
    return frames;
  }
}

function isPlausibleHeader(buffer: Buffer, offset: number): boolean {
  const type = buffer.readUInt8(offset + 3);
  return (
    buffer.readUInt16LE(offset) === MAGIC &&
    buffer.readUInt8(offset + 2) === PROTO_VERSION &&
    type >= FrameType.HELLO && type <= FrameType.ERROR &&
    buffer.readUInt32LE(offset + 8) <= MAX_PAYLOAD &&
    buffer.readUInt8(offset + 13) === 0 &&
    buffer.readUInt16LE(offset + 14) === 0
  );
}
