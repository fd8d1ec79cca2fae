import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { idPattern, type IdKind } from '../ids.js';

/** An id of one kind, e.g. `Id('user')` matches `usr_…`. */
export const Id = (kind: IdKind, description?: string) =>
  Type.String({ pattern: idPattern(kind), ...(description ? { description } : {}) });

/** An RFC 3339 UTC timestamp. */
export const Timestamp = Type.String({ format: 'date-time' });

/** A URL-safe slug: lowercase letters, digits and inner hyphens, 2–63 chars. */
export const Slug = Type.String({ pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$', minLength: 2, maxLength: 63 });

/** Text without control characters (NUL included: PostgreSQL refuses it, SQLite would store it). */
export const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]*$';

/** A display name: 1–200 printable chars. */
export const DisplayName = Type.String({ minLength: 1, maxLength: 200, pattern: PRINTABLE });

/** The success envelope around one value. */
export const Ok = <T extends TSchema>(data: T) =>
  Type.Object({ status: Type.Literal('ok'), data }, { additionalProperties: false });

/** The success envelope around one page of a list. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object(
    {
      status: Type.Literal('ok'),
      data: Type.Array(item),
      has_more: Type.Boolean(),
      next_cursor: Type.Union([Type.String(), Type.Null()]),
    },
    { additionalProperties: false },
  );

/** Query parameters every list accepts. */
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

/** The error envelope (spec §1). */
export const ErrorEnvelope = Type.Object(
  {
    status: Type.Literal('error'),
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      retry_after: Type.Optional(Type.Integer()),
      details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    }),
    meta: Type.Object({ request_id: Type.String() }),
  },
  { $id: 'ErrorEnvelope' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

/** Path params of a route addressing one resource by id. */
export const IdParams = (kind: IdKind) => Type.Object({ id: Id(kind) }, { additionalProperties: false });

/** An empty request body (or none). */
export const EmptyBody = Type.Object({}, { additionalProperties: false });
