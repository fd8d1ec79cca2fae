/**
 * The little of the DNS wire format (RFC 1035 §4) the worker's resolver needs: a query's one
 * question, the A records of an upstream answer, and refusals built from a query. Anything
 * malformed is a DnsFormatError, never a crash: every byte comes from a guest or the network.
 */

export const DNS_TYPE_A = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export class DnsFormatError extends Error {}

export interface DnsQuestion {
  id: number;
  /** Lower case, without the root's trailing dot. */
  name: string;
  type: number;
  /** Where the question section ends (the rest of a query: additional records such as EDNS). */
  end: number;
}

const HEADER = 12;

function need(message: Buffer, at: number, bytes: number): void {
  if (at + bytes > message.length) throw new DnsFormatError('truncated message');
}

/** Reads a (possibly compressed) name at `at`; answers it and where the name ends in place. */
function readName(message: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let end = -1;
  let length = 0;
  for (let jumps = 0; ; jumps++) {
    need(message, at, 1);
    const len = message[at]!;
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      need(message, at, 2);
      if (jumps > 32) throw new DnsFormatError('compression loop');
      if (end < 0) end = at + 2;
      at = message.readUInt16BE(at) & 0x3fff;
      continue;
    }
    if (len > 63) throw new DnsFormatError('bad label length');
    need(message, at + 1, len);
    labels.push(message.toString('latin1', at + 1, at + 1 + len).toLowerCase());
    length += len + 1;
    if (length > 255) throw new DnsFormatError('name too long');
    at += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** The one question of a standard query. */
export function parseQuery(message: Buffer): DnsQuestion {
  need(message, 0, HEADER);
  const flags = message.readUInt16BE(2);
  if (flags & 0x8000) throw new DnsFormatError('a response, not a query');
  if (((flags >> 11) & 0xf) !== 0) throw new DnsFormatError('not a standard query');
  if (message.readUInt16BE(4) !== 1) throw new DnsFormatError('exactly one question is supported');
  const { name, end } = readName(message, HEADER);
  need(message, end, 4);
  return { id: message.readUInt16BE(0), name, type: message.readUInt16BE(end), end: end + 4 };
}

/** The response code and every A record of a response's answer section (CNAME chains' included). */
export function answerAddresses(message: Buffer): { rcode: number; addresses: { address: string; ttl: number }[] } {
  need(message, 0, HEADER);
  const rcode = message.readUInt16BE(2) & 0xf;
  const questions = message.readUInt16BE(4);
  const answers = message.readUInt16BE(6);
  let at = HEADER;
  for (let i = 0; i < questions; i++) {
    at = readName(message, at).end + 4;
  }
  const addresses: { address: string; ttl: number }[] = [];
  for (let i = 0; i < answers; i++) {
    at = readName(message, at).end;
    need(message, at, 10);
    const type = message.readUInt16BE(at);
    const ttl = message.readUInt32BE(at + 4);
    const length = message.readUInt16BE(at + 8);
    at += 10;
    need(message, at, length);
    if (type === DNS_TYPE_A && length === 4) addresses.push({ address: [...message.subarray(at, at + 4)].join('.'), ttl });
    at += length;
  }
  return { rcode, addresses };
}

/** A response to `query` with `rcode` and no records: its id, RD bit and question, QR and RA set. */
export function refusal(query: Buffer, question: DnsQuestion, rcode: number): Buffer {
  const reply = Buffer.from(query.subarray(0, question.end));
  const rd = query.readUInt16BE(2) & 0x0100;
  reply.writeUInt16BE(0x8000 | rd | 0x0080 | (rcode & 0xf), 2);
  reply.writeUInt16BE(1, 4);
  reply.writeUInt16BE(0, 6);
  reply.writeUInt16BE(0, 8);
  reply.writeUInt16BE(0, 10);
  return reply;
}
