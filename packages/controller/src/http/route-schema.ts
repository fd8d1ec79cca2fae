import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorEnvelope } from '@scaibunker/contracts';

const ErrorRef = Type.Ref(ErrorEnvelope);

/** Adds the error envelope to a route's documented responses. */
export function withErrors<R extends Record<number, TSchema>>(responses: R) {
  return { ...responses, '4xx': ErrorRef, '5xx': ErrorRef };
}

/** The standard bearer-auth security requirement for OpenAPI. */
export const BEARER = [{ bearer: [] }];
