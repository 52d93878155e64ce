/**
 * The slice of the `@azure/functions-core` contract this host implements. The real module is
 * provided by the Node worker at run time and its types are not published on npm, so the shapes
 * are restated here from the library's `types-core/index.d.ts` (Azure/azure-functions-nodejs-library),
 * keeping only what @azure/functions 4.x reads or writes.
 */

export type RpcLogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type RpcLogCategory = 'user' | 'system' | 'customMetric';

/** A binding as the library registers it: the RPC fields plus the binding's own options (queueName, route, ...). */
export interface RpcBindingInfo {
    type?: string | null;
    direction?: 'in' | 'out' | 'inout' | null;
    dataType?: 'undefined' | 'string' | 'binary' | 'stream' | null;
    properties?: Record<string, string> | null;
    [option: string]: unknown;
}

export interface FunctionMetadata {
    name: string;
    functionId?: string;
    bindings: Record<string, RpcBindingInfo>;
    retryOptions?: unknown;
}

export interface RpcFunctionMetadata {
    name?: string | null;
    functionId?: string | null;
    bindings?: Record<string, RpcBindingInfo> | null;
    retryOptions?: unknown;
}

export interface RpcTypedData {
    string?: string | null;
    json?: string | null;
    bytes?: Uint8Array | null;
    stream?: Uint8Array | null;
    http?: RpcHttpData | null;
    int?: number | null;
    double?: number | null;
    collectionBytes?: { bytes?: Uint8Array[] | null } | null;
    collectionString?: { string?: string[] | null } | null;
    collectionDouble?: { double?: number[] | null } | null;
    collectionSint64?: { sint64?: number[] | null } | null;
}

export interface RpcNullable<T> {
    value?: T | null;
}

export interface RpcTimestamp {
    seconds?: number | null;
    nanos?: number | null;
}

export interface RpcHttpCookie {
    name?: string | null;
    value?: string | null;
    domain?: RpcNullable<string> | null;
    path?: RpcNullable<string> | null;
    expires?: RpcNullable<RpcTimestamp> | null;
    secure?: RpcNullable<boolean> | null;
    httpOnly?: RpcNullable<boolean> | null;
    sameSite?: 'none' | 'lax' | 'strict' | 'explicitNone' | null;
    maxAge?: RpcNullable<number> | null;
}

export interface RpcHttpData {
    method?: string | null;
    url?: string | null;
    headers?: Record<string, string> | null;
    body?: RpcTypedData | null;
    params?: Record<string, string> | null;
    statusCode?: string | null;
    query?: Record<string, string> | null;
    enableContentNegotiation?: boolean | null;
    cookies?: RpcHttpCookie[] | null;
}

export interface RpcParameterBinding {
    name?: string | null;
    data?: RpcTypedData | null;
}

export interface RpcInvocationRequest {
    invocationId?: string | null;
    functionId?: string | null;
    inputData?: RpcParameterBinding[] | null;
    triggerMetadata?: Record<string, RpcTypedData> | null;
    retryContext?: { retryCount?: number | null; maxRetryCount?: number | null } | null;
}

export interface RpcInvocationResponse {
    invocationId?: string | null;
    outputData?: RpcParameterBinding[] | null;
    returnValue?: RpcTypedData | null;
}

export type InvocationState = 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';

export interface CoreInvocationContext {
    invocationId: string;
    request: RpcInvocationRequest;
    metadata: RpcFunctionMetadata;
    state?: InvocationState;
    log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
}

export interface InvocationArguments {
    context: unknown;
    inputs: unknown[];
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface InvocationModel {
    getArguments(): Promise<InvocationArguments>;
    invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
    getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export type WorkerCapabilities = Record<string, string>;

export interface ProgrammingModel {
    name: string;
    version: string;
    getInvocationModel(coreContext: CoreInvocationContext): InvocationModel | Promise<InvocationModel>;
    getCapabilities?(defaultCapabilities: WorkerCapabilities): WorkerCapabilities | Promise<WorkerCapabilities>;
}

export type HookName = 'preInvocation' | 'postInvocation' | 'appStart' | 'appTerminate' | 'log';
export type HookData = Record<string, unknown>;
export type HookCallback = (context: unknown) => unknown;
