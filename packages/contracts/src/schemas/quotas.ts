import { Type, type Static } from '@sinclair/typebox';
import { DisplayName, Id, PRINTABLE, Timestamp } from './common.js';

/** A cap: a whole number, or null for none. */
const Cap = Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000_000 }), Type.Null()]);

const CAP_FIELDS = {
  max_concurrent_bunkers: Cap, max_persistent_bunkers: Cap, max_cpu_millicores: Cap, max_memory_mb: Cap, max_disk_mb: Cap, max_gpu_count: Cap,
  per_bunker_max_cpu: Cap, per_bunker_max_memory: Cap, per_bunker_max_disk: Cap, per_bunker_max_gpu: Cap,
};
const OptionalCap = Type.Optional(Cap);
const OPTIONAL_CAPS = {
  max_concurrent_bunkers: OptionalCap, max_persistent_bunkers: OptionalCap, max_cpu_millicores: OptionalCap, max_memory_mb: OptionalCap, max_disk_mb: OptionalCap, max_gpu_count: OptionalCap,
  per_bunker_max_cpu: OptionalCap, per_bunker_max_memory: OptionalCap, per_bunker_max_disk: OptionalCap, per_bunker_max_gpu: OptionalCap,
};

const Description = Type.Union([Type.String({ maxLength: 1024, pattern: PRINTABLE }), Type.Null()]);

/** Spec §5: a quota profile; `tenant_id` null is a platform profile (the one named `default` applies to users no assignment reaches). */
export const QuotaProfile = Type.Object({
  id: Type.String(),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  description: Description,
  ...CAP_FIELDS,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type QuotaProfile = Static<typeof QuotaProfile>;

export const CreateQuotaProfileBody = Type.Object({
  name: DisplayName,
  description: Type.Optional(Description),
  /** Omitted: the caller's tenant; null: a platform profile (needs scaibunker:admin:platform). */
  tenant_id: Type.Optional(Type.Union([Id('tenant'), Type.Null()])),
  ...OPTIONAL_CAPS,
}, { additionalProperties: false });
export type CreateQuotaProfileBody = Static<typeof CreateQuotaProfileBody>;

export const UpdateQuotaProfileBody = Type.Object({
  name: Type.Optional(DisplayName),
  description: Type.Optional(Description),
  ...OPTIONAL_CAPS,
}, { additionalProperties: false, minProperties: 1 });
export type UpdateQuotaProfileBody = Static<typeof UpdateQuotaProfileBody>;

export const QuotaProfileParams = Type.Object({ profile_id: Id('quotaProfile') }, { additionalProperties: false });
export const QuotaAssignmentParams = Type.Object({ profile_id: Id('quotaProfile'), assignment_id: Id('quotaAssignment') }, { additionalProperties: false });

export const QUOTA_MODE_VALUES = ['individual', 'shared', 'per_user'] as const;

export const QuotaAssignment = Type.Object({
  id: Type.String(),
  profile_id: Type.String(),
  target_kind: Type.Union([Type.Literal('user'), Type.Literal('group')]),
  target_id: Type.String(),
  mode: Type.Union(QUOTA_MODE_VALUES.map((m) => Type.Literal(m))),
  created_at: Timestamp,
});
export type QuotaAssignment = Static<typeof QuotaAssignment>;

export const CreateQuotaAssignmentBody = Type.Object({
  target_kind: Type.Union([Type.Literal('user'), Type.Literal('group')]),
  target_id: Type.String({ pattern: '^(usr|grp)_[0-9a-hjkmnp-tv-z]{26}$' }),
  /** user: individual (the default); group: shared (the default) or per_user. */
  mode: Type.Optional(Type.Union(QUOTA_MODE_VALUES.map((m) => Type.Literal(m)))),
}, { additionalProperties: false });
export type CreateQuotaAssignmentBody = Static<typeof CreateQuotaAssignmentBody>;

const Amounts = Type.Object({
  bunkers: Type.Integer(), persistent_bunkers: Type.Integer(), cpu_millicores: Type.Integer(), memory_mb: Type.Integer(), disk_mb: Type.Integer(), gpu_count: Type.Integer(),
});
const CapAmounts = Type.Object({
  bunkers: Cap, persistent_bunkers: Cap, cpu_millicores: Cap, memory_mb: Cap, disk_mb: Cap, gpu_count: Cap,
});

/** Spec §5: one row per profile that applies to the user: its bucket, what the bucket holds, the caps, and what is left. */
export const QuotaUsageRow = Type.Object({
  profile_id: Type.String(),
  profile_name: Type.String(),
  assignment_id: Type.Union([Type.String(), Type.Null()]),
  bucket: Type.String(),
  usage: Amounts,
  cap: CapAmounts,
  headroom: CapAmounts,
});
export type QuotaUsageRow = Static<typeof QuotaUsageRow>;

export const QuotaUsageQuery = Type.Object({
  user_id: Type.Optional(Id('user')),
}, { additionalProperties: false });

/** Accounting (spec §2, ours): `GET /usage`. */
export const UsageQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Start of the period (default: the first of this month, UTC).' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'End of the period, exclusive (default: now).' })),
  group_by: Type.Optional(Type.Union([Type.Literal('bunker'), Type.Literal('user'), Type.Literal('tenant')], { description: 'Default: bunker.' })),
  tenant_id: Type.Optional(Id('tenant')),
  user_id: Type.Optional(Id('user')),
  bunker_id: Type.Optional(Id('bunker')),
}, { additionalProperties: false });

const RunningUsage = Type.Object({ seconds: Type.Number(), cpu_millicore_seconds: Type.Number(), memory_mb_seconds: Type.Number(), disk_mb_seconds: Type.Number(), gpu_seconds: Type.Number() });
const PausedUsage = Type.Object({ seconds: Type.Number(), memory_mb_seconds: Type.Number(), disk_mb_seconds: Type.Number() });

export const UsageReport = Type.Object({
  from: Timestamp,
  to: Timestamp,
  group_by: Type.String(),
  rows: Type.Array(Type.Object({
    tenant_id: Type.String(),
    user_id: Type.Optional(Type.String()),
    bunker_id: Type.Optional(Type.String()),
    running: RunningUsage,
    paused: PausedUsage,
  })),
});
export type UsageReport = Static<typeof UsageReport>;
