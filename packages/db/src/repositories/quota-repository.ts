import type { Kysely, Selectable, Transaction } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import { applicableProfiles, NO_USAGE, type ApplicableProfile, type QuotaAssignment, type QuotaProfile, type QuotaUsage } from '@scaibunker/core';
import type { Database, QuotaAssignmentsTable, QuotaProfilesTable } from '../schema.js';
import { insertOrConflict } from '../unique-violation.js';
import { holdPlacementLock } from '../placement-lock.js';
import type { RedisQuotaCounters } from '../quota-counters.js';
import type { PageOptions } from './page-options.js';

export type QuotaProfileRow = Selectable<QuotaProfilesTable>;
export type QuotaAssignmentRow = Selectable<QuotaAssignmentsTable>;

/** Undoes what a transaction did to the Redis counters, should that transaction not commit. */
export type CounterUndo = () => Promise<void>;

/** The cap columns of a profile, as the API names them. */
export type QuotaCapColumns = Omit<QuotaProfileRow, 'id' | 'tenant_id' | 'name' | 'description' | 'scope_key' | 'created_at' | 'updated_at'>;

/** Which profiles a list may show: one tenant's and the platform's, or all. */
export type ProfileScope = { tenantId: string } | { all: true };

/** Quota profiles, their assignments, and the buckets' usage (the sum of unreleased charges). */
export class QuotaRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres' = 'sqlite',
    private readonly counters?: RedisQuotaCounters,
  ) {}

  async createProfile(row: Omit<QuotaProfileRow, 'scope_key'>): Promise<QuotaProfileRow> {
    const stored = { ...row, scope_key: row.tenant_id ?? '' };
    await insertOrConflict(() => this.db.insertInto('quota_profiles').values(stored).execute(),
      () => new ScaiError('CONFLICT', `A quota profile named "${row.name}" exists already${row.tenant_id ? ' in this tenant' : ' on the platform'}.`));
    return stored;
  }

  getProfile(id: string): Promise<QuotaProfileRow | undefined> {
    return this.db.selectFrom('quota_profiles').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listProfiles(scope: ProfileScope, page: PageOptions): Promise<QuotaProfileRow[]> {
    let query = this.db.selectFrom('quota_profiles').selectAll().orderBy('id').limit(page.limit + 1);
    if ('tenantId' in scope) query = query.where((eb) => eb.or([eb('tenant_id', '=', scope.tenantId), eb('tenant_id', 'is', null)]));
    if (page.afterId) query = query.where('id', '>', page.afterId);
    return query.execute();
  }

  async updateProfile(id: string, patch: Partial<Pick<QuotaProfileRow, 'name' | 'description'> & QuotaCapColumns>, at: string): Promise<QuotaProfileRow | undefined> {
    await insertOrConflict(() => this.db.updateTable('quota_profiles').set({ ...patch, updated_at: at }).where('id', '=', id).execute(),
      () => new ScaiError('CONFLICT', `A quota profile named "${patch.name}" exists already.`));
    return this.getProfile(id);
  }

  async deleteProfile(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('quota_profiles').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async createAssignment(row: QuotaAssignmentRow): Promise<QuotaAssignmentRow> {
    await insertOrConflict(() => this.db.insertInto('quota_assignments').values(row).execute(),
      () => new ScaiError('CONFLICT', `The ${row.target_kind} ${row.target_id} has a quota assignment already (at most one per target).`));
    return row;
  }

  getAssignment(id: string): Promise<QuotaAssignmentRow | undefined> {
    return this.db.selectFrom('quota_assignments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A profile's assignments, those of one tenant only unless `tenantId` is omitted. */
  listAssignments(profileId: string, tenantId: string | undefined, page: PageOptions): Promise<QuotaAssignmentRow[]> {
    let query = this.db.selectFrom('quota_assignments').selectAll().where('profile_id', '=', profileId).orderBy('id').limit(page.limit + 1);
    if (tenantId) query = query.where('tenant_id', '=', tenantId);
    if (page.afterId) query = query.where('id', '>', page.afterId);
    return query.execute();
  }

  async deleteAssignment(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('quota_assignments').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * The profiles that apply to a user (see core's applicableProfiles): the user's assignment,
   * those of every group the user belongs to directly or through nested groups, else the
   * platform default.
   */
  async applicableFor(userId: string, tenantId: string): Promise<ApplicableProfile[]> {
    const direct = await this.db.selectFrom('group_user_members').select('group_id').where('user_id', '=', userId).execute();
    const edges = await this.db.selectFrom('group_group_members')
      .innerJoin('groups', 'groups.id', 'group_group_members.parent_group_id')
      .select(['group_group_members.parent_group_id as parent', 'group_group_members.child_group_id as child'])
      .where('groups.tenant_id', '=', tenantId).execute();
    const parentsOf = new Map<string, string[]>();
    for (const e of edges) parentsOf.set(e.child, [...(parentsOf.get(e.child) ?? []), e.parent]);
    const groups = new Set<string>();
    const stack = direct.map((d) => d.group_id);
    while (stack.length > 0) {
      const group = stack.pop()!;
      if (groups.has(group)) continue;
      groups.add(group);
      stack.push(...(parentsOf.get(group) ?? []));
    }
    const targets = [userId, ...groups];
    const assignments = await this.db.selectFrom('quota_assignments').selectAll().where('target_id', 'in', targets).execute();
    const profiles = await this.db.selectFrom('quota_profiles').selectAll()
      .where((eb) => eb.or([
        ...(assignments.length > 0 ? [eb('id', 'in', assignments.map((a) => a.profile_id))] : []),
        eb.and([eb('tenant_id', 'is', null), eb('name', '=', 'default')]),
      ])).execute();
    return applicableProfiles(userId, groups, assignments.map(toAssignment), new Map(profiles.map((p) => [p.id, toProfile(p)])));
  }

  /**
   * Rebuilds the Redis counters from the ledger (at every controller start), holding the
   * placement lock so that no charge or release interleaves. Without Redis, nothing to do.
   */
  async reconcileCounters(): Promise<number> {
    const counters = this.counters;
    if (!counters) return 0;
    return this.db.transaction().execute(async (trx) => {
      await holdPlacementLock(trx, this.kind);
      const buckets = await trx.selectFrom('quota_charges').select('bucket').distinct().where('released_at', 'is', null).execute();
      const truth = await this.usage(buckets.map((b) => b.bucket), trx, { fromLedger: true });
      await counters.reconcile(truth);
      return truth.size;
    });
  }

  /**
   * Charges a new bunker to each of its buckets, inside the placement transaction (which holds
   * the placement lock): the ledger rows, and the Redis counters when configured.
   */
  async charge(trx: Kysely<Database>, bunkerId: string, buckets: readonly string[], usage: QuotaUsage, at: string): Promise<CounterUndo | undefined> {
    if (buckets.length === 0) return undefined;
    await trx.insertInto('quota_charges').values(buckets.map((bucket) => ({
      bunker_id: bunkerId, bucket, bunkers: usage.bunkers, persistent_bunkers: usage.persistentBunkers, cpu_millicores: usage.cpuMillicores,
      memory_mb: usage.memoryMb, disk_mb: usage.diskMb, gpu_count: usage.gpuCount, charged_at: at, released_at: null,
    }))).execute();
    const counters = this.counters;
    if (!counters) return undefined;
    await counters.add(buckets, usage, 1);
    return () => counters.add(buckets, usage, -1).catch(() => undefined);
  }

  /** Whether a release must hold the placement lock: with Redis, a rebuild of the counters must see all of it or none. */
  get releasesHoldPlacementLock(): boolean {
    return this.counters !== undefined;
  }

  /**
   * Releases a bunker's unreleased charges inside the transaction that ends it (once, however
   * often it is ended), and gives them back to the Redis counters. That last part is best
   * effort: a counter left high only refuses early, never lets a bunker past a cap, and the
   * next start rebuilds it from the ledger.
   */
  async release(trx: Kysely<Database>, bunkerId: string, at: string): Promise<CounterUndo | undefined> {
    const charges = await trx.updateTable('quota_charges').set({ released_at: at }).where('bunker_id', '=', bunkerId).where('released_at', 'is', null)
      .returning(['bucket', 'bunkers', 'persistent_bunkers', 'cpu_millicores', 'memory_mb', 'disk_mb', 'gpu_count']).execute();
    const [first] = charges;
    const counters = this.counters;
    if (!counters || !first) return undefined;
    const usage: QuotaUsage = { bunkers: first.bunkers, persistentBunkers: first.persistent_bunkers, cpuMillicores: first.cpu_millicores, memoryMb: first.memory_mb, diskMb: first.disk_mb, gpuCount: first.gpu_count };
    const buckets = charges.map((c) => c.bucket);
    const released = await counters.add(buckets, usage, -1).then(() => true, () => false);
    return released ? () => counters.add(buckets, usage, 1).catch(() => undefined) : undefined;
  }

  /**
   * Each bucket's usage (inside `trx` when given): from the Redis counters when configured,
   * else (or with `fromLedger`) what its unreleased charges add up to.
   */
  async usage(buckets: readonly string[], trx: Kysely<Database> | Transaction<Database> = this.db, options: { fromLedger?: boolean } = {}): Promise<Map<string, QuotaUsage>> {
    const usage = new Map<string, QuotaUsage>(buckets.map((b) => [b, NO_USAGE]));
    if (buckets.length === 0) return usage;
    if (this.counters && !options.fromLedger) return this.counters.read(buckets);
    const rows = await trx.selectFrom('quota_charges')
      .select((eb) => ['bucket', eb.fn.sum<number>('bunkers').as('bunkers'), eb.fn.sum<number>('persistent_bunkers').as('persistent'),
        eb.fn.sum<number>('cpu_millicores').as('cpu'), eb.fn.sum<number>('memory_mb').as('memory'), eb.fn.sum<number>('disk_mb').as('disk'), eb.fn.sum<number>('gpu_count').as('gpu')])
      .where('bucket', 'in', [...buckets]).where('released_at', 'is', null).groupBy('bucket').execute();
    for (const r of rows) {
      usage.set(r.bucket, {
        bunkers: Number(r.bunkers), persistentBunkers: Number(r.persistent), cpuMillicores: Number(r.cpu), memoryMb: Number(r.memory), diskMb: Number(r.disk), gpuCount: Number(r.gpu),
      });
    }
    return usage;
  }
}

export function toProfile(row: QuotaProfileRow): QuotaProfile {
  return {
    id: row.id, name: row.name, tenantId: row.tenant_id,
    maxConcurrentBunkers: row.max_concurrent_bunkers, maxPersistentBunkers: row.max_persistent_bunkers, maxCpuMillicores: row.max_cpu_millicores,
    maxMemoryMb: row.max_memory_mb, maxDiskMb: row.max_disk_mb, maxGpuCount: row.max_gpu_count,
    perBunkerMaxCpu: row.per_bunker_max_cpu, perBunkerMaxMemory: row.per_bunker_max_memory, perBunkerMaxDisk: row.per_bunker_max_disk, perBunkerMaxGpu: row.per_bunker_max_gpu,
  };
}

function toAssignment(row: QuotaAssignmentRow): QuotaAssignment {
  return { id: row.id, profileId: row.profile_id, targetKind: row.target_kind as QuotaAssignment['targetKind'], targetId: row.target_id, mode: row.mode as QuotaAssignment['mode'] };
}
