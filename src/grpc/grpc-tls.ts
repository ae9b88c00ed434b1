// TLS of the gRPC door from the core's TlsFiles: grpc-js takes its certificates from a
// certificate provider, fed here with the files now and each time TlsFiles reloads them, so
// a rotated certificate serves new connections without a restart (as on the other doors).

import { createPrivateKey } from 'node:crypto';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import type { SslClientAuth } from '../agent/config/security-config.js';
import type { TlsFiles, TlsMaterial } from '../agent/security/tls-files.js';

type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

/** grpc-js takes an unencrypted PEM key: an encrypted one is opened here, in memory only. */
function plainKey(m: TlsMaterial): Buffer {
  if (m.passphrase === undefined) return m.key;
  return Buffer.from(createPrivateKey({ key: m.key, passphrase: m.passphrase }).export({ type: 'pkcs8', format: 'pem' }));
}

class TlsFilesCertificateProvider implements experimental.CertificateProvider {
  private readonly identity = new Set<IdentityListener>();
  private readonly ca = new Set<CaListener>();
  private material: TlsMaterial;

  constructor(tls: TlsFiles) {
    this.material = tls.material;
    tls.onChange((m) => {
      this.material = m;
      for (const l of this.identity) l({ certificate: m.cert, privateKey: plainKey(m) });
      for (const l of this.ca) l(m.ca ? { caCertificate: m.ca } : null);
    });
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identity.add(listener);
    // after the caller returns: grpc-js registers its server's watcher only once this returned
    queueMicrotask(() => this.identity.has(listener) && listener({ certificate: this.material.cert, privateKey: plainKey(this.material) }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identity.delete(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.ca.add(listener);
    queueMicrotask(() => this.ca.has(listener) && listener(this.material.ca ? { caCertificate: this.material.ca } : null));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.ca.delete(listener);
  }
}

/** Server credentials that follow the files; client certificates as ssl.client.auth says. */
export function reloadingServerCredentials(tls: TlsFiles, clientAuth: SslClientAuth): ServerCredentials {
  const provider = new TlsFilesCertificateProvider(tls);
  const askForClientCertificates = clientAuth !== 'none' && tls.material.ca !== undefined;
  // grpc-js 1.14 hands its first argument on as the identity provider and its second as the
  // CA provider (its parameter names say the opposite); a CA provider makes it ask for client certificates
  return experimental.createCertificateProviderServerCredentials(provider, askForClientCertificates ? provider : null, clientAuth === 'required');
}
