import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { ApiKeyRepository } from './api-key-repository.js';
import { AuditRepository } from './audit-repository.js';
import { BunkerRepository } from './bunker-repository.js';
import { BridgeRepository } from './bridge-repository.js';
import { GrantRepository } from './grant-repository.js';
import { GroupRepository } from './group-repository.js';
import { ModuleRepository } from './module-repository.js';
import { PartnerRepository } from './partner-repository.js';
import { TenantRepository } from './tenant-repository.js';
import { UserRepository } from './user-repository.js';
import { WorkerRepository } from './worker-repository.js';
import { QuotaRepository } from './quota-repository.js';
import { UsageRepository } from './usage-repository.js';
import type { RedisQuotaCounters } from '../quota-counters.js';

/** Every repository of the platform, over one database. */
export interface Repositories {
  partners: PartnerRepository;
  tenants: TenantRepository;
  users: UserRepository;
  grants: GrantRepository;
  groups: GroupRepository;
  apiKeys: ApiKeyRepository;
  modules: ModuleRepository;
  audit: AuditRepository;
  workers: WorkerRepository;
  bunkers: BunkerRepository;
  bridges: BridgeRepository;
  quotas: QuotaRepository;
  usage: UsageRepository;
}

/** `counters`: Redis quota counters (SCAIBUNKER_REDIS_URL); without them a bucket's usage is summed from its charges. */
export function createRepositories(db: Kysely<Database>, kind: 'sqlite' | 'postgres', counters?: RedisQuotaCounters): Repositories {
  const quotas = new QuotaRepository(db, kind, counters);
  return {
    partners: new PartnerRepository(db),
    tenants: new TenantRepository(db),
    users: new UserRepository(db),
    grants: new GrantRepository(db),
    groups: new GroupRepository(db, kind),
    apiKeys: new ApiKeyRepository(db),
    modules: new ModuleRepository(db),
    audit: new AuditRepository(db),
    workers: new WorkerRepository(db),
    bunkers: new BunkerRepository(db, kind, quotas),
    bridges: new BridgeRepository(db, kind),
    quotas,
    usage: new UsageRepository(db),
  };
}

export * from './page-options.js';
export type { ApiKeyRow, ApiKeyPrincipal, ApiKeyScope } from './api-key-repository.js';
export type { AuditRow, AuditFilter } from './audit-repository.js';
export type { GroupRow, GroupWithMembers } from './group-repository.js';
export type { PartnerRow } from './partner-repository.js';
export type { TenantRow } from './tenant-repository.js';
export type { UserRow } from './user-repository.js';
export type { WorkerRow, WorkerRegistration, WorkerUsage } from './worker-repository.js';
export { RESOURCE_HOLDING_STATUSES } from './worker-repository.js';
export type { BunkerRow, BunkerFilter, QuotaCharge, PlaceResult } from './bunker-repository.js';
export type { BridgeRow } from './bridge-repository.js';
export type { QuotaProfileRow, QuotaAssignmentRow, QuotaCapColumns, ProfileScope } from './quota-repository.js';
export { toProfile } from './quota-repository.js';
