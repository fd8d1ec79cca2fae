import fp from 'fastify-plugin';
import { ScaiError } from '@scaibunker/contracts';
import type { Repositories } from '@scaibunker/db';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { Authenticator } from './authenticator.js';

export interface AuthPluginOptions {
  repos: Repositories;
  rateLimitPerMinute: number;
  authFailuresPerMinute: number;
}

/**
 * Authenticates every non-public request and rate-limits it per API key. Failed attempts are
 * limited per client address, so guessing keys is slow whatever key ids are presented.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, options) => {
    const authenticator = new Authenticator(options.repos);
    const perKey = new RateLimiter(options.rateLimitPerMinute);
    const failuresPerAddress = new RateLimiter(options.authFailuresPerMinute);

    app.decorateRequest('actor', null);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config.public || !request.routeOptions.url) return;
      const before = failuresPerAddress.peek(request.ip);
      if (!before.allowed) throw rateLimited(before.retryAfterS);
      try {
        request.actor = await authenticator.authenticate(request.headers.authorization, new Date());
      } catch (error) {
        if (error instanceof ScaiError && (error.code === 'AUTH_TOKEN_INVALID' || error.code === 'AUTH_TOKEN_MISSING')) failuresPerAddress.take(request.ip);
        throw error;
      }
      const verdict = perKey.take(request.actor.apiKeyId);
      if (!verdict.allowed) throw rateLimited(verdict.retryAfterS);
    });
  },
  { name: 'auth' },
);

function rateLimited(retryAfterS: number): ScaiError {
  return new ScaiError('RATE_LIMITED', `Too many requests; retry after ${retryAfterS} s.`, { retryAfterS });
}
