import type { Kysely, Selectable } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import { wouldCreateCycle } from '@scaibunker/core';
import type { Database, GroupsTable } from '../schema.js';
import { insertOrConflict, isForeignKeyViolation } from '../unique-violation.js';
import type { PageOptions, TenantScope } from './page-options.js';

export type GroupRow = Selectable<GroupsTable>;

/** A group with its direct members. */
export interface GroupWithMembers extends GroupRow {
  member_user_ids: string[];
  member_group_ids: string[];
}

/** Stores groups and their members: users, and other groups of the same tenant (nesting). */
export class GroupRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  async create(row: GroupRow): Promise<GroupWithMembers> {
    await insertOrConflict(
      () => this.db.insertInto('groups').values(row).execute(),
      () => new ScaiError('CONFLICT', `A group named "${row.name}" exists in this tenant.`, { details: [{ field: 'name', message: 'already taken in this tenant' }] }),
    );
    return { ...row, member_user_ids: [], member_group_ids: [] };
  }

  async get(id: string): Promise<GroupWithMembers | undefined> {
    const row = await this.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.withMembers([row]))[0] : undefined;
  }

  async list(scope: TenantScope, page: PageOptions): Promise<GroupWithMembers[]> {
    let query = this.db.selectFrom('groups').selectAll('groups').orderBy('groups.id').limit(page.limit + 1);
    if ('tenantId' in scope) query = query.where('groups.tenant_id', '=', scope.tenantId);
    if ('partnerId' in scope) {
      query = query.innerJoin('tenants', 'tenants.id', 'groups.tenant_id').where('tenants.partner_id', '=', scope.partnerId);
    }
    if (page.afterId) query = query.where('groups.id', '>', page.afterId);
    return this.withMembers(await query.execute());
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('groups').where('id', '=', id).execute();
  }

  /** Adds a user to a group; adding a member twice changes nothing. */
  async addUser(groupId: string, userId: string): Promise<void> {
    await memberOf(() => this.db
      .insertInto('group_user_members')
      .values({ group_id: groupId, user_id: userId })
      .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
      .execute());
  }

  /**
   * Nests `childId` inside `parentId`, refusing a cycle. The check and the insert run in one
   * transaction that holds the tenant's row lock (PostgreSQL) or the write lock (SQLite), so
   * two concurrent nestings cannot each pass the check and close a cycle together.
   */
  async addChildGroup(tenantId: string, parentId: string, childId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (this.kind === 'postgres') {
        await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().execute();
      }
      const edges = await trx
        .selectFrom('group_group_members')
        .innerJoin('groups', 'groups.id', 'group_group_members.parent_group_id')
        .select(['parent_group_id', 'child_group_id'])
        .where('groups.tenant_id', '=', tenantId)
        .execute();
      const children = new Map<string, string[]>();
      for (const e of edges) children.set(e.parent_group_id, [...(children.get(e.parent_group_id) ?? []), e.child_group_id]);
      if (wouldCreateCycle(children, parentId, childId)) {
        throw new ScaiError('CONFLICT', 'Nesting that group here would create a cycle.', {
          details: [{ field: 'group_id', message: 'the group already contains this group, directly or through nesting' }],
        });
      }
      await memberOf(() => trx
        .insertInto('group_group_members')
        .values({ parent_group_id: parentId, child_group_id: childId })
        .onConflict((oc) => oc.columns(['parent_group_id', 'child_group_id']).doNothing())
        .execute());
    });
  }

  /** Removes a user or group member; true when it was a member. */
  async removeMember(groupId: string, memberId: string): Promise<boolean> {
    const users = await this.db.deleteFrom('group_user_members').where('group_id', '=', groupId).where('user_id', '=', memberId).executeTakeFirst();
    const groups = await this.db.deleteFrom('group_group_members').where('parent_group_id', '=', groupId).where('child_group_id', '=', memberId).executeTakeFirst();
    return users.numDeletedRows + groups.numDeletedRows > 0n;
  }

  private async withMembers(rows: GroupRow[]): Promise<GroupWithMembers[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const users = await this.db.selectFrom('group_user_members').selectAll().where('group_id', 'in', ids).orderBy('user_id').execute();
    const groups = await this.db.selectFrom('group_group_members').selectAll().where('parent_group_id', 'in', ids).orderBy('child_group_id').execute();
    return rows.map((row) => ({
      ...row,
      member_user_ids: users.filter((u) => u.group_id === row.id).map((u) => u.user_id),
      member_group_ids: groups.filter((g) => g.parent_group_id === row.id).map((g) => g.child_group_id),
    }));
  }
}

/**
 * A membership insert whose group or member was deleted meanwhile (a concurrent delete,
 * after the route's own lookups) answers NOT_FOUND, as a lookup a moment later would have.
 */
async function memberOf(insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new ScaiError('NOT_FOUND', 'The group or the member is gone.');
    throw error;
  }
}
