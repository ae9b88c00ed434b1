// `ssl.principal.mapping.rules` as Kafka reads them: a comma-separated list of
// `RULE:pattern/replacement/[L|U]` and `DEFAULT`, tried in order against the client
// certificate's subject in RFC 2253 form (`CN=alice,OU=eng,O=Example,C=US`). The first rule
// whose pattern matches the whole subject gives the principal's name; DEFAULT is the subject
// itself. No rule matching fails the authentication, as in Kafka.

export interface MappingRule {
  readonly kind: 'DEFAULT' | 'RULE';
  readonly pattern?: RegExp;
  readonly replacement?: string;
  readonly caseChange?: 'L' | 'U';
}

export class PrincipalMappingError extends Error {
  override name = 'PrincipalMappingError';
}

/** Reads the rules; throws PrincipalMappingError naming what is wrong. */
export function parseMappingRules(text: string): MappingRule[] {
  const rules: MappingRule[] = [];
  let i = 0;
  const s = text.trim();
  if (s === '') return [{ kind: 'DEFAULT' }];
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === ',') i++;
    if (i >= s.length) break;
    if (s.startsWith('DEFAULT', i)) {
      rules.push({ kind: 'DEFAULT' });
      i += 'DEFAULT'.length;
    } else if (s.startsWith('RULE:', i)) {
      i += 'RULE:'.length;
      const readUntilSlash = (): string => {
        let out = '';
        while (i < s.length && s[i] !== '/') {
          if (s[i] === '\\' && i + 1 < s.length) {
            out += s[i]! + s[i + 1]!;
            i += 2;
          } else out += s[i++];
        }
        if (s[i] !== '/') throw new PrincipalMappingError(`rule "${s}" is missing a "/"`);
        i++;
        return out;
      };
      const pattern = readUntilSlash();
      const replacement = readUntilSlash();
      let caseChange: 'L' | 'U' | undefined;
      if (s[i] === 'L' || s[i] === 'U') caseChange = s[i++] as 'L' | 'U';
      let regex: RegExp;
      try {
        regex = new RegExp(pattern);
      } catch (err) {
        throw new PrincipalMappingError(`invalid pattern "${pattern}" in ssl.principal.mapping.rules: ${(err as Error).message}`);
      }
      rules.push({ kind: 'RULE', pattern: regex, replacement, ...(caseChange ? { caseChange } : {}) });
    } else {
      throw new PrincipalMappingError(`invalid ssl.principal.mapping.rules at "${s.slice(i)}": expected DEFAULT or RULE:pattern/replacement/`);
    }
    while (s[i] === ' ') i++;
    if (i < s.length && s[i] !== ',') throw new PrincipalMappingError(`invalid ssl.principal.mapping.rules at "${s.slice(i)}": rules are separated by ","`);
  }
  return rules;
}

/** The principal name for a distinguished name, or undefined when no rule applies. */
export function mapDistinguishedName(rules: readonly MappingRule[], dn: string): string | undefined {
  for (const rule of rules) {
    if (rule.kind === 'DEFAULT') return dn;
    const pattern = rule.pattern!;
    const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags);
    const m = whole.exec(dn);
    if (!m) continue;
    let out = rule.replacement!.replace(/\$(\d)/g, (_, d: string) => m[Number(d)] ?? '');
    if (rule.caseChange === 'L') out = out.toLowerCase();
    if (rule.caseChange === 'U') out = out.toUpperCase();
    return out;
  }
  return undefined;
}

/**
 * RFC 2253 form of a certificate subject as Node prints it (`X509Certificate.subject`: one
 * `KEY=value` per line, most general first): most specific first, comma-separated, special
 * characters escaped. Multi-valued RDNs are not distinguished from single ones.
 */
export function rfc2253FromNodeSubject(subject: string): string {
  const parts = subject
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const eq = l.indexOf('=');
      const key = eq < 0 ? l : l.slice(0, eq);
      const value = eq < 0 ? '' : l.slice(eq + 1);
      return `${key}=${escapeDnValue(value)}`;
    });
  return parts.reverse().join(',');
}

function escapeDnValue(v: string): string {
  let out = v.replace(/([,+"\\<>;=])/g, '\\$1');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}
