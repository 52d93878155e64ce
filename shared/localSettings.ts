/**
 * App settings as `func start` reads them on a developer's or operator's machine: `Values` of
 * local.settings.json in a folder, with the process environment winning over the file. Both the
 * local Functions host (dev/host) and the operator CLI (tools/, `aos`) read settings this way, so it
 * lives here, where neither has to reach into the other.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from './log';

export type Settings = Readonly<Record<string, string>>;
type Env = Record<string, string | undefined>;

export const localSettingsFile = 'local.settings.json';

/** local.settings.json cannot be used: the message names the file and what is wrong with it. */
export class LocalSettingsError extends Error {
    override readonly name = 'LocalSettingsError';
}

/** Reads `Values` of local.settings.json (if present); non-string values are stringified. */
export function readLocalSettings(folder: string): Record<string, string> {
    const parsed = readLocalSettingsFile(folder);
    if (!parsed) return {};
    const file = join(folder, localSettingsFile);
    if (parsed.IsEncrypted === true) {
        throw new LocalSettingsError(`${file} is encrypted ("IsEncrypted": true); only plain values can be read.`);
    }
    const values = parsed.Values ?? {};
    if (!isRecord(values)) throw new LocalSettingsError(`${file}: "Values" must be an object of strings.`);
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        if (value === null || value === undefined) continue;
        result[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    return result;
}

/** `Host.LocalHttpPort` of local.settings.json: func's default port when --port is not given. */
export function readLocalHttpPort(folder: string): number | undefined {
    const host = readLocalSettingsFile(folder)?.Host;
    const port = isRecord(host) ? Number(host.LocalHttpPort) : Number.NaN;
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

function readLocalSettingsFile(folder: string): Record<string, unknown> | undefined {
    const file = join(folder, localSettingsFile);
    if (!existsSync(file)) return undefined;
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
        throw new LocalSettingsError(`${file} is not valid JSON: ${errorMessage(error)}`);
    }
    if (!isRecord(parsed)) throw new LocalSettingsError(`${file} must hold a JSON object.`);
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

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
