// Rendezvous (highest random weight) hashing: every agent computes the same owner for a
// resource from the same live set, and a change of the set moves only the resources the
// joining or leaving agent wins or held.

import { createHash } from 'node:crypto';

function weight(agentId: string, resource: string): bigint {
  // NUL separates the parts so ("ab","c") and ("a","bc") weigh differently.
  return createHash('sha256').update(agentId).update('\u0000').update(resource).digest().readBigUInt64BE(0);
}

/** The agent that should own `resource`; ties (practically impossible) go to the smaller id. */
export function rendezvousOwner(resource: string, agentIds: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const id of agentIds) {
    const w = weight(id, resource);
    if (w > bestWeight || (w === bestWeight && best !== undefined && id < best)) {
      best = id;
      bestWeight = w;
    }
  }
  return best;
}
