import { ScaiError } from '@scaibunker/contracts';

/** Encodes the last id of a page as an opaque cursor. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** Decodes a cursor back to the id to continue after; a malformed cursor is a validation error. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,4}_[0-9a-z]{26}$/.test(id)) {
    throw new ScaiError('VALIDATION_ERROR', 'The cursor is malformed.', {
      details: [{ field: 'cursor', message: 'not a cursor this API issued' }],
    });
  }
  return id;
}

/** One page of a list plus the cursor to the next, from `limit + 1` fetched rows. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): { items: T[]; hasMore: boolean; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return { items, hasMore, nextCursor: hasMore && last ? encodeCursor(last.id) : null };
}
