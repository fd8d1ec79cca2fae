import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSecret, mintWorkerToken, secretMatches, workerIdOf } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';

const LOCAL_WORKER_NAME = 'local';

/**
 * The embedded default's own worker: one worker record named `local`, whose token lives in
 * the data directory (0600) so a restart dials in as the same worker and keeps its bunkers.
 * A missing or foreign token file gets a fresh credential.
 */
export async function ensureLocalWorker(repos: Repositories, dataDir: string): Promise<string> {
  const path = join(dataDir, 'worker.token');
  const saved = (await readFile(path, 'utf8').catch(() => '')).trim();
  const savedId = workerIdOf(saved);
  const savedWorker = savedId ? await repos.workers.get(savedId) : undefined;
  if (savedWorker && secretMatches(saved, savedWorker.token_hash)) return saved;

  const existing = (await repos.workers.list({ limit: 10_000 })).find((w) => w.name === LOCAL_WORKER_NAME);
  const minted = mintWorkerToken();
  let token = minted.token;
  if (existing) {
    token = `${existing.id}.${minted.token.split('.')[1]}`;
    await repos.workers.setTokenHash(existing.id, hashSecret(token));
  } else {
    await repos.workers.create({
      id: minted.workerId, name: LOCAL_WORKER_NAME, labels: JSON.stringify({ local: 'true' }), token_hash: minted.tokenHash,
      draining: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0, gpu_count: 0, gpu_type: null, version: null, accelerator: null,
      session_id: null, connected_at: null, last_heartbeat_at: null, network_ready: 0, created_at: new Date().toISOString(),
    });
  }
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return token;
}
