import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CreateQuotaAssignmentBody, CreateQuotaProfileBody, Ok, Page, PageQuery, QuotaAssignment, QuotaAssignmentParams, QuotaProfile, QuotaProfileParams,
  QuotaUsageQuery, QuotaUsageRow, ScaiError, UpdateQuotaProfileBody,
} from '@scaibunker/contracts';
import { accessPolicy, newId, type Actor, type QuotaCaps, type QuotaUsage } from '@scaibunker/core';
import type { QuotaAssignmentRow, QuotaProfileRow, Repositories } from '@scaibunker/db';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { noteTarget, noteTenant } from '../../http/tenant-scope.js';

const PLATFORM = 'scaibunker:admin:platform';
const TENANT = 'scaibunker:admin:tenant';

/**
 * Quota profiles and their assignments (spec §5, CRUD ours), and the caller's usage. Tenant
 * profiles are managed with scaibunker:admin:tenant by that tenant's administrators; platform
 * profiles with scaibunker:admin:platform. Another tenant's profile answers NOT_FOUND.
 */
export const quotaRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  const tags = ['quotas'];

  /** A profile the caller may read (404 otherwise), checked for management when `manage`. */
  async function loadProfile(request: FastifyRequest, id: string, manage: boolean): Promise<QuotaProfileRow> {
    const row = await repos.quotas.getProfile(id);
    if (!row || !(await mayRead(actorOf(request), row))) throw new ScaiError('NOT_FOUND', 'No such quota profile.');
    if (manage) await requireManage(request, row.tenant_id);
    return row;
  }

  async function mayRead(actor: Actor, row: QuotaProfileRow): Promise<boolean> {
    if (!actor.permissions.has(TENANT) && !actor.permissions.has(PLATFORM)) return false;
    if (row.tenant_id === null || actor.permissions.has(PLATFORM)) return true;
    const tenant = await repos.tenants.get(row.tenant_id);
    return tenant !== undefined && accessPolicy.canSeeTenant(actor, { id: tenant.id, partnerId: tenant.partner_id });
  }

  /**
   * Platform profiles need admin:platform; a tenant's, admin:tenant and the right to administer
   * that tenant (or admin:platform). The tenant acted in is noted for the audit row.
   */
  async function requireManage(request: FastifyRequest, tenantId: string | null): Promise<void> {
    const actor = actorOf(request);
    if (tenantId === null) {
      if (!actor.permissions.has(PLATFORM)) throw new ScaiError('AUTHZ_PERMISSION_DENIED', `Platform quota profiles need ${PLATFORM}.`);
      return;
    }
    const tenant = await repos.tenants.get(tenantId);
    if (!tenant) throw new ScaiError('NOT_FOUND', 'No such tenant.');
    if (!actor.permissions.has(PLATFORM)) {
      const ref = { id: tenant.id, partnerId: tenant.partner_id };
      if (!accessPolicy.canSeeTenant(actor, ref)) throw new ScaiError('NOT_FOUND', 'No such tenant.');
      if (!actor.permissions.has(TENANT) || !accessPolicy.canAdministerTenant(actor, ref)) {
        throw new ScaiError('AUTHZ_PERMISSION_DENIED', `Managing this tenant's quota profiles needs ${TENANT}.`);
      }
    }
    noteTenant(request, tenant);
  }

  app.post('/quota-profiles', {
    schema: { tags, summary: 'Create a quota profile (in the caller’s tenant, or with tenant_id null a platform profile)', body: CreateQuotaProfileBody, response: withErrors({ 201: Ok(QuotaProfile) }) },
    config: { auditAction: 'quota.profile.create' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    const { name, description, tenant_id: asked, ...caps } = request.body;
    const tenantId = asked === undefined ? actor.tenantId : asked;
    await requireManage(request, tenantId);
    const at = new Date().toISOString();
    const row = await repos.quotas.createProfile({ id: newId('quotaProfile'), tenant_id: tenantId, name, description: description ?? null, ...NO_CAPS, ...caps, created_at: at, updated_at: at });
    noteTarget(request, 'quota_profile', row.id);
    return reply.status(201).send(ok(presentProfile(row)));
  });

  app.get('/quota-profiles', {
    schema: { tags, summary: 'List the quota profiles the caller manages or reads: their tenant’s and the platform’s', querystring: PageQuery, response: withErrors({ 200: Page(QuotaProfile) }) },
  }, async (request) => {
    const actor = actorOf(request);
    if (!actor.permissions.has(TENANT) && !actor.permissions.has(PLATFORM)) throw new ScaiError('AUTHZ_PERMISSION_DENIED', `Listing quota profiles needs ${TENANT}.`);
    const { limit, afterId } = pageOptions(request.query);
    const rows = await repos.quotas.listProfiles(actor.permissions.has(PLATFORM) || actor.role === 'super_admin' ? { all: true } : { tenantId: actor.tenantId }, { limit, afterId });
    return page(rows, limit, presentProfile);
  });

  app.get('/quota-profiles/usage', {
    schema: {
      tags, summary: 'Usage against every quota profile that applies to the caller (or, for administrators, to ?user_id): bucket, usage, cap, headroom',
      querystring: QuotaUsageQuery, response: withErrors({ 200: Ok(Type.Array(QuotaUsageRow)) }),
    },
  }, async (request) => {
    const actor = actorOf(request);
    // Spec §3: scaibunker:create reads its own quota usage.
    if (!actor.permissions.has('scaibunker:create') && !actor.permissions.has(TENANT) && !actor.permissions.has(PLATFORM)) {
      throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Reading quota usage needs scaibunker:create.');
    }
    let userId = actor.userId;
    let tenantId = actor.tenantId;
    if (request.query.user_id && request.query.user_id !== actor.userId) {
      const user = await repos.users.get(request.query.user_id);
      const tenant = user ? await repos.tenants.get(user.tenant_id) : undefined;
      const ref = tenant && { id: tenant.id, partnerId: tenant.partner_id };
      if (!user || !ref || !accessPolicy.canSeeTenant(actor, ref)) throw new ScaiError('NOT_FOUND', 'No such user.');
      if (!actor.permissions.has(PLATFORM) && !(actor.permissions.has(TENANT) && accessPolicy.canAdministerTenant(actor, ref))) {
        throw new ScaiError('AUTHZ_PERMISSION_DENIED', `Reading another user's quota usage needs ${TENANT}.`);
      }
      userId = user.id;
      tenantId = user.tenant_id;
    }
    const applicable = await repos.quotas.applicableFor(userId, tenantId);
    const usage = await repos.quotas.usage(applicable.map((a) => a.bucket));
    return ok(applicable.map((a) => {
      const used = usage.get(a.bucket)!;
      const cap = capsOf(a.profile);
      return {
        profile_id: a.profile.id, profile_name: a.profile.name, assignment_id: a.assignment?.id ?? null, bucket: a.bucket,
        usage: amounts(used), cap, headroom: headroom(cap, amounts(used)),
      };
    }));
  });

  app.get('/quota-profiles/:profile_id', {
    schema: { tags, summary: 'Read a quota profile', params: QuotaProfileParams, response: withErrors({ 200: Ok(QuotaProfile) }) },
  }, async (request) => ok(presentProfile(await loadProfile(request, request.params.profile_id, false))));

  app.patch('/quota-profiles/:profile_id', {
    schema: { tags, summary: 'Change a quota profile’s name, description or caps (null removes a cap); applies to the next create', params: QuotaProfileParams, body: UpdateQuotaProfileBody, response: withErrors({ 200: Ok(QuotaProfile) }) },
    config: { auditAction: 'quota.profile.update' },
  }, async (request) => {
    const row = await loadProfile(request, request.params.profile_id, true);
    noteTarget(request, 'quota_profile', row.id);
    return ok(presentProfile((await repos.quotas.updateProfile(row.id, request.body, new Date().toISOString()))!));
  });

  app.delete('/quota-profiles/:profile_id', {
    schema: { tags, summary: 'Delete a quota profile and its assignments (running bunkers keep what they were charged until they end)', params: QuotaProfileParams, response: withErrors({ 200: Ok(QuotaProfile) }) },
    config: { auditAction: 'quota.profile.delete' },
  }, async (request) => {
    const row = await loadProfile(request, request.params.profile_id, true);
    noteTarget(request, 'quota_profile', row.id);
    await repos.quotas.deleteProfile(row.id);
    return ok(presentProfile(row));
  });

  app.post('/quota-profiles/:profile_id/assignments', {
    schema: { tags, summary: 'Assign a profile to a user (individual) or a group (shared, or per_user); at most one assignment per target', params: QuotaProfileParams, body: CreateQuotaAssignmentBody, response: withErrors({ 201: Ok(QuotaAssignment) }) },
    config: { auditAction: 'quota.assignment.create' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    const profile = await loadProfile(request, request.params.profile_id, true);
    const { target_kind: kind, target_id: targetId } = request.body;
    const mode = request.body.mode ?? (kind === 'user' ? 'individual' : 'shared');
    if ((kind === 'user') !== (mode === 'individual')) {
      throw new ScaiError('VALIDATION_ERROR', 'A user takes an individual assignment; a group, shared or per_user.', { details: [{ field: 'mode', message: kind === 'user' ? 'must be individual for a user' : 'must be shared or per_user for a group' }] });
    }
    const targetTenant = kind === 'user' ? (await repos.users.get(targetId))?.tenant_id : (await repos.groups.get(targetId))?.tenant_id;
    // The target must be the caller's to manage, and in the profile's tenant when it has one.
    if (!targetTenant || (profile.tenant_id !== null && profile.tenant_id !== targetTenant)) throw new ScaiError('NOT_FOUND', `No such ${kind} in the profile's tenant.`);
    await requireManage(request, targetTenant).catch((error: unknown) => { throw error instanceof ScaiError && error.code === 'NOT_FOUND' ? new ScaiError('NOT_FOUND', `No such ${kind}.`) : error; });
    const row = await repos.quotas.createAssignment({ id: newId('quotaAssignment'), profile_id: profile.id, tenant_id: targetTenant, target_kind: kind, target_id: targetId, mode, created_at: new Date().toISOString() });
    noteTarget(request, 'quota_assignment', row.id);
    return reply.status(201).send(ok(presentAssignment(row)));
  });

  app.get('/quota-profiles/:profile_id/assignments', {
    schema: { tags, summary: 'List a profile’s assignments (a platform profile’s: those in tenants the caller administers)', params: QuotaProfileParams, querystring: PageQuery, response: withErrors({ 200: Page(QuotaAssignment) }) },
  }, async (request) => {
    const actor = actorOf(request);
    const profile = await loadProfile(request, request.params.profile_id, false);
    const { limit, afterId } = pageOptions(request.query);
    const rows = await repos.quotas.listAssignments(profile.id, actor.permissions.has(PLATFORM) ? undefined : actor.tenantId, { limit, afterId });
    return page(rows, limit, presentAssignment);
  });

  app.delete('/quota-profiles/:profile_id/assignments/:assignment_id', {
    schema: { tags, summary: 'Remove an assignment', params: QuotaAssignmentParams, response: withErrors({ 200: Ok(QuotaAssignment) }) },
    config: { auditAction: 'quota.assignment.delete' },
  }, async (request) => {
    const profile = await loadProfile(request, request.params.profile_id, false);
    const row = await repos.quotas.getAssignment(request.params.assignment_id);
    if (!row || row.profile_id !== profile.id) throw new ScaiError('NOT_FOUND', 'No such assignment.');
    await requireManage(request, row.tenant_id).catch((error: unknown) => { throw error instanceof ScaiError && error.code === 'NOT_FOUND' ? new ScaiError('NOT_FOUND', 'No such assignment.') : error; });
    noteTarget(request, 'quota_assignment', row.id);
    await repos.quotas.deleteAssignment(row.id);
    return ok(presentAssignment(row));
  });
};

const NO_CAPS = {
  max_concurrent_bunkers: null, max_persistent_bunkers: null, max_cpu_millicores: null, max_memory_mb: null, max_disk_mb: null, max_gpu_count: null,
  per_bunker_max_cpu: null, per_bunker_max_memory: null, per_bunker_max_disk: null, per_bunker_max_gpu: null,
};

function presentProfile(row: QuotaProfileRow): QuotaProfile {
  const { scope_key: _scope, ...shown } = row;
  return shown;
}

function presentAssignment(row: QuotaAssignmentRow): QuotaAssignment {
  const { tenant_id: _tenant, ...shown } = row;
  return { ...shown, target_kind: row.target_kind as QuotaAssignment['target_kind'], mode: row.mode as QuotaAssignment['mode'] };
}

type Amounts = { bunkers: number; persistent_bunkers: number; cpu_millicores: number; memory_mb: number; disk_mb: number; gpu_count: number };
type CapAmounts = { [K in keyof Amounts]: number | null };

function amounts(u: QuotaUsage): Amounts {
  return { bunkers: u.bunkers, persistent_bunkers: u.persistentBunkers, cpu_millicores: u.cpuMillicores, memory_mb: u.memoryMb, disk_mb: u.diskMb, gpu_count: u.gpuCount };
}

function capsOf(p: QuotaCaps): CapAmounts {
  return { bunkers: p.maxConcurrentBunkers, persistent_bunkers: p.maxPersistentBunkers, cpu_millicores: p.maxCpuMillicores, memory_mb: p.maxMemoryMb, disk_mb: p.maxDiskMb, gpu_count: p.maxGpuCount };
}

function headroom(cap: CapAmounts, used: Amounts): CapAmounts {
  return Object.fromEntries(Object.entries(cap).map(([k, c]) => [k, c === null ? null : Math.max(0, c - used[k as keyof Amounts])])) as CapAmounts;
}
