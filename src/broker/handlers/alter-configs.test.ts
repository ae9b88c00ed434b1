import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { alterConfigsHandler, incrementalAlterConfigsHandler } from './alter-configs.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';

const TOPIC = 2;
const BROKER = 4;

describe('AlterConfigs and IncrementalAlterConfigs', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
    await kit.services.topics.create({ name: 'cfg', partitions: 1, configs: { 'retention.ms': '1000', 'cleanup.policy': 'delete' } });
  });

  afterEach(async () => kit.close());

  const configsOf = async () => (await kit.services.topics.get('cfg'))!.configs;

  it('AlterConfigs replaces the whole override set and validates before writing', async () => {
    const ok = answered(await callHandler(kit, alterConfigsHandler, 1, { resources: [{ resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.bytes', value: '5000' }] }], validateOnly: false }));
    expect(ok.responses).toEqual([{ resourceType: TOPIC, resourceName: 'cfg', errorCode: 0, errorMessage: null }]);
    expect(await configsOf()).toEqual({ 'retention.bytes': '5000' });
    const bad = answered(await callHandler(kit, alterConfigsHandler, 2, { resources: [{ resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.ms', value: 'soon' }] }], validateOnly: false }));
    expect(bad.responses![0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(await configsOf()).toEqual({ 'retention.bytes': '5000' });
  });

  it('IncrementalAlterConfigs sets, deletes, appends and subtracts', async () => {
    const r = answered(
      await callHandler(kit, incrementalAlterConfigsHandler, 1, {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 'cfg',
            configs: [
              { name: 'retention.ms', configOperation: 1, value: null },
              { name: 'max.message.bytes', configOperation: 0, value: '2048' },
              { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
            ],
          },
        ],
        validateOnly: false,
      }),
    );
    expect(r.responses![0]!.errorCode).toBe(0);
    expect(await configsOf()).toEqual({ 'max.message.bytes': '2048', 'cleanup.policy': 'delete,compact' });
    answered(await callHandler(kit, incrementalAlterConfigsHandler, 0, { resources: [{ resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'cleanup.policy', configOperation: 3, value: 'delete' }] }], validateOnly: false }));
    expect((await configsOf())['cleanup.policy']).toBe('compact');
  });

  it('answers per resource: unknown topic, unknown key, append to a non-list, broker resources, validateOnly', async () => {
    const r = answered(
      await callHandler(kit, incrementalAlterConfigsHandler, 1, {
        resources: [
          { resourceType: TOPIC, resourceName: 'nope', configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }] },
          { resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'no.such.key', configOperation: 0, value: '1' }] },
          { resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.ms', configOperation: 2, value: '1' }] },
          { resourceType: BROKER, resourceName: '0', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '1' }] },
        ],
        validateOnly: false,
      }),
    );
    expect(r.responses!.map((x) => x.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_REQUEST]);
    const v = answered(await callHandler(kit, incrementalAlterConfigsHandler, 1, { resources: [{ resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.ms', configOperation: 0, value: '42' }] }], validateOnly: true }));
    expect(v.responses![0]!.errorCode).toBe(0);
    expect((await configsOf())['retention.ms']).toBe('1000');
  });
});
