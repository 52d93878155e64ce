import { checkSettings, parseSettings } from '../../../shared/check/settingsCheck';
import type { CheckResult } from '../../../shared/check';

const tt02 = {
    AltinnPlatformBaseUrl: 'https://platform.tt02.altinn.no',
    AltinnAppsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
    MaskinportenBaseUrl: 'https://test.maskinporten.no',
    MaskinportenClientId: 'a1b2c3',
    MaskinportenScopes: 'altinn:serviceowner/instances.read altinn:serviceowner/instances.write',
    MaskinportenKeyVaultUri: 'https://kv-aos.vault.azure.net',
    MaskinportenSecretName: 'maskinporten-key',
    CatchUpApps: 'ttd/apps-test',
};

const byName = (results: CheckResult[], name: string) => results.find((result) => result.name === name);

test('parseSettings names every wrong setting in one run, not only the first', () => {
    const { config, problems } = parseSettings({
        ...tt02,
        MaskinportenBaseUrl: 'not a url',
        DownloadConcurrency: '0',
        ReconcileSchedule: 'every hour',
        MaskinportenClientId: '',
    });
    expect(config).toBeUndefined();
    expect(problems.map((problem) => problem.setting).sort()).toEqual([
        'DownloadConcurrency',
        'MaskinportenBaseUrl',
        'MaskinportenClientId',
        'ReconcileSchedule',
    ]);
    expect(problems.find((problem) => problem.setting === 'ReconcileSchedule')?.message).toMatch(
        /is not a six-field NCRONTAB schedule/,
    );
});

test('parseSettings ends on a rule a stand-in value cannot satisfy (both key settings set)', () => {
    const { config, problems } = parseSettings({ ...tt02, MaskinportenKey: '-----BEGIN PRIVATE KEY-----' });
    expect(config).toBeUndefined();
    expect(problems.map((problem) => problem.message)).toEqual([
        'Setting MaskinportenKey: set either MaskinportenKey or MaskinportenKeyVaultUri, not both',
    ]);
});

test('a sound TT02 configuration: every setting parsed, recovery on, one environment', async () => {
    const { results, config } = await checkSettings(tt02);
    expect(config?.platformBaseUrl).toBe('https://platform.tt02.altinn.no');
    expect(results.map((result) => [result.name, result.status])).toEqual([
        ['Settings', 'ok'],
        ['Recovery (catch-up and reconciliation)', 'ok'],
        ['Environment', 'ok'],
    ]);
    expect(byName(results, 'Environment')?.detail).toBe(
        'AltinnPlatformBaseUrl is tt02, AltinnAppsBaseUrl tt02, MaskinportenBaseUrl test',
    );
});

test('warns about recovery off, mixed environments, test mode in production and missing scopes', async () => {
    const { results } = await checkSettings({
        ...tt02,
        CatchUpApps: '',
        AltinnPlatformBaseUrl: 'https://platform.altinn.no',
        AltinnAppsBaseUrl: 'https://ttd.apps.altinn.no',
        AltinnTestMode: 'true',
        MaskinportenScopes: 'altinn:serviceowner/instances.read',
        BrokerResources: 'ttd-broker',
    });
    expect(byName(results, 'Recovery (catch-up and reconciliation)')).toMatchObject({
        status: 'warning',
        action: 'set CatchUpApps to the apps you receive (org/app, comma separated); ReconcileApps defaults to it',
    });
    expect(byName(results, 'Environment')).toMatchObject({
        status: 'warning',
        detail: 'AltinnPlatformBaseUrl is production, AltinnAppsBaseUrl production, MaskinportenBaseUrl test',
    });
    expect(byName(results, 'AltinnTestMode')?.status).toBe('warning');
    expect(byName(results, 'MaskinportenScopes')?.detail).toBe(
        'MaskinportenScopes lacks altinn:serviceowner/instances.write, altinn:broker.read, which the system needs to download and confirm',
    );
});

test('warns about an inline key in Azure, a future CatchUpFrom and a setting spelt in another case', async () => {
    const { results } = await checkSettings(
        {
            ...tt02,
            MaskinportenKeyVaultUri: '',
            MaskinportenSecretName: '',
            MaskinportenKey: '-----BEGIN PRIVATE KEY-----',
            WEBSITE_HOSTNAME: 'func-aos.azurewebsites.net',
            CatchUpFrom: '2030-01-01T00:00:00Z',
            BrokerresourceS: 'ttd-broker',
        },
        new Date('2026-06-01T00:00:00Z'),
    );
    expect(byName(results, 'MaskinportenKey')?.status).toBe('warning');
    expect(byName(results, 'CatchUpFrom')?.detail).toMatch(/^CatchUpFrom 2030-01-01T00:00:00.000Z is in the future/);
    expect(byName(results, 'Setting BrokerresourceS')).toMatchObject({
        status: 'warning',
        detail: 'BrokerresourceS is not read: the setting is spelt BrokerResources',
    });
});
