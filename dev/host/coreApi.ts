/**
 * Provides the `@azure/functions-core` module that the Node worker normally provides. Every
 * `app.http(...)`, `app.storageQueue(...)`, `app.hook.*(...)` call in @azure/functions ends in
 * this object (`registerFunction`, `registerHook`, `setProgrammingModel`), so the functions this
 * host runs are exactly those the app registers: there is no second list to keep in sync.
 *
 * The module is made resolvable the way the real worker does it (setupCoreModule.ts in
 * Azure/azure-functions-nodejs-worker): by wrapping `Module.prototype.require`. It has to be in
 * place before the app's first `require('@azure/functions')` call registers anything, because
 * the library caches the core API (or its absence, "test mode") on first use.
 */
import Module from 'node:module';
import type {
    FunctionCallback,
    FunctionMetadata,
    HookCallback,
    HookData,
    HookName,
    ProgrammingModel,
    RpcLogCategory,
    RpcLogLevel,
} from './coreTypes';
import { HostStartupError } from './log';

export const coreModuleName = '@azure/functions-core';

/** The worker version this host claims to be; the library only logs it. */
const workerVersion = '3.12.0-localhost';
/** A host version new enough for the library's feature checks (streaming needs >= 4.28, log hooks >= 4.34). */
const hostVersion = '4.1040.0-localhost';

const hookNames: readonly HookName[] = ['preInvocation', 'postInvocation', 'appStart', 'appTerminate', 'log'];

export interface Registration {
    metadata: FunctionMetadata;
    callback: FunctionCallback;
}

/** Receives every log line the library or the app emits outside an invocation. */
export type CoreLogSink = (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;

export class Disposable {
    #callOnDispose: (() => unknown) | undefined;

    constructor(callOnDispose: () => unknown) {
        this.#callOnDispose = callOnDispose;
    }

    static from(...disposables: { dispose: () => unknown }[]): Disposable {
        return new Disposable(() => disposables.forEach((d) => d.dispose()));
    }

    dispose(): unknown {
        const call = this.#callOnDispose;
        this.#callOnDispose = undefined;
        return call?.();
    }
}

/** The state behind the fake module: what the app registered. */
export class CoreApiHost {
    readonly registrations = new Map<string, Registration>();
    readonly hooks = new Map<HookName, HookCallback[]>(hookNames.map((name) => [name, []]));
    /** Shared by all hooks of all scopes (`appHookData`). */
    readonly appHookData: HookData = {};
    /** The `hookData` of app-level hooks (appStart, appTerminate), as in the worker. */
    readonly appLevelHookData: HookData = {};
    programmingModel: ProgrammingModel | undefined;
    /** After start-up the worker refuses new registrations; so does this host. */
    startupFinished = false;
    logSink: CoreLogSink = () => undefined;

    /** The object `require('@azure/functions-core')` returns. */
    readonly module = {
        version: workerVersion,
        hostVersion,
        Disposable,
        setProgrammingModel: (model: ProgrammingModel): void => {
            this.programmingModel = model;
        },
        getProgrammingModel: (): ProgrammingModel | undefined => this.programmingModel,
        registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback): Disposable =>
            this.registerFunction(metadata, callback),
        registerHook: (hookName: string, callback: HookCallback): Disposable => this.registerHook(hookName, callback),
        log: (level: RpcLogLevel, category: RpcLogCategory, message: string): void =>
            this.logSink(level, category, message),
    };

    hooksFor(name: HookName): readonly HookCallback[] {
        return this.hooks.get(name) ?? [];
    }

    private registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
        if (this.startupFinished) {
            throw new Error('A function can only be registered during app startup.');
        }
        const name = metadata.name;
        // The real host refuses duplicate names (case-insensitively) at indexing time.
        const clash = [...this.registrations.keys()].find((existing) => existing.toLowerCase() === name.toLowerCase());
        if (clash !== undefined) {
            throw new HostStartupError(`The function name '${name}' is registered twice (also as '${clash}').`);
        }
        this.registrations.set(name, { metadata, callback });
        return new Disposable(() => {
            if (this.startupFinished) throw new Error('A function can only be disposed during app startup.');
            this.registrations.delete(name);
        });
    }

    private registerHook(hookName: string, callback: HookCallback): Disposable {
        const list = this.hooks.get(hookName as HookName);
        if (!list) {
            // The library turns a RangeError into "requires a newer host" for unknown hooks.
            throw new RangeError(`Unrecognized hook "${hookName}"`);
        }
        list.push(callback);
        return new Disposable(() => {
            const index = list.indexOf(callback);
            if (index >= 0) list.splice(index, 1);
        });
    }
}

let installed: CoreApiHost | undefined;

/**
 * Makes `require('@azure/functions-core')` return this host's module, in this process. One
 * process can hold one host: @azure/functions keeps the first core API it sees for good.
 */
export function installCoreApi(): CoreApiHost {
    if (installed) {
        throw new HostStartupError(
            'A local Functions host is already installed in this process; @azure/functions caches its host, so run one host per process.',
        );
    }
    const host = new CoreApiHost();
    const proto = Module.prototype as unknown as { require: (id: string) => unknown };
    proto.require = new Proxy(proto.require, {
        apply(target, thisArg: unknown, args: [string]): unknown {
            if (args[0] === coreModuleName) return host.module;
            return Reflect.apply(target, thisArg, args);
        },
    });
    installed = host;
    return host;
}
