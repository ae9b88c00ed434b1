import { describe, expect, it } from 'vitest';
import { createScramCredential, parseClientFirst, passwordMatches, ScramClientExchange, ScramServerExchange, saltedPassword, credentialFromSaltedPassword } from './scram.js';
import { parsePlainMessage } from './plain.js';

// RFC 7677 §3: user "user", password "pencil"
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('SCRAM-SHA-256 against the RFC 7677 test vector', () => {
  it('the client computes the RFC messages', async () => {
    const client = new ScramClientExchange('SCRAM-SHA-256', 'user', 'pencil', CLIENT_NONCE);
    expect(client.clientFirst().toString()).toBe(CLIENT_FIRST);
    expect((await client.clientFinal(Buffer.from(SERVER_FIRST))).toString()).toBe(CLIENT_FINAL);
    expect(client.verifyServerFinal(Buffer.from(SERVER_FINAL))).toBe(true);
    expect(client.verifyServerFinal(Buffer.from('v=AAAA'))).toBe(false);
  });

  it('the server answers with the RFC messages from a stored credential only', async () => {
    const credential = await createScramCredential('user', 'SCRAM-SHA-256', 'pencil', 4096, SALT);
    const server = new ScramServerExchange('SCRAM-SHA-256', async (u) => (u === 'user' ? credential : undefined), () => SERVER_NONCE);
    const first = await server.step(Buffer.from(CLIENT_FIRST));
    expect(first).toEqual({ kind: 'continue', response: Buffer.from(SERVER_FIRST) });
    const final = await server.step(Buffer.from(CLIENT_FINAL));
    expect(final).toEqual({ kind: 'done', response: Buffer.from(SERVER_FINAL), user: 'user' });
  });

  it('refuses a wrong proof, a replayed exchange and an unknown user (which still gets a salt)', async () => {
    const credential = await createScramCredential('user', 'SCRAM-SHA-256', 'pencil', 4096, SALT);
    const lookup = async (u: string) => (u === 'user' ? credential : undefined);
    const wrong = new ScramServerExchange('SCRAM-SHA-256', lookup, () => SERVER_NONCE);
    await wrong.step(Buffer.from(CLIENT_FIRST));
    const bad = CLIENT_FINAL.replace('p=dHzb', 'p=eHzb');
    expect(await wrong.step(Buffer.from(bad))).toMatchObject({ kind: 'failed', reason: 'invalid proof', user: 'user' });
    expect(await wrong.step(Buffer.from(CLIENT_FINAL))).toMatchObject({ kind: 'failed' });

    const unknown = new ScramServerExchange('SCRAM-SHA-256', lookup, () => SERVER_NONCE);
    const first = await unknown.step(Buffer.from('n,,n=mallory,r=abc'));
    expect(first.kind).toBe('continue');
    expect(first.kind === 'continue' && first.response.toString()).toMatch(/^r=abc.+,s=[A-Za-z0-9+/=]+,i=4096$/);
    const client = new ScramClientExchange('SCRAM-SHA-256', 'mallory', 'x', 'abc');
    client.clientFirst();
    const final = await client.clientFinal(first.kind === 'continue' ? first.response : Buffer.alloc(0));
    expect(await unknown.step(final)).toEqual({ kind: 'failed', reason: 'unknown user', user: 'mallory' });
  });

  it('completes SHA-512 exchanges between our client and server', async () => {
    const credential = await createScramCredential('alice', 'SCRAM-SHA-512', 'alice-secret', 8192);
    expect(credential.storedKey).toHaveLength(64);
    const server = new ScramServerExchange('SCRAM-SHA-512', async () => credential);
    const client = new ScramClientExchange('SCRAM-SHA-512', 'alice', 'alice-secret');
    const first = await server.step(client.clientFirst());
    if (first.kind !== 'continue') throw new Error('expected server-first');
    const done = await server.step(await client.clientFinal(first.response));
    if (done.kind !== 'done') throw new Error(`expected success, got ${JSON.stringify(done)}`);
    expect(client.verifyServerFinal(done.response)).toBe(true);
  });

  it('derives the same credential from a salted password as from the password', async () => {
    const salted = await saltedPassword('SCRAM-SHA-256', 'pencil', SALT, 4096);
    expect(credentialFromSaltedPassword('user', 'SCRAM-SHA-256', SALT, 4096, salted)).toEqual(await createScramCredential('user', 'SCRAM-SHA-256', 'pencil', 4096, SALT));
    const c = await createScramCredential('u', 'SCRAM-SHA-512', 'right');
    expect(await passwordMatches(c, 'right')).toBe(true);
    expect(await passwordMatches(c, 'wrong')).toBe(false);
  });

  it('parses user names with escapes and refuses channel binding and foreign authzids', () => {
    expect(parseClientFirst('n,,n=a=2Cb=3Dc,r=xyz').user).toBe('a,b=c');
    expect(() => parseClientFirst('p=tls-unique,,n=u,r=x')).toThrow(/channel binding/);
    expect(() => parseClientFirst('n,a=other,n=u,r=x')).toThrow(/authorization id/);
    expect(() => parseClientFirst('n,,n=u=41,r=x')).toThrow(/escape/);
    expect(() => parseClientFirst('garbage')).toThrow();
  });
});

describe('SASL PLAIN messages', () => {
  it('splits authzid, user and password', () => {
    expect(parsePlainMessage(Buffer.from('\u0000alice\u0000s3cret'))).toEqual({ user: 'alice', password: 's3cret' });
    expect(parsePlainMessage(Buffer.from('alice\u0000alice\u0000s3cret'))).toEqual({ user: 'alice', password: 's3cret' });
    expect(parsePlainMessage(Buffer.from('bob\u0000alice\u0000s3cret'))).toMatchObject({ error: expect.stringMatching(/authorization id/) });
    expect(parsePlainMessage(Buffer.from('alice'))).toMatchObject({ error: expect.stringMatching(/invalid PLAIN/) });
    expect(JSON.stringify(parsePlainMessage(Buffer.from('\u0000alice\u0000')))).not.toContain('s3cret');
  });
});
