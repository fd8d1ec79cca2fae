/** TLV field keys of guest protocol v1 (docs/guest-protocol.md). */
export const Key = {
  OP: 1, ARGV: 2, ENV: 3, CWD: 4, UID: 5, GID: 6, TIMEOUT_MS: 7, COLS: 8, ROWS: 9, STDIN: 10,
  PATH: 11, MODE: 12, PATH2: 13, RECURSIVE: 14, PID: 15, EXIT_CODE: 16, SIGNAL: 17, TIMED_OUT: 18,
  SIZE: 19, TYPE: 20, MTIME_MS: 21, ENTRY: 22, NAME: 23, ERR_CODE: 24, ERR_MESSAGE: 25, ERRNO: 26,
  PROTO_VERSION: 27, AGENT_VERSION: 28, HOSTNAME: 29, MACHINE_ID: 30, ENTROPY: 31, TIME_MS: 32,
  UPTIME_MS: 33, CANCEL: 34, TRUNCATED: 35, MEM_TOTAL_KIB: 36, MEM_AVAILABLE_KIB: 37, USER: 38, NET: 39, NICS: 40,
} as const;

/** One field value to encode: text, a number (u64/i64), or raw bytes. */
export type TlvValue = string | number | bigint | Uint8Array;

/** Encodes fields in order; an array value repeats its key. */
export function encodeTlv(fields: ReadonlyArray<readonly [number, TlvValue | readonly TlvValue[] | undefined]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of fields) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      const bytes = toBytes(item as TlvValue);
      const head = Buffer.allocUnsafe(6);
      head.writeUInt16LE(key, 0);
      head.writeUInt32LE(bytes.length, 2);
      parts.push(head, bytes);
    }
  }
  return Buffer.concat(parts);
}

function toBytes(value: TlvValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)));
  return out;
}

/** Decoded fields: every value of every key, in order. */
export class TlvFields {
  private constructor(private readonly fields: Map<number, Buffer[]>) {}

  /** Parses a TLV payload; a field running past the end is an error. */
  static decode(payload: Buffer): TlvFields {
    const fields = new Map<number, Buffer[]>();
    let offset = 0;
    while (offset < payload.length) {
      if (offset + 6 > payload.length) throw new Error('truncated TLV header');
      const key = payload.readUInt16LE(offset);
      const length = payload.readUInt32LE(offset + 2);
      offset += 6;
      if (offset + length > payload.length) throw new Error('TLV value runs past the payload');
      const values = fields.get(key);
      if (values) values.push(payload.subarray(offset, offset + length));
      else fields.set(key, [payload.subarray(offset, offset + length)]);
      offset += length;
    }
    return new TlvFields(fields);
  }

  bytes(key: number): Buffer | undefined {
    return this.fields.get(key)?.[0];
  }

  all(key: number): Buffer[] {
    return this.fields.get(key) ?? [];
  }

  string(key: number): string | undefined {
    return this.bytes(key)?.toString('utf8');
  }

  /** A u64 as a number (exact up to 2^53, which every size and time here stays under). */
  number(key: number): number | undefined {
    const raw = this.bytes(key);
    return raw && raw.length === 8 ? Number(raw.readBigUInt64LE()) : undefined;
  }

  /** An i64 as a number. */
  signed(key: number): number | undefined {
    const raw = this.bytes(key);
    return raw && raw.length === 8 ? Number(raw.readBigInt64LE()) : undefined;
  }
}
