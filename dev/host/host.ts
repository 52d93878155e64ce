/**
 * Starts the local Functions host for an app folder: settings, host.json, the app's own
 * registrations (through the `@azure/functions-core` module this host provides), then the
 * HTTP server and the queue, blob and timer listeners. `stop()` drains like the host on
 * shutdown: no new work, in-flight invocations finish (bounded), appTerminate hooks run.
 *
 * One process holds one host: @azure/functions keeps the first core API it sees. Tests and
 * tools therefore run the host as a child process (cli.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BlobListener } from './blobListener';
import { BlobLockManager } from './blobLocks';
import { installCoreApi } from './coreApi';
import { findEntryPoints, loadEntryPoints } from './discovery';
import { buildFunctions, type FunctionDefinition } from './functions';
import { loadHostConfig, parseTimeSpan } from './hostJson';
import { HttpServer } from './httpServer';
import { Invoker } from './invoker';
import { HostLog, HostStartupError, errorMessage, writeToStdout, type LineWriter } from './log';
import { QueueOutputWriter } from './outputs';
import { PrimaryHostCoordinator } from './primaryHost';
import { QueueListener } from './queueListener';
import { mergeSettings, readLocalHttpPort, readLocalSettings } from '../../shared/localSettings';
import { ScheduleMonitor } from './scheduleMonitor';
import { applySettings, getSetting } from './settings';
import { SingletonListener, type Listener } from './singletonListener';
import { defaultConnection, StorageConnections } from './storage';
import { TimerScheduler, usesMonitor } from './timerScheduler';

export interface StartHostOptions {
    /** The function app folder (package.json, host.json, local.settings.json); default the cwd. */
    readonly appRoot?: string;
    /** Default: local.settings.json Host.LocalHttpPort, else 7071, as func; 0 picks a free port. */
    readonly port?: number;
    /** Default 127.0.0.1: the local host is for this machine only. */
    readonly hostname?: string;
    /** Overrides local.settings.json Values; default process.env. The merged settings go into process.env. */
    readonly env?: Readonly<Record<string, string | undefined>>;
    /** Receives each output line; default stdout. */
    readonly log?: LineWriter;
    /** Also print the library's system debug/information logs. */
    readonly verbose?: boolean;
    /** How long stop() waits for in-flight invocations; default 30 s. */
    readonly drainTimeoutMs?: number;
}

export interface FunctionInfo {
    readonly name: string;
    readonly trigger: 'httpTrigger' | 'queueTrigger' | 'blobTrigger' | 'timerTrigger';
    /** HTTP functions: the URL func would print, and the methods. */
    readonly url?: string;
    readonly methods?: readonly string[];
    readonly authLevel?: string;
    /** Queue functions: the resolved queue name. */
    readonly queueName?: string;
    /** Blob functions: the resolved path pattern. */
    readonly path?: string;
    /** Timer functions: the resolved schedule. */
    readonly schedule?: string;
}

export interface RunningHost {
    /** e.g. http://127.0.0.1:7071 (no route prefix). */
    readonly url: string;
    readonly port: number;
    readonly functions: readonly FunctionInfo[];
    /** Stops triggers, waits for in-flight invocations (bounded), runs appTerminate hooks. Idempotent. */
    stop(): Promise<void>;
}

/** The line printed once everything listens; tools wait for it. */
export const hostStartedPattern = /Host started \(\d+ms\)/;
/**
 * The line printed once the entry points are loaded and every function is registered, with how long
 * the loading took in this process, wall clock and CPU (bench/coldStart.ts reads both).
 */
export const functionsRegisteredPattern =
    /Registered \d+ functions \(entry points loaded in ([\d.]+) ms, CPU ([\d.]+) ms\)/;

export const defaultPort = 7071;
const defaultDrainTimeoutMs = 30_000;
const defaultBlobPollingMs = 2_000;
const defaultBodyLimitBytes = 100 * 1024 * 1024;

export async function startHost(options: StartHostOptions = {}): Promise<RunningHost> {
    const started = Date.now();
    const appRoot = resolve(options.appRoot ?? process.cwd());
    const log = new HostLog(options.log ?? writeToStdout);
    const drainTimeoutMs = options.drainTimeoutMs ?? defaultDrainTimeoutMs;
    const port = options.port ?? readLocalHttpPort(appRoot) ?? defaultPort;

    // Settings first: host.json overrides, binding expressions and the app itself read them.
    const settings = mergeSettings(readLocalSettings(appRoot), options.env ?? process.env);
    applySettings(settings);
    const config = loadHostConfig(appRoot, settings);
    const entryPoints = findEntryPoints(appRoot);
    // Several instances of one app share the host id (and so their locks) and differ in instance id.
    const hostId = getSetting(settings, 'AzureFunctionsWebHost__hostid') ?? defaultHostId(appRoot);
    const instanceId = getSetting(settings, 'WEBSITE_INSTANCE_ID') ?? randomBytes(16).toString('hex').toUpperCase();
    log.line(`Starting Host (HostId=${hostId}, InstanceId=${instanceId}, ProcessId=${process.pid})`);

    const core = installCoreApi();
    // Logs before the invoker exists (while the app loads) go straight to the console.
    let emit = (message: string): void => log.line(message);
    core.logSink = (level, category, message) => {
        if (category === 'user' || level === 'warning' || level === 'error' || level === 'critical') emit(message);
    };
    log.line(`Loading ${entryPoints.files.join(', ')} (package.json main "${entryPoints.main}") from ${appRoot}`);
    const loadStarted = performance.now();
    const cpuBeforeLoad = process.cpuUsage();
    loadEntryPoints(appRoot, entryPoints);
    const loadMs = performance.now() - loadStarted;
    const loadCpu = process.cpuUsage(cpuBeforeLoad);

    if (core.registrations.size === 0) {
        throw new HostStartupError(
            `No functions were registered by ${entryPoints.files.join(', ')}. Do they call app.http/app.storageQueue/... from @azure/functions at top level?`,
        );
    }
    log.line(
        `Registered ${core.registrations.size} functions (entry points loaded in ${loadMs.toFixed(1)} ms, CPU ${((loadCpu.user + loadCpu.system) / 1000).toFixed(1)} ms)`,
    );
    const programmingModel = core.programmingModel;
    if (!programmingModel) {
        throw new HostStartupError(
            'The app registered functions but no programming model (is @azure/functions loaded?).',
        );
    }

    for (const { metadata } of core.registrations.values()) {
        if (metadata.retryOptions) {
            log.line(
                `Function '${metadata.name}': its retry policy is ignored by the local host (queue and blob triggers retry by dequeue count).`,
            );
        }
    }
    const storage = new StorageConnections(settings);
    const functions = buildFunctions(core.registrations.values(), settings, storage);
    const outputs = new QueueOutputWriter(storage, config.queues.messageEncoding);
    const invoker = new Invoker(core, programmingModel, log, outputs, {
        functionTimeoutMs: config.functionTimeoutMs,
        verbose: options.verbose ?? false,
    });
    core.logSink = (level, category, message) => invoker.emitLog(level, category, message);
    emit = (message) => invoker.emitLog('information', 'user', message);

    await invoker.runAppHook('appStart', { functionAppDirectory: appRoot });
    // As in the worker, capabilities are asked for after the app has loaded: this locks
    // app.setup() and, if the app enabled HTTP streaming, starts the library's HTTP proxy.
    const capabilities = (await programmingModel.getCapabilities?.({})) ?? {};
    const streamProxyUri = capabilities.HttpUri;
    core.startupFinished = true;

    // The host's own storage holds its locks and timer status; without it every listener runs here alone.
    const hostStorage = getSetting(settings, defaultConnection)?.trim();
    const hostBlobs = hostStorage ? storage.blobService(hostStorage) : undefined;
    const locks = hostBlobs && new BlobLockManager(hostBlobs);
    const monitor = hostBlobs && new ScheduleMonitor(hostBlobs, hostId);
    const singleton = (name: string, inner: Listener): { start(): Promise<void>; stop(): Promise<void> } =>
        locks
            ? new SingletonListener(`${hostId}/${name}.Listener`, locks, config.singleton, inner, log)
            : { start: () => Promise.resolve(inner.start()), stop: () => inner.stop() };
    const timers = new Map<string, TimerScheduler>();
    const queueListeners: QueueListener[] = [];
    const blobListeners: BlobListener[] = [];
    const blobPollingIntervalMs = blobPollingInterval(getSetting(settings, 'LocalHostBlobPollingInterval'));

    for (const fn of functions) {
        if (fn.trigger.kind === 'queue') {
            queueListeners.push(new QueueListener(fn, fn.trigger, config.queues, storage, invoker, log));
        } else if (fn.trigger.kind === 'blob') {
            blobListeners.push(
                new BlobListener(
                    fn,
                    fn.trigger,
                    {
                        pollingIntervalMs: blobPollingIntervalMs,
                        poisonBlobThreshold: config.blobs.poisonBlobThreshold,
                        maxDegreeOfParallelism: config.blobs.maxDegreeOfParallelism,
                        retryDelayMs: config.queues.visibilityTimeoutMs,
                        messageEncoding: config.queues.messageEncoding,
                        hostId,
                    },
                    storage,
                    invoker,
                    log,
                ),
            );
        } else if (fn.trigger.kind === 'timer') {
            const monitored = usesMonitor(fn.trigger.schedule, fn.trigger.useMonitor) ? monitor : undefined;
            timers.set(fn.name, new TimerScheduler(fn, fn.trigger, invoker, log, monitored));
        }
    }
    // One instance at a time runs each timer, and one scans blobs for every blob trigger, as in the host:
    // TimerListener is [Singleton(Mode = Listener)]; BlobListenerFactory makes the scan a host singleton.
    const singletons = [...timers.values()].map((timer) => singleton(timer.timerName, timer));
    if (blobListeners.length > 0) {
        singletons.push(
            singleton('WebJobs.Internal.Blobs', {
                start: () => blobListeners.forEach((listener) => listener.start()),
                stop: () => Promise.all(blobListeners.map((listener) => listener.stop(drainTimeoutMs))).then(() => {}),
            }),
        );
    }
    const primary = locks && new PrimaryHostCoordinator(hostId, instanceId, locks, log);

    const server = new HttpServer(functions, invoker, log, {
        port,
        hostname: options.hostname ?? '127.0.0.1',
        routePrefix: config.routePrefix,
        functionKey: getSetting(settings, 'LocalHostFunctionKey') || undefined,
        bodyLimitBytes: bodyLimit(getSetting(settings, 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT')),
        streamProxyUri,
        hostId,
        runManually: (fn, input) => runManually(fn, input, invoker, timers),
    });

    try {
        await server.listen();
    } catch (error) {
        throw new HostStartupError(
            `Cannot listen on ${options.hostname ?? '127.0.0.1'}:${port}: ${errorMessage(error)}`,
        );
    }
    const startedQueues = await Promise.allSettled(queueListeners.map((listener) => listener.start()));
    const queueFailure = startedQueues.find((result) => result.status === 'rejected');
    if (queueFailure) {
        await Promise.all([server.close(0), ...queueListeners.map((listener) => listener.stop(0))]);
        throw new HostStartupError(`Cannot reach queue storage: ${errorMessage(queueFailure.reason)}`);
    }

    const infos = functions.map((fn) => describe(fn, server));
    log.plain('');
    log.plain('Functions:');
    log.plain('');
    for (const info of infos) {
        log.plain(`        ${listing(info)}`);
        log.plain('');
    }
    if (streamProxyUri)
        log.line('HTTP streaming is enabled (app.setup enableHttpStream); requests go through the library proxy.');

    await Promise.all(singletons.map((listener) => listener.start()));
    primary?.start();
    log.line(`Host started (${Date.now() - started}ms)`);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
        stopping ??= (async () => {
            log.line('Stopping host: no new triggers; waiting for invocations in flight...');
            const deadline = Date.now() + drainTimeoutMs;
            const left = (): number => Math.max(0, deadline - Date.now());
            await Promise.all([
                server.close(drainTimeoutMs),
                ...queueListeners.map((listener) => listener.stop(drainTimeoutMs)),
                ...singletons.map((listener) => withDeadline(listener.stop(), drainTimeoutMs)),
                primary?.stop(),
            ]);
            if (!(await invoker.drain(left()))) {
                log.line(
                    `${invoker.inFlightCount} invocation(s) still running after ${drainTimeoutMs}ms; stopping anyway.`,
                );
            }
            try {
                await invoker.runAppHook('appTerminate');
            } catch (error) {
                log.line(`An appTerminate hook failed: ${errorMessage(error)}`);
            }
            log.line('Host stopped');
        })();
        return stopping;
    };

    return { url: server.baseUrl, port: server.port, functions: infos, stop };
}

function runManually(
    fn: FunctionDefinition,
    input: string,
    invoker: Invoker,
    timers: ReadonlyMap<string, TimerScheduler>,
): boolean {
    const reason = 'This function was programmatically called via the host APIs.';
    if (fn.trigger.kind === 'timer') {
        timers.get(fn.name)?.runNow();
        return true;
    }
    if (fn.trigger.kind === 'queue') {
        void invoker.invoke(fn, {
            reason,
            inputData: [{ name: fn.triggerBindingName, data: { string: input } }],
            triggerMetadata: { QueueTrigger: { string: input } },
        });
        return true;
    }
    return false;
}

function describe(fn: FunctionDefinition, server: HttpServer): FunctionInfo {
    const trigger = fn.trigger;
    switch (trigger.kind) {
        case 'http':
            return {
                name: fn.name,
                trigger: 'httpTrigger',
                url: server.urlFor(trigger),
                methods: trigger.methods,
                authLevel: trigger.authLevel,
            };
        case 'queue':
            return { name: fn.name, trigger: 'queueTrigger', queueName: trigger.queueName };
        case 'blob':
            return { name: fn.name, trigger: 'blobTrigger', path: trigger.pattern.path };
        case 'timer':
            return { name: fn.name, trigger: 'timerTrigger', schedule: trigger.scheduleText };
    }
}

function listing(info: FunctionInfo): string {
    switch (info.trigger) {
        case 'httpTrigger':
            return `${info.name}: [${(info.methods ?? []).join(',')}] ${info.url}`;
        case 'queueTrigger':
            return `${info.name}: queueTrigger (queue '${info.queueName}')`;
        case 'blobTrigger':
            return `${info.name}: blobTrigger (path '${info.path}')`;
        case 'timerTrigger':
            return `${info.name}: timerTrigger (schedule '${info.schedule}')`;
    }
}

/** Stable per app folder, so blob receipts survive restarts; at most 32 characters like a host id. */
function defaultHostId(appRoot: string): string {
    return `localhost-${createHash('sha256').update(appRoot).digest('hex').slice(0, 16)}`;
}

function blobPollingInterval(text: string | undefined): number {
    if (!text) return defaultBlobPollingMs;
    return Math.max(10, parseTimeSpan(text, 'LocalHostBlobPollingInterval'));
}

function bodyLimit(text: string | undefined): number {
    if (!text) return defaultBodyLimitBytes;
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) {
        throw new HostStartupError(
            `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT '${text}' must be a positive whole number of bytes.`,
        );
    }
    return value;
}

async function withDeadline(work: Promise<void>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
}
