import type {
  ApiKey, AuditEntry, Bunker, BunkerListQuery, BunkerNetwork, CreateApiKeyBody, CreateBunkerBody, CreatedApiKey, CreateGroupBody, CreatePartnerBody,
  CreateTenantBody, CreateUserBody, CreateWorkerBody, EgressFlow, ExecBody, ExecResult, Group, Health, Me, ModuleState, Partner, PermissionKey,
  Permissions, Tenant, UpdateUserBody, UsageReport, User, Worker,
} from '@scaibunker/contracts';
import { BridgesApi } from './bridges-api.js';
import { BunkerShell, type ShellOptions } from './bunker-shell.js';
import { FilesApi } from './files-api.js';
import { HttpTransport, type ClientOptions, type Page } from './http-transport.js';
import { ProcessesApi, type ProcessEvent } from './processes-api.js';
import { QuotasApi } from './quotas-api.js';

/** Paging options of every list. */
export interface ListOptions {
  limit?: number;
  cursor?: string;
}

/** Where a module setting applies. */
export interface ModuleScope {
  scope?: 'tenant' | 'partner';
  target_id?: string;
}

/** The result of enabling or disabling a module at one scope. */
export interface ModuleSettingResult {
  module_id: string;
  scope: 'tenant' | 'partner';
  target_id: string;
  enabled: boolean;
}

/** A tenant's effective module config. */
export interface ModuleConfig {
  module_id: string;
  tenant_id: string;
  config: Record<string, string | number | boolean>;
}

/** A newly registered worker with the credential its daemon dials in with (shown once). */
export type CreatedWorker = Worker & { token: string };

/** Options of a call that may take long. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** What a command runs with when its output streams or it runs in the background. */
export type StartBody = Omit<ExecBody, 'background'>;

/** The query of `client.usage` (all optional; ISO timestamps). */
export interface UsageQuery {
  from?: string;
  to?: string;
  group_by?: 'bunker' | 'user' | 'tenant';
  tenant_id?: string;
  user_id?: string;
  bunker_id?: string;
}

const enc = encodeURIComponent;
const BUNKERS = '/v1/modules/scaibunker/bunkers';
const WORKERS = '/v1/modules/scaibunker/workers';

/**
 * The ScaiBunker API client.
 *
 * @example
 * const client = new ScaiBunkerClient({ host: 'http://127.0.0.1:8080', apiKey: process.env.SCAIGRID_API_KEY });
 * const me = await client.me();
 * console.log(me.user.email, me.permissions);
 */
export class ScaiBunkerClient {
  private readonly http: HttpTransport;
  /** Processes started through exec: list, output by pid, signal, stdin. */
  readonly processes: ProcessesApi;
  /** Files inside a bunker: write, read, list, stat, remove, mkdir (reads and writes stream). */
  readonly files: FilesApi;
  /** Quota profiles, their assignments to users and groups, and usage against them. */
  readonly quotas: QuotasApi;
  /** A tenant's L2 bridges on workers, that transit bunkers' interfaces attach to. */
  readonly bridges: BridgesApi;

  constructor(options: ClientOptions = {}) {
    this.http = new HttpTransport(options);
    this.processes = new ProcessesApi(this.http);
    this.files = new FilesApi(this.http);
    this.quotas = new QuotasApi(this.http);
    this.bridges = new BridgesApi(this.http);
  }

  /** Liveness, version, mode and database kind (no key needed). @example await client.health() */
  health(): Promise<Health> {
    return this.http.data('GET', '/v1/health');
  }

  /** The caller's user, tenant, role and effective permissions. @example (await client.me()).permissions */
  me(): Promise<Me> {
    return this.http.data('GET', '/v1/me');
  }

  /**
   * Accounting: usage over a period (default: this month so far) per bunker, user or tenant,
   * running time with what it held and paused time apart.
   * @example (await client.usage({ group_by: 'user' })).rows
   */
  usage(query: UsageQuery = {}): Promise<UsageReport> {
    return this.http.data('GET', '/v1/modules/scaibunker/usage', { query: { ...query } });
  }

  /** Partners (super admins create them). @example await client.partners.create({ slug: 'acme', name: 'Acme' }) */
  readonly partners = {
    create: (body: CreatePartnerBody): Promise<Partner> => this.http.data('POST', '/v1/partners', { body }),
    list: (options: ListOptions = {}): Promise<Page<Partner>> => this.http.page('/v1/partners', { ...options }),
    get: (id: string): Promise<Partner> => this.http.data('GET', `/v1/partners/${enc(id)}`),
  };

  /** Tenants. @example await client.tenants.create({ slug: 'team-a', name: 'Team A' }) */
  readonly tenants = {
    create: (body: CreateTenantBody): Promise<Tenant> => this.http.data('POST', '/v1/tenants', { body }),
    list: (options: ListOptions = {}): Promise<Page<Tenant>> => this.http.page('/v1/tenants', { ...options }),
    get: (id: string): Promise<Tenant> => this.http.data('GET', `/v1/tenants/${enc(id)}`),
  };

  /** Users and their direct permission grants. @example await client.users.create({ email: 'a@x.test', display_name: 'A' }) */
  readonly users = {
    create: (body: CreateUserBody): Promise<User> => this.http.data('POST', '/v1/users', { body }),
    list: (options: ListOptions & { tenant_id?: string } = {}): Promise<Page<User>> => this.http.page('/v1/users', { ...options }),
    get: (id: string): Promise<User> => this.http.data('GET', `/v1/users/${enc(id)}`),
    update: (id: string, body: UpdateUserBody): Promise<User> => this.http.data('PATCH', `/v1/users/${enc(id)}`, { body }),
    permissions: (id: string): Promise<Permissions> => this.http.data('GET', `/v1/users/${enc(id)}/permissions`),
    grant: (id: string, permission: PermissionKey): Promise<Permissions> =>
      this.http.data('POST', `/v1/users/${enc(id)}/permissions`, { body: { permission } }),
    revoke: (id: string, permission: PermissionKey): Promise<Permissions> =>
      this.http.data('DELETE', `/v1/users/${enc(id)}/permissions/${enc(permission)}`),
  };

  /** Groups, which nest. @example await client.groups.addMember(groupId, { user_id: userId }) */
  readonly groups = {
    create: (body: CreateGroupBody): Promise<Group> => this.http.data('POST', '/v1/groups', { body }),
    list: (options: ListOptions = {}): Promise<Page<Group>> => this.http.page('/v1/groups', { ...options }),
    get: (id: string): Promise<Group> => this.http.data('GET', `/v1/groups/${enc(id)}`),
    delete: (id: string): Promise<Group> => this.http.data('DELETE', `/v1/groups/${enc(id)}`),
    addMember: (id: string, member: { user_id: string } | { group_id: string }): Promise<Group> =>
      this.http.data('POST', `/v1/groups/${enc(id)}/members`, { body: member }),
    removeMember: (id: string, memberId: string): Promise<Group> =>
      this.http.data('DELETE', `/v1/groups/${enc(id)}/members/${enc(memberId)}`),
  };

  /** API keys; `create` returns the secret, once. @example const { secret } = await client.apiKeys.create({ name: 'ci' }) */
  readonly apiKeys = {
    create: (body: CreateApiKeyBody): Promise<CreatedApiKey> => this.http.data('POST', '/v1/api-keys', { body }),
    list: (options: ListOptions & { user_id?: string } = {}): Promise<Page<ApiKey>> => this.http.page('/v1/api-keys', { ...options }),
    get: (id: string): Promise<ApiKey> => this.http.data('GET', `/v1/api-keys/${enc(id)}`),
    revoke: (id: string): Promise<ApiKey> => this.http.data('DELETE', `/v1/api-keys/${enc(id)}`),
  };

  /** Modules admin. @example await client.modules.disable('scaibunker', { scope: 'partner' }) */
  readonly modules = {
    list: (tenantId?: string): Promise<ModuleState[]> => this.http.data('GET', '/v1/modules', { query: { tenant_id: tenantId } }),
    get: (id: string, tenantId?: string): Promise<ModuleState> => this.http.data('GET', `/v1/modules/${enc(id)}`, { query: { tenant_id: tenantId } }),
    enable: (id: string, scope: ModuleScope = {}): Promise<ModuleSettingResult> => this.http.data('POST', `/v1/modules/${enc(id)}/enable`, { body: scope }),
    disable: (id: string, scope: ModuleScope = {}): Promise<ModuleSettingResult> => this.http.data('POST', `/v1/modules/${enc(id)}/disable`, { body: scope }),
    getConfig: (id: string, tenantId?: string): Promise<ModuleConfig> => this.http.data('GET', `/v1/modules/${enc(id)}/config`, { query: { tenant_id: tenantId } }),
    putConfig: (id: string, patch: Record<string, string | number | boolean | null>, tenantId?: string): Promise<ModuleConfig> =>
      this.http.data('PUT', `/v1/modules/${enc(id)}/config`, { body: patch, query: { tenant_id: tenantId } }),
  };

  /** The audit log (admins). @example (await client.audit.list({ limit: 20 })).data */
  readonly audit = {
    list: (options: ListOptions & { tenant_id?: string; action?: string } = {}): Promise<Page<AuditEntry>> =>
      this.http.page('/v1/audit', { ...options }),
  };

  /**
   * Bunkers: microVMs with their own disk, network and limits. `create` answers once the bunker
   * runs (or failed to start); `exec` runs one command and waits for it.
   * @example
   * const bunker = await client.bunkers.create({ image: 'minimal', memory_mb: 256 });
   * const { exit_code, stdout } = await client.bunkers.exec(bunker.id, { command: ['uname', '-a'] });
   * await client.bunkers.delete(bunker.id);
   * @example
   * // A network profile other than isolated gives the bunker a NIC; allowlisted reaches only the names listed.
   * await client.bunkers.create({ image: 'minimal', network_profile: 'allowlisted', network_allowlist: ['pypi.org'], bandwidth_mbit: 100 });
   */
  readonly bunkers = {
    create: (body: CreateBunkerBody, options: CallOptions = {}): Promise<Bunker> => this.http.data('POST', BUNKERS, { body, ...options }),
    /** @example for await (const b of client.all((o) => client.bunkers.list({ ...o, status: 'running' }))) console.log(b.id) */
    list: (options: BunkerListQuery = {}): Promise<Page<Bunker>> => this.http.page(BUNKERS, { ...options }),
    get: (id: string): Promise<Bunker> => this.http.data('GET', `${BUNKERS}/${enc(id)}`),
    delete: (id: string): Promise<Bunker> => this.http.data('DELETE', `${BUNKERS}/${enc(id)}`),
    pause: (id: string): Promise<Bunker> => this.http.data('POST', `${BUNKERS}/${enc(id)}/pause`),
    resume: (id: string): Promise<Bunker> => this.http.data('POST', `${BUNKERS}/${enc(id)}/resume`),
    keepalive: (id: string): Promise<Bunker> => this.http.data('POST', `${BUNKERS}/${enc(id)}/keepalive`),
    /** A string command runs under `/bin/sh -c`; an array is the argv. */
    exec: (id: string, body: ExecBody, options: CallOptions = {}): Promise<ExecResult> =>
      this.http.data('POST', `${BUNKERS}/${enc(id)}/exec`, { body, ...options }),
    /**
     * Runs a command and yields its events as they happen: `started`, `stdout`/`stderr` text, `exit`.
     * Stopping early (or aborting) ends the request, and the server then kills the command.
     * @example for await (const e of client.bunkers.execStream(id, { command: 'make' })) if ('stdout' in e) process.stdout.write(e.stdout);
     */
    execStream: (id: string, body: StartBody, options: CallOptions = {}): AsyncGenerator<ProcessEvent> =>
      this.http.ndjson('POST', `${BUNKERS}/${enc(id)}/exec`, { body, ...options }),
    /** Starts a command that outlives the request; read, feed and signal it by pid through `processes`. @example const { pid } = await client.bunkers.startBackground(id, { command: ['sleep', '60'] }) */
    startBackground: async (id: string, body: StartBody): Promise<{ pid: number }> => {
      const { pid } = await this.http.data<{ pid: number }>('POST', `${BUNKERS}/${enc(id)}/exec`, { body: { ...body, background: true } });
      return { pid };
    },
    /**
     * The bunker's network: profile, allowlist, bandwidth cap, the guest's MAC and address (null
     * when isolated or not running), and the names and connections it was refused.
     * @example for (const d of (await client.bunkers.network(id)).recent_denials) console.log(d.kind, d.name ?? d.destination)
     */
    network: (id: string): Promise<BunkerNetwork> => this.http.data('GET', `${BUNKERS}/${enc(id)}/network`),
    /**
     * A page of the bunker's egress audit, in time order: one record per flow (empty unless the
     * bunker's `egress_audit` is on). Walk every flow with `client.all`.
     * @example for await (const f of client.all((o) => client.bunkers.egressAudit(id, o))) console.log(f.dst, f.dport, f.verdict)
     */
    egressAudit: (id: string, options: ListOptions = {}): Promise<Page<EgressFlow>> => this.http.page(`${BUNKERS}/${enc(id)}/egress-audit`, { ...options }),
  };

  /**
   * Opens an interactive shell on a PTY in a running bunker, or reattaches to one (`session`).
   * @example
   * const shell = client.shell(id, { cols: process.stdout.columns, rows: process.stdout.rows });
   * shell.onData((bytes) => process.stdout.write(bytes));
   * process.stdin.on('data', (keys) => shell.write(keys));
   * const { exit } = await shell.closed;
   */
  shell(id: string, options: ShellOptions = {}): BunkerShell {
    const url = this.http.url(`${BUNKERS}/${enc(id)}/shell`, { ...options });
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new BunkerShell(url, this.http.authorization());
  }

  /**
   * Workers, the hosts that run bunkers (admins). `create` returns the worker's token, once.
   * @example const { id, token } = await client.workers.create({ name: 'w2' }); await client.workers.drain(id);
   */
  readonly workers = {
    create: (body: CreateWorkerBody): Promise<CreatedWorker> => this.http.data('POST', WORKERS, { body }),
    list: (options: ListOptions = {}): Promise<Page<Worker>> => this.http.page(WORKERS, { ...options }),
    get: (id: string): Promise<Worker> => this.http.data('GET', `${WORKERS}/${enc(id)}`),
    drain: (id: string): Promise<Worker> => this.http.data('POST', `${WORKERS}/${enc(id)}/drain`),
    resume: (id: string): Promise<Worker> => this.http.data('POST', `${WORKERS}/${enc(id)}/resume`),
  };

  /**
   * Walks every page of a list.
   * @example for await (const user of client.all((o) => client.users.list(o))) console.log(user.email)
   */
  async *all<T>(list: (options: ListOptions) => Promise<Page<T>>, pageSize = 100): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const page = await list({ limit: pageSize, ...(cursor ? { cursor } : {}) });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }
}
