import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_CACHE_DIR } from '../runtime/guest-assets.js';
import { VmRuntime } from '../runtime/vm-runtime.js';

let shared: Promise<VmRuntime> | undefined;

/**
 * One real microVM runtime per test process: the guest kernel and agent from the shared
 * cache (built by `npm test`'s set-up), images in a private data dir.
 */
export function testRuntime(): Promise<VmRuntime> {
  shared ??= VmRuntime.open({
    dataDir: mkdtempSync(join(tmpdir(), 'scaibunker-vm-test-')),
    cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR),
    acceleratorOverride: process.env.SCAIBUNKER_ACCEL,
  });
  return shared;
}

/** Collects a Readable into one Buffer. */
export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
