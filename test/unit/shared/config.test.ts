import { ConfigError, loadConfig, parseBaseUrl } from '../../../shared/config';

const base = {
    AltinnPlatformBaseUrl: 'https://platform.tt02.altinn.no/',
    AltinnAppsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
    MaskinportenBaseUrl: 'https://test.maskinporten.no',
    MaskinportenClientId: 'a1b2c3',
    MaskinportenScopes: 'altinn:serviceowner/instances.read  altinn:serviceowner/instances.write',
    MaskinportenKeyVaultUri: 'https://kv-aos.vault.azure.net/',
    MaskinportenSecretName: 'maskinporten-key',
};

function configError(env: Record<string, string | undefined>): ConfigError {
    try {
        loadConfig(env);
    } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
    }
    throw new Error('loadConfig accepted the settings');
}

test('a complete TT02 configuration loads with normalised origins and defaults', () => {
    const config = loadConfig(base);
    expect(config.platformBaseUrl).toBe('https://platform.tt02.altinn.no');
    expect(config.maskinporten.scopes).toEqual([
        'altinn:serviceowner/instances.read',
        'altinn:serviceowner/instances.write',
    ]);
    expect(config.maskinporten.key).toEqual({
        kind: 'keyVault',
        vaultUri: 'https://kv-aos.vault.azure.net',
        secretName: 'maskinporten-key',
    });
    expect(config.processedEventTypes).toEqual(['app.instance.process.completed']);
    expect(config.testMode).toBe(false);
    expect(config.downloadConcurrency).toBe(16);
    expect(config.feedback).toBeUndefined();
    expect(config.catchUpApps).toEqual([]);
});

test.each([
    ['AltinnPlatformBaseUrl', undefined, /AltinnPlatformBaseUrl: is required/],
    ['AltinnAppsBaseUrl', 'ttd.apps.tt02.altinn.no', /AltinnAppsBaseUrl: is not an absolute URL/],
    ['AltinnAppsBaseUrl', 'http://ttd.apps.tt02.altinn.no', /AltinnAppsBaseUrl: must use https/],
    ['MaskinportenBaseUrl', 'https://test.maskinporten.no/?x=1', /MaskinportenBaseUrl: must not carry a query/],
    ['MaskinportenClientId', '  ', /MaskinportenClientId: is required/],
    ['MaskinportenScopes', undefined, /MaskinportenScopes: is required/],
    ['AltinnTestMode', 'maybe', /AltinnTestMode: must be true or false/],
    ['DownloadConcurrency', '0', /DownloadConcurrency: must be a whole number from 1 to 64/],
    ['HttpRetryBudgetSeconds', '1.5', /HttpRetryBudgetSeconds: must be a whole number/],
    ['CatchUpApps', 'ttd/apps-test, ttd', /CatchUpApps: entries must look like org\/app, not "ttd"/],
    ['CatchUpFrom', '2026-01-01T00:00:00', /CatchUpFrom: must be an ISO 8601 time with a time zone/],
    ['MaskinportenSecretName', undefined, /MaskinportenSecretName: is required together with MaskinportenKeyVaultUri/],
])('%s=%s is refused with a message naming the setting', (setting, value, message) => {
    const error = configError({ ...base, [setting]: value });
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
});

test('no key source at all names the Key Vault setting and the local alternative', () => {
    const error = configError({ ...base, MaskinportenKeyVaultUri: undefined, MaskinportenSecretName: undefined });
    expect(error.setting).toBe('MaskinportenKeyVaultUri');
    expect(error.message).toMatch(/MaskinportenKey for local development/);
});

test('an inline key is accepted alone, refused together with Key Vault, and never echoed', () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----';
    const local = loadConfig({ ...base, MaskinportenKeyVaultUri: undefined, MaskinportenKey: secret });
    expect(local.maskinporten.key.kind).toBe('inline');
    const error = configError({ ...base, MaskinportenKey: secret });
    expect(error.setting).toBe('MaskinportenKey');
    expect(error.message).not.toContain('TOPSECRET');
});

test('plain http is accepted for loopback origins only (the local simulator)', () => {
    expect(parseBaseUrl('X', 'http://127.0.0.1:5101/')).toBe('http://127.0.0.1:5101');
    expect(parseBaseUrl('X', 'http://localhost:5102')).toBe('http://localhost:5102');
    expect(() => parseBaseUrl('X', 'http://10.0.0.5:5101')).toThrow(/must use https/);
});

test('feedback needs both settings, adds its event type to the processed ones, and refuses the completed event', () => {
    const config = loadConfig({
        ...base,
        FeedbackEventType: 'app.instance.process.movedTo.Task_2',
        FeedbackDataType: 'feedback',
    });
    expect(config.feedback).toEqual({
        eventType: 'app.instance.process.movedTo.Task_2',
        dataType: 'feedback',
        contentType: 'application/xml',
        templatePath: undefined,
    });
    expect(config.processedEventTypes).toContain('app.instance.process.movedTo.Task_2');
    expect(configError({ ...base, FeedbackDataType: 'feedback' }).setting).toBe('FeedbackEventType');
    expect(configError({ ...base, FeedbackEventType: 'app.instance.process.movedTo.Task_2' }).setting).toBe(
        'FeedbackDataType',
    );
    expect(
        configError({ ...base, FeedbackEventType: 'app.instance.process.completed', FeedbackDataType: 'f' }).message,
    ).toMatch(/refuses data once the process has ended/);
});

test('FeedbackContentType: a type the app maps to a file extension, without parameters', () => {
    const feedback = { ...base, FeedbackEventType: 'app.instance.process.movedTo.Task_2', FeedbackDataType: 'f' };
    expect(loadConfig({ ...feedback, FeedbackContentType: 'Application/JSON' }).feedback?.contentType).toBe(
        'application/json',
    );
    const withCharset = configError({ ...feedback, FeedbackContentType: 'application/xml; charset=utf-8' });
    expect(withCharset.setting).toBe('FeedbackContentType');
    expect(withCharset.message).toMatch(/without parameters such as charset/);
    expect(configError({ ...feedback, FeedbackContentType: 'application/x-unknown' }).message).toMatch(
        /is not one of application\/xml, text\/xml/,
    );
});

test('lists accept commas and spaces; catch-up apps and time parse', () => {
    const config = loadConfig({
        ...base,
        ProcessedEventTypes: 'app.instance.process.completed, app.instance.created',
        CatchUpApps: 'ttd/apps-test,ttd/other-app',
        CatchUpFrom: '2026-01-01T00:00:00+01:00',
        BrokerResources: 'res-a res-b',
    });
    expect(config.processedEventTypes).toEqual(['app.instance.process.completed', 'app.instance.created']);
    expect(config.catchUpApps).toEqual([
        { org: 'ttd', app: 'apps-test' },
        { org: 'ttd', app: 'other-app' },
    ]);
    expect(config.catchUpFrom?.toISOString()).toBe('2025-12-31T23:00:00.000Z');
    expect(config.brokerResources).toEqual(['res-a', 'res-b']);
});

describe('substatus', () => {
    test('unset: none; SubstatusLabel alone or with SubstatusDescription: the Substatus Altinn takes', () => {
        expect(loadConfig(base).substatus).toBeUndefined();
        expect(loadConfig({ ...base, SubstatusLabel: ' Mottatt ' }).substatus).toEqual({
            label: 'Mottatt',
            description: undefined,
        });
        expect(
            loadConfig({ ...base, SubstatusLabel: 'Mottatt', SubstatusDescription: 'Saken behandles.' }).substatus,
        ).toEqual({ label: 'Mottatt', description: 'Saken behandles.' });
    });

    test('a description without a label is refused, as Altinn refuses a substatus without a label', () => {
        const error = configError({ ...base, SubstatusDescription: 'Saken behandles.' });
        expect(error.setting).toBe('SubstatusLabel');
        expect(error.message).toMatch(/SubstatusLabel: is required when SubstatusDescription is set/);
    });
});

test('ReconcileApps defaults to CatchUpApps, and is named when malformed', () => {
    expect(loadConfig({ ...base, CatchUpApps: 'ttd/apps-test' }).reconcileApps).toEqual([
        { org: 'ttd', app: 'apps-test' },
    ]);
    expect(loadConfig({ ...base, CatchUpApps: 'ttd/apps-test', ReconcileApps: 'ttd/other' }).reconcileApps).toEqual([
        { org: 'ttd', app: 'other' },
    ]);
    expect(() => loadConfig({ ...base, ReconcileApps: 'apps-test' })).toThrow(
        /Setting ReconcileApps: entries must look like org\/app/,
    );
});
