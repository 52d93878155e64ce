/**
 * Settings: every setting of the catalogue (shared/settings.ts) parsed as the functions parse it,
 * every problem named at once rather than the first only, and warnings for values that parse but
 * are probably not what the owner meant.
 */
import { altinnEnvironmentOf, maskinportenEnvironmentOf } from '../altinn/environments';
import { ConfigError, loadConfig, type AppConfig } from '../config';
import { timerSchedule } from '../schedules';
import { settingNames, settings, type SettingName } from '../settings';
import { recoveryWarnings } from '../status/recoveryPart';
import { failed, ok, timed, warning, type CheckResult, type Finding } from './report';

type Env = Record<string, string | undefined>;

const scheduleSettings = settingNames.filter((name) => name.endsWith('Schedule'));

function loadAll(env: Env): AppConfig {
    const config = loadConfig(env);
    for (const name of scheduleSettings) timerSchedule(name, env);
    return config;
}

/**
 * Parses the settings, and after each problem parses again with a stand-in for the setting (its
 * catalogue example, or else nothing), so that one run names every setting that is wrong.
 */
export function parseSettings(env: Env): { config?: AppConfig; problems: ConfigError[] } {
    const trial: Env = { ...env };
    const problems: ConfigError[] = [];
    const tries = new Map<string, number>();
    for (;;) {
        try {
            const config = loadAll(trial);
            return { config: problems.length === 0 ? config : undefined, problems };
        } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            const tried = tries.get(error.setting) ?? 0;
            if (tried === 0) problems.push(error);
            if (tried >= 2) return { problems };
            tries.set(error.setting, tried + 1);
            const spec = (settings as Record<string, { example?: string }>)[error.setting];
            trial[error.setting] = tried === 0 && spec ? spec.example : undefined;
        }
    }
}

export interface SettingsCheck {
    results: CheckResult[];
    /** The configuration, when every setting parsed. */
    config?: AppConfig;
}

export async function checkSettings(env: Env, now: Date = new Date()): Promise<SettingsCheck> {
    let parsed: ReturnType<typeof parseSettings> = { problems: [] };
    const parse = await timed('settings', 'Settings', () => {
        parsed = parseSettings(env);
        const set = settingNames.filter((name) => env[name]?.trim()).length;
        return parsed.problems.length === 0
            ? ok(`every setting parsed (${set} of ${settingNames.length} set, the others at their defaults)`)
            : failed(
                  `${parsed.problems.length} setting(s) wrong: ${parsed.problems.map((p) => p.setting).join(', ')}`,
                  'fix each setting named below in the function app settings (local.settings.json locally); the checks that need Altinn did not run',
              );
    });
    const results = [parse];
    for (const problem of parsed.problems) {
        results.push(
            await timed('settings', `Setting ${problem.setting}`, () =>
                failed(problem.message, `set ${problem.setting} as docs/settings.md describes`),
            ),
        );
    }
    if (parsed.config) {
        const config = parsed.config;
        for (const [name, finding] of oddValues(config, env, now)) {
            results.push(await timed('settings', name, () => finding));
        }
    }
    results.push(...(await misspelt(env)));
    return { results, config: parsed.config };
}

/** Values that parse but are likely wrong, each with what to do. */
function oddValues(config: AppConfig, env: Env, now: Date): [string, Finding][] {
    const found: [string, Finding][] = [];
    if (config.catchUpApps.length === 0 && config.reconcileApps.length === 0) {
        found.push([
            'Recovery (catch-up and reconciliation)',
            warning(
                'recovery is off: neither CatchUpApps nor ReconcileApps is set, so an event Altinn fails to push is never fetched and an instance without an event is never found',
                'set CatchUpApps to the apps you receive (org/app, comma separated); ReconcileApps defaults to it',
            ),
        ]);
    } else if (recoveryWarnings(config).length > 0) {
        // Turned off explicitly (CatchUpEnabled, ReconcileEnabled), or not both for the same apps: as the status page says it.
        found.push([
            'Recovery (catch-up and reconciliation)',
            warning(
                recoveryWarnings(config).join(' '),
                'set CatchUpEnabled and ReconcileEnabled to true (with azd: CATCH_UP_ENABLED, RECONCILE_ENABLED), and ReconcileApps to the apps of CatchUpApps or unset',
            ),
        ]);
    } else {
        found.push([
            'Recovery (catch-up and reconciliation)',
            ok(
                `catch-up: ${names(config.catchUpApps) || 'off'}; reconciliation: ${names(config.reconcileApps) || 'off'}`,
            ),
        ]);
    }
    const platform = altinnEnvironmentOf(config.platformBaseUrl);
    const apps = altinnEnvironmentOf(config.appsBaseUrl);
    const maskinporten = maskinportenEnvironmentOf(config.maskinporten.baseUrl);
    const environments = `AltinnPlatformBaseUrl is ${platform.name ?? 'not a known Altinn host'}, AltinnAppsBaseUrl ${apps.name ?? 'not a known Altinn host'}, MaskinportenBaseUrl ${maskinporten.name ?? 'not a known Maskinporten host'}`;
    const testing = (kind: string) => kind === 'test' || kind === 'local';
    if (
        platform.name !== apps.name ||
        (platform.kind === 'production') !== (maskinporten.kind === 'production') ||
        (testing(platform.kind) && !testing(maskinporten.kind))
    ) {
        found.push([
            'Environment',
            warning(
                environments,
                'use one environment throughout: TT02 and the AT/YT environments take test.maskinporten.no, production takes maskinporten.no',
            ),
        ]);
    } else {
        found.push(['Environment', ok(environments)]);
    }
    if (config.testMode && platform.kind === 'production') {
        found.push([
            'AltinnTestMode',
            warning(
                'AltinnTestMode is true against production Altinn; test=true only makes a Digdir token act as ttd in TT02',
                'set AltinnTestMode to false',
            ),
        ]);
    }
    const scopes = config.maskinporten.scopes;
    const missing = ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'].filter(
        (scope) => !scopes.includes(scope),
    );
    if (config.brokerResources.length > 0 && !scopes.includes('altinn:broker.read')) missing.push('altinn:broker.read');
    if (missing.length > 0) {
        found.push([
            'MaskinportenScopes',
            warning(
                `MaskinportenScopes lacks ${missing.join(', ')}, which the system needs to download and confirm`,
                'add the scopes to MaskinportenScopes and to the Maskinporten client',
            ),
        ]);
    }
    if (config.maskinporten.key.kind === 'inline' && (env.WEBSITE_SITE_NAME || env.WEBSITE_HOSTNAME)) {
        found.push([
            'MaskinportenKey',
            warning(
                'the signing key is an app setting (MaskinportenKey) in Azure; it is meant for local development',
                'put the key in Key Vault (MaskinportenKeyVaultUri, MaskinportenSecretName) and remove MaskinportenKey',
            ),
        ]);
    }
    if (config.catchUpFrom && config.catchUpFrom.getTime() > now.getTime()) {
        found.push([
            'CatchUpFrom',
            warning(
                `CatchUpFrom ${config.catchUpFrom.toISOString()} is in the future: the first catch-up skips every event before it`,
                'set CatchUpFrom to when the system should start receiving, or leave it out',
            ),
        ]);
    }
    return found;
}

/** A setting given in another case (CatchupApps) is not read at all. */
async function misspelt(env: Env): Promise<CheckResult[]> {
    const known = new Map(settingNames.map((name) => [name.toLowerCase(), name]));
    const results: CheckResult[] = [];
    for (const given of Object.keys(env)) {
        const meant: SettingName | undefined = known.get(given.toLowerCase());
        if (meant && meant !== given && !env[meant]) {
            results.push(
                await timed('settings', `Setting ${given}`, () =>
                    warning(`${given} is not read: the setting is spelt ${meant}`, `rename ${given} to ${meant}`),
                ),
            );
        }
    }
    return results;
}

function names(apps: AppConfig['catchUpApps']): string {
    return apps.map(({ org, app }) => `${org}/${app}`).join(', ');
}
