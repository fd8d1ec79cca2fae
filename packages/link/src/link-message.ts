import { ScaiError, isErrorCode, type ErrorDetail } from '@scaibunker/contracts';
import { protocolViolation } from './link-frame.js';

/** The largest text (JSON) message either side sends or accepts, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Method and event names are identifiers, not payloads. */
export const MAX_NAME_LENGTH = 256;

/** An error as it crosses the link. */
export interface WireError {
  code: string;
  message: string;
  details?: ErrorDetail[];
}

/** One text message. `cancel` tells the handler of call `id` that nobody waits for it any more. */
export type LinkMessage =
  | { t: 'call'; id: number; m: string; p?: unknown }
  | { t: 'reply'; id: number; ok: true; r?: unknown }
  | { t: 'reply'; id: number; ok: false; e: WireError }
  | { t: 'event'; n: string; p?: unknown }
  | { t: 'cancel'; id: number };

/** Serialises a message, refusing one the peer would drop the link over. */
export function encodeMessage(message: LinkMessage): string {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES) {
    throw new ScaiError('PAYLOAD_TOO_LARGE', `A link message is larger than ${MAX_TEXT_BYTES} bytes.`);
  }
  return text;
}

/** Parses and checks one text message; anything malformed is a protocol violation. */
export function parseMessage(text: string): LinkMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw protocolViolation('a text message that is not JSON');
  }
  if (!isRecord(value)) throw protocolViolation('a text message that is not an object');
  switch (value.t) {
    case 'call':
      return { t: 'call', id: callId(value.id), m: name(value.m), p: value.p };
    case 'event':
      return { t: 'event', n: name(value.n), p: value.p };
    case 'cancel':
      return { t: 'cancel', id: callId(value.id) };
    case 'reply':
      if (value.ok === true) return { t: 'reply', id: callId(value.id), ok: true, r: value.r };
      if (value.ok === false) return { t: 'reply', id: callId(value.id), ok: false, e: wireError(value.e) };
      throw protocolViolation('a reply without a boolean "ok"');
    default:
      throw protocolViolation('a text message of unknown type');
  }
}

/** What a handler's failure looks like on the wire: only ScaiErrors say more than INTERNAL. */
export function toWireError(error: unknown): WireError {
  if (error instanceof ScaiError) {
    return error.details === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, details: error.details };
  }
  return { code: 'INTERNAL', message: 'The peer failed to handle the call.' };
}

/** Turns an error reply back into a ScaiError; a code this build does not know becomes INTERNAL. */
export function fromWireError(error: WireError): ScaiError {
  return new ScaiError(isErrorCode(error.code) ? error.code : 'INTERNAL', error.message, error.details === undefined ? {} : { details: error.details });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function callId(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw protocolViolation('a message with a bad call id');
  return value;
}

function name(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) throw protocolViolation('a message with a bad method or event name');
  return value;
}

function wireError(value: unknown): WireError {
  if (!isRecord(value) || typeof value.code !== 'string' || typeof value.message !== 'string') throw protocolViolation('an error reply without a code and a message');
  if (value.details === undefined) return { code: value.code, message: value.message };
  const details: unknown = value.details;
  if (!Array.isArray(details) || !details.every(isErrorDetail)) throw protocolViolation('an error reply with malformed details');
  return { code: value.code, message: value.message, details: details.map((d) => ({ field: d.field, message: d.message })) };
}

function isErrorDetail(value: unknown): value is ErrorDetail {
  return isRecord(value) && typeof value.field === 'string' && typeof value.message === 'string';
}
