/**
 * Every setting the config module reads (the catalogue in shared/settings.ts) is an app setting
 * in Azure, with the code's defaults, and storage is reached through the identity.
 */
import { storageConnection } from '../../shared/names';
import { settingNames, settings, type SettingSpec } from '../../shared/settings';
import {
    appSettingKeys,
    checkAppSettings,
    files,
    identityStorageSettings,
    loadInfra,
    replaceOnce,
} from './support/invariants';

const catalogue: Record<string, SettingSpec> = settings;
const deployed = settingNames.filter((name) => !catalogue[name].localOnly && name !== storageConnection);
const localOnly = settingNames.filter((name) => catalogue[name].localOnly);

describe('App settings', () => {
    let keys: Map<string, string>;
    beforeAll(async () => {
        keys = appSettingKeys(await loadInfra());
    });

    it.each(deployed)('%s (shared/settings.ts) is set by the function app module', (name) => {
        expect(keys.has(name)).toBe(true);
    });

    it.each(localOnly)('%s is local development only and is not set in Azure', (name) => {
        expect(keys.has(name)).toBe(false);
    });

    it(`${storageConnection} is identity-based: credential, client id and service URIs, no connection string`, () => {
        for (const key of identityStorageSettings) expect(keys.has(key)).toBe(true);
        expect(keys.get(`${storageConnection}__credential`)).toBe("'managedidentity'");
        expect(keys.has(storageConnection)).toBe(false);
    });

    it('take their values from parameters whose defaults are the code defaults, and keep Flex and Entra rules', async () => {
        expect(checkAppSettings(await loadInfra())).toEqual([]);
    });

    it('report a setting of the catalogue that the Bicep does not set', async () => {
        const infra = await loadInfra({ [files.functionApp]: replaceOnce('  BrokerResources: brokerResources\n', '') });
        expect(checkAppSettings(infra)).toContain(
            'app setting BrokerResources (shared/settings.ts) is not set by infra/app/functionapp.bicep',
        );
    });

    it('report a local-only setting, a connection string, or a default that differs from the code', async () => {
        const inline = await loadInfra({
            [files.functionApp]: replaceOnce(
                '  MaskinportenKid: maskinportenKid\n',
                "  MaskinportenKid: maskinportenKid\n  MaskinportenKey: 'inline'\n",
            ),
        });
        expect(checkAppSettings(inline)).toContain(
            'app setting MaskinportenKey is local development only and must not be set in Azure',
        );

        const connectionString = await loadInfra({
            [files.functionApp]: replaceOnce(
                "  AzureWebJobsStorage__credential: 'managedidentity'\n",
                "  AzureWebJobsStorage: 'UseDevelopmentStorage=true'\n",
            ),
        });
        expect(checkAppSettings(connectionString)).toEqual(
            expect.arrayContaining([
                'app setting AzureWebJobsStorage__credential is missing (identity-based AzureWebJobsStorage)',
                'app setting AzureWebJobsStorage must not be set on Flex Consumption / without keys',
            ]),
        );

        const otherDefault = await loadInfra({
            [files.main]: replaceOnce(
                "param catchUpSchedule string = '0 */10 * * * *'",
                "param catchUpSchedule string = '0 */5 * * * *'",
            ),
        });
        expect(checkAppSettings(otherDefault)).toContain(
            "param catchUpSchedule defaults to 0 */5 * * * *, the code's default is 0 */10 * * * *",
        );
    });

    it("report a Key Vault URI that is not the created vault's", async () => {
        const infra = await loadInfra({
            [files.main]: replaceOnce(
                '    maskinportenKeyVaultUri: keyVault.outputs.uri\n',
                "    maskinportenKeyVaultUri: 'https://elsewhere'\n",
            ),
        });
        expect(checkAppSettings(infra)).toContain(
            "maskinportenKeyVaultUri must be the created vault's URI (keyVault.outputs.uri)",
        );
    });

    it('report settings Flex Consumption rejects', async () => {
        const infra = await loadInfra({
            [files.functionApp]: replaceOnce(
                '  AZURE_CLIENT_ID: identityClientId\n',
                "  AZURE_CLIENT_ID: identityClientId\n  FUNCTIONS_WORKER_RUNTIME: 'node'\n",
            ),
        });
        expect(checkAppSettings(infra)).toContain(
            'app setting FUNCTIONS_WORKER_RUNTIME must not be set on Flex Consumption / without keys',
        );
    });
});
