import { ScaiError } from '@scaibunker/contracts';

/** Kinds of binary frame: `[u32 BE stream id][u8 kind][payload]`. */
export const FrameKind = { DATA: 0, CREDIT: 1, END: 2, RESET: 3 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Bytes before a binary frame's payload: the stream id and the kind. */
export const FRAME_HEADER_BYTES = 5;
/** The largest DATA payload in one frame; larger writes are split, so no frame hogs the link. */
export const MAX_DATA_BYTES = 64 * 1024;
/** RESET reasons are for logs, not for carrying errors: a short cap keeps the frame tiny. */
export const MAX_RESET_REASON_BYTES = 256;
/** The largest stream id: ids are u32 on the wire. */
export const MAX_STREAM_ID = 0xffff_ffff;

/** One decoded binary frame. */
export interface StreamFrame {
  stream: number;
  kind: FrameKind;
  payload: Buffer;
}

/** The peer broke the protocol: the link is closed with this error's message. */
export function protocolViolation(what: string): ScaiError {
  return new ScaiError('SERVICE_UNAVAILABLE', `The peer broke the link protocol: ${what}.`);
}

/** Encodes one binary frame. */
export function encodeFrame(stream: number, kind: FrameKind, payload?: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + (payload?.length ?? 0));
  frame.writeUInt32BE(stream, 0);
  frame.writeUInt8(kind, 4);
  if (payload) frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** A CREDIT frame granting the peer `bytes` more DATA on the stream. */
export function encodeCredit(stream: number, bytes: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(bytes, 0);
  return encodeFrame(stream, FrameKind.CREDIT, payload);
}

/** A RESET frame; the reason is cut to its cap (a cut UTF-8 sequence decodes as U+FFFD). */
export function encodeReset(stream: number, reason: string): Buffer {
  const bytes = Buffer.from(reason.slice(0, MAX_RESET_REASON_BYTES), 'utf8');
  return encodeFrame(stream, FrameKind.RESET, bytes.subarray(0, MAX_RESET_REASON_BYTES));
}

/** Decodes and checks one binary message; anything malformed is a protocol violation. */
export function decodeFrame(data: Uint8Array): StreamFrame {
  if (data.length < FRAME_HEADER_BYTES) throw protocolViolation(`a binary frame of ${data.length} bytes`);
  const frame = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stream = frame.readUInt32BE(0);
  const kind = frame.readUInt8(4);
  const payload = frame.subarray(FRAME_HEADER_BYTES);
  if (stream === 0) throw protocolViolation('a frame for stream 0');
  switch (kind) {
    case FrameKind.DATA:
      if (payload.length === 0 || payload.length > MAX_DATA_BYTES) throw protocolViolation(`a DATA frame of ${payload.length} bytes`);
      return { stream, kind, payload };
    case FrameKind.CREDIT:
      if (payload.length !== 4) throw protocolViolation('a CREDIT frame that is not 4 bytes');
      return { stream, kind, payload };
    case FrameKind.END:
      if (payload.length !== 0) throw protocolViolation('an END frame with a payload');
      return { stream, kind, payload };
    case FrameKind.RESET:
      if (payload.length > MAX_RESET_REASON_BYTES) throw protocolViolation('a RESET reason over the cap');
      return { stream, kind, payload };
    default:
      throw protocolViolation(`a binary frame of unknown kind ${kind}`);
  }
}
