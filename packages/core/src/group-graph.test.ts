import { describe, expect, it } from 'vitest';
import { wouldCreateCycle } from './group-graph.js';

describe('wouldCreateCycle', () => {
  const edges = new Map([['a', ['b']], ['b', ['c']]]);

  it('refuses a group inside itself', () => {
    expect(wouldCreateCycle(new Map(), 'a', 'a')).toBe(true);
  });

  it('refuses nesting an ancestor below its descendant, at any depth', () => {
    expect(wouldCreateCycle(edges, 'b', 'a')).toBe(true);
    expect(wouldCreateCycle(edges, 'c', 'a')).toBe(true);
  });

  it('allows a diamond, which is not a cycle', () => {
    expect(wouldCreateCycle(edges, 'a', 'c')).toBe(false);
    expect(wouldCreateCycle(edges, 'd', 'c')).toBe(false);
  });
});
