import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ScaiError, type ErrorEnvelope } from '@scaibunker/contracts';
import { validationDetails } from './validation.js';

/** Fastify's own error codes, translated where they enter. */
const FASTIFY_CODES: Record<string, (error: FastifyError) => ScaiError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => new ScaiError('INVALID_JSON', 'The request body is not valid JSON.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new ScaiError('INVALID_JSON', 'The request declares a JSON body but sent none.'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new ScaiError('PAYLOAD_TOO_LARGE', 'The request body exceeds the size limit.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => new ScaiError('UNSUPPORTED_MEDIA_TYPE', e.message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new ScaiError('INVALID_JSON', 'The Content-Length does not match the body.'),
};

/** Maps any thrown error to a ScaiError; foreign text never reaches the client. */
export function toScaiError(error: FastifyError | Error): ScaiError {
  if (error instanceof ScaiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return new ScaiError('VALIDATION_ERROR', 'The request failed validation.', {
      details: validationDetails(fastifyError.validation as never, fastifyError.validationContext),
    });
  }
  const translate = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (translate) return translate(fastifyError);
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new ScaiError('INVALID_JSON', 'The request body is not valid JSON.');
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 413) return new ScaiError('PAYLOAD_TOO_LARGE', 'The request body exceeds the size limit.');
  if (status === 415) return new ScaiError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type.');
  if (status === 503) return new ScaiError('SERVICE_UNAVAILABLE', 'The server is shutting down; retry on another replica or shortly.');
  if (status >= 400 && status < 500) return new ScaiError('VALIDATION_ERROR', 'The request is malformed.', { cause: error });
  return new ScaiError('INTERNAL', 'An unexpected error occurred.', { cause: error });
}

/** The error envelope for a request. */
export function errorEnvelope(error: ScaiError, requestId: string): ErrorEnvelope {
  return {
    status: 'error',
    error: {
      code: error.code,
      message: error.message,
      ...(error.retryAfterS !== undefined ? { retry_after: error.retryAfterS } : {}),
      ...(error.details ? { details: error.details } : {}),
    },
    meta: { request_id: requestId },
  };
}

/** Installs the one place where errors become HTTP responses. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const error = toScaiError(raw);
    if (error.status >= 500) request.log.error({ err: raw }, 'request failed');
    else request.log.info({ code: error.code }, 'request refused');
    if (request.auditNote) request.auditNote.errorCode = error.code;
    if (error.retryAfterS !== undefined) reply.header('retry-after', String(error.retryAfterS));
    return reply.status(error.status).send(errorEnvelope(error, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ScaiError('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`);
    return reply.status(404).send(errorEnvelope(error, request.id));
  });
}
