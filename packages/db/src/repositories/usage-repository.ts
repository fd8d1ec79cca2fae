import type { Kysely } from 'kysely';
import type { UsageSegment } from '@scaibunker/core';
import type { Database } from '../schema.js';
import type { TenantScope } from './page-options.js';

/** Usage segments (see migration 0004): written by bunker transitions, read here by period. */
export class UsageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Segments overlapping [from, to) within a scope, optionally one user's or one bunker's. */
  async segments(scope: TenantScope, filter: { userId?: string | undefined; bunkerId?: string | undefined }, from: string, to: string): Promise<UsageSegment[]> {
    let query = this.db.selectFrom('usage_segments').selectAll('usage_segments')
      .where('usage_segments.started_at', '<', to)
      .where((eb) => eb.or([eb('usage_segments.ended_at', 'is', null), eb('usage_segments.ended_at', '>', from)]));
    if ('tenantId' in scope) query = query.where('usage_segments.tenant_id', '=', scope.tenantId);
    if ('partnerId' in scope) query = query.innerJoin('tenants', 'tenants.id', 'usage_segments.tenant_id').where('tenants.partner_id', '=', scope.partnerId);
    if (filter.userId) query = query.where('usage_segments.user_id', '=', filter.userId);
    if (filter.bunkerId) query = query.where('usage_segments.bunker_id', '=', filter.bunkerId);
    const rows = await query.execute();
    return rows.map((r) => ({
      bunkerId: r.bunker_id, tenantId: r.tenant_id, userId: r.user_id, state: r.state as UsageSegment['state'],
      startedAtMs: Date.parse(r.started_at), endedAtMs: r.ended_at === null ? null : Date.parse(r.ended_at),
      cpuMillicores: r.cpu_millicores, memoryMb: r.memory_mb, diskMb: r.disk_mb, gpuCount: r.gpu_count,
    }));
  }
}
