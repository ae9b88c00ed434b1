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
          // read-only broker configs are refused (log.retention.ms and friends are dynamic, see below)
          { resourceType: BROKER, resourceName: '0', configs: [{ name: 'broker.id', configOperation: 0, value: '1' }] },
        ],
        validateOnly: false,
      }),
    );
    expect(r.responses!.map((x) => x.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_REQUEST]);
    const v = answered(await callHandler(kit, incrementalAlterConfigsHandler, 1, { resources: [{ resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.ms', configOperation: 0, value: '42' }] }], validateOnly: true }));
    expect(v.responses![0]!.errorCode).toBe(0);
    expect((await configsOf())['retention.ms']).toBe('1000');
  });

  it('sets dynamic broker configs per broker and cluster-wide; topics without their own value follow them', async () => {
    const broker = (resourceName: string, configs: Array<{ name: string; configOperation: number; value: string | null }>, validateOnly = false) =>
      callHandler(kit, incrementalAlterConfigsHandler, 1, { resources: [{ resourceType: BROKER, resourceName, configs }], validateOnly }).then((r) => answered(r).responses!.map((x) => ({ errorCode: x.errorCode, errorMessage: x.errorMessage })));
    const topic = (await kit.services.topics.get('cfg'))!;
    const effective = () => kit.services.topics.effectiveConfig(topic, 'retention.bytes');
    expect(effective()).toBe('-1');
    expect(await broker('', [{ name: 'log.retention.bytes', configOperation: 0, value: '5000' }], true)).toEqual([{ errorCode: 0, errorMessage: null }]);
    expect(effective()).toBe('-1');
    expect(await broker('', [{ name: 'log.retention.bytes', configOperation: 0, value: '5000' }])).toEqual([{ errorCode: 0, errorMessage: null }]);
    expect(effective()).toBe('5000');
    expect(await broker('0', [{ name: 'log.retention.bytes', configOperation: 0, value: '7000' }])).toEqual([{ errorCode: 0, errorMessage: null }]);
    expect(effective()).toBe('7000');
    // another broker's value does not apply here
    expect(await broker('9', [{ name: 'log.retention.bytes', configOperation: 0, value: '9000' }])).toEqual([{ errorCode: 0, errorMessage: null }]);
    expect(effective()).toBe('7000');
    expect(await broker('0', [{ name: 'log.retention.bytes', configOperation: 1, value: null }])).toEqual([{ errorCode: 0, errorMessage: null }]);
    expect(effective()).toBe('5000');
    expect(await broker('', [{ name: 'log.retention.bytes', configOperation: 0, value: 'lots' }])).toEqual([{ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value lots for configuration log.retention.bytes: must be an integer' }]);
    expect(await broker('', [{ name: 'num.partitions', configOperation: 0, value: '3' }, { name: 'listeners', configOperation: 0, value: 'x' }])).toEqual([{ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Cannot update these configs dynamically: Set(listeners)' }]);
    expect(kit.services.brokerConfigs.defaultPartitions).toBe(1);
    expect(await kit.store.cluster.listBrokerConfigs()).toEqual([
      { scope: '', name: 'log.retention.bytes', value: '5000' },
      { scope: '9', name: 'log.retention.bytes', value: '9000' },
    ]);
  });
});
