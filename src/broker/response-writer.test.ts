import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseWriter, TLS_WRITE_WINDOW_BYTES } from './response-writer.js';

let dir: string;
let key: Buffer;
let cert: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'response-writer-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Pair {
  readonly server: Socket;
  /** Resolves with every byte the client read once the server ends the connection. */
  readonly received: Promise<Buffer>;
  readonly close: () => void;
}

/** A connected socket pair over loopback, TLS or plain, the client reading everything. */
async function socketPair(secure: boolean): Promise<Pair> {
  let accept!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => (accept = r));
  const server: Server = secure ? createTlsServer({ key, cert }, accept) : createNetServer(accept);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = secure ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect({ port, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  const received = new Promise<Buffer>((resolve, reject) => {
    client.on('data', (c: Buffer) => chunks.push(c));
    client.on('end', () => resolve(Buffer.concat(chunks)));
    client.on('error', reject);
  });
  const socket = await accepted;
  return { server: socket, received, close: () => { client.destroy(); socket.destroy(); server.close(); } };
}

function responses(): Buffer[][] {
  return [[randomBytes(10)], [randomBytes(3 * 1024 * 1024 + 7), Buffer.alloc(0), randomBytes(5)], [randomBytes(600 * 1024)], [randomBytes(1)]];
}

describe('ResponseWriter', () => {
  for (const secure of [true, false]) {
    it(`writes every response's bytes in order and ends after them (${secure ? 'TLS, paced' : 'plaintext'})`, async () => {
      const pair = await socketPair(secure);
      try {
        const writer = new ResponseWriter(pair.server, secure);
        const sent = responses();
        for (const r of sent) writer.write(r);
        if (secure) expect(writer.queuedBytes).toBeGreaterThan(0);
        writer.end();
        const got = await pair.received;
        expect(got.equals(Buffer.concat(sent.flat()))).toBe(true);
        expect(writer.queuedBytes).toBe(0);
      } finally {
        pair.close();
      }
    });
  }

  it('over TLS hands the socket no more than its window (plus one slice) at a time', async () => {
    const pair = await socketPair(true);
    try {
      const writer = new ResponseWriter(pair.server, true);
      const big = randomBytes(16 * 1024 * 1024);
      let most = 0;
      const watch = setInterval(() => (most = Math.max(most, pair.server.writableLength)), 1);
      writer.write([big.subarray(0, 8 * 1024 * 1024)]);
      most = Math.max(most, pair.server.writableLength);
      writer.write([big.subarray(8 * 1024 * 1024)]);
      writer.end();
      const got = await pair.received;
      clearInterval(watch);
      expect(got.equals(big)).toBe(true);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(TLS_WRITE_WINDOW_BYTES + 256 * 1024);
    } finally {
      pair.close();
    }
  });

  it('drops what is queued when the socket is gone, without throwing', async () => {
    const pair = await socketPair(true);
    const writer = new ResponseWriter(pair.server, true);
    writer.write([randomBytes(4 * 1024 * 1024)]);
    pair.close();
    expect(() => writer.write([randomBytes(10)])).not.toThrow();
  });
});
