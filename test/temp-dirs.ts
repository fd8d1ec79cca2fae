import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest's global set-up: the run's tests make their data directories (databases, images, VM
 * disks: a few hundred MB each) under a temp root of this run's own — TMPDIR, which every
 * test fork and every process they start inherit — and the whole root is removed when the
 * run ends, so a machine running the suite again and again does not fill its disk, and a
 * run never touches another's files.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'scaibunker-run-'));
  // Jailed VMM processes (their own uids) traverse it to reach their VM's work directory.
  chmodSync(root, 0o711);
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
