// SASL PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`. The password is checked against
// the user's stored SCRAM credential (docs/security.md), so PLAIN and SCRAM share one user list.

export interface PlainCredentials {
  readonly user: string;
  readonly password: string;
}

/** The user and password of a PLAIN message, or a reason it is unacceptable (never the password). */
export function parsePlainMessage(token: Buffer): PlainCredentials | { readonly error: string; readonly user?: string } {
  const text = token.toString('utf8');
  const parts = text.split('\u0000');
  if (parts.length !== 3) return { error: 'invalid PLAIN message: expected authzid, user name and password separated by NUL' };
  const [authzid, user, password] = parts as [string, string, string];
  if (user === '') return { error: 'invalid PLAIN message: empty user name' };
  if (password === '') return { error: 'invalid PLAIN message: empty password', user };
  if (authzid !== '' && authzid !== user) return { error: 'an authorization id other than the user name is not supported', user };
  return { user, password };
}
