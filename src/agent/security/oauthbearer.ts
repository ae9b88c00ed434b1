// SASL OAUTHBEARER (RFC 7628) as Kafka speaks it (KIP-255): the client's one message is a GS2
// header and key=value pairs separated by 0x01, `auth=Bearer <JWT>` among them. A refused
// token is answered with a JSON error as a challenge; the client acknowledges it with a lone
// 0x01 and the login then fails (RFC 7628 §3.2.3).

/** The token of a client's initial response, or why it is unacceptable (never the token). */
export function parseOAuthBearerMessage(message: Buffer): { readonly token: string; readonly authzid?: string } | { readonly error: string } {
  const text = message.toString('utf8');
  const sep = text.indexOf('\u0001');
  if (sep < 0) return { error: 'invalid OAUTHBEARER message: no key/value pairs' };
  const gs2 = text.slice(0, sep);
  const header = /^([ny]|p=[^,]*),(a=[^,]*)?,$/.exec(gs2);
  if (!header) return { error: 'invalid OAUTHBEARER message: bad GS2 header' };
  if (header[1]!.startsWith('p=')) return { error: 'OAUTHBEARER channel binding is not supported' };
  if (!text.endsWith('\u0001\u0001')) return { error: 'invalid OAUTHBEARER message: not terminated by two 0x01' };
  let auth: string | undefined;
  for (const pair of text.slice(sep + 1, -2).split('\u0001')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { error: 'invalid OAUTHBEARER message: a key/value pair without a key' };
    if (pair.slice(0, eq) === 'auth') auth = pair.slice(eq + 1);
  }
  if (auth === undefined) return { error: 'invalid OAUTHBEARER message: no auth value' };
  const bearer = /^Bearer +(\S+)$/i.exec(auth);
  if (!bearer) return { error: 'invalid OAUTHBEARER message: auth is not a Bearer token' };
  const authzid = header[2]?.slice(2);
  return { token: bearer[1]!, ...(authzid ? { authzid } : {}) };
}

/** The challenge that tells the client its token was refused (RFC 7628 §3.2.2). */
export function oauthBearerErrorChallenge(): Buffer {
  return Buffer.from(JSON.stringify({ status: 'invalid_token' }), 'utf8');
}

/** The client's acknowledgement of an error challenge: a single 0x01. */
export function isOAuthBearerErrorAck(message: Buffer): boolean {
  return message.length === 1 && message[0] === 0x01;
}
