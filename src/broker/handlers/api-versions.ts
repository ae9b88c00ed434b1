import { ApiKey } from '../../protocol/api-codec.js';
import { defineHandler } from '../handler.js';
import type { HandlerRegistry } from '../handler-registry.js';

export function apiVersionsHandler(registry: HandlerRegistry) {
  return defineHandler({
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, request) {
      if (ctx.apiVersion >= 3) {
        ctx.connection.clientSoftwareName = request.clientSoftwareName;
        ctx.connection.clientSoftwareVersion = request.clientSoftwareVersion;
      }
      return { errorCode: 0, apiKeys: registry.advertised(), throttleTimeMs: 0 };
    },
  });
}
