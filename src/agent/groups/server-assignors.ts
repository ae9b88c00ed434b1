// Partition assignors the agents run for groups of gRPC consumers (the Kafka consumer's
// range and sticky strategies, computed server-side by the agent serving the group's leader).

import type { AssignedPartitions } from './consumer-assignment.js';

export type ServerAssignorName = 'range' | 'sticky';

export const SERVER_ASSIGNORS: readonly ServerAssignorName[] = ['range', 'sticky'];

export interface AssignorMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  /** Partitions the member holds now (what sticky keeps where it can). */
  readonly owned: readonly AssignedPartitions[];
}

/** memberId → its partitions, topics and partitions sorted; every member appears, maybe with nothing. */
export type AssignmentPlan = Map<string, AssignedPartitions[]>;

/**
 * Kafka's RangeAssignor: per topic, the members subscribed to it in member-id order each take
 * a consecutive range; the first (partitions % members) take one more.
 */
export function rangeAssign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): AssignmentPlan {
  const byMember = new Map<string, Map<string, number[]>>(members.map((m) => [m.memberId, new Map()]));
  for (const topic of subscribedTopics(members)) {
    const count = partitionCounts.get(topic) ?? 0;
    const subscribers = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId).sort();
    const per = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    let next = 0;
    subscribers.forEach((memberId, i) => {
      const n = per + (i < extra ? 1 : 0);
      const parts: number[] = [];
      for (let k = 0; k < n; k++) parts.push(next++);
      if (parts.length > 0) byMember.get(memberId)!.set(topic, parts);
    });
  }
  return toPlan(byMember);
}

/**
 * A sticky assignor: as balanced as possible (partition counts of any two members eligible
 * for the same partitions differ by at most one), and a member keeps what it owned where
 * balance allows, so a rebalance moves as few partitions as it can.
 */
export function stickyAssign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): AssignmentPlan {
  const all: Array<{ topic: string; partition: number }> = [];
  for (const topic of subscribedTopics(members)) for (let p = 0; p < (partitionCounts.get(topic) ?? 0); p++) all.push({ topic, partition: p });
  const ordered = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const quota = members.length === 0 ? 0 : Math.floor(all.length / members.length);
  let atQuotaPlusOne = members.length === 0 ? 0 : all.length % members.length;
  const taken = new Set<string>();
  const held = new Map<string, Array<{ topic: string; partition: number }>>(ordered.map((m) => [m.memberId, []]));
  const valid = (m: AssignorMember, topic: string, partition: number): boolean => m.topics.includes(topic) && partition < (partitionCounts.get(topic) ?? 0);
  // keep owned partitions up to the quota, then one more where the remainder allows
  for (const pass of [0, 1]) {
    for (const m of ordered) {
      const mine = held.get(m.memberId)!;
      for (const o of m.owned) {
        for (const partition of o.partitions) {
          const key = `${o.topic}\u0000${partition}`;
          if (taken.has(key) || !valid(m, o.topic, partition)) continue;
          if (pass === 0 && mine.length >= quota) break;
          if (pass === 1 && (mine.length !== quota || atQuotaPlusOne === 0)) break;
          mine.push({ topic: o.topic, partition });
          taken.add(key);
          if (pass === 1) atQuotaPlusOne--;
        }
      }
    }
  }
  // the rest to the eligible member holding fewest, ties by member id
  for (const tp of all) {
    const key = `${tp.topic}\u0000${tp.partition}`;
    if (taken.has(key)) continue;
    let best: AssignorMember | undefined;
    for (const m of ordered) {
      if (!valid(m, tp.topic, tp.partition)) continue;
      if (!best || held.get(m.memberId)!.length < held.get(best.memberId)!.length) best = m;
    }
    if (!best) continue;
    held.get(best.memberId)!.push(tp);
    taken.add(key);
  }
  const byMember = new Map<string, Map<string, number[]>>();
  for (const [memberId, tps] of held) {
    const topics = new Map<string, number[]>();
    for (const tp of tps) {
      const list = topics.get(tp.topic) ?? [];
      list.push(tp.partition);
      topics.set(tp.topic, list);
    }
    byMember.set(memberId, topics);
  }
  return toPlan(byMember);
}

export function assign(assignor: ServerAssignorName, members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): AssignmentPlan {
  return assignor === 'sticky' ? stickyAssign(members, partitionCounts) : rangeAssign(members, partitionCounts);
}

function subscribedTopics(members: readonly AssignorMember[]): string[] {
  return [...new Set(members.flatMap((m) => m.topics))].sort();
}

function toPlan(byMember: Map<string, Map<string, number[]>>): AssignmentPlan {
  const plan: AssignmentPlan = new Map();
  for (const [memberId, topics] of byMember) {
    plan.set(
      memberId,
      [...topics.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((x, y) => x - y) })),
    );
  }
  return plan;
}
