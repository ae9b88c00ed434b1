// Test certificates made with openssl at test time (no key is committed): a CA, the broker's
// certificate for localhost/127.0.0.1, and client certificates.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../test-kit/run-command.js';

export interface TestPki {
  readonly dir: string;
  readonly caPem: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Issues a certificate signed by the CA; returns the paths of its PEM files. */
  client(name: string, subject: string): Promise<{ cert: string; key: string }>;
  /** Issues a new server certificate (a rotation) into the given paths. */
  reissueServer(subject?: string): Promise<void>;
  cleanup(): void;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await runCommand('openssl', args.map((a) => a.replace('{dir}', cwd)), { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'streamhouse-pki-'));
  const p = (f: string) => join(dir, f);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=StreamHouse Test CA', '-keyout', p('ca.key'), '-out', p('ca.pem')], dir);
  const issue = async (base: string, subject: string, serverExt: boolean) => {
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', p(`${base}.key.tmp`), '-out', p(`${base}.csr`)], dir);
    writeFileSync(p(`${base}.ext`), serverExt ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    await openssl(['x509', '-req', '-in', p(`${base}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p(`${base}.ext`), '-out', p(`${base}.pem.tmp`)], dir);
    // both files replaced at once as far as a reader polling them can tell (key first)
    writeFileSync(p(`${base}.key`), readFileSync(p(`${base}.key.tmp`)));
    writeFileSync(p(`${base}.pem`), readFileSync(p(`${base}.pem.tmp`)));
  };
  await issue('server', '/CN=localhost', true);
  return {
    dir,
    caPem: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    async client(name, subject) {
      await issue(name, subject, false);
      return { cert: p(`${name}.pem`), key: p(`${name}.key`) };
    },
    async reissueServer(subject = '/CN=localhost/O=Rotated') {
      await issue('server', subject, true);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
