/**
 * Table shapes. Timestamps are ISO-8601 UTC text and booleans are 0/1 integers on both
 * SQLite and PostgreSQL, so rows read back identically from either database.
 */
export interface PartnersTable { id: string; slug: string; name: string; created_at: string }
export interface TenantsTable { id: string; partner_id: string; slug: string; name: string; created_at: string }
export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  role: string;
  disabled: number;
  created_at: string;
}
export interface GroupsTable { id: string; tenant_id: string; name: string; description: string | null; created_at: string }
export interface GroupUserMembersTable { group_id: string; user_id: string }
export interface GroupGroupMembersTable { parent_group_id: string; child_group_id: string }
export interface PermissionGrantsTable { user_id: string; permission: string; granted_by: string; created_at: string }
export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}
export interface ModuleSettingsTable { module_id: string; scope: string; scope_id: string; enabled: number; updated_at: string }
export interface ModuleConfigsTable { module_id: string; tenant_id: string; config: string; updated_at: string }
export interface AuditLogTable {
  id: string;
  at: string;
  actor_user_id: string | null;
  actor_api_key_id: string | null;
  tenant_id: string | null;
  partner_id: string | null;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  outcome: string;
  status_code: number;
  error_code: string | null;
  request_id: string;
}

export interface WorkersTable {
  id: string;
  name: string;
  /** JSON object of string labels. */
  labels: string;
  token_hash: string;
  draining: number;
  cpu_millicores: number;
  memory_mb: number;
  disk_mb: number;
  gpu_count: number;
  gpu_type: string | null;
  version: string | null;
  accelerator: string | null;
  session_id: string | null;
  connected_at: string | null;
  last_heartbeat_at: string | null;
  /** 1: the worker builds bunker networks (it said so in its last hello). */
  network_ready: number;
  created_at: string;
}
export interface WorkerImagesTable { worker_id: string; image: string; state: string; updated_at: string }
export interface BunkersTable {
  id: string;
  tenant_id: string;
  owner_user_id: string;
  name: string | null;
  image: string;
  lifecycle_mode: string;
  network_profile: string;
  /** JSON array of normalised names, for `allowlisted`; null otherwise. */
  network_allowlist: string | null;
  bandwidth_mbit: number | null;
  /** 1: every flow is written to the egress audit (unrestricted and transit bunkers of a tenant that turned it on). */
  egress_audit: number;
  /** JSON array of transit interfaces ({if_name, bridge_id, bridge_name, mac, spoof_guard}); null unless transit. */
  interfaces: string | null;
  cpu_millicores: number;
  memory_mb: number;
  disk_mb: number;
  gpu_count: number;
  gpu_type: string | null;
  max_lifetime_s: number | null;
  idle_timeout_s: number | null;
  session_type: string;
  session_ref: string | null;
  /** JSON object string → string. */
  label_set: string;
  /** JSON object string → string. */
  env_vars: string;
  status: string;
  failure_reason: string | null;
  worker_id: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  last_activity_at: string;
  ended_at: string | null;
}

export interface BridgesTable {
  id: string;
  tenant_id: string;
  name: string;
  worker_id: string;
  created_by: string;
  created_at: string;
}

/** The whole database, as Kysely sees it. */
export interface QuotaProfilesTable {
  id: string;
  tenant_id: string | null;
  name: string;
  description: string | null;
  max_concurrent_bunkers: number | null;
  max_persistent_bunkers: number | null;
  max_cpu_millicores: number | null;
  max_memory_mb: number | null;
  max_disk_mb: number | null;
  max_gpu_count: number | null;
  per_bunker_max_cpu: number | null;
  per_bunker_max_memory: number | null;
  per_bunker_max_disk: number | null;
  per_bunker_max_gpu: number | null;
  scope_key: string;
  created_at: string;
  updated_at: string;
}
export interface QuotaAssignmentsTable { id: string; profile_id: string; tenant_id: string; target_kind: string; target_id: string; mode: string; created_at: string }
export interface QuotaChargesTable {
  bunker_id: string;
  bucket: string;
  bunkers: number;
  persistent_bunkers: number;
  cpu_millicores: number;
  memory_mb: number;
  disk_mb: number;
  gpu_count: number;
  charged_at: string;
  released_at: string | null;
}

export interface UsageSegmentsTable {
  bunker_id: string;
  tenant_id: string;
  user_id: string;
  /** `running` or `paused`. */
  state: string;
  started_at: string;
  ended_at: string | null;
  cpu_millicores: number;
  memory_mb: number;
  disk_mb: number;
  gpu_count: number;
}

export interface Database {
  partners: PartnersTable;
  tenants: TenantsTable;
  users: UsersTable;
  groups: GroupsTable;
  group_user_members: GroupUserMembersTable;
  group_group_members: GroupGroupMembersTable;
  permission_grants: PermissionGrantsTable;
  api_keys: ApiKeysTable;
  module_settings: ModuleSettingsTable;
  module_configs: ModuleConfigsTable;
  audit_log: AuditLogTable;
  workers: WorkersTable;
  worker_images: WorkerImagesTable;
  bunkers: BunkersTable;
  bridges: BridgesTable;
  quota_profiles: QuotaProfilesTable;
  quota_assignments: QuotaAssignmentsTable;
  quota_charges: QuotaChargesTable;
  usage_segments: UsageSegmentsTable;
}
