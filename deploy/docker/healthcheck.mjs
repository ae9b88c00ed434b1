#!/usr/bin/env node
// The image's HEALTHCHECK: exit 0 when GET /ready answers 200, 1 otherwise (not listening,
// 503 with the checks that failed, or no answer within 4 s; the agent's own checks give up
// after 2 s). The port and host come from the same environment variables as `streamhouse
// start`: STREAMHOUSE_HTTP_LISTENER (host:port), else STREAMHOUSE_HTTP_PORT, else 8080. A
// listener on every interface is asked on loopback. Plain node: the slim image has no curl.

const DEFAULT_PORT = 8080;

/** The /ready URL of the agent this environment configures. */
function readyUrl(env = process.env) {
  const listener = env.STREAMHOUSE_HTTP_LISTENER?.trim();
  const port = env.STREAMHOUSE_HTTP_PORT?.trim();
  let host = '127.0.0.1';
  let p = DEFAULT_PORT;
  if (listener) {
    const at = listener.lastIndexOf(':');
    const h = listener.slice(0, at).replace(/^\[(.*)\]$/, '$1');
    p = Number(listener.slice(at + 1));
    if (h !== '' && h !== '0.0.0.0' && h !== '::') host = h;
  } else if (port) {
    p = Number(port);
  }
  return `http://${host.includes(':') ? `[${host}]` : host}:${p}/ready`;
}

async function main() {
  const url = readyUrl();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    const body = await res.text();
    if (res.status === 200) return 0;
    console.error(`${url}: ${res.status} ${body.slice(0, 500)}`);
  } catch (err) {
    console.error(`${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return 1;
}

process.exitCode = await main();
