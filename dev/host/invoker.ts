/**
 * Runs one invocation exactly as the Node worker does (InvocationHandler.ts in
 * Azure/azure-functions-nodejs-worker): the library's own programming model builds the context
 * and converts inputs (`getArguments`), preInvocation hooks run, the handler runs
 * (`invokeFunction`), postInvocation hooks run, and `getResponse` converts the result and the
 * extra outputs back to RPC typed data. So JSON auto-parsing of queue strings, camel-casing of
 * trigger metadata and the HTTP request/response classes are the library's, not imitations.
 *
 * Around that it logs like func (`Executing ...` / `Executed ... (Succeeded|Failed, ...)`),
 * writes queue outputs, enforces host.json functionTimeout and keeps track of invocations in
 * flight so that shutdown can wait for them.
 */
import { randomUUID } from 'node:crypto';
import type { CoreApiHost } from './coreApi';
import type {
    CoreInvocationContext,
    HookData,
    HookName,
    InvocationState,
    ProgrammingModel,
    RpcInvocationResponse,
    RpcLogCategory,
    RpcLogLevel,
    RpcParameterBinding,
    RpcTypedData,
} from './coreTypes';
import type { FunctionDefinition } from './functions';
import { errorMessage, type HostLog } from './log';
import type { QueueOutputWriter } from './outputs';

export interface InvocationRequest {
    /** Shown as `Reason='...'` in the Executing line. */
    readonly reason: string;
    readonly inputData: RpcParameterBinding[];
    readonly triggerMetadata: Record<string, RpcTypedData>;
    /** An optional `Trigger Details: ...` line. */
    readonly details?: string;
    /** Set by callers that must know the id up front (HTTP streaming correlates by it). */
    readonly invocationId?: string;
}

export interface InvocationOutcome {
    readonly invocationId: string;
    readonly succeeded: boolean;
    readonly error?: unknown;
    readonly response?: RpcInvocationResponse;
    readonly durationMs: number;
}

export interface InvokerOptions {
    readonly functionTimeoutMs: number | undefined;
    /** Print system debug/information logs of the library too. */
    readonly verbose: boolean;
}

const printedSystemLevels = new Set<RpcLogLevel>(['warning', 'error', 'critical']);

export class Invoker {
    readonly #inFlight = new Set<Promise<unknown>>();

    constructor(
        private readonly core: CoreApiHost,
        private readonly programmingModel: ProgrammingModel,
        private readonly log: HostLog,
        private readonly outputs: Pick<QueueOutputWriter, 'writeAll'>,
        private readonly options: InvokerOptions,
    ) {}

    get inFlightCount(): number {
        return this.#inFlight.size;
    }

    /** Runs the invocation and reports how it went; never throws. */
    async invoke(fn: FunctionDefinition, request: InvocationRequest): Promise<InvocationOutcome> {
        const invocationId = request.invocationId ?? randomUUID();
        const started = Date.now();
        this.log.line(`Executing 'Functions.${fn.name}' (Reason='${request.reason}', Id=${invocationId})`);
        if (request.details) this.log.line(request.details);

        const run = this.run(fn, request, invocationId);
        this.track(run);
        let outcome: { response?: RpcInvocationResponse; error?: unknown; failed: boolean };
        try {
            outcome = { response: await this.withTimeout(run, fn, invocationId), failed: false };
        } catch (error) {
            outcome = { error, failed: true };
        }

        const durationMs = Date.now() - started;
        if (outcome.failed) {
            this.log.line(`Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${durationMs}ms)`);
            const stack =
                outcome.error instanceof Error && outcome.error.stack ? `\nStack: ${outcome.error.stack}` : '';
            this.log.line(
                `Exception while executing function: Functions.${fn.name}. Result: Failure\nException: ${errorMessage(outcome.error)}${stack}`,
            );
            return { invocationId, succeeded: false, error: outcome.error, durationMs };
        }
        this.log.line(`Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${durationMs}ms)`);
        return { invocationId, succeeded: true, response: outcome.response, durationMs };
    }

    /** Waits until no invocation is running, or the timeout passes; true when all finished. */
    async drain(timeoutMs: number): Promise<boolean> {
        const deadline = Date.now() + timeoutMs;
        while (this.#inFlight.size > 0) {
            const remaining = deadline - Date.now();
            if (remaining <= 0) return false;
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([
                Promise.allSettled([...this.#inFlight]),
                new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
            ]);
            clearTimeout(timer);
        }
        return true;
    }

    /** Runs app-level hooks (appStart, appTerminate) with the worker's context shape. */
    async runAppHook(name: 'appStart' | 'appTerminate', extra: Record<string, unknown> = {}): Promise<void> {
        const core = this.core;
        await executeHooks(core, name, {
            ...extra,
            get hookData() {
                return core.appLevelHookData;
            },
            get appHookData() {
                return core.appHookData;
            },
        });
    }

    /** Routes a log line from the library or the app: log hooks first, then the console. */
    emitLog(level: RpcLogLevel, category: RpcLogCategory, message: string, invocationContext?: unknown): void {
        const logContext = {
            hookData: {} as HookData,
            appHookData: this.core.appHookData,
            invocationContext,
            category,
            level,
            message,
        };
        for (const hook of this.core.hooksFor('log')) {
            try {
                hook(logContext);
            } catch (error) {
                this.log.line(`A log hook failed: ${errorMessage(error)}`);
            }
        }
        // Log hooks may change level and message of user logs only (registerHook.d.ts).
        const finalLevel = category === 'user' ? logContext.level : level;
        const finalMessage = category === 'user' ? logContext.message : message;
        if (finalLevel === 'none') return;
        if (category === 'system' && !this.options.verbose && !printedSystemLevels.has(finalLevel)) return;
        this.log.line(finalMessage);
    }

    private track(promise: Promise<unknown>): void {
        const settled = promise.then(
            () => undefined,
            () => undefined,
        );
        this.#inFlight.add(settled);
        void settled.then(() => this.#inFlight.delete(settled));
    }

    private async withTimeout<T>(work: Promise<T>, fn: FunctionDefinition, invocationId: string): Promise<T> {
        const timeoutMs = this.options.functionTimeoutMs;
        if (timeoutMs === undefined) return work;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_resolve, reject) => {
            timer = setTimeout(
                () =>
                    reject(
                        new Error(
                            `Timeout value of ${formatDuration(timeoutMs)} exceeded by function 'Functions.${fn.name}' (Id: '${invocationId}'). The local host cannot cancel it; its result will be ignored.`,
                        ),
                    ),
                timeoutMs,
            );
        });
        try {
            return await Promise.race([work, timeout]);
        } finally {
            clearTimeout(timer);
        }
    }

    private async run(
        fn: FunctionDefinition,
        request: InvocationRequest,
        invocationId: string,
    ): Promise<RpcInvocationResponse> {
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context object below needs the invoker
        const invoker = this;
        // Filled in once getArguments() has built it, so that log hooks see the invocation's context.
        const current: { context?: unknown } = {};
        const coreCtx: CoreInvocationContext = {
            invocationId,
            request: {
                invocationId,
                functionId: fn.name,
                inputData: request.inputData,
                triggerMetadata: request.triggerMetadata,
            },
            metadata: { name: fn.name, functionId: fn.name, bindings: { ...fn.invocationBindings } },
            state: undefined as InvocationState | undefined,
            log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
                invoker.emitLog(level, category, message, current.context);
            },
        };

        const model = await this.programmingModel.getInvocationModel(coreCtx);
        const args = await model.getArguments();
        current.context = args.context;
        const hookData: HookData = {};
        const core = this.core;

        const pre = {
            get hookData() {
                return hookData;
            },
            get appHookData() {
                return core.appHookData;
            },
            get invocationContext() {
                return args.context;
            },
            inputs: args.inputs,
            functionCallback: fn.callback,
        };
        coreCtx.state = 'preInvocationHooks';
        try {
            await executeHooks(core, 'preInvocation', pre);
        } finally {
            coreCtx.state = undefined;
        }

        const post = {
            get hookData() {
                return hookData;
            },
            get appHookData() {
                return core.appHookData;
            },
            get invocationContext() {
                return args.context;
            },
            inputs: pre.inputs,
            result: null as unknown,
            error: null as unknown,
        };
        coreCtx.state = 'invocation';
        try {
            post.result = await model.invokeFunction(args.context, pre.inputs, pre.functionCallback);
        } catch (error) {
            post.error = error;
        } finally {
            coreCtx.state = undefined;
        }

        coreCtx.state = 'postInvocationHooks';
        try {
            await executeHooks(core, 'postInvocation', post);
        } finally {
            coreCtx.state = undefined;
        }
        // A postInvocation hook may clear or replace the error, as in the worker.
        if (post.error !== null && post.error !== undefined) {
            throw post.error instanceof Error ? post.error : new Error(errorMessage(post.error));
        }

        const response = await model.getResponse(args.context, post.result);
        await this.outputs.writeAll(fn.queueOutputs, response);
        return response;
    }
}

async function executeHooks(core: CoreApiHost, name: HookName, context: object): Promise<void> {
    for (const hook of core.hooksFor(name)) {
        await hook(context);
    }
}

function formatDuration(ms: number): string {
    const totalSeconds = Math.floor(ms / 1000);
    const pad = (value: number): string => String(value).padStart(2, '0');
    return `${pad(Math.floor(totalSeconds / 3600))}:${pad(Math.floor((totalSeconds % 3600) / 60))}:${pad(totalSeconds % 60)}`;
}
