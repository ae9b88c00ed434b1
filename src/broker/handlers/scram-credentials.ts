import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { credentialFromSaltedPassword, SCRAM_MAX_ITERATIONS, SCRAM_MECHANISM_CODES, SCRAM_MIN_ITERATIONS, scramMechanismOfCode } from '../../agent/security/scram.js';
import { principalToString } from '../../agent/security/principal.js';
import { AclOperation, authorizeCluster, authorizing } from '../authorization.js';

/**
 * With the authorizer, describing needs DESCRIBE and altering ALTER on the cluster (Kafka).
 * Without it, managing users is open to every client unless `super.users` is set; then only
 * a super user may describe or alter credentials; others get CLUSTER_AUTHORIZATION_FAILED.
 */
function mayManageUsers(ctx: RequestContext, op: AclOperation): boolean {
  // with the authorizer, Kafka's checks on the cluster (audited there)
  if (authorizing(ctx)) return authorizeCluster(ctx, op);
  const supers = ctx.services.config.security.superUsers;
  if (supers.length === 0) return true;
  const p = ctx.connection.session?.principal;
  return p !== undefined && supers.some((s) => s.type === p.type && s.name === p.name);
}

function denied(ctx: RequestContext, api: string): void {
  const p = ctx.connection.session?.principal;
  ctx.services.logger.warn({ principal: p ? principalToString(p) : null, client: ctx.connection.remoteAddress, api, resource: 'Cluster:kafka-cluster' }, 'denied: only super.users may manage SCRAM credentials');
}

/** DescribeUserScramCredentials v0: mechanism and iterations per user (never salts or keys). */
export const describeUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    if (!mayManageUsers(ctx, AclOperation.DESCRIBE)) {
      if (!authorizing(ctx)) denied(ctx, 'DescribeUserScramCredentials');
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: [] };
    }
    const store = ctx.services.metadata.scramCredentials;
    const asked = request.users === null || request.users.length === 0 ? undefined : request.users.map((u) => u.name);
    const all = await store.list(asked === undefined ? undefined : [...new Set(asked)]);
    const byUser = new Map<string, Array<{ mechanism: number; iterations: number }>>();
    for (const c of all) {
      const list = byUser.get(c.user) ?? [];
      list.push({ mechanism: SCRAM_MECHANISM_CODES[c.mechanism], iterations: c.iterations });
      byUser.set(c.user, list);
    }
    if (asked === undefined) {
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: [...byUser].map(([user, credentialInfos]) => ({ user, errorCode: 0, errorMessage: null, credentialInfos })) };
    }
    const counts = new Map<string, number>();
    for (const u of asked) counts.set(u, (counts.get(u) ?? 0) + 1);
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      results: [...counts].map(([user, n]) => {
        if (n > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
        const infos = byUser.get(user);
        if (infos === undefined) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
        return { user, errorCode: 0, errorMessage: null, credentialInfos: infos };
      }),
    };
  },
});

/**
 * AlterUserScramCredentials v0: one change per user and request; an upsertion brings the
 * salt and the salted password (the client hashed the password), of which only StoredKey and
 * ServerKey are kept. Errors per user as Kafka's: DUPLICATE_RESOURCE, UNACCEPTABLE_CREDENTIAL,
 * UNSUPPORTED_SASL_MECHANISM, RESOURCE_NOT_FOUND.
 */
export const alterUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const everyone = [...new Set([...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)])];
    if (!mayManageUsers(ctx, AclOperation.ALTER)) {
      if (!authorizing(ctx)) denied(ctx, 'AlterUserScramCredentials');
      return { throttleTimeMs: 0, results: everyone.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })) };
    }
    const store = ctx.services.metadata.scramCredentials;
    const errors = new Map<string, { code: number; message: string }>();
    const seen = new Map<string, number>();
    for (const name of [...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)]) seen.set(name, (seen.get(name) ?? 0) + 1);
    for (const [name, n] of seen) if (n > 1) errors.set(name, { code: ErrorCode.DUPLICATE_RESOURCE, message: 'A user credential cannot be altered twice in the same request' });
    const check = (name: string, mechanismCode: number) => {
      if (errors.has(name)) return undefined;
      if (name === '') return void errors.set(name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Username must not be empty' });
      if (name.includes('\u0000')) return void errors.set(name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Username must not contain NUL' });
      const mechanism = scramMechanismOfCode(mechanismCode);
      if (mechanism === undefined) return void errors.set(name, { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: 'Unknown SCRAM mechanism' });
      return mechanism;
    };
    const done: string[] = [];
    for (const d of request.deletions) {
      const mechanism = check(d.name, d.mechanism);
      if (mechanism === undefined) continue;
      if (!(await store.delete(d.name, mechanism))) errors.set(d.name, { code: ErrorCode.RESOURCE_NOT_FOUND, message: 'Attempt to delete a user credential that does not exist' });
      else done.push(d.name);
    }
    for (const u of request.upsertions) {
      const mechanism = check(u.name, u.mechanism);
      if (mechanism === undefined) continue;
      if (u.iterations < SCRAM_MIN_ITERATIONS) errors.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too few iterations' });
      else if (u.iterations > SCRAM_MAX_ITERATIONS) errors.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too many iterations' });
      else if (u.salt.length === 0 || u.saltedPassword.length === 0) errors.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Salt and salted password must not be empty' });
      else {
        await store.upsert(credentialFromSaltedPassword(u.name, mechanism, Buffer.from(u.salt), u.iterations, Buffer.from(u.saltedPassword)));
        done.push(u.name);
      }
    }
    if (done.length > 0) ctx.services.logger.info({ users: done, principal: ctx.connection.session ? principalToString(ctx.connection.session.principal) : null, client: ctx.connection.remoteAddress }, 'SCRAM credentials altered');
    return {
      throttleTimeMs: 0,
      results: [...done.map((user) => ({ user, errorCode: 0, errorMessage: null })), ...[...errors].map(([user, e]) => ({ user, errorCode: e.code, errorMessage: e.message }))],
    };
  },
});
