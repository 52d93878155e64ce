import { ConfigError, loadConfig } from '../../../shared/config';
import { requiredSettingNames, settings, type SettingName } from '../../../shared/settings';

/*
 * The catalogue's rule "required = no default and not optional" must match what the code
 * refuses to start without: every other setting may be left unset.
 */

const examples = Object.fromEntries(Object.entries(settings).map(([name, spec]) => [name, spec.example])) as Record<
    SettingName,
    string
>;

function only(names: readonly SettingName[]): Record<string, string> {
    return Object.fromEntries(names.map((name) => [name, examples[name]]));
}

test('the required settings are the connection, the Altinn origins and the Maskinporten client and key', () => {
    expect(requiredSettingNames()).toEqual([
        'AzureWebJobsStorage',
        'AltinnPlatformBaseUrl',
        'AltinnAppsBaseUrl',
        'MaskinportenBaseUrl',
        'MaskinportenClientId',
        'MaskinportenScopes',
        'MaskinportenKeyVaultUri',
        'MaskinportenSecretName',
    ]);
});

test('with only the required settings, the configuration loads', () => {
    expect(() => loadConfig(only(requiredSettingNames()))).not.toThrow();
});

test.each(requiredSettingNames().filter((name) => name !== 'AzureWebJobsStorage'))(
    'without %s the configuration is refused naming it',
    (missing) => {
        const env = only(requiredSettingNames().filter((name) => name !== missing));
        expect(() => loadConfig(env)).toThrow(ConfigError);
        expect(() => loadConfig(env)).toThrow(new RegExp(`^Setting ${missing}: `));
    },
);

test('MaskinportenKey stands in for the settings it replaces', () => {
    const replaced = settings.MaskinportenKey.replaces;
    const names = requiredSettingNames().filter((name) => !replaced.includes(name));
    const env = { ...only(names), MaskinportenKey: 'inline key' };
    expect(loadConfig(env).maskinporten.key).toEqual({
        kind: 'inline',
        setting: 'MaskinportenKey',
        value: 'inline key',
    });
});
