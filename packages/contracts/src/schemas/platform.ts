import { Type, type Static } from '@sinclair/typebox';
import { PERMISSION_KEYS, ROLES } from '../permissions.js';
import { DisplayName, Id, PRINTABLE, Slug, Timestamp } from './common.js';

export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const PermissionKeySchema = Type.Union(PERMISSION_KEYS.map((k) => Type.Literal(k)));

export const Partner = Type.Object({
  id: Id('partner'),
  slug: Slug,
  name: DisplayName,
  created_at: Timestamp,
});
export type Partner = Static<typeof Partner>;

export const CreatePartnerBody = Type.Object({ slug: Slug, name: DisplayName }, { additionalProperties: false });
export type CreatePartnerBody = Static<typeof CreatePartnerBody>;

export const Tenant = Type.Object({
  id: Id('tenant'),
  partner_id: Id('partner'),
  slug: Slug,
  name: DisplayName,
  created_at: Timestamp,
});
export type Tenant = Static<typeof Tenant>;

export const CreateTenantBody = Type.Object(
  {
    slug: Slug,
    name: DisplayName,
    partner_id: Type.Optional(Id('partner', 'Defaults to the caller’s partner.')),
  },
  { additionalProperties: false },
);
export type CreateTenantBody = Static<typeof CreateTenantBody>;

export const Email = Type.String({ format: 'email', maxLength: 254 });

export const User = Type.Object({
  id: Id('user'),
  tenant_id: Id('tenant'),
  email: Email,
  display_name: DisplayName,
  role: RoleSchema,
  disabled: Type.Boolean(),
  created_at: Timestamp,
});
export type User = Static<typeof User>;

export const CreateUserBody = Type.Object(
  {
    email: Email,
    display_name: DisplayName,
    role: Type.Optional(RoleSchema),
    tenant_id: Type.Optional(Id('tenant', 'Defaults to the caller’s tenant.')),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Object(
  {
    display_name: Type.Optional(DisplayName),
    role: Type.Optional(RoleSchema),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const UserListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    tenant_id: Type.Optional(Id('tenant')),
  },
  { additionalProperties: false },
);
export type UserListQuery = Static<typeof UserListQuery>;

export const Permissions = Type.Object({
  user_id: Id('user'),
  role: RoleSchema,
  from_role: Type.Array(PermissionKeySchema),
  direct: Type.Array(PermissionKeySchema),
  effective: Type.Array(PermissionKeySchema),
});
export type Permissions = Static<typeof Permissions>;

export const GrantBody = Type.Object({ permission: PermissionKeySchema }, { additionalProperties: false });
export type GrantBody = Static<typeof GrantBody>;

export const GrantParams = Type.Object(
  { id: Id('user'), permission: PermissionKeySchema },
  { additionalProperties: false },
);

export const Group = Type.Object({
  id: Id('group'),
  tenant_id: Id('tenant'),
  name: DisplayName,
  description: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
  member_user_ids: Type.Array(Id('user')),
  member_group_ids: Type.Array(Id('group')),
  created_at: Timestamp,
});
export type Group = Static<typeof Group>;

export const CreateGroupBody = Type.Object(
  { name: DisplayName, description: Type.Optional(Type.String({ maxLength: 2000, pattern: '^[^\\u0000]*$' })) },
  { additionalProperties: false },
);
export type CreateGroupBody = Static<typeof CreateGroupBody>;

export const AddGroupMemberBody = Type.Union(
  [
    Type.Object({ user_id: Id('user') }, { additionalProperties: false }),
    Type.Object({ group_id: Id('group') }, { additionalProperties: false }),
  ],
  { description: 'Exactly one of `user_id` or `group_id`.' },
);
export type AddGroupMemberBody = Static<typeof AddGroupMemberBody>;

export const GroupMemberParams = Type.Object(
  { id: Id('group'), member_id: Type.Union([Id('user'), Id('group')]) },
  { additionalProperties: false },
);

export const ApiKey = Type.Object({
  id: Id('apiKey'),
  user_id: Id('user'),
  tenant_id: Id('tenant'),
  name: DisplayName,
  created_at: Timestamp,
  expires_at: Type.Union([Timestamp, Type.Null()]),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
  last_used_at: Type.Union([Timestamp, Type.Null()]),
});
export type ApiKey = Static<typeof ApiKey>;

export const CreatedApiKey = Type.Composite([
  ApiKey,
  Type.Object({ secret: Type.String({ description: 'The bearer secret. Shown once; only its hash is stored.' }) }),
]);
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const CreateApiKeyBody = Type.Object(
  {
    name: DisplayName,
    user_id: Type.Optional(Id('user', 'Defaults to the caller; admins may mint keys for users they manage.')),
    expires_in_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 10 * 365 * 86400 })),
  },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

export const ModuleState = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  disabled_by: Type.Union([Type.Literal('partner'), Type.Literal('tenant'), Type.Null()]),
});
export type ModuleState = Static<typeof ModuleState>;

export const ModuleParams = Type.Object({ module_id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

export const ModuleScopeBody = Type.Object(
  {
    scope: Type.Optional(Type.Union([Type.Literal('tenant'), Type.Literal('partner')], { default: 'tenant' })),
    target_id: Type.Optional(
      Type.Union([Id('tenant'), Id('partner')], { description: 'Defaults to the caller’s tenant or partner.' }),
    ),
  },
  { additionalProperties: false },
);
export type ModuleScopeBody = Static<typeof ModuleScopeBody>;

export const ScaibunkerConfig = Type.Object(
  {
    default_image: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    default_lifecycle_mode: Type.Optional(
      Type.Union([Type.Literal('ephemeral'), Type.Literal('session'), Type.Literal('persistent')]),
    ),
    default_network_profile: Type.Optional(
      Type.Union(['isolated', 'registry', 'allowlisted', 'unrestricted', 'transit'].map((p) => Type.Literal(p))),
    ),
    egress_audit: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ModuleConfigResponse = Type.Object({
  module_id: Type.String(),
  tenant_id: Id('tenant'),
  config: ScaibunkerConfig,
});

export const AuditEntry = Type.Object({
  id: Id('audit'),
  at: Timestamp,
  actor_user_id: Type.Union([Id('user'), Type.Null()]),
  actor_api_key_id: Type.Union([Id('apiKey'), Type.Null()]),
  tenant_id: Type.Union([Id('tenant'), Type.Null()]),
  action: Type.String(),
  target_kind: Type.Union([Type.String(), Type.Null()]),
  target_id: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  status_code: Type.Integer(),
  error_code: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    tenant_id: Type.Optional(Id('tenant')),
    action: Type.Optional(Type.String({ maxLength: 100, pattern: PRINTABLE })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const Me = Type.Object({
  user: User,
  tenant: Tenant,
  partner_id: Id('partner'),
  api_key_id: Id('apiKey'),
  role: RoleSchema,
  permissions: Type.Array(PermissionKeySchema),
});
export type Me = Static<typeof Me>;

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  mode: Type.String(),
  database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
});
export type Health = Static<typeof Health>;

export const ModulePermission = Type.Object({
  key: PermissionKeySchema,
  grants: Type.String(),
  held: Type.Boolean(),
});
