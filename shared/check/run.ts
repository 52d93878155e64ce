/**
 * The deployment check: every check, with the app's own settings and identity, in the order the
 * first day's faults show up: settings, storage, the Maskinporten key, the grant, the Altinn
 * token, then what the system receives from (apps, Broker resources, subscriptions). A check that
 * needs an earlier one that failed does not run; the earlier one says so. Checks only read, except
 * the write probes in the system's own storage (storageCheck.ts).
 */
import { createAltinnStack, type AltinnStack } from '../altinn';
import { createEventsApi } from '../altinn/events';
import type { SecretReader } from '../altinn/signingKey';
import type { AppConfig } from '../config';
import { errorMessage } from '../log';
import type { Storage } from '../storage';
import { checkExchange, checkMaskinporten, checkSigningKey } from './altinnCheck';
import { failed, summarise, timed, type CheckReport, type CheckResult } from './report';
import { checkApps, checkBroker } from './receivingCheck';
import { checkSettings } from './settingsCheck';
import { checkStorage } from './storageCheck';
import { checkSubscriptions, receiverUrls } from './subscriptionsCheck';

export interface CheckDeps {
    /** The app settings, as the functions read them. */
    env: Record<string, string | undefined>;
    /** The app's storage; throws when AzureWebJobsStorage is missing or malformed. */
    storage: () => Storage;
    /** The origins this deployment answers on (its EventsReceiver is `{origin}/api/eventsreceiver`). */
    origins: string[];
    /** Key Vault access; by default the app's managed identity. */
    readSecret?: SecretReader;
    now?: () => Date;
}

/** Checks answer within a minute: a transient failure gets a few seconds of retries, not the pipeline's budget. */
function checkingConfig(config: AppConfig): AppConfig {
    return {
        ...config,
        httpRetryBudgetMs: Math.min(config.httpRetryBudgetMs, 5_000),
        httpTimeoutMs: Math.min(config.httpTimeoutMs, 20_000),
    };
}

export async function runChecks(deps: CheckDeps): Promise<CheckReport> {
    const started = Date.now();
    const now = deps.now?.() ?? new Date();
    const receivers = receiverUrls(deps.origins);
    const settings = await checkSettings(deps.env, now);
    let storage: Storage | undefined;
    const connection = await timed('storage', 'Storage connection', () => {
        storage = deps.storage();
        return {
            status: 'ok',
            detail: `${storage.blobService.accountName} (${new URL(storage.blobService.url).host})`,
        };
    });
    const config = settings.config && checkingConfig(settings.config);
    const [storageResults, altinnResults] = await Promise.all([
        storage ? checkStorage(storage) : Promise.resolve([]),
        config ? checkAltinn(config, storage, receivers, deps, now) : Promise.resolve([]),
    ]);
    const checks = [...settings.results, connection, ...storageResults, ...altinnResults];
    return {
        generatedAt: now.toISOString(),
        durationMs: Date.now() - started,
        receiverUrls: receivers,
        summary: summarise(checks),
        checks,
    };
}

async function checkAltinn(
    config: AppConfig,
    storage: Storage | undefined,
    receivers: string[],
    deps: CheckDeps,
    now: Date,
): Promise<CheckResult[]> {
    const key = await checkSigningKey(config, { readSecret: deps.readSecret, now });
    if (!key.key) return key.results;
    let stack: AltinnStack | undefined;
    try {
        stack = createAltinnStack(config, { signingKey: key.key });
        const grant = await checkMaskinporten(config, stack);
        if (grant.status === 'failed') return [...key.results, grant];
        const { org, ...exchange } = await checkExchange(config, stack);
        if (exchange.status === 'failed') return [...key.results, grant, exchange];
        const altinn = stack;
        const [apps, broker, subscriptions] = await Promise.all([
            checkApps(config, altinn, org),
            checkBroker(config, altinn),
            storage
                ? checkSubscriptions({ config, storage, events: createEventsApi(altinn.http, config) }, receivers)
                : Promise.resolve([]),
        ]);
        return [...key.results, grant, exchange, ...apps, ...broker, ...subscriptions];
    } catch (error) {
        return [
            ...key.results,
            await timed('altinn', 'Altinn checks', () => failed(errorMessage(error), 'see the error')),
        ];
    } finally {
        await stack?.close();
    }
}
