import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  Id, MODULE_CATALOGUE, ModuleConfigResponse, ModuleParams, ModuleScopeBody, ModuleState, Ok, ScaiError, ScaibunkerConfig,
  type ModuleId,
  type ModuleScopeBody as ModuleScope,
} from '@scaibunker/contracts';
import { accessPolicy, mergeModuleConfig, type Actor } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';
import type { FastifyRequest } from 'fastify';
import { ok } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { requireTenantAdmin, visibleTenant } from '../../http/tenant-scope.js';
import { knownModule, moduleStateFor, presentModule } from './module-access.js';

const TenantQuery = Type.Object({ tenant_id: Type.Optional(Id('tenant')) }, { additionalProperties: false });

const ModuleSettingResult = Type.Object({
  module_id: Type.String(),
  scope: Type.Union([Type.Literal('tenant'), Type.Literal('partner')]),
  target_id: Type.String(),
  enabled: Type.Boolean({ description: 'The setting stored at this scope.' }),
});

/** Values of a config PUT: a value sets a key, null resets it to the default. */
const ConfigPatch = Type.Object(
  Object.fromEntries(
    Object.entries(ScaibunkerConfig.properties).map(([key, schema]) => [key, Type.Optional(Type.Union([schema, Type.Null()]))]),
  ),
  { additionalProperties: false, minProperties: 1 },
);

/** Modules admin: per-tenant and per-partner enablement (most restrictive wins) and config. */
export const modulesRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  async function tenantFor(actor: Actor, tenantId: string | undefined) {
    return visibleTenant(repos, actor, tenantId ?? actor.tenantId);
  }

  app.get('/v1/modules', {
    schema: { tags: ['modules'], summary: 'List modules and their state for a tenant', querystring: TenantQuery, response: withErrors({ 200: Ok(Type.Array(ModuleState)) }) },
  }, async (request) => {
    const tenant = await tenantFor(actorOf(request), request.query.tenant_id);
    const ids = Object.keys(MODULE_CATALOGUE) as ModuleId[];
    return ok(await Promise.all(ids.map(async (id) => presentModule(id, await moduleStateFor(repos, id, tenant.id, tenant.partner_id)))));
  });

  app.get('/v1/modules/:module_id', {
    schema: { tags: ['modules'], summary: 'Get a module’s state for a tenant', params: ModuleParams, querystring: TenantQuery, response: withErrors({ 200: Ok(ModuleState) }) },
  }, async (request) => {
    const moduleId = knownModule(request.params.module_id);
    const tenant = await tenantFor(actorOf(request), request.query.tenant_id);
    return ok(presentModule(moduleId, await moduleStateFor(repos, moduleId, tenant.id, tenant.partner_id)));
  });

  async function setEnabled(request: FastifyRequest, rawModuleId: string, body: ModuleScope, enabled: boolean) {
    const actor = actorOf(request);
    const moduleId = knownModule(rawModuleId);
    const scope = body.scope ?? 'tenant';
    let targetId: string;
    if (scope === 'tenant') {
      const tenant = await tenantFor(actor, body.target_id);
      requireTenantAdmin(actor, tenant);
      targetId = tenant.id;
      request.auditNote.tenantId = tenant.id;
      request.auditNote.partnerId = tenant.partner_id;
    } else {
      targetId = body.target_id ?? actor.partnerId;
      if (!accessPolicy.canSeePartner(actor, targetId) || !(await repos.partners.get(targetId))) throw new ScaiError('NOT_FOUND', 'No such partner.');
      if (!accessPolicy.canAdministerPartner(actor, targetId)) throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Only a partner admin or super admin may set a module for a partner.');
      request.auditNote.partnerId = targetId;
    }
    request.auditNote.targetKind = 'module';
    request.auditNote.targetId = moduleId;
    await repos.modules.setEnabled(moduleId, scope, targetId, enabled, new Date().toISOString());
    return ok({ module_id: moduleId, scope, target_id: targetId, enabled });
  }

  const scopeSchema = (summary: string) => ({
    tags: ['modules'], summary, params: ModuleParams, body: ModuleScopeBody, response: withErrors({ 200: Ok(ModuleSettingResult) }),
  });
  app.post('/v1/modules/:module_id/enable', { schema: scopeSchema('Enable a module for a tenant or partner'), config: { auditAction: 'module.enable' } },
    (request) => setEnabled(request, request.params.module_id, request.body, true));
  app.post('/v1/modules/:module_id/disable', { schema: scopeSchema('Disable a module for a tenant or partner (its data is kept)'), config: { auditAction: 'module.disable' } },
    (request) => setEnabled(request, request.params.module_id, request.body, false));

  async function effectiveConfig(moduleId: ModuleId, tenantId: string) {
    const stored = await repos.modules.getConfig(moduleId, tenantId);
    return { module_id: moduleId, tenant_id: tenantId, config: { ...MODULE_CATALOGUE[moduleId].defaultConfig, ...stored } };
  }

  app.get('/v1/modules/:module_id/config', {
    schema: { tags: ['modules'], summary: 'A module’s effective config for a tenant', params: ModuleParams, querystring: TenantQuery, response: withErrors({ 200: Ok(ModuleConfigResponse) }) },
  }, async (request) => {
    const moduleId = knownModule(request.params.module_id);
    const tenant = await tenantFor(actorOf(request), request.query.tenant_id);
    return ok(await effectiveConfig(moduleId, tenant.id));
  });

  app.put('/v1/modules/:module_id/config', {
    schema: {
      tags: ['modules'], summary: 'Merge keys into a tenant’s module config (null resets a key to its default)',
      params: ModuleParams, querystring: TenantQuery, body: ConfigPatch, response: withErrors({ 200: Ok(ModuleConfigResponse) }),
    },
    config: { auditAction: 'module.config.update' },
  }, async (request) => {
    const actor = actorOf(request);
    const moduleId = knownModule(request.params.module_id);
    const tenant = await tenantFor(actor, request.query.tenant_id);
    requireTenantAdmin(actor, tenant);
    request.auditNote = { ...request.auditNote, targetKind: 'module', targetId: moduleId, tenantId: tenant.id, partnerId: tenant.partner_id };
    const stored = await repos.modules.getConfig(moduleId, tenant.id);
    await repos.modules.putConfig(moduleId, tenant.id, mergeModuleConfig(stored, request.body as Record<string, unknown>), new Date().toISOString());
    return ok(await effectiveConfig(moduleId, tenant.id));
  });
};
