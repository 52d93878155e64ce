/**
 * App settings as `func start` sees them: `Values` from local.settings.json in the app root, with
 * the process environment winning over the file (read by shared/localSettings.ts, which the `aos`
 * CLI shares). The merged set is written into process.env before the app loads, because app code
 * reads its settings from process.env in Azure too.
 */
import { HostStartupError } from './log';
import type { Settings } from '../../shared/localSettings';

export type { Settings } from '../../shared/localSettings';
type Env = Record<string, string | undefined>;

/** Puts every setting into the environment the app reads (process.env by default). */
export function applySettings(settings: Settings, env: Env = process.env): void {
    for (const [key, value] of Object.entries(settings)) {
        env[key] = value;
    }
}

/**
 * Resolves `%SettingName%` binding expressions (queue names, blob paths, schedules), the way
 * the host does at indexing time. An unknown setting stops start-up naming the setting.
 */
export function resolveBindingExpression(text: string, settings: Settings, where: string): string {
    return text.replace(/%([^%]+)%/g, (_match, name: string) => {
        const value = getSetting(settings, name);
        if (value === undefined) {
            throw new HostStartupError(
                `${where}: '%${name}%' does not resolve to a value: app setting '${name}' is not set.`,
            );
        }
        return value;
    });
}

/** A setting by name; like the host's configuration, an exact match first, then case-insensitively. */
export function getSetting(settings: Settings, name: string): string | undefined {
    if (settings[name] !== undefined) return settings[name];
    const lower = name.toLowerCase();
    const key = Object.keys(settings).find((candidate) => candidate.toLowerCase() === lower);
    return key === undefined ? undefined : settings[key];
}
