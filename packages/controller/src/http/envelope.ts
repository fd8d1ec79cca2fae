import { decodeCursor, toPage } from '@scaibunker/core';

/** Wraps one value in the success envelope. */
export function ok<T>(data: T): { status: 'ok'; data: T } {
  return { status: 'ok', data };
}

/** Wraps `limit + 1` fetched rows as one page of a list, mapping each kept row. */
export function page<Row extends { id: string }, Dto>(rows: Row[], limit: number, present: (row: Row) => Dto) {
  const { items, hasMore, nextCursor } = toPage(rows, limit);
  return { status: 'ok' as const, data: items.map(present), has_more: hasMore, next_cursor: nextCursor };
}

/** The keyset page a list query asks for: its size (the schema defaults it) and where to resume. */
export function pageOptions(query: { limit?: number | undefined; cursor?: string | undefined }): { limit: number; afterId: string | undefined } {
  return { limit: query.limit ?? 50, afterId: query.cursor ? decodeCursor(query.cursor) : undefined };
}
