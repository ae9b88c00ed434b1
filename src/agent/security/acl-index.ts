// The ACLs in force, indexed so that a decision never scans them all: by resource type, then
// LITERAL bindings by name and PREFIXED bindings by their prefix, each by principal. A
// resource name of length n is matched against prefixes by at most one map lookup per
// distinct prefix length in use, and only the bindings of the asking principal and of
// `User:*` are looked at.

import { PatternType, WILDCARD, WILDCARD_PRINCIPAL, type AclBinding, type ResourceType } from './acl.js';

type ByPrincipal = Map<string, AclBinding[]>;

interface TypeIndex {
  readonly literal: Map<string, ByPrincipal>;
  readonly prefixed: Map<string, ByPrincipal>;
  /** Distinct lengths of the prefixes in `prefixed`, ascending. */
  prefixLengths: number[];
  readonly all: AclBinding[];
}

export interface Matching {
  /** The bindings of the principal (and of User:*) whose pattern applies to the resource. */
  readonly bindings: AclBinding[];
  /** Whether any binding at all (of any principal) applies to the resource. */
  readonly resourceHasAcls: boolean;
}

export class AclIndex {
  private readonly byType = new Map<ResourceType, TypeIndex>();
  readonly size: number;

  constructor(readonly bindings: readonly AclBinding[]) {
    for (const b of bindings) {
      let t = this.byType.get(b.resourceType);
      if (t === undefined) {
        t = { literal: new Map(), prefixed: new Map(), prefixLengths: [], all: [] };
        this.byType.set(b.resourceType, t);
      }
      t.all.push(b);
      const map = b.patternType === PatternType.LITERAL ? t.literal : t.prefixed;
      let byPrincipal = map.get(b.resourceName);
      if (!byPrincipal) map.set(b.resourceName, (byPrincipal = new Map()));
      const list = byPrincipal.get(b.principal);
      if (list) list.push(b);
      else byPrincipal.set(b.principal, [b]);
    }
    for (const t of this.byType.values()) t.prefixLengths = [...new Set([...t.prefixed.keys()].map((k) => k.length))].sort((a, b) => a - b);
    this.size = bindings.length;
  }

  /** Bindings of `principal` whose pattern applies to the resource: same name, the `*` literal, or a prefix of it. */
  matching(type: ResourceType, name: string, principal: string): Matching {
    const t = this.byType.get(type);
    if (t === undefined) return { bindings: [], resourceHasAcls: false };
    const out: AclBinding[] = [];
    let resourceHasAcls = false;
    const take = (byPrincipal: ByPrincipal | undefined) => {
      if (byPrincipal === undefined) return;
      resourceHasAcls = true;
      const own = byPrincipal.get(principal);
      if (own) out.push(...own);
      const everyone = principal === WILDCARD_PRINCIPAL ? undefined : byPrincipal.get(WILDCARD_PRINCIPAL);
      if (everyone) out.push(...everyone);
    };
    take(t.literal.get(name));
    if (name !== WILDCARD) take(t.literal.get(WILDCARD));
    for (const len of t.prefixLengths) {
      if (len > name.length) break;
      take(t.prefixed.get(name.slice(0, len)));
    }
    return { bindings: out, resourceHasAcls };
  }

  /** Every binding of a resource type (for decisions over "some resource of this type"). */
  ofType(type: ResourceType): readonly AclBinding[] {
    return this.byType.get(type)?.all ?? [];
  }
}
