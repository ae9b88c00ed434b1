/**
 * A URL as it may appear in logs, error messages and DescribeConfigs: the password becomes
 * "***" and the query string (which may carry `password=` or key material) is dropped.
 */
export function redactUrl(url: string): string {
  const withoutQuery = url.split('?')[0] ?? '';
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)(.*)$/i.exec(withoutQuery);
  if (match === null) return withoutQuery.includes('@') ? '<unparseable URL>' : withoutQuery;
  const [, scheme = '', authority = '', path = ''] = match;
  // The last "@" ends the userinfo: an unencoded "@" inside a password must not leak its tail.
  const at = authority.lastIndexOf('@');
  if (at < 0) return `${scheme}${authority}${path}`;
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`;
  return `${scheme}${user}@${authority.slice(at + 1)}${path}`;
}
