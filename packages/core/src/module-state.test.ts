import { describe, expect, it } from 'vitest';
import { mergeModuleConfig, resolveModuleState } from './module-state.js';

describe('resolveModuleState', () => {
  it('is enabled when nothing is set', () => {
    expect(resolveModuleState([])).toEqual({ enabled: true, disabledBy: null });
  });

  it('lets a partner disable beat a tenant enable', () => {
    expect(resolveModuleState([{ scope: 'tenant', enabled: true }, { scope: 'partner', enabled: false }]))
      .toEqual({ enabled: false, disabledBy: 'partner' });
  });

  it('lets a tenant disable stand under a partner enable', () => {
    expect(resolveModuleState([{ scope: 'partner', enabled: true }, { scope: 'tenant', enabled: false }]))
      .toEqual({ enabled: false, disabledBy: 'tenant' });
  });
});

describe('mergeModuleConfig', () => {
  it('sets given keys, keeps the others, and drops keys set to null', () => {
    expect(mergeModuleConfig<Record<string, unknown>>({ a: 1, b: 2 }, { b: 3, c: 4, a: null })).toEqual({ b: 3, c: 4 });
  });
});
