import { applyJobHostOverrides, parseHostConfig, parseTimeSpan } from '../../../dev/host/hostJson';

test('parses .NET TimeSpan strings as host.json uses them', () => {
    expect(parseTimeSpan('00:00:30')).toBe(30_000);
    expect(parseTimeSpan('00:01:00')).toBe(60_000);
    expect(parseTimeSpan('00:00:00.500')).toBe(500);
    expect(parseTimeSpan('01:02:03.5')).toBe(3_723_500);
    expect(parseTimeSpan('1.00:00:00')).toBe(86_400_000);
    expect(parseTimeSpan('00:05')).toBe(300_000);
    expect(() => parseTimeSpan('30s', 'visibilityTimeout')).toThrow(/visibilityTimeout: '30s' is not a TimeSpan/);
});

test('defaults follow the Storage extension when host.json says nothing', () => {
    expect(parseHostConfig({})).toEqual({
        queues: {
            batchSize: 16,
            newBatchThreshold: 8,
            maxDequeueCount: 5,
            visibilityTimeoutMs: 0,
            maxPollingIntervalMs: 60_000,
            messageEncoding: 'base64',
        },
        blobs: { poisonBlobThreshold: 5, maxDegreeOfParallelism: 8 },
        singleton: { listenerLockPeriodMs: 60_000, listenerLockRecoveryPollingIntervalMs: 60_000 },
        routePrefix: 'api',
        functionTimeoutMs: undefined,
    });
});

test('reads extensions.queues case-insensitively; newBatchThreshold defaults to half the batch', () => {
    const config = parseHostConfig({
        functionTimeout: '00:10:00',
        Extensions: {
            Queues: { BatchSize: 5, maxdequeuecount: '2', visibilityTimeout: '00:00:30', messageEncoding: 'None' },
            http: { routePrefix: '/v1/' },
        },
    });
    expect(config.queues).toMatchObject({
        batchSize: 5,
        newBatchThreshold: 2,
        maxDequeueCount: 2,
        visibilityTimeoutMs: 30_000,
        messageEncoding: 'none',
    });
    expect(config.blobs.poisonBlobThreshold).toBe(2);
    expect(config.routePrefix).toBe('v1');
    expect(config.functionTimeoutMs).toBe(600_000);
    expect(parseHostConfig({ functionTimeout: '-1' }).functionTimeoutMs).toBeUndefined();
    expect(parseHostConfig({ extensions: { http: { routePrefix: '' } } }).routePrefix).toBe('');
});

test('refuses values the host would refuse', () => {
    expect(() => parseHostConfig({ extensions: { queues: { batchSize: 33 } } })).toThrow(/batchSize: '33'/);
    expect(() => parseHostConfig({ extensions: { queues: { messageEncoding: 'utf8' } } })).toThrow(
        /must be 'base64' or 'none'/,
    );
    expect(() => parseHostConfig({ extensions: { queues: { maxDequeueCount: 0 } } })).toThrow(/maxDequeueCount/);
    // A storage lease lasts 15 to 60 s (SingletonOptions); recovery polling is at least 15 s.
    expect(() => parseHostConfig({ singleton: { listenerLockPeriod: '00:02:00' } })).toThrow(/listenerLockPeriod/);
    expect(() => parseHostConfig({ singleton: { listenerLockRecoveryPollingInterval: '00:00:05' } })).toThrow(
        /listenerLockRecoveryPollingInterval/,
    );
    expect(
        parseHostConfig({
            Singleton: { ListenerLockPeriod: '00:00:15', listenerLockRecoveryPollingInterval: '00:05:00' },
        }).singleton,
    ).toEqual({ listenerLockPeriodMs: 15_000, listenerLockRecoveryPollingIntervalMs: 300_000 });
});

test('AzureFunctionsJobHost__ settings override host.json values, matching keys case-insensitively', () => {
    const json = { extensions: { queues: { batchSize: 16, messageEncoding: 'base64' } } };
    const overridden = applyJobHostOverrides(json, {
        AzureFunctionsJobHost__extensions__queues__batchSize: '1',
        AzureFunctionsJobHost__Extensions__Queues__MessageEncoding: 'none',
        AzureFunctionsJobHost__functionTimeout: '00:01:00',
        Unrelated: 'x',
    });
    expect(overridden).toEqual({
        extensions: { queues: { batchSize: '1', messageEncoding: 'none' } },
        functionTimeout: '00:01:00',
    });
    expect(json.extensions.queues.batchSize).toBe(16);
    expect(parseHostConfig(overridden).queues).toMatchObject({ batchSize: 1, newBatchThreshold: 0 });
});
