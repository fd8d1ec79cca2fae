import { Type, type Static } from '@sinclair/typebox';
import { DisplayName, Id, PRINTABLE, Timestamp } from './common.js';

const Literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const LIFECYCLE_MODE_VALUES = ['ephemeral', 'session', 'persistent'] as const;
export const NETWORK_PROFILE_VALUES = ['isolated', 'registry', 'allowlisted', 'unrestricted', 'transit'] as const;
export const BUNKER_STATUS_VALUES = ['pending', 'provisioning', 'running', 'paused', 'terminated', 'failed'] as const;
export const SESSION_TYPE_VALUES = ['standalone', 'scaicore', 'scaiwave', 'api'] as const;

/** An image name: lowercase, digits, `.`, `_`, `-`, 1–64 chars. */
export const ImageName = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' });

/** string → string maps (labels, environment). Keys are bounded; values are printable. */
const LabelSet = Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$' }), Type.String({ maxLength: 256, pattern: PRINTABLE }), { maxProperties: 64 });
const EnvVars = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }), Type.String({ maxLength: 32_768 }), { maxProperties: 256 });

export const TransitInterface = Type.Object({
  if_name: Type.String({ pattern: '^[a-z][a-z0-9]{0,14}$' }),
  bridge_name: Type.String({ minLength: 1, maxLength: 64, pattern: PRINTABLE }),
  spoof_guard: Type.Optional(Type.Boolean({ default: true })),
  mac: Type.Optional(Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' })),
}, { additionalProperties: false });

/** A transit interface of a bunker, as stored and shown. */
export const BunkerInterface = Type.Object({
  if_name: Type.String(),
  bridge_id: Id('bridge'),
  bridge_name: Type.String(),
  mac: Type.String(),
  spoof_guard: Type.Boolean(),
});
export type BunkerInterface = Static<typeof BunkerInterface>;

export const CreateBunkerBody = Type.Object({
  image: ImageName,
  lifecycle_mode: Type.Optional(Literals(LIFECYCLE_MODE_VALUES)),
  name: Type.Optional(DisplayName),
  network_profile: Type.Optional(Literals(NETWORK_PROFILE_VALUES)),
  network_allowlist: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 256 })),
  cpu_millicores: Type.Optional(Type.Integer({ minimum: 100, maximum: 64_000 })),
  memory_mb: Type.Optional(Type.Integer({ minimum: 64, maximum: 262_144 })),
  disk_mb: Type.Optional(Type.Integer({ minimum: 64, maximum: 4_194_304 })),
  gpu_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
  gpu_type: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64, pattern: PRINTABLE }), Type.Null()])),
  max_lifetime_s: Type.Optional(Type.Union([Type.Integer({ minimum: 10, maximum: 31_536_000 }), Type.Null()])),
  idle_timeout_s: Type.Optional(Type.Union([Type.Integer({ minimum: 10, maximum: 31_536_000 }), Type.Null()])),
  session_type: Type.Optional(Literals(SESSION_TYPE_VALUES)),
  session_ref: Type.Optional(Type.String({ maxLength: 256, pattern: PRINTABLE })),
  label_set: Type.Optional(LabelSet),
  env_vars: Type.Optional(EnvVars),
  interfaces: Type.Optional(Type.Array(TransitInterface, { maxItems: 8 })),
  bandwidth_mbit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  from_snapshot: Type.Optional(Id('snapshot')),
}, { additionalProperties: false });
export type CreateBunkerBody = Static<typeof CreateBunkerBody>;

export const Bunker = Type.Object({
  id: Id('bunker'),
  tenant_id: Id('tenant'),
  owner_user_id: Id('user'),
  name: Type.Union([Type.String(), Type.Null()]),
  image: Type.String(),
  lifecycle_mode: Literals(LIFECYCLE_MODE_VALUES),
  network_profile: Literals(NETWORK_PROFILE_VALUES),
  network_allowlist: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'The allowlist, normalised (lower case, no root dot, no duplicates); null unless allowlisted.' }),
  bandwidth_mbit: Type.Union([Type.Integer(), Type.Null()]),
  interfaces: Type.Union([Type.Array(BunkerInterface), Type.Null()], { description: 'Transit interfaces (their MACs as given or generated); null unless transit.' }),
  egress_audit: Type.Boolean({ description: 'Every flow is written to the egress audit (GET …/egress-audit): unrestricted and transit bunkers of a tenant with the module’s egress_audit on.' }),
  cpu_millicores: Type.Integer(),
  memory_mb: Type.Integer(),
  disk_mb: Type.Integer(),
  gpu_count: Type.Integer(),
  gpu_type: Type.Union([Type.String(), Type.Null()]),
  max_lifetime_s: Type.Union([Type.Integer(), Type.Null()]),
  idle_timeout_s: Type.Union([Type.Integer(), Type.Null()]),
  session_type: Literals(SESSION_TYPE_VALUES),
  session_ref: Type.Union([Type.String(), Type.Null()]),
  label_set: Type.Record(Type.String(), Type.String()),
  env_var_names: Type.Array(Type.String(), { description: 'Names only: values are never read back.' }),
  status: Literals(BUNKER_STATUS_VALUES),
  failure_reason: Type.Union([Type.String(), Type.Null()]),
  worker_id: Type.Union([Id('worker'), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  started_at: Type.Union([Timestamp, Type.Null()]),
  last_activity_at: Timestamp,
  ended_at: Type.Union([Timestamp, Type.Null()]),
  expires_at: Type.Union([Timestamp, Type.Null()], { description: 'When max_lifetime_s ends it, if set.' }),
});
export type Bunker = Static<typeof Bunker>;

export const BunkerParams = Type.Object({ bunker_id: Id('bunker') }, { additionalProperties: false });

export const BunkerListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  status: Type.Optional(Literals(BUNKER_STATUS_VALUES)),
  lifecycle: Type.Optional(Literals(LIFECYCLE_MODE_VALUES)),
}, { additionalProperties: false });
export type BunkerListQuery = Static<typeof BunkerListQuery>;

export const Resources = Type.Object({
  cpu_millicores: Type.Integer(), memory_mb: Type.Integer(), disk_mb: Type.Integer(), gpu_count: Type.Integer(),
});

export const Worker = Type.Object({
  id: Id('worker'),
  name: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  status: Literals(['online', 'offline', 'draining'] as const),
  draining: Type.Boolean(),
  capacity: Resources,
  usage: Type.Composite([Resources, Type.Object({ bunkers: Type.Integer() })]),
  gpu_type: Type.Union([Type.String(), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()]),
  accelerator: Type.Union([Type.String(), Type.Null()]),
  network_ready: Type.Boolean({ description: 'It builds bunker networks: networked profiles are placed only on such workers.' }),
  images: Type.Record(Type.String(), Type.String(), { description: 'Image name → state (ready, pulling, failed).' }),
  connected_at: Type.Union([Timestamp, Type.Null()]),
  last_heartbeat: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
});
export type Worker = Static<typeof Worker>;

export const WorkerParams = Type.Object({ worker_id: Id('worker') }, { additionalProperties: false });

export const CreateWorkerBody = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$' }),
  labels: Type.Optional(LabelSet),
}, { additionalProperties: false });
export type CreateWorkerBody = Static<typeof CreateWorkerBody>;

export const CreatedWorker = Type.Composite([Worker, Type.Object({ token: Type.String({ description: 'Shown once: the credential the worker daemon dials in with.' }) })]);

export const ExecBody = Type.Object({
  command: Type.Union([Type.String({ minLength: 1, maxLength: 131_072 }), Type.Array(Type.String({ maxLength: 131_072 }), { minItems: 1, maxItems: 4096 })]),
  cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' })),
  env: Type.Optional(EnvVars),
  user: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_-]{0,31}$|^[0-9]{1,10}$' })),
  stdin: Type.Optional(Type.String({ maxLength: 10_485_760 })),
  stdin_open: Type.Optional(Type.Boolean({ description: 'Keep stdin open after `stdin` (if any) for writes by pid, streamed with PUT …/processes/{pid}/stdin or sent with POST; background processes always keep it open.' })),
  timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  background: Type.Optional(Type.Boolean({ description: 'Answer with the pid at once; the process outlives the request (read its output, write its stdin, signal it by pid).' })),
}, { additionalProperties: false });
export type ExecBody = Static<typeof ExecBody>;

export const ProcessExit = Type.Object({
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Type.String(), Type.Null()]),
  timed_out: Type.Boolean(),
});

export const ProcessInfo = Type.Object({
  pid: Type.Integer(),
  argv: Type.Array(Type.String()),
  background: Type.Boolean(),
  started_at: Timestamp,
  exit: Type.Union([ProcessExit, Type.Null()]),
});
export type ProcessInfo = Static<typeof ProcessInfo>;

export const BackgroundStarted = Type.Object({ pid: Type.Integer(), background: Type.Literal(true) });

export const ProcessParams = Type.Object({ bunker_id: Id('bunker'), pid: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

/** Signals by name (or number 1–64). */
export const SignalBody = Type.Object({
  signal: Type.Union([Type.String({ pattern: '^SIG[A-Z0-9]+$' }), Type.Integer({ minimum: 1, maximum: 64 })]),
}, { additionalProperties: false });

export const StdinStreamQuery = Type.Object({
  eof: Type.Optional(Type.Boolean({ description: 'Close the process’s stdin when the body ends (default true).' })),
}, { additionalProperties: false });

export const StdinBody = Type.Object({
  data: Type.Optional(Type.String({ maxLength: 1_048_576 })),
  eof: Type.Optional(Type.Boolean({ description: 'Close the process’s stdin after writing.' })),
}, { additionalProperties: false });

export const ExecResult = Type.Object({
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Type.String(), Type.Null()]),
  stdout: Type.String(),
  stderr: Type.String(),
  duration_ms: Type.Integer(),
  timed_out: Type.Boolean(),
  truncated: Type.Boolean(),
});
export type ExecResult = Static<typeof ExecResult>;

/** One refusal of a bunker's network: a name its resolver would not resolve, or a packet its firewall dropped. */
export const NetworkDenial = Type.Object({
  kind: Literals(['dns', 'connection'] as const),
  at: Timestamp,
  name: Type.Optional(Type.String({ description: 'dns: the name refused (NXDOMAIN)' })),
  type: Type.Optional(Type.Integer({ description: 'dns: the query type (1 = A, 28 = AAAA, …)' })),
  protocol: Type.Optional(Type.String({ description: 'connection: tcp, udp, icmp, …' })),
  source: Type.Optional(Type.String()),
  destination: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
});
export type NetworkDenial = Static<typeof NetworkDenial>;

export const BunkerNetwork = Type.Object({
  profile: Literals(NETWORK_PROFILE_VALUES),
  allowlist: Type.Union([Type.Array(Type.String()), Type.Null()]),
  bandwidth_mbit: Type.Union([Type.Integer(), Type.Null()]),
  guest: Type.Union([Type.Object({ mac: Type.String(), address: Type.String(), gateway: Type.String({ description: 'Also its only resolver.' }) }), Type.Null()], { description: 'null: isolated, or not running' }),
  denied: Type.Union([Type.Object({ names: Type.Integer(), connections: Type.Integer() }), Type.Null()], { description: 'Refusals counted since the worker process started; null when not running' }),
  recent_denials: Type.Array(NetworkDenial, { description: 'The last 200 refusals, oldest first' }),
});
export type BunkerNetwork = Static<typeof BunkerNetwork>;

/** One flow of a bunker's egress audit (spec §8): a line of its NDJSON batches in object storage. */
export const EgressFlow = Type.Object({
  bunker_id: Id('bunker'),
  flow_id: Type.String(),
  start: Timestamp,
  end: Timestamp,
  protocol: Type.String({ description: 'tcp, udp, icmp, …' }),
  src: Type.String({ description: 'The guest’s address' }),
  sport: Type.Union([Type.Integer(), Type.Null()]),
  dst: Type.String(),
  dport: Type.Union([Type.Integer(), Type.Null()]),
  bytes_out: Type.Integer({ description: 'IP bytes the guest sent (headers included)' }),
  bytes_in: Type.Integer({ description: 'IP bytes the guest received (headers included)' }),
  packets_out: Type.Integer(),
  packets_in: Type.Integer(),
  dns_name: Type.Union([Type.String(), Type.Null()], { description: 'The name the guest resolved dst from, when known' }),
  verdict: Literals(['allowed', 'denied'] as const),
});
export type EgressFlow = Static<typeof EgressFlow>;

/** A tenant's L2 bridge on one worker, that transit bunkers' interfaces attach to (spec §6). */
export const Bridge = Type.Object({
  id: Id('bridge'),
  tenant_id: Id('tenant'),
  name: Type.String(),
  worker_id: Id('worker'),
  created_by: Id('user'),
  created_at: Timestamp,
});
export type Bridge = Static<typeof Bridge>;

export const CreateBridgeBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: PRINTABLE }),
  worker_id: Type.Optional(Id('worker', 'The worker to make it on (default: an online worker with the most free memory). Its transit bunkers run there.')),
}, { additionalProperties: false });
export type CreateBridgeBody = Static<typeof CreateBridgeBody>;

export const BridgeParams = Type.Object({ bridge_id: Id('bridge') }, { additionalProperties: false });
