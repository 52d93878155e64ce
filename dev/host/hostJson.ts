/**
 * host.json as the Functions host reads it, limited to what this local host honours:
 * `extensions.queues` (the queue trigger's batching, retries and encoding), `extensions.blobs`
 * (blob trigger retries and parallelism), `extensions.http.routePrefix`, `functionTimeout` and
 * `singleton` (the listener locks of timers and the blob scan).
 * App settings named `AzureFunctionsJobHost__<path>` override host.json values, as in Azure
 * (e.g. `AzureFunctionsJobHost__extensions__queues__batchSize=1`); keys are case-insensitive.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostStartupError, errorMessage } from './log';
import type { Settings } from './settings';

export type MessageEncoding = 'base64' | 'none';

export interface QueueOptions {
    /** Messages fetched per receive (1..32). */
    readonly batchSize: number;
    /** A new batch is fetched once the messages in flight drop to this number. */
    readonly newBatchThreshold: number;
    readonly maxDequeueCount: number;
    /** Delay before a failed message becomes visible again. */
    readonly visibilityTimeoutMs: number;
    readonly maxPollingIntervalMs: number;
    readonly messageEncoding: MessageEncoding;
}

export interface BlobOptions {
    /** Attempts per blob version before the host gives up and writes to webjobs-blobtrigger-poison. */
    readonly poisonBlobThreshold: number;
    /** Blob-triggered invocations running at once per function. */
    readonly maxDegreeOfParallelism: number;
}

/**
 * host.json `singleton`, as SingletonOptions (azure-webjobs-sdk,
 * src/Microsoft.Azure.WebJobs.Host/Singleton/SingletonOptions.cs) bounds and defaults it.
 */
export interface SingletonOptions {
    /** The lease of a listener lock (timer, blob scan): 15 s to 60 s, default 60 s; renewed halfway. */
    readonly listenerLockPeriodMs: number;
    /** How often an instance without the lock tries again to take it: at least 15 s, default 1 minute. */
    readonly listenerLockRecoveryPollingIntervalMs: number;
}

export interface HostConfig {
    readonly queues: QueueOptions;
    readonly blobs: BlobOptions;
    readonly singleton: SingletonOptions;
    /** `api` unless host.json says otherwise; may be empty. */
    readonly routePrefix: string;
    /** Undefined means no timeout (host.json absent, or "-1"). */
    readonly functionTimeoutMs: number | undefined;
}

export const hostJsonFile = 'host.json';
const overridePrefix = 'AzureFunctionsJobHost__';

type Json = Record<string, unknown>;

export function loadHostConfig(appRoot: string, settings: Settings): HostConfig {
    const file = join(appRoot, hostJsonFile);
    let json: Json = {};
    if (existsSync(file)) {
        try {
            const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
            if (!isObject(parsed)) throw new Error('expected a JSON object');
            json = parsed;
        } catch (error) {
            throw new HostStartupError(`${file} is not valid: ${errorMessage(error)}`);
        }
    }
    return parseHostConfig(applyJobHostOverrides(json, settings));
}

/** Applies `AzureFunctionsJobHost__a__b=value` settings onto a copy of host.json. */
export function applyJobHostOverrides(json: Json, settings: Settings): Json {
    const copy = structuredClone(json);
    for (const [key, value] of Object.entries(settings)) {
        if (!key.toLowerCase().startsWith(overridePrefix.toLowerCase())) continue;
        const path = key.slice(overridePrefix.length).split('__').filter(Boolean);
        if (path.length === 0) continue;
        let node = copy;
        for (const segment of path.slice(0, -1)) {
            const existingKey = findKey(node, segment) ?? segment;
            const child = node[existingKey];
            if (!isObject(child)) node[existingKey] = {};
            node = node[existingKey] as Json;
        }
        const last = path[path.length - 1];
        node[findKey(node, last) ?? last] = value;
    }
    return copy;
}

export function parseHostConfig(json: Json): HostConfig {
    const queues = get(json, 'extensions', 'queues');
    const batchSize = intOption(queues, 'batchSize', 16, 1, 32);
    const maxDequeueCount = intOption(queues, 'maxDequeueCount', 5, 1, 1_000);
    const blobs = get(json, 'extensions', 'blobs');
    const routePrefix = get(json, 'extensions', 'http', 'routePrefix');
    const timeout = get(json, 'functionTimeout');
    const singleton = get(json, 'singleton');
    return {
        queues: {
            batchSize,
            newBatchThreshold: intOption(queues, 'newBatchThreshold', Math.floor(batchSize / 2), 0, 1_000),
            maxDequeueCount,
            visibilityTimeoutMs: timeSpanOption(queues, 'visibilityTimeout', 0),
            maxPollingIntervalMs: Math.max(1, timeSpanOption(queues, 'maxPollingInterval', 60_000)),
            messageEncoding: encodingOption(queues),
        },
        blobs: {
            poisonBlobThreshold: intOption(blobs, 'poisonBlobThreshold', maxDequeueCount, 1, 1_000),
            maxDegreeOfParallelism: intOption(blobs, 'maxDegreeOfParallelism', 8, 1, 1_000),
        },
        singleton: {
            listenerLockPeriodMs: boundedTimeSpan(singleton, 'listenerLockPeriod', 60_000, 15_000, 60_000),
            listenerLockRecoveryPollingIntervalMs: boundedTimeSpan(
                singleton,
                'listenerLockRecoveryPollingInterval',
                60_000,
                15_000,
                Number.MAX_SAFE_INTEGER,
            ),
        },
        routePrefix: typeof routePrefix === 'string' ? routePrefix.replace(/^\/+|\/+$/g, '') : 'api',
        functionTimeoutMs:
            scalar(timeout) === '' || scalar(timeout) === '-1'
                ? undefined
                : parseTimeSpan(scalar(timeout), 'functionTimeout'),
    };
}

/**
 * Parses a .NET TimeSpan string as host.json uses them: `[d.]hh:mm[:ss[.fffffff]]`, or a whole
 * number of days. Returns milliseconds.
 */
export function parseTimeSpan(text: string, name = 'value'): number {
    const trimmed = text.trim();
    if (/^\d+$/.test(trimmed)) return Number(trimmed) * 86_400_000;
    const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(trimmed);
    if (!match) throw new HostStartupError(`host.json ${name}: '${text}' is not a TimeSpan such as 00:00:30.`);
    const [, days = '0', hours, minutes, seconds = '0', fraction = ''] = match;
    const fractionMs = fraction ? Number(`0.${fraction}`) * 1000 : 0;
    return (
        Number(days) * 86_400_000 +
        Number(hours) * 3_600_000 +
        Number(minutes) * 60_000 +
        Number(seconds) * 1000 +
        Math.round(fractionMs)
    );
}

function intOption(section: unknown, name: string, fallback: number, min: number, max: number): number {
    const raw = scalar(get(section, name));
    if (raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
        throw new HostStartupError(`host.json ${name}: '${raw}' must be a whole number from ${min} to ${max}.`);
    }
    return value;
}

function timeSpanOption(section: unknown, name: string, fallback: number): number {
    const raw = scalar(get(section, name));
    return raw === '' ? fallback : parseTimeSpan(raw, name);
}

/** Storage leases last 15 to 60 seconds; the host refuses lock periods outside what storage allows. */
function boundedTimeSpan(section: unknown, name: string, fallback: number, min: number, max: number): number {
    const value = timeSpanOption(section, name, fallback);
    if (value < min || value > max) {
        const range =
            max === Number.MAX_SAFE_INTEGER ? `at least ${min / 1000} s` : `${min / 1000} s to ${max / 1000} s`;
        throw new HostStartupError(`host.json singleton.${name}: ${value / 1000} s must be ${range}.`);
    }
    return value;
}

function encodingOption(section: unknown): MessageEncoding {
    const raw = scalar(get(section, 'messageEncoding'));
    if (raw === '') return 'base64';
    const value = raw.toLowerCase();
    if (value !== 'base64' && value !== 'none') {
        throw new HostStartupError(`host.json messageEncoding: '${raw}' must be 'base64' or 'none'.`);
    }
    return value;
}

/** A host.json value as trimmed text ('' when absent); overrides from settings arrive as strings. */
function scalar(value: unknown): string {
    if (typeof value === 'string') return value.trim();
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return '';
}

/** Case-insensitive path lookup, as .NET configuration reads host.json. */
function get(node: unknown, ...path: string[]): unknown {
    let current = node;
    for (const segment of path) {
        if (!isObject(current)) return undefined;
        const key = findKey(current, segment);
        current = key === undefined ? undefined : current[key];
    }
    return current;
}

function findKey(node: Json, name: string): string | undefined {
    const lower = name.toLowerCase();
    return Object.keys(node).find((key) => key.toLowerCase() === lower);
}

function isObject(value: unknown): value is Json {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
