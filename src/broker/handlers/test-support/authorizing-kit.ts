import pino from 'pino';
import { Authorizer } from '../../../agent/security/authorizer.js';
import { AclSync } from '../../../agent/security/acl-sync.js';
import { userPrincipal } from '../../../agent/security/principal.js';
import type { ConnectionState } from '../../handler.js';
import { handlerKit, newConnection, type HandlerKit } from './handler-kit.js';
import type { BrokerConfig } from '../../../agent/config/broker-config.js';

/** A handler kit whose core has an authorizer over the kit's store, `User:admin` a super user. */
export async function authorizingKit(config: Partial<BrokerConfig> = {}): Promise<HandlerKit & { as(user: string): ConnectionState; sync: AclSync }> {
  const kit = await handlerKit(config);
  const authorizer = new Authorizer({ superUsers: [userPrincipal('admin')], allowEveryoneIfNoAclFound: false });
  const sync = new AclSync({ store: kit.store.acls, authorizer, logger: pino({ level: 'silent' }) });
  await sync.refresh();
  const services = { ...kit.services, authorizer, aclSync: sync };
  return {
    ...kit,
    services,
    sync,
    as: (user) => ({ ...newConnection(), session: { principal: userPrincipal(user), mechanism: 'PLAIN', authenticatedAtMs: 0 } }),
  };
}
