import type { ApiKey } from '../protocol/api-codec.js';
import type { ApiHandler } from './handler.js';

export interface AdvertisedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The dispatch table by API key; ApiVersions answers from it, so it can never drift. */
export class HandlerRegistry {
  private readonly handlers = new Map<number, ApiHandler>();

  register<K extends ApiKey>(handler: ApiHandler<K>): this {
    if (this.handlers.has(handler.apiKey)) throw new Error(`duplicate handler for API key ${handler.apiKey}`);
    this.handlers.set(handler.apiKey, handler as unknown as ApiHandler);
    return this;
  }

  get(apiKey: number): ApiHandler | undefined {
    return this.handlers.get(apiKey);
  }

  advertised(): AdvertisedApi[] {
    return [...this.handlers.values()]
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
