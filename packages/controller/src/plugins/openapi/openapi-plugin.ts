import swagger from '@fastify/swagger';
import fp from 'fastify-plugin';

/**
 * Generates the OpenAPI 3.1 document from the route schemas (never by hand) and serves it at
 * `GET /v1/openapi.json`. Registered before any route so that it sees them all.
 */
export const openApiPlugin = fp<{ version: string }>(
  async (app, { version }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'ScaiBunker API', version, description: 'Self-hostable microVM sandboxes. Errors use one envelope; branch on `error.code`.' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key: `sgk_…`.' } } },
        security: [{ bearer: [] }],
      },
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    app.get('/v1/openapi.json', {
      schema: { tags: ['platform'], summary: 'This document (OpenAPI 3.1)', security: [] },
      config: { public: true },
    }, async () => app.swagger());
  },
  { name: 'openapi' },
);
