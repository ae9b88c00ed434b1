import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../object-store.js';
import { S3RequestError } from './s3-errors.js';
import { S3ObjectStore } from './s3-object-store.js';

interface Page {
  keys: string[];
  next?: string;
  truncated?: boolean;
}

/** Answers ListObjectsV2 from canned pages keyed by continuation token ('' = first page). */
function fakeClient(pages: Record<string, Page | Error>) {
  const calls: { prefix: string | undefined; token: string | undefined }[] = [];
  let destroyed = false;
  const failures = new Map<string, number>();
  const client = {
    async send(command: unknown): Promise<unknown> {
      if (!(command instanceof ListObjectsV2Command)) throw new Error('unexpected command');
      const { Prefix, ContinuationToken } = command.input;
      calls.push({ prefix: Prefix, token: ContinuationToken });
      const token = ContinuationToken ?? '';
      const page = pages[token];
      if (page instanceof Error) {
        // Fails once, then answers the page stored under `${token}:after-error`.
        if (!failures.has(token)) {
          failures.set(token, 1);
          throw page;
        }
        return answer(pages[`${token}:after-error`] as Page);
      }
      return answer(page!);
    },
    destroy() {
      destroyed = true;
    },
  };
  function answer(page: Page): unknown {
    return {
      $metadata: { httpStatusCode: 200 },
      Contents: page.keys.map((Key, i) => ({ Key, Size: i + 1, LastModified: new Date(1_700_000_000_000) })),
      IsTruncated: page.truncated ?? page.next !== undefined,
      NextContinuationToken: page.next,
    };
  }
  return { client: client as unknown as S3Client, calls, isDestroyed: () => destroyed };
}

function store(client: S3Client): S3ObjectStore {
  return new S3ObjectStore(
    { bucket: 'b', prefix: 'root/', conditionalWrites: 'native', retryBaseDelayMs: 0 },
    { client },
  );
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

describe('S3ObjectStore.list pagination', () => {
  it('follows continuation tokens, strips the prefix and skips folder markers', async () => {
    const fake = fakeClient({
      '': { keys: ['root/a/2', 'root/a/1', 'root/a/'], next: 't1' },
      t1: { keys: ['root/a/3', 'root/b'], next: 't2' },
      t2: { keys: ['root/c'] },
    });
    const s = store(fake.client);
    const listed = await collect(s.list());
    expect(listed.map((o) => [o.key, o.size])).toEqual([
      ['a/1', 2],
      ['a/2', 1],
      ['a/3', 1],
      ['b', 2],
      ['c', 1],
    ]);
    expect(listed[0]!.lastModified.getTime()).toBe(1_700_000_000_000);
    expect(fake.calls).toEqual([
      { prefix: 'root/', token: undefined },
      { prefix: 'root/', token: 't1' },
      { prefix: 'root/', token: 't2' },
    ]);
    await s.close();
    expect(fake.isDestroyed()).toBe(true);
  });

  it('passes the prefix through and retries a failed page', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'SlowDown', Code: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const fake = fakeClient({
      '': { keys: ['root/p/1'], next: 't1' },
      t1: throttled,
      't1:after-error': { keys: ['root/p/2'] },
    });
    const s = store(fake.client);
    expect((await collect(s.list('p/'))).map((o) => o.key)).toEqual(['p/1', 'p/2']);
    expect(fake.calls.map((c) => `${c.prefix}@${c.token ?? ''}`)).toEqual(['root/p/@', 'root/p/@t1', 'root/p/@t1']);
    expect(s.stats()).toMatchObject({ retries: 1, requests: { ListObjectsV2: 3 } });
  });

  it('refuses pages that go backwards or end without a token', async () => {
    const backwards = fakeClient({ '': { keys: ['root/m'], next: 't1' }, t1: { keys: ['root/a'] } });
    const err = await collect(store(backwards.client).list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RequestError);
    expect((err as Error).message).toBe(
      'S3 ListObjectsV2 s3://b/root/ failed after 1 attempt: UnorderedListing: key "a" came after "m" across pages',
    );
    const tokenless = fakeClient({ '': { keys: ['root/a'], truncated: true } });
    const err2 = await collect(store(tokenless.client).list()).catch((e: unknown) => e);
    expect((err2 as S3RequestError).reason).toBe('MissingContinuationToken');
  });
});
