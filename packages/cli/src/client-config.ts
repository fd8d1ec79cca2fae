import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ScaiBunkerClient } from '@scaibunker/sdk';

/**
 * The client for the CLI: `$SCAIGRID_HOST` (else the local server at `$SCAIBUNKER_LISTEN`)
 * and `$SCAIGRID_API_KEY` (else the local super admin's key in `$SCAIBUNKER_DATA_DIR/admin.key`,
 * so commands work right after `npm start` on the same machine).
 */
export function clientFromEnvironment(env: NodeJS.ProcessEnv = process.env): ScaiBunkerClient {
  const host = env.SCAIGRID_HOST ?? `http://${env.SCAIBUNKER_LISTEN ?? '127.0.0.1:8080'}`;
  return new ScaiBunkerClient({ host, ...(apiKeyFrom(env) ? { apiKey: apiKeyFrom(env)! } : {}) });
}

function apiKeyFrom(env: NodeJS.ProcessEnv): string | undefined {
  if (env.SCAIGRID_API_KEY) return env.SCAIGRID_API_KEY;
  try {
    return readFileSync(resolve(env.SCAIBUNKER_DATA_DIR ?? '.data', 'admin.key'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
