import type { Kysely, Selectable } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import type { Database, PartnersTable } from '../schema.js';
import { insertOrConflict } from '../unique-violation.js';
import type { PageOptions } from './page-options.js';

export type PartnerRow = Selectable<PartnersTable>;

/** Stores partners: the resellers that own tenants. */
export class PartnerRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: PartnerRow): Promise<PartnerRow> {
    await insertOrConflict(
      () => this.db.insertInto('partners').values(row).execute(),
      () => new ScaiError('SLUG_CONFLICT', `A partner with slug "${row.slug}" exists.`, { details: [{ field: 'slug', message: 'already taken' }] }),
    );
    return row;
  }

  get(id: string): Promise<PartnerRow | undefined> {
    return this.db.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getBySlug(slug: string): Promise<PartnerRow | undefined> {
    return this.db.selectFrom('partners').selectAll().where('slug', '=', slug).executeTakeFirst();
  }

  /** Lists partners, all of them or only `onlyId`. */
  list(page: PageOptions, onlyId?: string): Promise<PartnerRow[]> {
    let query = this.db.selectFrom('partners').selectAll().orderBy('id').limit(page.limit + 1);
    if (page.afterId) query = query.where('id', '>', page.afterId);
    if (onlyId) query = query.where('id', '=', onlyId);
    return query.execute();
  }
}
