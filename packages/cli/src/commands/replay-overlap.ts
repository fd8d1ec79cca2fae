/** Output kept to recognise a reattached shell's replay: more than the 64 KiB the server replays. */
const TAIL_BYTES = 128 * 1024;
/** A shorter match between what was printed and the replay is taken for chance, not overlap. */
const MIN_OVERLAP = 16;

/** The last bytes written to the terminal, kept within a bound. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  push(bytes: Uint8Array): void {
    this.chunks.push(Buffer.from(bytes));
    this.size += bytes.length;
    while (this.size - this.chunks[0]!.length >= TAIL_BYTES) this.size -= this.chunks.shift()!.length;
  }

  bytes(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }
}

/**
 * How many leading bytes of a reattached shell's first output (`replay`, the server's recent
 * output, maybe followed by new output) were already printed before the socket dropped: the
 * longest prefix of `replay` that is a suffix of `seen`, found in linear time (KMP). A short
 * match counts only when it covers everything seen (a session that printed little).
 */
export function replayOverlap(seen: Uint8Array, replay: Uint8Array): number {
  if (seen.length === 0 || replay.length === 0) return 0;
  // failure[i]: the length of the longest proper prefix of replay[0..i] that is also its suffix.
  const failure = new Int32Array(replay.length);
  for (let i = 1, k = 0; i < replay.length; i++) {
    while (k > 0 && replay[i] !== replay[k]) k = failure[k - 1]!;
    if (replay[i] === replay[k]) k++;
    failure[i] = k;
  }
  let matched = 0;
  for (const byte of seen) {
    if (matched === replay.length) matched = failure[matched - 1]!;
    while (matched > 0 && byte !== replay[matched]) matched = failure[matched - 1]!;
    if (byte === replay[matched]) matched++;
  }
  return matched >= MIN_OVERLAP || matched === seen.length ? matched : 0;
}
