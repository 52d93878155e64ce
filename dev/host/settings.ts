/**
 * App settings as `func start` sees them: `Values` from local.settings.json in the app root,
 * with the process environment winning over the file. The merged set is written into
 * process.env before the app loads, because app code reads its settings from process.env in
 * Azure too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostStartupError, errorMessage } from './log';

export type Settings = Readonly<Record<string, string>>;
type Env = Record<string, string | undefined>;

export const localSettingsFile = 'local.settings.json';

/** Reads `Values` of local.settings.json (if present); non-string values are stringified. */
export function readLocalSettings(appRoot: string): Record<string, string> {
    const parsed = readLocalSettingsFile(appRoot);
    if (!parsed) return {};
    const file = join(appRoot, localSettingsFile);
    if (parsed.IsEncrypted === true) {
        throw new HostStartupError(
            `${file} is encrypted ("IsEncrypted": true); the local host reads plain values only.`,
        );
    }
    const values = parsed.Values ?? {};
    if (!isRecord(values)) throw new HostStartupError(`${file}: "Values" must be an object of strings.`);
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        if (value === null || value === undefined) continue;
        result[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    return result;
}

/** `Host.LocalHttpPort` of local.settings.json: func's default port when --port is not given. */
export function readLocalHttpPort(appRoot: string): number | undefined {
    const host = readLocalSettingsFile(appRoot)?.Host;
    const port = isRecord(host) ? Number(host.LocalHttpPort) : Number.NaN;
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

function readLocalSettingsFile(appRoot: string): Record<string, unknown> | undefined {
    const file = join(appRoot, localSettingsFile);
    if (!existsSync(file)) return undefined;
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
        throw new HostStartupError(`${file} is not valid JSON: ${errorMessage(error)}`);
    }
    if (!isRecord(parsed)) throw new HostStartupError(`${file} must hold a JSON object.`);
    return parsed;
}

/** local.settings.json Values overlaid by the environment (environment wins, as with func). */
export function mergeSettings(localValues: Record<string, string>, env: Env): Settings {
    const merged: Record<string, string> = { ...localValues };
    for (const [key, value] of Object.entries(env)) {
        if (value !== undefined) merged[key] = value;
    }
    return merged;
}

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

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
