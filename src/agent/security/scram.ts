// SCRAM (RFC 5802) with SHA-256 and SHA-512 (RFC 7677) as Kafka speaks it: no channel
// binding, the `tokenauth` extension not supported. Pure computation, no I/O: the Kafka door
// drives the exchange, the metadata store keeps the credentials (salt, iterations, StoredKey,
// ServerKey; never a password or a salted password).

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { ScramCredential, ScramMechanismName } from '../../metadata/metadata-store.js';

const pbkdf2Async = promisify(pbkdf2);

export const SCRAM_MECHANISMS: readonly ScramMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's bounds on SCRAM iterations (AlterUserScramCredentials refuses others). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

/** Kafka's mechanism numbers in DescribeUserScramCredentials / AlterUserScramCredentials. */
export const SCRAM_MECHANISM_CODES: Readonly<Record<ScramMechanismName, number>> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };

export function scramMechanismOfCode(code: number): ScramMechanismName | undefined {
  return code === 1 ? 'SCRAM-SHA-256' : code === 2 ? 'SCRAM-SHA-512' : undefined;
}

export function isScramMechanism(name: string): name is ScramMechanismName {
  return name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512';
}

function hashName(m: ScramMechanismName): 'sha256' | 'sha512' {
  return m === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
}

function hashLength(m: ScramMechanismName): number {
  return m === 'SCRAM-SHA-256' ? 32 : 64;
}

function hmac(m: ScramMechanismName, key: Buffer, text: string | Buffer): Buffer {
  return createHmac(hashName(m), key).update(text).digest();
}

function hash(m: ScramMechanismName, data: Buffer): Buffer {
  return createHash(hashName(m)).update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Hi(password, salt, i) of RFC 5802 §2.2: PBKDF2 with the mechanism's HMAC. */
export async function saltedPassword(mechanism: ScramMechanismName, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, hashLength(mechanism), hashName(mechanism));
}

/** The stored credential for a salted password (what AlterUserScramCredentials sends). */
export function credentialFromSaltedPassword(user: string, mechanism: ScramMechanismName, salt: Buffer, iterations: number, salted: Buffer): ScramCredential {
  const clientKey = hmac(mechanism, salted, 'Client Key');
  return { user, mechanism, salt, iterations, storedKey: hash(mechanism, clientKey), serverKey: hmac(mechanism, salted, 'Server Key') };
}

/** A new credential for a password, with a random salt. */
export async function createScramCredential(user: string, mechanism: ScramMechanismName, password: string, iterations = SCRAM_MIN_ITERATIONS, salt: Buffer = randomBytes(32)): Promise<ScramCredential> {
  return credentialFromSaltedPassword(user, mechanism, salt, iterations, await saltedPassword(mechanism, password, salt, iterations));
}

/** Whether `password` is the one the credential was made from (SASL PLAIN checks it so). */
export async function passwordMatches(credential: ScramCredential, password: string): Promise<boolean> {
  const derived = credentialFromSaltedPassword(credential.user, credential.mechanism, credential.salt, credential.iterations, await saltedPassword(credential.mechanism, password, credential.salt, credential.iterations));
  return derived.storedKey.length === credential.storedKey.length && timingSafeEqual(derived.storedKey, credential.storedKey);
}

/** A SCRAM message that breaks the grammar: the exchange fails. */
export class ScramFormatError extends Error {
  override name = 'ScramFormatError';
}

/** `=2C` and `=3D` in a saslname (RFC 5802 §5.1); anything else after `=` is malformed. */
export function decodeSaslName(text: string): string {
  if (/=(?!2C|3D)/.test(text)) throw new ScramFormatError('invalid escape in the user name');
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export function encodeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** `a=1,b=2` into attributes; values may contain `=`. */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    if (part.length < 2 || part[1] !== '=') throw new ScramFormatError('malformed attribute');
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

export interface ClientFirst {
  readonly user: string;
  readonly nonce: string;
  /** client-first-message-bare, part of the AuthMessage. */
  readonly bare: string;
  readonly gs2Header: string;
}

export function parseClientFirst(message: string): ClientFirst {
  // gs2-header: ("n" / "y") "," [ "a=" authzid ] "," ; "p=" (channel binding) is not offered
  const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(message);
  if (!m) throw new ScramFormatError('invalid gs2 header (channel binding is not supported)');
  const bare = m[3]!;
  const attrs = attributes(bare);
  const n = attrs.get('n');
  const r = attrs.get('r');
  if (bare.startsWith('m=')) throw new ScramFormatError('mandatory extensions are not supported');
  if (n === undefined || r === undefined || !bare.startsWith('n=')) throw new ScramFormatError('client-first-message needs n= and r=');
  if (!PRINTABLE_NONCE.test(r)) throw new ScramFormatError('invalid nonce');
  const user = decodeSaslName(n);
  const authzid = m[2] === undefined ? undefined : decodeSaslName(m[2].slice(2));
  if (authzid !== undefined && authzid !== '' && authzid !== user) throw new ScramFormatError('an authorization id other than the user is not supported');
  return { user, nonce: r, bare, gs2Header: `${m[1]},${m[2] ?? ''},` };
}

/** What the server needs of the user: the stored credential, or nothing for an unknown user. */
export type CredentialLookup = (user: string) => Promise<ScramCredential | undefined>;

export type ScramServerStep =
  | { readonly kind: 'continue'; readonly response: Buffer }
  | { readonly kind: 'done'; readonly response: Buffer; readonly user: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly user: string | undefined };

/**
 * The server side of one exchange: client-first → server-first, client-final → server-final.
 * An unknown user gets a server-first with a made-up salt (derived from the user name and a
 * per-process secret), so whether a user exists does not show before the proof fails.
 */
export class ScramServerExchange {
  private state: 'first' | 'final' | 'over' = 'first';
  private first: ClientFirst | undefined;
  private serverFirst = '';
  private nonce = '';
  private credential: ScramCredential | undefined;

  constructor(
    private readonly mechanism: ScramMechanismName,
    private readonly lookup: CredentialLookup,
    private readonly serverNonce: () => string = () => randomBytes(24).toString('base64url'),
  ) {}

  /** The user named by the client-first message, once seen. */
  get user(): string | undefined {
    return this.first?.user;
  }

  async step(token: Buffer): Promise<ScramServerStep> {
    try {
      if (this.state === 'first') return await this.onClientFirst(token.toString('utf8'));
      if (this.state === 'final') return this.onClientFinal(token.toString('utf8'));
      return this.fail('the exchange is already over');
    } catch (err) {
      if (err instanceof ScramFormatError) return this.fail(err.message);
      throw err;
    }
  }

  private fail(reason: string): ScramServerStep {
    this.state = 'over';
    return { kind: 'failed', reason, user: this.first?.user };
  }

  private async onClientFirst(message: string): Promise<ScramServerStep> {
    const first = parseClientFirst(message);
    // Kafka's tokenauth extension (delegation tokens) is not supported
    if (/,tokenauth=true(,|$)/i.test(first.bare)) throw new ScramFormatError('delegation tokens are not supported');
    this.first = first;
    this.credential = await this.lookup(first.user);
    const salt = this.credential?.salt ?? fakeSalt(this.mechanism, first.user);
    const iterations = this.credential?.iterations ?? SCRAM_MIN_ITERATIONS;
    this.nonce = first.nonce + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.state = 'final';
    return { kind: 'continue', response: Buffer.from(this.serverFirst, 'utf8') };
  }

  private onClientFinal(message: string): ScramServerStep {
    const first = this.first!;
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramFormatError('client-final-message has no proof');
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    if (attrs.get('c') !== Buffer.from(first.gs2Header, 'utf8').toString('base64')) throw new ScramFormatError('channel binding does not match the gs2 header');
    // Kafka accepts a final nonce that ends with the server-first nonce: librdkafka sends its
    // client nonce again in front of it
    const finalNonce = attrs.get('r');
    if (finalNonce === undefined || !finalNonce.endsWith(this.nonce)) throw new ScramFormatError('nonce mismatch');
    const credential = this.credential;
    this.state = 'over';
    if (credential === undefined) return { kind: 'failed', reason: 'unknown user', user: first.user };
    const authMessage = `${first.bare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length) return { kind: 'failed', reason: 'invalid proof', user: first.user };
    const clientKey = xor(proof, clientSignature);
    if (!timingSafeEqual(hash(this.mechanism, clientKey), credential.storedKey)) return { kind: 'failed', reason: 'invalid proof', user: first.user };
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    return { kind: 'done', response: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user: first.user };
  }
}

const FAKE_SALT_SECRET = randomBytes(32);

function fakeSalt(mechanism: ScramMechanismName, user: string): Buffer {
  return createHmac('sha256', FAKE_SALT_SECRET).update(`${mechanism}\0${user}`).digest();
}

/**
 * The client side (streamctl and the tests): client-first, then client-final from the
 * server-first, then a check of the server's signature.
 */
export class ScramClientExchange {
  private readonly clientNonce: string;
  private clientFirstBare = '';
  private serverSignature: Buffer | undefined;

  constructor(
    private readonly mechanism: ScramMechanismName,
    private readonly user: string,
    private readonly password: string,
    clientNonce?: string,
  ) {
    this.clientNonce = clientNonce ?? randomBytes(24).toString('base64url');
  }

  clientFirst(): Buffer {
    this.clientFirstBare = `n=${encodeSaslName(this.user)},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  async clientFinal(serverFirst: Buffer): Promise<Buffer> {
    const text = serverFirst.toString('utf8');
    const attrs = attributes(text);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (nonce === undefined || salt === undefined || !nonce.startsWith(this.clientNonce) || !Number.isInteger(iterations) || iterations < 1) {
      throw new ScramFormatError('invalid server-first-message');
    }
    const salted = await saltedPassword(this.mechanism, this.password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const clientKey = hmac(this.mechanism, salted, 'Client Key');
    const storedKey = hash(this.mechanism, clientKey);
    const proof = xor(clientKey, hmac(this.mechanism, storedKey, authMessage));
    this.serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** True when the server-final message proves the server knows the credential. */
  verifyServerFinal(serverFinal: Buffer): boolean {
    const m = /^v=(.*)$/.exec(serverFinal.toString('utf8'));
    if (!m || !this.serverSignature) return false;
    const got = Buffer.from(m[1]!, 'base64');
    return got.length === this.serverSignature.length && timingSafeEqual(got, this.serverSignature);
  }
}
