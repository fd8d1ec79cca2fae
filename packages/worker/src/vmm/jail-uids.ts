/**
 * Hands out an unprivileged uid per live VM (as Firecracker's jailer does), from a range no
 * host account uses. The VM's work directory is owned by that uid and mode 0700, so a VMM
 * process can reach its own disk and sockets and no other VM's.
 */
export class JailUids {
  private readonly inUse = new Set<number>();

  constructor(
    private readonly first = 200_000,
    private readonly count = 65_536,
  ) {}

  allocate(): number {
    for (let uid = this.first; uid < this.first + this.count; uid++) {
      if (!this.inUse.has(uid)) {
        this.inUse.add(uid);
        return uid;
      }
    }
    throw new Error('no free jail uid');
  }

  /** Marks a uid taken by a VM this process adopted. */
  reserve(uid: number): void {
    this.inUse.add(uid);
  }

  release(uid: number): void {
    this.inUse.delete(uid);
  }
}
