import { describe, expect, it } from 'vitest';
import { mapDistinguishedName, parseMappingRules, rfc2253FromNodeSubject } from './ssl-principal-mapper.js';

describe('ssl.principal.mapping.rules', () => {
  it('DEFAULT is the whole subject', () => {
    expect(mapDistinguishedName(parseMappingRules('DEFAULT'), 'CN=alice,O=Example')).toBe('CN=alice,O=Example');
    expect(mapDistinguishedName(parseMappingRules(''), 'CN=alice')).toBe('CN=alice');
  });

  it('takes the first rule that matches the whole subject, then DEFAULT', () => {
    const rules = parseMappingRules('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),.*$/$1/L, DEFAULT');
    expect(mapDistinguishedName(rules, 'CN=kafka-app,OU=ServiceUsers,O=Example')).toBe('kafka-app');
    expect(mapDistinguishedName(rules, 'CN=Alice,O=Example,C=US')).toBe('alice');
    expect(mapDistinguishedName(rules, 'CN=alone')).toBe('CN=alone');
    expect(mapDistinguishedName(parseMappingRules('RULE:^CN=(.*?),.*$/$1/U'), 'CN=bob,O=x')).toBe('BOB');
  });

  it('fails when no rule applies, and refuses malformed rules', () => {
    expect(mapDistinguishedName(parseMappingRules('RULE:^CN=(.*?),O=Corp$/$1/'), 'CN=eve,O=Other')).toBeUndefined();
    expect(() => parseMappingRules('RULE:^CN=(.*)$')).toThrow(/missing a "\/"/);
    expect(() => parseMappingRules('SOMETHING')).toThrow(/expected DEFAULT or RULE/);
    expect(() => parseMappingRules('RULE:^CN=(.*$/$1/')).toThrow(/invalid pattern/);
  });

  it('writes a Node subject in RFC 2253 order with escapes', () => {
    expect(rfc2253FromNodeSubject('C=US\nO=Example, Inc.\nCN=alice')).toBe('CN=alice,O=Example\\, Inc.,C=US');
  });
});
