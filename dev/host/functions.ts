/**
 * Turns what the app registered into what this host runs: one definition per function with its
 * trigger (http, queue, blob or timer), `%Setting%` expressions resolved, connections looked up
 * and routes compiled. Anything the host cannot honour (another trigger, an input binding, an
 * output other than http or queue) stops start-up naming the function and binding, rather than
 * being silently ignored.
 */
import { compileBlobPath, type BlobPathPattern } from './blobPath';
import type { FunctionCallback, RpcBindingInfo } from './coreTypes';
import type { Registration } from './coreApi';
import { HostStartupError, errorMessage } from './log';
import { compileRoute, type CompiledRoute } from './routes';
import { parseSchedule, type Schedule } from './schedule';
import { getSetting, resolveBindingExpression, type Settings } from './settings';
import type { StorageConnections } from './storage';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface HttpTriggerSpec {
    readonly kind: 'http';
    readonly route: CompiledRoute;
    /** Upper-case method names. */
    readonly methods: readonly string[];
    readonly authLevel: AuthLevel;
}

export interface QueueTriggerSpec {
    readonly kind: 'queue';
    readonly queueName: string;
    readonly connectionString: string;
}

export interface BlobTriggerSpec {
    readonly kind: 'blob';
    readonly pattern: BlobPathPattern;
    readonly connectionString: string;
    /** LogsAndContainerScan or EventGrid; both are served by polling here. */
    readonly source: string;
}

export interface TimerTriggerSpec {
    readonly kind: 'timer';
    readonly schedule: Schedule;
    readonly scheduleText: string;
    readonly runOnStartup: boolean;
    /** The registration's useMonitor; undefined: the host decides by the schedule's interval. */
    readonly useMonitor?: boolean;
}

export type TriggerSpec = HttpTriggerSpec | QueueTriggerSpec | BlobTriggerSpec | TimerTriggerSpec;

export interface QueueOutputSpec {
    readonly bindingName: string;
    readonly queueName: string;
    readonly connectionString: string;
}

export interface FunctionDefinition {
    readonly name: string;
    readonly callback: FunctionCallback;
    /**
     * The bindings as the worker receives them from the host at invocation time: type,
     * direction, dataType and properties only (the options, such as queueName, are not sent).
     */
    readonly invocationBindings: Readonly<Record<string, RpcBindingInfo>>;
    readonly triggerBindingName: string;
    readonly trigger: TriggerSpec;
    readonly queueOutputs: readonly QueueOutputSpec[];
    /** The name of the http output binding (`$return` by default) of an HTTP function. */
    readonly httpOutputName: string | undefined;
}

const supportedTriggers = ['httpTrigger', 'queueTrigger', 'blobTrigger', 'timerTrigger'];

export function buildFunctions(
    registrations: Iterable<Registration>,
    settings: Settings,
    storage: StorageConnections,
): FunctionDefinition[] {
    const functions: FunctionDefinition[] = [];
    for (const { metadata, callback } of registrations) {
        functions.push(buildFunction(metadata.name, metadata.bindings, callback, settings, storage));
    }
    return functions;
}

function buildFunction(
    name: string,
    bindings: Record<string, RpcBindingInfo>,
    callback: FunctionCallback,
    settings: Settings,
    storage: StorageConnections,
): FunctionDefinition {
    const entries = Object.entries(bindings);
    const triggers = entries.filter(([, binding]) => /trigger$/i.test(String(binding.type)));
    if (triggers.length !== 1) {
        throw new HostStartupError(
            `Function '${name}' must have exactly one trigger binding; it has ${triggers.length}.`,
        );
    }
    const [triggerBindingName, triggerBinding] = triggers[0];
    const triggerType = String(triggerBinding.type);
    const resolve = (text: unknown, what: string): string =>
        resolveBindingExpression(asText(text), settings, `Function '${name}' ${what}`);

    let trigger: TriggerSpec;
    switch (triggerType.toLowerCase()) {
        case 'httptrigger':
            trigger = httpTrigger(name, triggerBinding);
            break;
        case 'queuetrigger':
            trigger = {
                kind: 'queue',
                queueName: checkQueueName(resolve(triggerBinding.queueName, 'queueName'), name),
                connectionString: storage.connectionString(triggerBinding.connection, name),
            };
            break;
        case 'blobtrigger':
            trigger = {
                kind: 'blob',
                pattern: wrap(name, () => compileBlobPath(resolve(triggerBinding.path, 'path'))),
                connectionString: storage.connectionString(triggerBinding.connection, name),
                source: typeof triggerBinding.source === 'string' ? triggerBinding.source : 'LogsAndContainerScan',
            };
            break;
        case 'timertrigger': {
            const scheduleText = resolve(triggerBinding.schedule, 'schedule');
            const timeZone = getSetting(settings, 'WEBSITE_TIME_ZONE') ?? 'UTC';
            trigger = {
                kind: 'timer',
                schedule: wrap(name, () => parseSchedule(scheduleText, timeZone)),
                scheduleText,
                runOnStartup: triggerBinding.runOnStartup === true,
                useMonitor: typeof triggerBinding.useMonitor === 'boolean' ? triggerBinding.useMonitor : undefined,
            };
            break;
        }
        default:
            throw new HostStartupError(
                `Function '${name}': trigger type '${triggerType}' is not supported by the local host (supported: ${supportedTriggers.join(', ')}).`,
            );
    }

    const queueOutputs: QueueOutputSpec[] = [];
    let httpOutputName: string | undefined;
    for (const [bindingName, binding] of entries) {
        if (bindingName === triggerBindingName) continue;
        const type = String(binding.type);
        if (binding.direction !== 'out') {
            throw new HostStartupError(
                `Function '${name}': input binding '${bindingName}' of type '${type}' is not supported by the local host (only trigger inputs are).`,
            );
        }
        if (type.toLowerCase() === 'http' && trigger.kind === 'http') {
            httpOutputName = bindingName;
        } else if (type.toLowerCase() === 'queue') {
            queueOutputs.push({
                bindingName,
                queueName: checkQueueName(resolve(binding.queueName, `output '${bindingName}' queueName`), name),
                connectionString: storage.connectionString(binding.connection, name),
            });
        } else {
            throw new HostStartupError(
                `Function '${name}': output binding '${bindingName}' of type '${type}' is not supported by the local host (supported outputs: http on HTTP functions, queue).`,
            );
        }
    }

    return {
        name,
        callback,
        invocationBindings: Object.fromEntries(
            entries.map(([bindingName, binding]) => [
                bindingName,
                {
                    type: binding.type,
                    direction: binding.direction,
                    dataType: binding.dataType,
                    properties: binding.properties,
                },
            ]),
        ),
        triggerBindingName,
        trigger,
        queueOutputs,
        httpOutputName,
    };
}

function httpTrigger(name: string, binding: RpcBindingInfo): HttpTriggerSpec {
    const routeText = typeof binding.route === 'string' && binding.route.trim() !== '' ? binding.route : name;
    const methods = Array.isArray(binding.methods)
        ? binding.methods.map((method) => String(method).toUpperCase())
        : ['GET', 'POST'];
    const authLevel = (asText(binding.authLevel) || 'anonymous').toLowerCase();
    if (authLevel !== 'anonymous' && authLevel !== 'function' && authLevel !== 'admin') {
        throw new HostStartupError(`Function '${name}': authLevel '${authLevel}' is not anonymous, function or admin.`);
    }
    return { kind: 'http', route: wrap(name, () => compileRoute(routeText)), methods, authLevel };
}

/** Queue names: 3-63 lower-case letters, digits and single hyphens (the storage service's rule). */
function checkQueueName(queueName: string, functionName: string): string {
    if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(queueName)) {
        throw new HostStartupError(
            `Function '${functionName}': '${queueName}' is not a valid queue name (3-63 lower-case letters, digits and single hyphens).`,
        );
    }
    return queueName;
}

/** A binding option as text; options are strings (or numbers) when the library sets them. */
function asText(value: unknown): string {
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

function wrap<T>(functionName: string, build: () => T): T {
    try {
        return build();
    } catch (error) {
        if (error instanceof HostStartupError) throw error;
        throw new HostStartupError(`Function '${functionName}': ${errorMessage(error)}`);
    }
}
