// A small client of the REST API for tests: every call names the route template it exercises
// (`GET /topics/{topic}`), so a test can check that every route of the OpenAPI document was.

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly contentType: string;
}

export class RestApiClient {
  /** `METHOD /template` of every call made, as the OpenAPI document names routes. */
  readonly exercised = new Set<string>();

  constructor(readonly baseUrl: string) {}

  /**
   * Calls `method template` with `{name}` placeholders filled from `params`. A string body is
   * sent as is (for malformed JSON); anything else as JSON.
   */
  async call(method: string, template: string, opts: { params?: Record<string, string | number>; query?: Record<string, string | number>; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiAnswer> {
    this.exercised.add(`${method} ${template}`);
    let path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = opts.params?.[name];
      if (v === undefined) throw new Error(`no value for {${name}} in ${template}`);
      return encodeURIComponent(String(v));
    });
    if (opts.query) path += `?${new URLSearchParams(Object.entries(opts.query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
    const init: RequestInit = { method, headers: { ...opts.headers } };
    if (opts.body !== undefined) {
      init.body = typeof opts.body === 'string' || opts.body instanceof Uint8Array ? (opts.body as string) : JSON.stringify(opts.body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}/api/v1${path}`, init);
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    return { status: res.status, body: text === '' ? undefined : contentType.includes('json') ? (JSON.parse(text) as unknown) : text, contentType };
  }
}
