import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

describe('GET /v1/openapi.json', () => {
  let t: TestApp;
  const routes: { method: string; url: string }[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    // printRoutes draws the app's own route tree, four columns per level; rebuild full paths.
    const stack: string[] = [];
    for (const line of t.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^([\s│├└─]*)(\/\S*)(?: \(([A-Z, ]+)\))?$/.exec(line);
      if (!match) continue;
      const depth = match[1]!.length / 4 - 1;
      stack.length = depth;
      stack.push(match[2]!);
      for (const method of match[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push({ method, url: stack.join('') });
    }
  });
  afterAll(async () => { await t.close(); });

  it('is served without a key and is a valid OpenAPI 3.1 document', async () => {
    const response = await t.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const result = await new Validator().validate(response.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('lists every route the app serves, with its method', async () => {
    const spec = (await t.inject({ method: 'GET', url: '/v1/openapi.json' })).body;
    expect(routes.length).toBeGreaterThan(30);
    for (const { method, url } of routes) {
      const path = url.replace(/:([a-z_]+)/g, '{$1}');
      expect(spec.paths[path], `${method} ${path}`).toBeDefined();
      expect(spec.paths[path][method.toLowerCase()], `${method} ${path}`).toBeDefined();
    }
  });

  it('documents the error envelope and the bearer scheme', async () => {
    const spec = (await t.inject({ method: 'GET', url: '/v1/openapi.json' })).body;
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.paths['/v1/users'].post.responses['4XX'] ?? spec.paths['/v1/users'].post.responses['4xx']).toBeDefined();
    expect(spec.paths['/v1/health'].get.security).toEqual([]);
  });
});
