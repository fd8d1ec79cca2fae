import { isPermissionKey, ROLES, ScaiError, type Role } from '@scaibunker/contracts';
import { apiKeyIdOf, effectivePermissions, secretMatches, type Actor } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';

/** last_used_at is refreshed at most this often, so reads do not turn into writes. */
const TOUCH_INTERVAL_MS = 60_000;

/** Turns a presented bearer secret into the Actor it stands for, or refuses it. */
export class Authenticator {
  constructor(private readonly repos: Repositories) {}

  async authenticate(authorization: string | undefined, now: Date): Promise<Actor> {
    if (!authorization) throw new ScaiError('AUTH_TOKEN_MISSING', 'Send an API key as "Authorization: Bearer sgk_…".');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const secret = match?.[1];
    const keyId = secret ? apiKeyIdOf(secret) : null;
    if (!secret || !keyId) throw invalid();
    const principal = await this.repos.apiKeys.findPrincipal(keyId);
    if (!principal || !secretMatches(secret, principal.key.secret_hash)) throw invalid();
    const { key } = principal;
    if (key.revoked_at !== null || principal.userDisabled) throw invalid();
    if (key.expires_at !== null && key.expires_at <= now.toISOString()) throw invalid();
    if (!key.last_used_at || now.getTime() - Date.parse(key.last_used_at) > TOUCH_INTERVAL_MS) {
      await this.repos.apiKeys.touch(key.id, now.toISOString());
    }
    const role = toRole(principal.userRole);
    const grants = (await this.repos.grants.listForUser(key.user_id)).filter(isPermissionKey);
    return {
      userId: key.user_id,
      tenantId: key.tenant_id,
      partnerId: principal.partnerId,
      apiKeyId: key.id,
      role,
      permissions: new Set(effectivePermissions(role, grants)),
    };
  }
}

function invalid(): ScaiError {
  // One message for unknown, revoked, expired and disabled: a caller learns nothing from it.
  return new ScaiError('AUTH_TOKEN_INVALID', 'The API key is not valid.');
}

function toRole(value: string): Role {
  if ((ROLES as readonly string[]).includes(value)) return value as Role;
  throw new ScaiError('INTERNAL', `Stored user role "${value}" is unknown.`);
}
