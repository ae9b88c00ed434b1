// The ACLs in force, indexed so that a decision never scans them all: by resource type, then
// LITERAL bindings by name and PREFIXED bindings by their prefix. A resource name of length n
// is matched against prefixes by at most one map lookup per distinct prefix length in use.

import { PatternType, WILDCARD, type AclBinding, type ResourceType } from './acl.js';

interface TypeIndex {
  readonly literal: Map<string, AclBinding[]>;
  readonly prefixed: Map<string, AclBinding[]>;
  /** Distinct lengths of the prefixes in `prefixed`, ascending. */
  prefixLengths: number[];
}

export class AclIndex {
  private readonly byType = new Map<ResourceType, TypeIndex>();
  readonly size: number;

  constructor(readonly bindings: readonly AclBinding[]) {
    for (const b of bindings) {
      let t = this.byType.get(b.resourceType);
      if (t === undefined) {
        t = { literal: new Map(), prefixed: new Map(), prefixLengths: [] };
        this.byType.set(b.resourceType, t);
      }
      const map = b.patternType === PatternType.LITERAL ? t.literal : t.prefixed;
      const list = map.get(b.resourceName);
      if (list) list.push(b);
      else map.set(b.resourceName, [b]);
    }
    for (const t of this.byType.values()) t.prefixLengths = [...new Set([...t.prefixed.keys()].map((k) => k.length))].sort((a, b) => a - b);
    this.size = bindings.length;
  }

  /** Every binding whose pattern applies to the resource: same name, the `*` literal, or a prefix of it. */
  matching(type: ResourceType, name: string): AclBinding[] {
    const t = this.byType.get(type);
    if (t === undefined) return [];
    const out: AclBinding[] = [];
    const exact = t.literal.get(name);
    if (exact) out.push(...exact);
    if (name !== WILDCARD) {
      const any = t.literal.get(WILDCARD);
      if (any) out.push(...any);
    }
    for (const len of t.prefixLengths) {
      if (len > name.length) break;
      const hit = t.prefixed.get(name.slice(0, len));
      if (hit) out.push(...hit);
    }
    return out;
  }

  /** Every binding of a resource type (for decisions over "some resource of this type"). */
  ofType(type: ResourceType): AclBinding[] {
    const t = this.byType.get(type);
    if (t === undefined) return [];
    return [...[...t.literal.values()].flat(), ...[...t.prefixed.values()].flat()];
  }
}
