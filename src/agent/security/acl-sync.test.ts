import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { AclStore, StoredAclBinding } from '../../metadata/metadata-store.js';
import { AclOperation, ResourceType } from './acl.js';
import { AclSync } from './acl-sync.js';
import { Authorizer } from './authorizer.js';
import { userPrincipal } from './principal.js';

class MemoryAclStore implements AclStore {
  bindings: StoredAclBinding[] = [];
  revision = 0;
  lists = 0;
  async create(b: readonly StoredAclBinding[]) {
    this.bindings.push(...b);
    this.revision++;
  }
  async list() {
    this.lists++;
    return [...this.bindings];
  }
  async delete() {
    return [];
  }
  async version() {
    return this.revision;
  }
}

const alice = { principal: userPrincipal('alice'), host: '127.0.0.1', client: '127.0.0.1:1' };
const read = { resourceType: 2, resourceName: 'orders', patternType: 3, principal: 'User:alice', host: '*', operation: 3, permission: 3 };

describe('AclSync', () => {
  it('loads at start, applies a change within one poll, and lists again only when the version moved', async () => {
    const store = new MemoryAclStore();
    const authorizer = new Authorizer({ superUsers: [], allowEveryoneIfNoAclFound: false });
    const sync = new AclSync({ store, authorizer, logger: pino({ level: 'silent' }), pollIntervalMs: 20 });
    await store.create([read]);
    await sync.start();
    try {
      expect(authorizer.authorize(alice, AclOperation.READ, ResourceType.TOPIC, 'orders', false)).toBe(true);
      expect(store.lists).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(store.lists).toBe(1);
      await store.create([{ ...read, resourceName: 'payments' }]);
      const started = Date.now();
      while (!authorizer.authorize(alice, AclOperation.READ, ResourceType.TOPIC, 'payments', false)) {
        if (Date.now() - started > 1_000) throw new Error('change not applied within a second');
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(store.lists).toBe(2);
    } finally {
      await sync.stop();
    }
  });

  it('skips stored bindings it cannot apply and keeps the others', async () => {
    const store = new MemoryAclStore();
    const authorizer = new Authorizer({ superUsers: [], allowEveryoneIfNoAclFound: false });
    await store.create([{ ...read, resourceType: 99 }, read]);
    const sync = new AclSync({ store, authorizer, logger: pino({ level: 'silent' }) });
    expect(await sync.refresh()).toBe(true);
    expect(authorizer.aclCount).toBe(1);
    expect(await sync.refresh()).toBe(false);
  });
});
