import type {
  CreateQuotaAssignmentBody, CreateQuotaProfileBody, QuotaAssignment, QuotaProfile, QuotaUsageRow, UpdateQuotaProfileBody,
} from '@scaibunker/contracts';
import type { ListOptions } from './client.js';
import type { HttpTransport, Page } from './http-transport.js';

/** Options of a usage read: whose usage (administrators may name another user; default the caller). */
export interface QuotaUsageOptions {
  userId?: string;
}

const enc = encodeURIComponent;
const PROFILES = '/v1/modules/scaibunker/quota-profiles';
const profileOf = (id: string) => `${PROFILES}/${enc(id)}`;

/**
 * Quota profiles (caps on bunkers, CPU, memory, disk and GPUs), their assignments to users and
 * groups, and usage against them. A profile is a tenant's, or with `tenant_id: null` the
 * platform's; caps are whole numbers, null for none; changes apply to the next create.
 * @example
 * const profile = await client.quotas.createProfile({ name: 'small', max_concurrent_bunkers: 5, max_memory_mb: 2048 });
 * await client.quotas.assign(profile.id, { target_kind: 'user', target_id: userId });
 * for (const row of await client.quotas.usage({ userId })) console.log(row.profile_name, row.usage.bunkers, row.cap.bunkers);
 */
export class QuotasApi {
  constructor(private readonly http: HttpTransport) {}

  /** Creates a profile in the caller's tenant, or with `tenant_id: null` a platform profile. @example await client.quotas.createProfile({ name: 'gpu', max_gpu_count: 2, tenant_id: null }) */
  createProfile(body: CreateQuotaProfileBody): Promise<QuotaProfile> {
    return this.http.data('POST', PROFILES, { body });
  }

  /** The profiles the caller reads: their tenant's and the platform's. @example for await (const p of client.all((o) => client.quotas.listProfiles(o))) console.log(p.name) */
  listProfiles(options: ListOptions = {}): Promise<Page<QuotaProfile>> {
    return this.http.page(PROFILES, { ...options });
  }

  /** One profile. @example (await client.quotas.getProfile(profileId)).max_memory_mb */
  getProfile(profileId: string): Promise<QuotaProfile> {
    return this.http.data('GET', profileOf(profileId));
  }

  /** Changes a profile's name, description or caps; null removes a cap. @example await client.quotas.updateProfile(profileId, { max_memory_mb: null }) */
  updateProfile(profileId: string, body: UpdateQuotaProfileBody): Promise<QuotaProfile> {
    return this.http.data('PATCH', profileOf(profileId), { body });
  }

  /** Deletes a profile and its assignments; answers with the profile as it was. @example await client.quotas.deleteProfile(profileId) */
  deleteProfile(profileId: string): Promise<QuotaProfile> {
    return this.http.data('DELETE', profileOf(profileId));
  }

  /**
   * Assigns a profile to a user (mode `individual`, the default) or a group (`shared`, the
   * default, or `per_user`); a target holds at most one assignment.
   * @example await client.quotas.assign(profileId, { target_kind: 'group', target_id: groupId, mode: 'per_user' })
   */
  assign(profileId: string, body: CreateQuotaAssignmentBody): Promise<QuotaAssignment> {
    return this.http.data('POST', `${profileOf(profileId)}/assignments`, { body });
  }

  /** A profile's assignments. @example (await client.quotas.listAssignments(profileId)).data.map((a) => a.target_id) */
  listAssignments(profileId: string, options: ListOptions = {}): Promise<Page<QuotaAssignment>> {
    return this.http.page(`${profileOf(profileId)}/assignments`, { ...options });
  }

  /** Removes an assignment; answers with it as it was. @example await client.quotas.unassign(profileId, assignmentId) */
  unassign(profileId: string, assignmentId: string): Promise<QuotaAssignment> {
    return this.http.data('DELETE', `${profileOf(profileId)}/assignments/${enc(assignmentId)}`);
  }

  /**
   * One row per profile that applies to the caller (or `userId`): its bucket, what the bucket
   * uses, the caps, and the headroom left (null where there is no cap).
   * @example const [row] = await client.quotas.usage(); console.log(`${row.usage.bunkers}/${row.cap.bunkers ?? '∞'}`)
   */
  usage(options: QuotaUsageOptions = {}): Promise<QuotaUsageRow[]> {
    return this.http.data('GET', `${PROFILES}/usage`, { query: { user_id: options.userId } });
  }
}
