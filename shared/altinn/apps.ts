/**
 * The App API client (altinn-api.md §4): GET instance, data downloads (Storage or app links),
 * POST data, PUT process/next and POST complete, on top of the one Altinn HTTP module. It adds
 * what every caller would otherwise repeat: which statuses are outcomes rather than errors (404,
 * 409), the narrower origin rule for data links, and errors for 401/403 that name the
 * Maskinporten client and scopes, so that the log line says what to fix.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { AppConfig } from '../config';
import type { StepLogger } from '../log';
import { discard, readErrorBody } from './body';
import { AltinnHttpError, problemSummary } from './errors';
import type { AltinnHttp, AltinnTokenProvider } from './http';
import { decodeJwtClaims } from './jwt';
import { ForeignOriginError, assertAllowedOrigin, redactUrl } from './origins';

/** A data element as the app API and Storage describe it (altinn-api.md §4.8); only what this system reads is typed. */
export interface DataElement {
    id: string;
    instanceGuid?: string;
    dataType: string;
    filename?: string | null;
    contentType?: string | null;
    blobStoragePath?: string | null;
    selfLinks?: { apps?: string | null; platform?: string | null } | null;
    size: number;
    lastChanged?: string | null;
    createdBy?: string | null;
    /**
     * Altinn's malware scan of the element: NotApplicable (the data type is not scanned), Pending,
     * Clean or Infected, written as the enum name (altinn-storage
     * src/Storage.Interface/Enums/FileScanResult.cs, Models/DataElement.cs).
     */
    fileScanResult?: string | null;
    [member: string]: unknown;
}

export interface ProcessState {
    currentTask?: { elementId?: string | null; started?: string | null } | null;
    ended?: string | null;
    [member: string]: unknown;
}

/** An instance (InstanceResponse from the app API); only what this system reads is typed. */
export interface Instance {
    id: string;
    appId: string;
    org?: string;
    instanceOwner?: { partyId?: string | null; [member: string]: unknown } | null;
    process?: ProcessState | null;
    lastChanged?: string | null;
    data?: DataElement[] | null;
    /** Who confirmed the instance with `complete`: StakeholderId is the confirming org. */
    completeConfirmations?: { stakeholderId?: string | null; confirmedOn?: string | null }[] | null;
    [member: string]: unknown;
}

export interface FetchedInstance {
    /** The body exactly as the app API sent it (UTF-8 text; for valid UTF-8, the same bytes). */
    text: string;
    instance: Instance;
}

export interface DataStream {
    headers: IncomingHttpHeaders;
    /** Content-Length, when the server sent one. */
    contentLength?: number;
    /** Consume it or destroy() it. */
    body: Readable;
}

export interface NewDataElement {
    dataType: string;
    contentType: string;
    filename: string;
    body: Buffer;
}

/** Altinn's Substatus model: the label (required) and description the inbox shows. */
export interface Substatus {
    label: string;
    description?: string;
}

/** What complete's answer tells: the substatus the instance has now (null: none; undefined: the answer did not say). */
export interface Completed {
    substatus?: Substatus | null;
}

export type PostDataResult = { created: DataElement } | { conflict: string };
export type ProcessNextResult = { moved: ProcessState } | { conflict: string };

export interface CallOptions {
    /** Where the HTTP layer reports retries (the invocation context). */
    logger?: StepLogger;
    signal?: AbortSignal;
}

/** Who an instance is created for: a party id, or an organisation number Altinn looks up. */
export type InstanceOwner = { partyId: string } | { organisationNumber: string };

export interface AppsClient {
    /**
     * POST {apps}/{org}/{app}/instances with an instance template naming the owner, as a service owner
     * instantiates (app-lib InstancesController.Post); sent once, since a resend would create a second
     * instance. Resolves with the new instance (InstanceResponse).
     */
    instantiate(org: string, app: string, owner: InstanceOwner, options?: CallOptions): Promise<FetchedInstance>;
    /** GET {instanceUrl} with Accept: application/json; undefined when the instance is gone (404). */
    getInstance(instanceUrl: string, options?: CallOptions): Promise<FetchedInstance | undefined>;
    /**
     * The link a data element is downloaded from: selfLinks.platform (Storage, the stored bytes),
     * else selfLinks.apps. Throws ForeignOriginError, without any request, unless it is on the
     * platform or apps origin.
     */
    dataLink(element: DataElement): URL;
    /** GET a data link (checked as dataLink does, before any request); undefined when it is gone (404). */
    openDataStream(url: string | URL, options?: CallOptions): Promise<DataStream | undefined>;
    /** POST {instanceUrl}/data?dataType=…; a 409 (no current task, instance not active, …) is returned, not thrown. */
    postData(instanceUrl: string, element: NewDataElement, options?: CallOptions): Promise<PostDataResult>;
    /**
     * PUT {instanceUrl}/process/next, sent once (a resend could move the process twice); a 409 (ProblemDetails,
     * with the validation errors when validation stopped it) is returned.
     */
    processNext(instanceUrl: string, options?: CallOptions): Promise<ProcessNextResult>;
    /**
     * PUT {instanceUrl}/substatus with {label, description} (altinn-api.md §4.5). Idempotent: the same
     * body leaves the same state, so it is retried. False when the instance is gone: app-lib answers a
     * missing instance with 500, not 404 (InstancesController.UpdateSubstatus reads it outside its
     * try/catch), so a 500 is followed by one GET of the instance; when the instance is still there,
     * the 500 is thrown (the caller's queue retries it).
     */
    putSubstatus(instanceUrl: string, substatus: Substatus, options?: CallOptions): Promise<boolean>;
    /**
     * POST {instanceUrl}/complete (idempotent in Altinn, so retried); false when the instance is gone (404),
     * otherwise what the answer (the updated instance) says about the instance's substatus.
     */
    complete(instanceUrl: string, options?: CallOptions): Promise<Completed | false>;
    /** Who this system is in Altinn's createdBy fields: the org code and organisation number of its token. */
    identities(): Promise<string[]>;
}

export type AppsClientConfig = Pick<AppConfig, 'platformBaseUrl' | 'appsBaseUrl'> & {
    maskinporten: Pick<AppConfig['maskinporten'], 'baseUrl' | 'clientId' | 'scopes'>;
};

/**
 * Altinn refused this system's token (401 after a fresh token, or 403). Trying again does not
 * help until the client's scopes or Altinn's authorisation change; the message says which client.
 */
export class AltinnAccessError extends Error {
    constructor(
        readonly status: number,
        readonly clientId: string,
        readonly scopes: readonly string[],
        cause: AltinnHttpError,
    ) {
        const hint =
            status === 401
                ? 'Altinn did not accept the token even after a fresh one'
                : 'the client lacks the scope or the right to this app (is it the app owner?)';
        super(
            `Altinn refused Maskinporten client ${clientId} with scopes "${scopes.join(' ')}" (HTTP ${status}: ${hint}): ${cause.message}`,
            { cause },
        );
        this.name = 'AltinnAccessError';
    }
}

const JSON_ACCEPT = 'application/json';
/** Instance documents are small; anything larger is not one. */
const MAX_INSTANCE_BYTES = 16 * 1024 * 1024;

export function createAppsClient(http: AltinnHttp, config: AppsClientConfig, tokens?: AltinnTokenProvider): AppsClient {
    const dataOrigins = [new URL(config.platformBaseUrl).origin, new URL(config.appsBaseUrl).origin];
    const { clientId, scopes } = config.maskinporten;

    /** 401/403 become AltinnAccessError; everything else passes unchanged. */
    async function call<T>(action: () => Promise<T>): Promise<T> {
        try {
            return await action();
        } catch (error) {
            if (error instanceof AltinnHttpError && (error.status === 401 || error.status === 403)) {
                throw new AltinnAccessError(error.status, clientId, scopes, error);
            }
            throw error;
        }
    }

    function assertDataOrigin(url: string | URL): URL {
        const parsed = assertAllowedOrigin(url, config);
        if (!dataOrigins.includes(parsed.origin)) throw new ForeignOriginError(redactUrl(parsed), dataOrigins);
        return parsed;
    }

    async function conflictText(status: number, body: Readable, headers: IncomingHttpHeaders): Promise<string> {
        const { problem, bodyText } = await readErrorBody(body, headers);
        const issues = validationErrors(problem?.validationIssues);
        return `HTTP ${status}: ${problemSummary(problem) ?? bodyText ?? 'no details'}${issues ? ` (${issues})` : ''}`;
    }

    const client: AppsClient = {
        async instantiate(org, app, owner, options = {}) {
            const url = `${config.appsBaseUrl}/${encodeURIComponent(org)}/${encodeURIComponent(app)}/instances`;
            const response = await call(() =>
                http.requestText({
                    method: 'POST',
                    url,
                    headers: { accept: JSON_ACCEPT, 'content-type': JSON_ACCEPT },
                    body: JSON.stringify({ instanceOwner: owner }),
                    retryable: false,
                    maxBytes: MAX_INSTANCE_BYTES,
                    ...options,
                }),
            );
            return {
                text: response.text,
                instance: checkInstance(parseJson(response.text, url, response.status), url),
            };
        },

        async getInstance(instanceUrl, options = {}) {
            const response = await call(() =>
                http.requestText({
                    url: instanceUrl,
                    headers: { accept: JSON_ACCEPT },
                    allowStatus: [404],
                    maxBytes: MAX_INSTANCE_BYTES,
                    ...options,
                }),
            );
            if (response.status === 404) return undefined;
            const instance = parseJson(response.text, instanceUrl, response.status, 'GET');
            return { text: response.text, instance: checkInstance(instance, instanceUrl) };
        },

        dataLink(element) {
            const link = element.selfLinks?.platform || element.selfLinks?.apps;
            if (!link) throw new Error(`Data element ${element.id} has no selfLinks to download it from`);
            return assertDataOrigin(link);
        },

        async openDataStream(url, options = {}) {
            const checked = assertDataOrigin(url);
            const response = await call(() => http.stream(checked, { allowStatus: [404], ...options }));
            if (response.status === 404) {
                await discard(response.body);
                return undefined;
            }
            const length = Number(response.headers['content-length']);
            return {
                headers: response.headers,
                contentLength: response.headers['content-length'] !== undefined && length >= 0 ? length : undefined,
                body: response.body,
            };
        },

        async postData(instanceUrl, element, options = {}) {
            const url = `${instanceUrl}/data?dataType=${encodeURIComponent(element.dataType)}`;
            const response = await call(() =>
                http.request({
                    method: 'POST',
                    url,
                    headers: {
                        accept: JSON_ACCEPT,
                        'content-type': element.contentType,
                        'content-disposition': `attachment; filename=${element.filename}`,
                    },
                    body: element.body,
                    retryable: false,
                    allowStatus: [409],
                    ...options,
                }),
            );
            if (response.status === 409) {
                return { conflict: await conflictText(response.status, response.body, response.headers) };
            }
            const text = await readText(response.body);
            return { created: JSON.parse(text) as DataElement };
        },

        async processNext(instanceUrl, options = {}) {
            const response = await call(() =>
                http.request({
                    method: 'PUT',
                    url: `${instanceUrl}/process/next`,
                    headers: { accept: JSON_ACCEPT },
                    retryable: false,
                    allowStatus: [409],
                    ...options,
                }),
            );
            if (response.status === 409) {
                return { conflict: await conflictText(response.status, response.body, response.headers) };
            }
            const text = await readText(response.body);
            return { moved: (text.trim() ? JSON.parse(text) : {}) as ProcessState };
        },

        async putSubstatus(instanceUrl, substatus, options = {}) {
            let response;
            try {
                response = await call(() =>
                    http.request({
                        method: 'PUT',
                        url: `${instanceUrl}/substatus`,
                        headers: { accept: JSON_ACCEPT, 'content-type': JSON_ACCEPT },
                        body: JSON.stringify({ label: substatus.label, description: substatus.description ?? null }),
                        retryable: true,
                        allowStatus: [404],
                        ...options,
                    }),
                );
            } catch (error) {
                const gone =
                    error instanceof AltinnHttpError &&
                    error.status === 500 &&
                    (await client.getInstance(instanceUrl, options)) === undefined;
                if (gone) return false;
                throw error;
            }
            await discard(response.body);
            return response.status !== 404;
        },

        async complete(instanceUrl, options = {}) {
            const response = await call(() =>
                http.request({
                    method: 'POST',
                    url: `${instanceUrl}/complete`,
                    headers: { accept: JSON_ACCEPT },
                    body: '',
                    retryable: true,
                    allowStatus: [404],
                    ...options,
                }),
            );
            if (response.status === 404) {
                await discard(response.body);
                return false;
            }
            return { substatus: substatusIn(await readText(response.body)) };
        },

        async identities() {
            if (!tokens) return [];
            const claims = decodeJwtClaims(await tokens.getAltinnToken()) ?? {};
            return [claims['urn:altinn:org'], claims['urn:altinn:orgNumber']].filter(
                (value): value is string => typeof value === 'string' && value !== '',
            );
        },
    };
    return client;
}

/**
 * process/next's 409 is ProblemDetails with a validationIssues member (app-lib ProcessController.GetResultForError):
 * the errors among them (severity 1) as "code: description", so that the log says what the app found wrong.
 */
function validationErrors(value: unknown): string | undefined {
    if (!Array.isArray(value)) return undefined;
    const errors = value
        .filter((issue): issue is Record<string, unknown> => typeof issue === 'object' && issue !== null)
        .filter((issue) => issue.severity === 1)
        .map((issue) =>
            [
                issue.code,
                issue.description,
                typeof issue.field === 'string' && issue.field !== '' ? `field ${issue.field}` : undefined,
            ]
                .filter((part) => typeof part === 'string' && part !== '')
                .join(': '),
        );
    return errors.length > 0 ? errors.join('; ') : undefined;
}

function parseJson(text: string, url: string, status: number, method = 'POST'): unknown {
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(`${method} ${redactUrl(url)} answered ${status} with a body that is not JSON`);
    }
}

async function readText(body: Readable): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    return Buffer.concat(chunks).toString('utf8');
}

/** status.substatus of an instance document (app-lib answers complete with the updated instance); undefined when unreadable. */
export function substatusIn(text: string): Substatus | null | undefined {
    try {
        const status = (JSON.parse(text) as Partial<Instance> | null)?.status as { substatus?: unknown } | undefined;
        const substatus = status?.substatus as Partial<Substatus> | null | undefined;
        if (substatus === null || (status && substatus === undefined)) return null;
        if (typeof substatus?.label !== 'string') return undefined;
        return { label: substatus.label, description: substatus.description ?? undefined };
    } catch {
        return undefined;
    }
}

/** The members the pipeline relies on, checked once so that later code can trust the types. */
function checkInstance(value: unknown, url: string): Instance {
    const where = `The instance from ${redactUrl(url)}`;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where} is not a JSON object`);
    const instance = value as Record<string, unknown>;
    if (typeof instance.id !== 'string' || typeof instance.appId !== 'string') {
        throw new Error(`${where} has no id or appId`);
    }
    const data = instance.data ?? [];
    if (!Array.isArray(data)) throw new Error(`${where}: data is not an array`);
    data.forEach((element: unknown, index) => {
        const item = element as Record<string, unknown> | null;
        if (!item || typeof item !== 'object' || typeof item.id !== 'string' || typeof item.dataType !== 'string') {
            throw new Error(`${where}: data[${index}] has no id or dataType`);
        }
        if (typeof item.size !== 'number' || !Number.isSafeInteger(item.size) || item.size < 0) {
            throw new Error(`${where}: data element ${item.id} has no valid size`);
        }
    });
    return instance as Instance;
}
