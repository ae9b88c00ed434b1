import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';

// On a SASL listener the connection's SASL server (src/broker/sasl-server.ts) takes these
// requests while a login is due. They reach the handlers only where no login is in
// progress: on PLAINTEXT and SSL listeners, or after authentication (without
// re-authentication support). Kafka answers them there with ILLEGAL_SASL_STATE.

export const saslHandshakeHandler = defineHandler({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx) {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: ctx.connection.securityProtocol === 'SASL_PLAINTEXT' || ctx.connection.securityProtocol === 'SASL_SSL' ? [...ctx.services.config.security.saslEnabledMechanisms] : [] };
  },
});

export const saslAuthenticateHandler = defineHandler({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle() {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received after successful authentication', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
  },
});
