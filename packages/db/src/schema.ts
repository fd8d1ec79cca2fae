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

/** The whole database, as Kysely sees it. */
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
}
