/** Child groups of each group: `parent → children`. */
export type GroupEdges = ReadonlyMap<string, readonly string[]>;

/**
 * Whether making `childId` a member of `parentId` would close a cycle: true when the parent
 * is the child itself or is already reachable below the child.
 */
export function wouldCreateCycle(edges: GroupEdges, parentId: string, childId: string): boolean {
  const seen = new Set<string>();
  const stack = [childId];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current === parentId) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    stack.push(...(edges.get(current) ?? []));
  }
  return false;
}
