import { expiryReason, type BunkerStatus } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';
import type { BunkerService } from './bunker-service.js';

/** How often the reaper looks, and how long a start may stay unreported. */
export interface BunkerReaperOptions {
  intervalMs: number;
  /** A bunker still pending or provisioning after this long is failed (its start never reported). */
  provisioningTimeoutMs: number;
  log: { warn(obj: object, msg: string): void };
}

/**
 * Ends bunkers that outlived `max_lifetime_s` or sat idle past `idle_timeout_s` (exec, file
 * and shell activity and keepalive count), and fails those whose start never reported.
 * Runs in every controller; transitions are compare-and-set, so two reapers never double-end.
 */
export class BunkerReaper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repos: Repositories,
    private readonly bunkers: BunkerService,
    private readonly options: BunkerReaperOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => { void this.sweep().catch((error) => this.options.log.warn({ err: error }, 'reaper sweep failed')); }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns the ids it ended. */
  async sweep(now = Date.now()): Promise<string[]> {
    const ended: string[] = [];
    for (const bunker of await this.repos.bunkers.live()) {
      const status = bunker.status as BunkerStatus;
      if ((status === 'pending' || status === 'provisioning') && now - Date.parse(bunker.updated_at) > this.options.provisioningTimeoutMs) {
        if (await this.bunkers.fail(bunker.id, [status], `provisioning did not complete within ${Math.round(this.options.provisioningTimeoutMs / 1000)} s`)) ended.push(bunker.id);
        continue;
      }
      const reason = expiryReason({
        createdAtMs: Date.parse(bunker.created_at), lastActivityAtMs: Date.parse(bunker.last_activity_at),
        maxLifetimeS: bunker.max_lifetime_s, idleTimeoutS: bunker.idle_timeout_s, status,
      }, now);
      if (reason) {
        await this.bunkers.terminate(bunker.id, { system: reason });
        ended.push(bunker.id);
      }
    }
    return ended;
  }
}
