import { decodeRequestBody, type ApiKey } from '../protocol/api-codec.js';
import type { Reader } from '../protocol/primitives/reader.js';
import type { ApiHandler, NO_RESPONSE, RequestContext } from './handler.js';

export interface AdvertisedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** What a handler answers, before the codec encodes it (typed per API inside its route). */
export type HandlerResult = object | typeof NO_RESPONSE;

/** One API's entry in the dispatch table: its versions, and a decoder bound to its handler. */
export interface ApiRoute extends AdvertisedApi {
  /**
   * Decodes the request body (throws on a malformed one) and returns the call that handles it,
   * so the connection can queue the request only once its body is known to be readable.
   */
  decode(apiVersion: number, reader: Reader): (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;
}

/** The dispatch table by API key; ApiVersions answers from it, so it can never drift. */
export class HandlerRegistry {
  private readonly routes = new Map<number, ApiRoute>();

  register<K extends ApiKey>(handler: ApiHandler<K>): this {
    if (this.routes.has(handler.apiKey)) throw new Error(`duplicate handler for API key ${handler.apiKey}`);
    this.routes.set(handler.apiKey, {
      apiKey: handler.apiKey,
      minVersion: handler.minVersion,
      maxVersion: handler.maxVersion,
      // typed by K here, so dispatch needs no casts
      decode: (apiVersion, reader) => {
        const body = decodeRequestBody(handler.apiKey, apiVersion, reader);
        return (ctx) => handler.handle(ctx, body);
      },
    });
    return this;
  }

  get(apiKey: number): ApiRoute | undefined {
    return this.routes.get(apiKey);
  }

  advertised(): AdvertisedApi[] {
    return [...this.routes.values()]
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
