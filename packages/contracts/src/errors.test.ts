import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ScaiError } from './errors.js';

describe('the error catalogue', () => {
  it('is documented in docs/errors.md, every code with its HTTP status', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });

  it('derives the HTTP status from the code', () => {
    const error = new ScaiError('RATE_LIMITED', 'slow down', { retryAfterS: 3 });
    expect(error).toMatchObject({ status: 429, retryAfterS: 3, code: 'RATE_LIMITED' });
  });
});
