import type { Readable } from 'node:stream';
import { ScaiError, type Bunker, type BunkerInterface, type BunkerNetwork, type EgressFlow, type CreateBunkerBody, type ExecBody, type ExecResult, type PermissionKey } from '@scaibunker/contracts';
import { LIFECYCLE_DEFAULTS, newId, usageOf, type Actor, type BunkerStatus, type LifecycleMode, type QuotaCaps, type QuotaRefusal } from '@scaibunker/core';
import type { BunkerFilter, BunkerRow, PageOptions, Repositories, TenantScope } from '@scaibunker/db';
import type { ObjectStore } from '@scaibunker/storage';
import { checkNetworkAllowlist, checkTransitInterfaces, networkLaunchOf, readEgressAudit } from './bunker-network.js';
import { toExecRequest, type ExecRequest, type WorkerGateway } from './worker-gateway.js';

/** Limits of the bunker service that are configuration, not contract. */
export interface BunkerServiceOptions {
  /** How long a create may take from placement to a running VM before the bunker is failed. */
  startTimeoutMs: number;
  execDefaultTimeoutS: number;
  execOutputCapBytes: number;
  /** The platform's per-bunker ceilings, above every quota profile. */
  ceilings: Partial<QuotaCaps>;
  /** Where workers write egress audit batches (the local store in mode `all`); without it the audit reads empty. */
  objects?: ObjectStore | undefined;
}

const DEFAULT_RESOURCES = { cpuMillicores: 1000, memoryMb: 512, diskMb: 1024 };

/** The service's defaults: a start may take 2 minutes (a template build included), an exec 60 s, 1 MiB of each output kept. */
export const BUNKER_SERVICE_DEFAULTS: BunkerServiceOptions = { startTimeoutMs: 120_000, execDefaultTimeoutS: 60, execOutputCapBytes: 1024 * 1024, ceilings: {} };

const LIFECYCLE_PERMISSION: Record<LifecycleMode, PermissionKey> = {
  ephemeral: 'scaibunker:create',
  session: 'scaibunker:create:session',
  persistent: 'scaibunker:create:persistent',
};
const NETWORK_PERMISSION: Record<string, PermissionKey | null> = {
  isolated: null,
  registry: 'scaibunker:network:registry',
  allowlisted: 'scaibunker:network:allowlisted',
  unrestricted: 'scaibunker:network:unrestricted',
  transit: 'scaibunker:network:transit',
};

/** Who did something to a bunker, for its audit row: a caller, or the platform itself. */
export type BunkerActor = { actor: Actor; requestId: string } | { system: string };

/**
 * Bunkers from the API's point of view: checks, placement, lifecycle transitions and the
 * calls to their worker. Every transition is a compare-and-set on the stored status, so a
 * late worker report or a racing delete never resurrects an ended bunker.
 */
export class BunkerService {
  constructor(
    private readonly repos: Repositories,
    private readonly workers: WorkerGateway,
    private readonly options: BunkerServiceOptions,
  ) {}

  /** Creates a bunker and starts it; answers once it runs (or failed to). `requestId` marks its audit rows. */
  async create(actor: Actor, body: CreateBunkerBody, requestId = 'internal'): Promise<BunkerRow> {
    if (!actor.permissions.has('scaibunker:create')) throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Creating bunkers needs scaibunker:create.');
    const lifecycle = body.lifecycle_mode ?? 'ephemeral';
    if (!actor.permissions.has(LIFECYCLE_PERMISSION[lifecycle])) {
      throw new ScaiError('LIFECYCLE_MODE_DENIED', `Creating ${lifecycle} bunkers needs ${LIFECYCLE_PERMISSION[lifecycle]}.`);
    }
    const network = body.network_profile ?? 'isolated';
    const networkPermission = NETWORK_PERMISSION[network];
    if (networkPermission && !actor.permissions.has(networkPermission)) {
      throw new ScaiError('NETWORK_PROFILE_DENIED', `The ${network} network profile needs ${networkPermission}.`);
    }
    if (body.interfaces && network !== 'transit') throw new ScaiError('INTERFACES_NOT_ALLOWED', '`interfaces` are only allowed with the transit network profile.');
    if (network === 'transit' && !body.interfaces?.length) throw new ScaiError('TRANSIT_MISSING_INTERFACES', 'The transit network profile needs at least one interface.');
    const allowlist = checkNetworkAllowlist(network, body.network_allowlist);
    // The tenant's module setting decides, at create time, for the profiles that reach everything.
    const egressAudit = (network === 'unrestricted' || network === 'transit')
      && (await this.repos.modules.getConfig('scaibunker', actor.tenantId)).egress_audit === true;
    const transit = network === 'transit' ? await this.transitInterfaces(actor, body.interfaces!) : undefined;
    if (body.bandwidth_mbit !== undefined && network === 'isolated') {
      throw new ScaiError('VALIDATION_ERROR', '`bandwidth_mbit` caps a network: an isolated bunker has none.', { details: [{ field: 'bandwidth_mbit', message: 'not allowed with the isolated profile' }] });
    }
    if (body.from_snapshot !== undefined) throw new ScaiError('NOT_SUPPORTED', '`from_snapshot` arrives with the snapshot step.');

    const now = new Date().toISOString();
    const defaults = LIFECYCLE_DEFAULTS[lifecycle];
    const row: Omit<BunkerRow, 'worker_id'> = {
      id: newId('bunker'), tenant_id: actor.tenantId, owner_user_id: actor.userId, name: body.name ?? null, image: body.image,
      lifecycle_mode: lifecycle, network_profile: network, network_allowlist: allowlist && JSON.stringify(allowlist), bandwidth_mbit: body.bandwidth_mbit ?? null, egress_audit: egressAudit ? 1 : 0,
      interfaces: transit ? JSON.stringify(transit.interfaces) : null,
      cpu_millicores: body.cpu_millicores ?? DEFAULT_RESOURCES.cpuMillicores,
      memory_mb: body.memory_mb ?? DEFAULT_RESOURCES.memoryMb,
      disk_mb: body.disk_mb ?? DEFAULT_RESOURCES.diskMb,
      gpu_count: body.gpu_count ?? 0, gpu_type: body.gpu_type ?? null,
      max_lifetime_s: body.max_lifetime_s === undefined ? defaults.maxLifetimeS : body.max_lifetime_s,
      idle_timeout_s: body.idle_timeout_s === undefined ? defaults.idleTimeoutS : body.idle_timeout_s,
      session_type: body.session_type ?? 'standalone', session_ref: body.session_ref ?? null,
      label_set: JSON.stringify(body.label_set ?? {}), env_vars: JSON.stringify(body.env_vars ?? {}),
      status: 'pending', failure_reason: null, created_at: now, updated_at: now, started_at: null, last_activity_at: now, ended_at: null,
    };
    const quota = {
      applicable: await this.repos.quotas.applicableFor(actor.userId, actor.tenantId),
      usage: usageOf({ cpuMillicores: row.cpu_millicores, memoryMb: row.memory_mb, diskMb: row.disk_mb, gpuCount: row.gpu_count, persistent: lifecycle === 'persistent' }),
      ceilings: this.options.ceilings,
    };
    const placed = await this.repos.bunkers.place(row, {
      image: row.image, cpuMillicores: row.cpu_millicores, memoryMb: row.memory_mb, diskMb: row.disk_mb,
      gpuCount: row.gpu_count, gpuType: row.gpu_type, lazyPull: false,
      // A transit bunker runs where its bridges are; any networked one where networks are built.
      ...(transit ? { onlyWorker: transit.workerId } : {}), network: network !== 'isolated',
    }, quota);
    if (!placed.ok) throw 'refusal' in placed ? quotaExceeded(placed.refusal) : new ScaiError(placed.code, placed.reason);
    // Turning spoof_guard off is always on the record, whoever may do it.
    for (const unguarded of transit?.interfaces.filter((i) => !i.spoof_guard) ?? []) {
      await this.repos.audit.append({
        id: newId('audit'), at: new Date().toISOString(), actor_user_id: actor.userId, actor_api_key_id: actor.apiKeyId,
        tenant_id: actor.tenantId, partner_id: actor.partnerId, action: 'bunker.interface.spoof_guard_off', target_kind: 'bunker', target_id: row.id,
        outcome: 'success', status_code: 200, error_code: null, request_id: `${requestId}:${unguarded.if_name}@${unguarded.bridge_name}`.slice(0, 200),
      });
    }
    await this.start({ ...row, worker_id: placed.workerId }, placed.workerId);
    return (await this.repos.bunkers.get(row.id, { all: true }))!;
  }

  /**
   * A transit bunker's interfaces, checked: each names a bridge of the caller's own tenant
   * (another tenant's bridge is as unknown as a missing one), all on one worker; names are
   * unique and not the guest's own (eth0, lo); a MAC is generated when none is given; turning
   * `spoof_guard` off needs scaibunker:l2_transparency.
   */
  private async transitInterfaces(actor: Actor, asked: NonNullable<CreateBunkerBody['interfaces']>): Promise<{ interfaces: BunkerInterface[]; workerId: string }> {
    const bridges = await this.repos.bridges.byNames(actor.tenantId, asked.map((i) => i.bridge_name));
    return checkTransitInterfaces(actor, asked, bridges, await this.repos.bridges.macsInUse(bridges.map((b) => b.id)));
  }

  /** provisioning (as placed) → running on the placed worker, or failed with the reason. */
  private async start(bunker: BunkerRow, workerId: string): Promise<void> {
    const bunkerId = bunker.id;
    try {
      await withTimeout(this.workers.startBunker(workerId, {
        bunkerId, image: bunker.image, cpuMillicores: bunker.cpu_millicores, memoryMb: bunker.memory_mb, diskMb: bunker.disk_mb,
        envVars: JSON.parse(bunker.env_vars) as Record<string, string>,
        ...(bunker.network_profile === 'isolated' ? {} : { network: networkLaunchOf(bunker) }),
      }), this.options.startTimeoutMs, `The worker did not start the bunker within ${this.options.startTimeoutMs / 1000} s.`);
      const at = new Date().toISOString();
      if (!(await this.repos.bunkers.transition(bunkerId, ['provisioning'], 'running', at, { started_at: at }))) {
        // Deleted while it started: make sure the VM does not linger.
        await this.workers.stopBunker(workerId, bunkerId).catch(() => undefined);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await this.fail(bunkerId, ['pending', 'provisioning'], `start failed: ${reason}`);
      // The worker may still bring the VM up after a timeout: ask it to drop whatever it has.
      await this.workers.stopBunker(workerId, bunkerId).catch(() => undefined);
    }
  }

  /** A bunker the actor may see; any other (another tenant's included) answers NOT_FOUND. */
  async visible(actor: Actor, bunkerId: string): Promise<BunkerRow> {
    const bunker = await this.repos.bunkers.get(bunkerId, this.scopeOf(actor));
    if (!bunker || !this.canSee(actor, bunker)) throw new ScaiError('NOT_FOUND', 'No such bunker.');
    return bunker;
  }

  list(actor: Actor, filter: BunkerFilter, page: PageOptions): Promise<BunkerRow[]> {
    const scope = this.scopeOf(actor);
    const ownOnly = !actor.permissions.has('scaibunker:admin') && !isTenantAdmin(actor);
    return this.repos.bunkers.list(ownOnly ? { ...scope, ownerUserId: actor.userId } : scope, filter, page);
  }

  /** Ends a bunker: its VM is stopped and its resources freed; deleting an ended bunker is a no-op. */
  async terminate(bunkerId: string, by: BunkerActor): Promise<BunkerRow> {
    const bunker = (await this.repos.bunkers.get(bunkerId, { all: true }))!;
    const live: BunkerStatus[] = ['pending', 'provisioning', 'running', 'paused'];
    const at = new Date().toISOString();
    if (await this.repos.bunkers.transition(bunkerId, live, 'terminated', at, { ended_at: at })) {
      await this.auditSystem(bunker, 'bunker.terminate', by);
      if (bunker.worker_id) await this.workers.stopBunker(bunker.worker_id, bunkerId).catch(() => undefined);
    }
    return (await this.repos.bunkers.get(bunkerId, { all: true }))!;
  }

  async pause(bunker: BunkerRow): Promise<BunkerRow> {
    if (bunker.status === 'paused') return bunker;
    if (bunker.status !== 'running') throw new ScaiError('CONFLICT', `A ${bunker.status} bunker cannot be paused.`);
    await this.workers.pauseBunker(bunker.worker_id!, bunker.id);
    await this.repos.bunkers.transition(bunker.id, ['running'], 'paused', new Date().toISOString());
    return (await this.repos.bunkers.get(bunker.id, { all: true }))!;
  }

  async resume(bunker: BunkerRow): Promise<BunkerRow> {
    if (bunker.status === 'running') return bunker;
    if (bunker.status !== 'paused') throw new ScaiError('CONFLICT', `A ${bunker.status} bunker cannot be resumed.`);
    await this.workers.resumeBunker(bunker.worker_id!, bunker.id);
    const at = new Date().toISOString();
    await this.repos.bunkers.transition(bunker.id, ['paused'], 'running', at);
    await this.repos.bunkers.touch(bunker.id, at);
    return (await this.repos.bunkers.get(bunker.id, { all: true }))!;
  }

  async exec(actor: Actor, bunker: BunkerRow, body: ExecBody): Promise<ExecResult> {
    const request = this.execRequest(actor, bunker, body);
    // Activity at the start (so a long command counts against idleness) and at the end; the
    // first is written while the command runs, not before it.
    const started = this.repos.bunkers.touch(bunker.id, new Date().toISOString());
    try {
      return await this.workers.exec(bunker.worker_id!, bunker.id, request);
    } finally {
      await started;
      await this.repos.bunkers.touch(bunker.id, new Date().toISOString());
    }
  }

  /** Starts a process whose output is NDJSON events: attached to the answer, or in the background. */
  async startProcess(actor: Actor, bunker: BunkerRow, body: ExecBody): Promise<{ pid: number; output?: Readable }> {
    const request = this.execRequest(actor, bunker, body);
    await this.repos.bunkers.touch(bunker.id, new Date().toISOString());
    // A background process runs until it ends or the bunker does, unless a timeout is asked for.
    if (body.background && body.timeout_s === undefined) request.timeoutS = 0;
    return this.workers.startProcess(bunker.worker_id!, bunker.id, request, body.background === true);
  }

  /** Checks an exec (permission, root, state) and builds the worker's request. */
  private execRequest(actor: Actor, bunker: BunkerRow, body: ExecBody): ExecRequest {
    this.requireActing(actor, bunker, 'scaibunker:execute');
    if (body.user === 'root' || body.user === '0') {
      if (!actor.permissions.has('scaibunker:root')) throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Running as root needs scaibunker:root.');
    }
    if (bunker.status !== 'running') throw new ScaiError('BUNKER_NOT_RUNNING', `The bunker is ${bunker.status}.`);
    return toExecRequest(body, JSON.parse(bunker.env_vars) as Record<string, string>, {
      timeoutS: this.options.execDefaultTimeoutS, outputCapBytes: this.options.execOutputCapBytes,
    });
  }

  /** The worker side of an operation on a process of a running bunker; counts as activity. */
  async processes<T>(actor: Actor, bunker: BunkerRow, run: (workerId: string) => Promise<T>): Promise<T> {
    this.requireActing(actor, bunker, 'scaibunker:execute');
    if (bunker.status !== 'running') throw new ScaiError('BUNKER_NOT_RUNNING', `The bunker is ${bunker.status}.`);
    await this.repos.bunkers.touch(bunker.id, new Date().toISOString());
    return run(bunker.worker_id!);
  }

  /** A bunker's network: what it was created with, and from its worker while it runs (addresses, refusals). */
  async network(bunker: BunkerRow): Promise<BunkerNetwork> {
    const live = bunker.network_profile !== 'isolated' && bunker.status === 'running' && bunker.worker_id
      ? await this.workers.bunkerNetwork(bunker.worker_id, bunker.id) : undefined;
    return {
      profile: bunker.network_profile as BunkerNetwork['profile'],
      allowlist: bunker.network_allowlist === null ? null : JSON.parse(bunker.network_allowlist) as string[],
      bandwidth_mbit: bunker.bandwidth_mbit,
      guest: live ? { mac: live.mac, address: live.address, gateway: live.gateway } : null,
      denied: live ? live.denied : null,
      recent_denials: live?.recent_denials ?? [],
    };
  }

  /**
   * A page of a bunker's egress audit, in time order: the flows its worker wrote as NDJSON
   * batches under `scaibunker/audit/{bunker_id}/`. The cursor names the batch and line to
   * resume at, so pages stay stable as new batches arrive.
   */
  async egressAudit(bunker: BunkerRow, limit: number, cursor: string | undefined): Promise<{ flows: EgressFlow[]; nextCursor: string | null }> {
    return this.options.objects ? readEgressAudit(this.options.objects, bunker.id, limit, cursor) : { flows: [], nextCursor: null };
  }

  /**
   * The worker side of a file operation on a running bunker the actor may act on; counts as
   * activity. `run` gets the bunker's worker id.
   */
  async files<T>(actor: Actor, bunker: BunkerRow, run: (workerId: string) => Promise<T>): Promise<T> {
    this.requireActing(actor, bunker, 'scaibunker:files');
    if (bunker.status !== 'running') throw new ScaiError('BUNKER_NOT_RUNNING', `The bunker is ${bunker.status}.`);
    await this.repos.bunkers.touch(bunker.id, new Date().toISOString());
    return run(bunker.worker_id!);
  }

  /** Records activity on a bunker (terminal input counts, as exec and files do). */
  async touch(bunkerId: string): Promise<void> {
    await this.repos.bunkers.touch(bunkerId, new Date().toISOString());
  }

  /** A shell was opened or reattached: activity, and an audit row (a GET the audit hook would not see). */
  async shellOpened(actor: Actor, bunker: BunkerRow, requestId: string): Promise<void> {
    await this.touch(bunker.id);
    const tenant = await this.repos.tenants.get(bunker.tenant_id);
    await this.repos.audit.append({
      id: newId('audit'), at: new Date().toISOString(), actor_user_id: actor.userId, actor_api_key_id: actor.apiKeyId,
      tenant_id: bunker.tenant_id, partner_id: tenant?.partner_id ?? null, action: 'bunker.shell', target_kind: 'bunker', target_id: bunker.id,
      outcome: 'success', status_code: 101, error_code: null, request_id: requestId,
    });
  }

  /** The gateway to the bunkers' workers, for the file routes. */
  get gateway(): WorkerGateway {
    return this.workers;
  }

  async keepalive(actor: Actor, bunker: BunkerRow): Promise<BunkerRow> {
    this.requireActing(actor, bunker, 'scaibunker:create');
    if (bunker.status !== 'running' && bunker.status !== 'paused') throw new ScaiError('BUNKER_NOT_RUNNING', `The bunker is ${bunker.status}.`);
    await this.repos.bunkers.touch(bunker.id, new Date().toISOString());
    return (await this.repos.bunkers.get(bunker.id, { all: true }))!;
  }

  /** Fails a bunker (worker lost, start failed, VM died) and records why. */
  async fail(bunkerId: string, from: readonly BunkerStatus[], reason: string): Promise<boolean> {
    const at = new Date().toISOString();
    const changed = await this.repos.bunkers.transition(bunkerId, from, 'failed', at, { failure_reason: reason.slice(0, 1000), ended_at: at });
    if (changed) {
      const bunker = (await this.repos.bunkers.get(bunkerId, { all: true }))!;
      await this.auditSystem(bunker, 'bunker.fail', { system: reason });
    }
    return changed;
  }

  /** Owners act on their bunkers; holders of scaibunker:admin and tenant admins on any they can see. */
  requireActing(actor: Actor, bunker: BunkerRow, permission: PermissionKey): void {
    if (!actor.permissions.has(permission)) throw new ScaiError('AUTHZ_PERMISSION_DENIED', `This needs ${permission}.`);
    if (bunker.owner_user_id !== actor.userId && !actor.permissions.has('scaibunker:admin') && !isTenantAdmin(actor)) {
      throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Only the bunker’s owner or an administrator may do that.');
    }
  }

  private scopeOf(actor: Actor): TenantScope {
    if (actor.permissions.has('scaibunker:admin') || actor.role === 'super_admin') return { all: true };
    if (actor.role === 'partner_admin' || actor.role === 'partner_viewer') return { partnerId: actor.partnerId };
    return { tenantId: actor.tenantId };
  }

  private canSee(actor: Actor, bunker: BunkerRow): boolean {
    if (bunker.owner_user_id === actor.userId || actor.permissions.has('scaibunker:admin') || isTenantAdmin(actor)) return true;
    return actor.role === 'partner_viewer' || actor.role === 'tenant_viewer';
  }

  /**
   * Transitions made by a request are audited by the route's own audit row; those made by
   * the platform (reaper, worker loss) get one here, with no actor.
   */
  private async auditSystem(bunker: BunkerRow, action: string, by: BunkerActor): Promise<void> {
    if (!('system' in by)) return;
    const tenant = await this.repos.tenants.get(bunker.tenant_id);
    await this.repos.audit.append({
      id: newId('audit'), at: new Date().toISOString(), actor_user_id: null, actor_api_key_id: null,
      tenant_id: bunker.tenant_id, partner_id: tenant?.partner_id ?? null, action, target_kind: 'bunker', target_id: bunker.id,
      outcome: 'success', status_code: 200, error_code: null, request_id: `system:${by.system}`.slice(0, 200),
    });
  }
}

/** BUNKER_QUOTA_EXCEEDED naming the profile, bucket and resource that refused the bunker. */
function quotaExceeded(refusal: QuotaRefusal): ScaiError {
  const field = FIELD_OF_RESOURCE[refusal.resource];
  const where = refusal.profile ? `quota profile "${refusal.profile.name}" (${refusal.profile.id}), bucket ${refusal.bucket}` : 'the platform’s per-bunker ceiling';
  const what = refusal.scope === 'per_bunker'
    ? `allows at most ${refusal.cap} ${refusal.resource} per bunker; ${refusal.requested} asked`
    : `caps ${refusal.resource} at ${refusal.cap}; ${refusal.current} in use, ${refusal.requested} more asked`;
  return new ScaiError('BUNKER_QUOTA_EXCEEDED', `${where} ${what}.`, {
    details: [{ field, message: `${refusal.scope === 'per_bunker' ? 'per-bunker' : 'total'} cap ${refusal.cap} (${refusal.resource}) of ${refusal.profile ? `profile ${refusal.profile.id}, bucket ${refusal.bucket}` : 'the platform'}` }],
  });
}

/** The create field each quota resource is about. */
const FIELD_OF_RESOURCE: Record<QuotaRefusal['resource'], string> = {
  bunkers: 'bunker', persistent_bunkers: 'lifecycle_mode', cpu_millicores: 'cpu_millicores', memory_mb: 'memory_mb', disk_mb: 'disk_mb', gpu_count: 'gpu_count',
};

function isTenantAdmin(actor: Actor): boolean {
  return actor.role === 'super_admin' || actor.role === 'partner_admin' || actor.role === 'tenant_admin';
}

/** The bunker as the API shows it: env values never leave the platform. */
export function presentBunker(row: BunkerRow): Bunker {
  const { label_set, env_vars, network_allowlist, egress_audit, interfaces, ...rest } = row;
  return {
    ...rest,
    interfaces: interfaces === null ? null : JSON.parse(interfaces) as BunkerInterface[],
    egress_audit: egress_audit === 1,
    network_allowlist: network_allowlist === null ? null : JSON.parse(network_allowlist) as string[],
    lifecycle_mode: row.lifecycle_mode as Bunker['lifecycle_mode'],
    network_profile: row.network_profile as Bunker['network_profile'],
    session_type: row.session_type as Bunker['session_type'],
    status: row.status as Bunker['status'],
    label_set: JSON.parse(label_set) as Record<string, string>,
    env_var_names: Object.keys(JSON.parse(env_vars) as Record<string, string>),
    expires_at: row.max_lifetime_s === null ? null : new Date(Date.parse(row.created_at) + row.max_lifetime_s * 1000).toISOString(),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ScaiError('INTERNAL', message)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
