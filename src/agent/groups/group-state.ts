/**
 * The classic group states, named exactly as Kafka reports them in DescribeGroups and
 * ListGroups (`GroupState.toString`).
 */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** Kafka's allowed previous states per target state; anything else is a coordinator bug. */
const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  Empty: ['PreparingRebalance'],
};

export function isValidTransition(from: GroupState, to: GroupState): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

/** A state name from a ListGroups filter, matched case-insensitively as Kafka does. */
export function matchesStateFilter(state: GroupState, filter: readonly string[]): boolean {
  if (filter.length === 0) return true;
  const lower = state.toLowerCase();
  return filter.some((f) => f.toLowerCase() === lower);
}
