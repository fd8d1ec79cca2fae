import { closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Where uid claims live: host-wide, on tmpfs, so a reboot frees them all. */
const DEFAULT_CLAIMS_DIR = '/run/scaibunker/jail-uids';

/**
 * Hands out an unprivileged uid per live VM (as Firecracker's jailer does), from a range no
 * host account uses. The VM's work directory is owned by that uid and mode 0700, so a VMM
 * process can reach its own disk and sockets and no other VM's.
 *
 * Host-wide, not per process: several workers on one host (separate data directories) must
 * never give two VMs the same uid. Each uid in use is a claim file naming the owning process;
 * a claim whose process is gone is taken over.
 */
export class JailUids {
  constructor(
    private readonly first = 200_000,
    private readonly count = 65_536,
    private readonly claimsDir = DEFAULT_CLAIMS_DIR,
  ) {
    mkdirSync(claimsDir, { recursive: true, mode: 0o700 });
  }

  allocate(): number {
    for (let uid = this.first; uid < this.first + this.count; uid++) {
      if (this.claim(uid)) return uid;
    }
    throw new Error('no free jail uid');
  }

  /** Marks a uid taken by a VM this process adopted from its predecessor. */
  reserve(uid: number): void {
    writeFileSync(this.path(uid), String(process.pid));
  }

  release(uid: number): void {
    if (this.owner(uid) === process.pid) rmSync(this.path(uid), { force: true });
  }

  private claim(uid: number): boolean {
    try {
      const fd = openSync(this.path(uid), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    // Held by a worker process that is gone (a crash): free only if no process runs as that
    // uid any more (its VM may still run, waiting to be adopted).
    const owner = this.owner(uid);
    if (owner !== undefined && owner !== process.pid && !alive(owner) && !uidRunsAnything(uid)) {
      rmSync(this.path(uid), { force: true });
      return this.claim(uid);
    }
    return false;
  }

  private owner(uid: number): number | undefined {
    try {
      const pid = Number(readFileSync(this.path(uid), 'utf8'));
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private path(uid: number): string {
    return join(this.claimsDir, String(uid));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether any process on the host runs as `uid` (a VMM jailed under it). */
function uidRunsAnything(uid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}
