import type { ProxiedRequest } from '../../test-kit/s3-fault-proxy.js';

/** S3 requests by kind between two marks of a proxy's request log. */
export interface S3RequestCounts {
  readonly put: number;
  readonly head: number;
  readonly get: number;
  readonly list: number;
  readonly delete: number;
  readonly other: number;
  /** Requests answered with a status >= 400 (or cut before an answer); a HEAD's 404 is an answer, not a failure. */
  readonly failed: number;
}

/** The broker's start-up probe of conditional writes is not part of the write path. */
const PROBE = '/.streamhouse-probe/';

/**
 * Counts what the broker asked of S3 through the proxy (test-kit/s3-fault-proxy,
 * which logs every request), from a mark taken earlier.
 */
export class S3RequestLog {
  constructor(private readonly requests: readonly ProxiedRequest[]) {}

  mark(): number {
    return this.requests.length;
  }

  since(mark: number): S3RequestCounts {
    const c = { put: 0, head: 0, get: 0, list: 0, delete: 0, other: 0, failed: 0 };
    for (let i = mark; i < this.requests.length; i++) {
      const r = this.requests[i]!;
      if (r.path.includes(PROBE)) continue;
      if (r.status === undefined || (r.status >= 400 && !(r.method === 'HEAD' && r.status === 404))) c.failed++;
      // a key path has at least /bucket/x; a bare /bucket GET is a listing
      const isBucket = r.path.split('/').filter(Boolean).length <= 1;
      switch (r.method) {
        case 'PUT':
          c.put++;
          break;
        case 'HEAD':
          c.head++;
          break;
        case 'GET':
          if (isBucket) c.list++;
          else c.get++;
          break;
        case 'DELETE':
          c.delete++;
          break;
        case 'POST':
          // DeleteObjects is a POST to the bucket
          if (isBucket) c.delete++;
          else c.other++;
          break;
        default:
          c.other++;
      }
    }
    return c;
  }
}
