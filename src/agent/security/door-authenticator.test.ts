import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ScramCredential, ScramCredentialStore, ScramMechanismName } from '../../metadata/metadata-store.js';
import { defaultSecurityConfig } from '../config/security-config.js';
import { Authenticator } from './authenticator.js';
import { DoorAuthenticator, parseBasicAuthorization } from './door-authenticator.js';
import { createScramCredential } from './scram.js';

/** Unit-test store: the credentials given, counting reads (to see the cache work). */
function storeOf(credentials: ScramCredential[]): ScramCredentialStore & { reads: number } {
  const store = {
    reads: 0,
    upsert: async () => undefined,
    insertIfAbsent: async () => false,
    async get(user: string, mechanism: ScramMechanismName) {
      store.reads++;
      return credentials.find((c) => c.user === user && c.mechanism === mechanism);
    },
    list: async () => [],
    delete: async () => false,
  };
  return store;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function setup(mode: 'none' | 'basic') {
  const store = storeOf([await createScramCredential('alice', 'SCRAM-SHA-256', 'alice-pw', 4096)]);
  const registry = new Registry();
  const authenticator = new Authenticator({ credentials: store, config: { ...defaultSecurityConfig(), failedAuthenticationDelayMs: 0 }, logger: pino({ level: 'silent' }), registry });
  return { store, registry, door: new DoorAuthenticator(authenticator, mode, 'http') };
}

describe('parseBasicAuthorization', () => {
  it('takes user:password (the password may hold colons) and refuses anything else', () => {
    expect(parseBasicAuthorization(basic('alice', 'a:b:c'))).toEqual({ user: 'alice', password: 'a:b:c' });
    expect(parseBasicAuthorization(`basic   ${Buffer.from('bob:pw').toString('base64')}`)).toEqual({ user: 'bob', password: 'pw' });
    expect(parseBasicAuthorization('Bearer abc')).toHaveProperty('error');
    expect(parseBasicAuthorization(`Basic ${Buffer.from(':pw').toString('base64')}`)).toHaveProperty('error');
    expect(parseBasicAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toHaveProperty('error');
  });
});

describe('DoorAuthenticator', () => {
  it('basic: the SCRAM user with the right password, remembered; wrong or missing ones refused and counted', async () => {
    const { store, registry, door } = await setup('basic');
    const ok = await door.authenticate(basic('alice', 'alice-pw'), '10.0.0.7:5000');
    expect(ok).toEqual({ ok: true, requester: { principal: { type: 'User', name: 'alice' }, host: '10.0.0.7', client: '10.0.0.7:5000' } });
    const readsAfterFirst = store.reads;
    expect((await door.authenticate(basic('alice', 'alice-pw'), '10.0.0.7:5001')).ok).toBe(true);
    expect(store.reads).toBe(readsAfterFirst);
    expect(await door.authenticate(basic('alice', 'wrong'), '10.0.0.7:5002')).toMatchObject({ ok: false, problem: 'failed' });
    expect(await door.authenticate(basic('nobody', 'x'), '10.0.0.7:5003')).toMatchObject({ ok: false, problem: 'failed' });
    expect(await door.authenticate('Token x', '10.0.0.7:5004')).toMatchObject({ ok: false, problem: 'failed' });
    expect(await door.authenticate(undefined, '10.0.0.7:5005')).toMatchObject({ ok: false, problem: 'missing' });
    const text = await registry.metrics();
    expect(text).toContain('streamhouse_authentication_failures_total{mechanism="BASIC",listener="http"} 3');
  });

  it('none: everyone is ANONYMOUS, whatever they send', async () => {
    const { store, door } = await setup('none');
    expect(await door.authenticate(basic('alice', 'wrong'), '[::1]:9')).toEqual({ ok: true, requester: { principal: { type: 'User', name: 'ANONYMOUS' }, host: '::1', client: '[::1]:9' } });
    expect(store.reads).toBe(0);
  });

  it('a verified client certificate is its mapped principal when no credentials are sent; an unverified one is refused', async () => {
    const store = storeOf([]);
    const authenticator = new Authenticator({ credentials: store, config: { ...defaultSecurityConfig(), failedAuthenticationDelayMs: 0 }, logger: pino({ level: 'silent' }) });
    const door = new DoorAuthenticator(authenticator, 'basic', 'grpc', 'RULE:^CN=(.*?),.*$/$1/L,DEFAULT');
    expect(await door.authenticate(undefined, '10.1.1.1:1', { subject: 'O=Acme\nCN=Carol', verified: true })).toMatchObject({ ok: true, requester: { principal: { type: 'User', name: 'carol' } } });
    expect(await door.authenticate(undefined, '10.1.1.1:1', { subject: 'CN=Solo', verified: true })).toMatchObject({ ok: true, requester: { principal: { name: 'CN=Solo' } } });
    expect(await door.authenticate(undefined, '10.1.1.1:1', { subject: 'O=Acme\nCN=Carol', verified: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).toMatchObject({ ok: false, problem: 'failed' });
  });
});
