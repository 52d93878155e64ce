/**
 * Every setting the system reads, validated in one place. A missing or malformed setting stops
 * start-up with a message that names the setting; secret values are never echoed.
 */
import { settings, type SettingName } from './settings';
import { fileExtension, knownContentTypes } from './altinn/fileTypes';

export class ConfigError extends Error {
    constructor(
        readonly setting: string,
        problem: string,
    ) {
        super(`Setting ${setting}: ${problem}`);
        this.name = 'ConfigError';
    }
}

export interface AppRef {
    org: string;
    app: string;
}

export type SigningKeySource =
    | { kind: 'inline'; setting: 'MaskinportenKey'; value: string }
    | { kind: 'keyVault'; vaultUri: string; secretName: string };

export interface MaskinportenConfig {
    /** Issuer origin, e.g. https://test.maskinporten.no; the grant's aud is this plus '/'. */
    baseUrl: string;
    clientId: string;
    scopes: string[];
    kid?: string;
    key: SigningKeySource;
}

export interface FeedbackConfig {
    eventType: string;
    dataType: string;
    /** The Content-Type of the upload; always one that fileExtension() knows. */
    contentType: string;
    templatePath?: string;
}

/** Altinn's Substatus ({label, description}), set on every instance after complete. */
export interface SubstatusConfig {
    label: string;
    description?: string;
}

export interface AppConfig {
    /** Origins without a trailing slash. */
    platformBaseUrl: string;
    appsBaseUrl: string;
    maskinporten: MaskinportenConfig;
    testMode: boolean;
    processedEventTypes: string[];
    feedback?: FeedbackConfig;
    substatus?: SubstatusConfig;
    downloadConcurrency: number;
    httpTimeoutMs: number;
    httpRetryBudgetMs: number;
    /** How long a Pending malware scan is waited for, from the first time it was seen (ScanWaitHours). */
    scanWaitMs: number;
    /** How long a message waits invisible before an instance with a Pending scan is checked again. */
    scanRecheckDelayMs: number;
    /** How long a completed event for an instance whose process has not ended is checked again (ProcessEndWaitMinutes). */
    processEndWaitMs: number;
    /** The deployment's apps (CatchUpApps): caught up, and reconciled unless ReconcileApps names others. */
    catchUpApps: AppRef[];
    catchUpFrom?: Date;
    /** ReconcileApps, or CatchUpApps when it is unset. */
    reconcileApps: AppRef[];
    /** Whether the recovery timers run at all (CatchUpEnabled, ReconcileEnabled; both on unless turned off). */
    recovery: RecoverySwitches;
    brokerResources: string[];
    /** InstanceMemoryMB: the memory one instance has; undefined when unset (the process's own limit is used). */
    instanceMemoryMB?: number;
    /** AcceptedApps: the apps whose events are processed; undefined: every app. */
    acceptedApps?: AppRef[];
}

export interface RecoverySwitches {
    /** EventsCatchUp and BrokerCatchUp. */
    catchUp: boolean;
    /** InstancesReconcile. */
    reconcile: boolean;
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: SettingName): string | undefined {
    const value = env[name]?.trim();
    return value ? value : undefined;
}

function required(env: Env, name: SettingName): string {
    const value = read(env, name);
    if (value === undefined) throw new ConfigError(name, `is required (${settings[name].description})`);
    return value;
}

/** An http(s) origin-or-base URL, normalised without a trailing slash. Plain http is allowed only on loopback. */
export function parseBaseUrl(name: string, value: string): string {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new ConfigError(name, `is not an absolute URL: "${value}"`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
        throw new ConfigError(name, `must use https (http is accepted only for localhost): "${value}"`);
    }
    if (url.search || url.hash || url.username || url.password) {
        throw new ConfigError(name, `must not carry a query, fragment or credentials: "${url.origin}${url.pathname}"`);
    }
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function isLoopbackHost(hostname: string): boolean {
    return (
        hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname)
    );
}

function parseList(value: string | undefined): string[] {
    return (value ?? '')
        .split(/[\s,;]+/)
        .map((item) => item.trim())
        .filter(Boolean);
}

function parseBoolean(name: SettingName, value: string | undefined, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    throw new ConfigError(name, `must be true or false, not "${value}"`);
}

function parseInteger(
    name: SettingName,
    value: string | undefined,
    fallback: number,
    min: number,
    max: number,
): number {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        throw new ConfigError(name, `must be a whole number from ${min} to ${max}, not "${value}"`);
    }
    return parsed;
}

function optionalInteger(name: SettingName, value: string | undefined, min: number, max: number): number | undefined {
    return value === undefined ? undefined : parseInteger(name, value, min, min, max);
}

function parseApps(name: SettingName, value: string | undefined): AppRef[] {
    return parseList(value).map((item) => {
        const match = /^([a-z0-9-]+)\/([a-zA-Z0-9_.-]+)$/.exec(item);
        if (!match) throw new ConfigError(name, `entries must look like org/app, not "${item}"`);
        return { org: match[1], app: match[2] };
    });
}

function parseDate(name: SettingName, value: string | undefined): Date | undefined {
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime()) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
        throw new ConfigError(
            name,
            `must be an ISO 8601 time with a time zone, e.g. 2026-01-01T00:00:00Z, not "${value}"`,
        );
    }
    return date;
}

function signingKeySource(env: Env): SigningKeySource {
    const inline = read(env, 'MaskinportenKey');
    const vaultUri = read(env, 'MaskinportenKeyVaultUri');
    const secretName = read(env, 'MaskinportenSecretName');
    if (inline && vaultUri) {
        throw new ConfigError('MaskinportenKey', 'set either MaskinportenKey or MaskinportenKeyVaultUri, not both');
    }
    if (inline) return { kind: 'inline', setting: 'MaskinportenKey', value: inline };
    if (!vaultUri) {
        throw new ConfigError(
            'MaskinportenKeyVaultUri',
            'is required (or MaskinportenKey for local development): where the Maskinporten signing key lives',
        );
    }
    if (!secretName)
        throw new ConfigError('MaskinportenSecretName', 'is required together with MaskinportenKeyVaultUri');
    return { kind: 'keyVault', vaultUri: parseBaseUrl('MaskinportenKeyVaultUri', vaultUri), secretName };
}

function feedback(env: Env): FeedbackConfig | undefined {
    const eventType = read(env, 'FeedbackEventType');
    const dataType = read(env, 'FeedbackDataType');
    if (!eventType && !dataType) return undefined;
    if (!eventType) throw new ConfigError('FeedbackEventType', 'is required when FeedbackDataType is set');
    if (!dataType) throw new ConfigError('FeedbackDataType', 'is required when FeedbackEventType is set');
    if (/^app\.instance\.process\.completed$/.test(eventType)) {
        throw new ConfigError(
            'FeedbackEventType',
            'cannot be app.instance.process.completed: Altinn refuses data once the process has ended; use a task event such as app.instance.process.movedTo.Task_2',
        );
    }
    return {
        eventType,
        dataType,
        contentType: feedbackContentType(env),
        templatePath: read(env, 'FeedbackTemplatePath'),
    };
}

/** An app that restricts the data type's content types compares the whole header: no parameters, a known extension. */
function feedbackContentType(env: Env): string {
    const contentType = (read(env, 'FeedbackContentType') ?? 'application/xml').toLowerCase();
    if (fileExtension(contentType) === undefined) {
        throw new ConfigError(
            'FeedbackContentType',
            `"${contentType}" is not one of ${knownContentTypes.join(', ')} (without parameters such as charset: Altinn apps compare the whole header with the file name's type)`,
        );
    }
    return contentType;
}

function substatus(env: Env): SubstatusConfig | undefined {
    const label = read(env, 'SubstatusLabel');
    const description = read(env, 'SubstatusDescription');
    // Altinn answers 400 to a substatus without a label (InstancesController.UpdateSubstatus).
    if (!label && description) throw new ConfigError('SubstatusLabel', 'is required when SubstatusDescription is set');
    return label ? { label, description } : undefined;
}

export function loadConfig(env: Env = process.env): AppConfig {
    const scopes = parseList(required(env, 'MaskinportenScopes'));
    const feedbackConfig = feedback(env);
    const processedEventTypes = parseList(read(env, 'ProcessedEventTypes') ?? settings.ProcessedEventTypes.default);
    if (feedbackConfig && !processedEventTypes.includes(feedbackConfig.eventType)) {
        processedEventTypes.push(feedbackConfig.eventType);
    }
    return {
        platformBaseUrl: parseBaseUrl('AltinnPlatformBaseUrl', required(env, 'AltinnPlatformBaseUrl')),
        appsBaseUrl: parseBaseUrl('AltinnAppsBaseUrl', required(env, 'AltinnAppsBaseUrl')),
        maskinporten: {
            baseUrl: parseBaseUrl('MaskinportenBaseUrl', required(env, 'MaskinportenBaseUrl')),
            clientId: required(env, 'MaskinportenClientId'),
            scopes,
            kid: read(env, 'MaskinportenKid'),
            key: signingKeySource(env),
        },
        testMode: parseBoolean('AltinnTestMode', read(env, 'AltinnTestMode'), false),
        processedEventTypes,
        feedback: feedbackConfig,
        substatus: substatus(env),
        downloadConcurrency: parseInteger('DownloadConcurrency', read(env, 'DownloadConcurrency'), 16, 1, 64),
        httpTimeoutMs: 1000 * parseInteger('HttpTimeoutSeconds', read(env, 'HttpTimeoutSeconds'), 100, 1, 3600),
        httpRetryBudgetMs:
            1000 * parseInteger('HttpRetryBudgetSeconds', read(env, 'HttpRetryBudgetSeconds'), 60, 0, 600),
        scanWaitMs: 3_600_000 * parseInteger('ScanWaitHours', read(env, 'ScanWaitHours'), 24, 1, 168),
        // Altinn scans an element when it is uploaded, so most scans end long before the process
        // completes; a recheck costs one GET of the instance.
        scanRecheckDelayMs: 1000 * parseInteger('ScanRecheckSeconds', read(env, 'ScanRecheckSeconds'), 300, 1, 3600),
        // A queue message lives 7 days; the last recheck must come before that.
        processEndWaitMs:
            60_000 * parseInteger('ProcessEndWaitMinutes', read(env, 'ProcessEndWaitMinutes'), 60, 1, 7 * 24 * 60 - 60),
        catchUpApps: parseApps('CatchUpApps', read(env, 'CatchUpApps')),
        catchUpFrom: parseDate('CatchUpFrom', read(env, 'CatchUpFrom')),
        reconcileApps: parseApps(
            read(env, 'ReconcileApps') ? 'ReconcileApps' : 'CatchUpApps',
            read(env, 'ReconcileApps') ?? read(env, 'CatchUpApps'),
        ),
        recovery: {
            catchUp: parseBoolean('CatchUpEnabled', read(env, 'CatchUpEnabled'), true),
            reconcile: parseBoolean('ReconcileEnabled', read(env, 'ReconcileEnabled'), true),
        },
        brokerResources: parseList(read(env, 'BrokerResources')),
        instanceMemoryMB: optionalInteger('InstanceMemoryMB', read(env, 'InstanceMemoryMB'), 128, 1_048_576),
        acceptedApps:
            read(env, 'AcceptedApps') === undefined ? undefined : parseApps('AcceptedApps', read(env, 'AcceptedApps')),
    };
}

let cached: AppConfig | undefined;

/** The process-wide configuration, validated once on first use. */
export function getConfig(): AppConfig {
    cached ??= loadConfig();
    return cached;
}
