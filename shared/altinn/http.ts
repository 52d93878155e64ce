/**
 * The one way this system talks HTTP to Altinn and Maskinporten. It knows the allowed origins,
 * attaches the Altinn token, retries transient failures inside a bounded budget and turns every
 * other outcome into an {@link AltinnHttpError}. Nothing else in the code base opens sockets to Altinn.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import type { AppConfig } from '../config';
import { warnStep, type StepLogger } from '../log';
import { discard, readAll, readErrorBody } from './body';
import { AltinnHttpError, type AltinnHttpErrorInit, type ProblemBody } from './errors';
import { assertAllowedOrigin, redactUrl, type OriginConfig } from './origins';
import {
    backoffDelay,
    defaultBackoff,
    errorCode,
    isIdempotent,
    isNotSentCode,
    isRetriedStatus,
    isTransientCode,
    isTransientStatus,
    parseRetryAfter,
    type BackoffOptions,
} from './retry';

/** Supplies the Altinn bearer token (see tokens.ts). */
export interface AltinnTokenProvider {
    /**
     * A valid Altinn token. `forceRefresh` fetches a new one; with `rejectedToken` only if the
     * cached token is still that one, so that many requests failing with 401 at once cause a single refresh.
     */
    getAltinnToken(options?: { forceRefresh?: boolean; rejectedToken?: string; logger?: StepLogger }): Promise<string>;
}

/** A body that can be sent again (string, bytes, or a factory called per attempt), or a stream that cannot. */
export type RequestBody = string | Uint8Array | Readable | (() => string | Uint8Array | Promise<string | Uint8Array>);

export interface AltinnRequest {
    /** Default GET. */
    method?: string;
    url: string | URL;
    headers?: Record<string, string>;
    body?: RequestBody;
    /**
     * Whether a failed attempt may be repeated. Default: true for GET, HEAD, OPTIONS, PUT, DELETE.
     * Set it for POSTs that Altinn treats as idempotent (complete, confirmdownload); leave it off for POST data.
     * Refused connections are retried regardless, since nothing was sent. Stream bodies are never retried.
     */
    retryable?: boolean;
    /** 'altinn' (default) attaches the Altinn token; 'none' sends only the given headers. */
    auth?: 'altinn' | 'none';
    /** Non-2xx statuses handed back instead of thrown, e.g. [404] to handle a missing element yourself. */
    allowStatus?: readonly number[];
    /**
     * Recognises a 401 that is the service's authorization decision (a problem body such as Broker's
     * NoAccessToResource) rather than a rejected token (an empty challenge): such a 401 is thrown at
     * once, since a fresh token would be refused the same way. Without it every 401 gets one refresh.
     */
    isAccessRefusal?: (problem: ProblemBody | undefined) => boolean;
    signal?: AbortSignal;
    /** Where this request's retries are reported (e.g. the invocation's context); overrides the client's logger. */
    logger?: StepLogger;
}

export interface AltinnResponse {
    status: number;
    headers: IncomingHttpHeaders;
    /**
     * The body as it arrives: consume it (pipeline, for await) or destroy() it to discard it; leaving it unread
     * holds a connection of the pool. A gap longer than httpTimeoutMs errors the stream (UND_ERR_BODY_TIMEOUT).
     */
    body: Readable;
}

export interface AltinnTextResponse {
    status: number;
    headers: IncomingHttpHeaders;
    text: string;
}

export interface AltinnJsonResponse<T> {
    status: number;
    headers: IncomingHttpHeaders;
    /** undefined for an empty body (e.g. 204). */
    json: T | undefined;
}

export type BufferedRequest = AltinnRequest & {
    /** Larger bodies fail the request; default 32 MiB. */
    maxBytes?: number;
};

export interface AltinnHttp {
    /** Sends a request and returns once the headers arrived, the body as a stream (for downloads of any size). */
    request(request: AltinnRequest): Promise<AltinnResponse>;
    /** Sends a request and reads the whole body as UTF-8; a failure while reading is retried like any other. */
    requestText(request: BufferedRequest): Promise<AltinnTextResponse>;
    /** As requestText, parsed as JSON; sends `Accept: application/json` unless told otherwise. */
    requestJson<T>(request: BufferedRequest): Promise<AltinnJsonResponse<T>>;
    /** GET with the Altinn token, parsed as JSON. */
    getJson<T>(url: string | URL, options?: Omit<BufferedRequest, 'url' | 'method' | 'body'>): Promise<T>;
    /** GET with the Altinn token, body streamed; pass e.g. a Range header in options. */
    stream(url: string | URL, options?: Omit<AltinnRequest, 'url' | 'method' | 'body'>): Promise<AltinnResponse>;
    /** Throws ForeignOriginError unless the URL is on an allowed origin: refuse a data link before queuing work on it. */
    assertAllowedOrigin(url: string | URL): URL;
    /** Closes the connection pool (if this instance created it). */
    close(): Promise<void>;
}

export type AltinnHttpConfig = OriginConfig & Pick<AppConfig, 'httpTimeoutMs' | 'httpRetryBudgetMs'>;

export interface AltinnHttpOptions {
    /** Where retries are reported (a step logger such as the InvocationContext). */
    logger?: StepLogger;
    backoff?: BackoffOptions;
    /** Share one pool between instances (e.g. the token provider's and the API's); created per instance otherwise. */
    dispatcher?: Dispatcher;
}

/** Connections the Altinn client keeps per origin; downloads beyond it wait, holding no buffer (shared/memory counts on it). */
export const MAX_CONNECTIONS_PER_ORIGIN = 16;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const USER_AGENT = 'altinn-application-owner-system-ts';

/** A keep-alive pool per origin, bounded, with connect, headers and body-idle timeouts from config. */
export function createAltinnAgent(config: Pick<AppConfig, 'httpTimeoutMs'>): Agent {
    const timeout = config.httpTimeoutMs;
    return new Agent({
        connections: MAX_CONNECTIONS_PER_ORIGIN,
        connect: { timeout },
        headersTimeout: timeout,
        bodyTimeout: timeout,
    });
}

/**
 * Creates the Altinn HTTP client. Without a token provider only `auth: 'none'` requests work
 * (the token provider's own calls to Maskinporten and the exchange).
 */
export function createAltinnHttp(
    config: AltinnHttpConfig,
    tokens?: AltinnTokenProvider,
    options: AltinnHttpOptions = {},
): AltinnHttp {
    const ownDispatcher = options.dispatcher ? undefined : createAltinnAgent(config);
    const dispatcher: Dispatcher = options.dispatcher ?? ownDispatcher!;
    const backoff = options.backoff ?? defaultBackoff;

    async function execute<R>(
        request: AltinnRequest,
        consume: (response: AltinnResponse, attempts: number) => Promise<R>,
    ): Promise<R> {
        const url = assertAllowedOrigin(request.url, config);
        const method = (request.method ?? 'GET').toUpperCase();
        const shown = redactUrl(url);
        const auth = request.auth ?? 'altinn';
        if (auth === 'altinn' && !tokens) throw new Error('This Altinn HTTP client has no token provider');
        const replayable = !(request.body instanceof Readable);
        const retryable = replayable && (request.retryable ?? isIdempotent(method));
        const deadline = Date.now() + config.httpRetryBudgetMs;
        let attempts = 0;
        let retries = 0;
        let refreshed = false;

        for (;;) {
            attempts++;
            const token = auth === 'altinn' ? await tokens!.getAltinnToken({ logger: request.logger }) : undefined;
            let failure: AltinnHttpErrorInit;
            let retryAfterMs: number | undefined;
            try {
                const response = await dispatcher.request({
                    origin: url.origin,
                    path: `${url.pathname}${url.search}`,
                    method,
                    headers: buildHeaders(request.headers, token),
                    body: typeof request.body === 'function' ? await request.body() : request.body,
                    signal: request.signal,
                });
                const status = response.statusCode;
                if (status === 401 && token !== undefined && !refreshed && replayable) {
                    if (request.isAccessRefusal) {
                        const body = await readErrorBody(response.body, response.headers);
                        if (request.isAccessRefusal(body.problem)) {
                            throw new AltinnHttpError({
                                method,
                                url: shown,
                                status,
                                transient: false,
                                attempts,
                                ...body,
                            });
                        }
                    } else {
                        await discard(response.body);
                    }
                    // A token Altinn no longer accepts (revoked, clock skew): one fresh token, one more try.
                    refreshed = true;
                    await tokens!.getAltinnToken({ forceRefresh: true, rejectedToken: token, logger: request.logger });
                    continue;
                }
                if ((status >= 200 && status < 300) || request.allowStatus?.includes(status)) {
                    return await consume({ status, headers: response.headers, body: response.body }, attempts);
                }
                failure = {
                    method,
                    url: shown,
                    status,
                    transient: isTransientStatus(status),
                    attempts,
                    ...(await readErrorBody(response.body, response.headers)),
                };
                if (!(retryable && isRetriedStatus(status))) throw new AltinnHttpError(failure);
                retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
            } catch (error) {
                if (error instanceof AltinnHttpError || request.signal?.aborted) throw error;
                const code = errorCode(error);
                const transient = isTransientCode(code);
                failure = { method, url: shown, code, transient, attempts, cause: error, reason: errorText(error) };
                if (!transient || !(retryable || (replayable && isNotSentCode(code))))
                    throw new AltinnHttpError(failure);
            }

            const remaining = deadline - Date.now();
            if (retryAfterMs !== undefined && retryAfterMs > remaining) {
                // Waiting out the budget only to be told "later" again helps no one: hand the wait to the caller (the queue).
                const reason = `Retry-After ${Math.ceil(retryAfterMs / 1000)} s exceeds the retry budget`;
                throw new AltinnHttpError({ ...failure, retryAfterMs, reason: join(failure.reason, reason) });
            }
            if (remaining <= 0) {
                const reason = `retry budget of ${config.httpRetryBudgetMs} ms used up`;
                throw new AltinnHttpError({ ...failure, reason: join(failure.reason, reason) });
            }
            const delayMs = retryAfterMs ?? Math.min(backoffDelay(retries, backoff), remaining);
            const logger = request.logger ?? options.logger;
            if (logger) {
                warnStep(logger, 'altinn-http-retry', {
                    method,
                    url: shown,
                    status: failure.status,
                    code: failure.code,
                    attempt: attempts,
                    delayMs,
                });
            }
            await sleep(delayMs, undefined, { signal: request.signal });
            retries++;
        }
    }

    async function requestText(request: BufferedRequest): Promise<AltinnTextResponse> {
        const limit = request.maxBytes ?? DEFAULT_MAX_BYTES;
        return execute(request, async ({ status, headers, body }, attempts) => {
            const bytes = await readAll(body, limit);
            if (bytes === undefined) {
                throw new AltinnHttpError({
                    method: (request.method ?? 'GET').toUpperCase(),
                    url: redactUrl(request.url),
                    status,
                    transient: false,
                    attempts,
                    reason: `response body larger than ${limit} bytes`,
                });
            }
            return { status, headers, text: bytes.toString('utf8') };
        });
    }

    async function requestJson<T>(request: BufferedRequest): Promise<AltinnJsonResponse<T>> {
        const headers = { accept: 'application/json', ...request.headers };
        const { status, headers: responseHeaders, text } = await requestText({ ...request, headers });
        if (!text.trim()) return { status, headers: responseHeaders, json: undefined };
        try {
            return { status, headers: responseHeaders, json: JSON.parse(text) as T };
        } catch {
            throw new AltinnHttpError({
                method: (request.method ?? 'GET').toUpperCase(),
                url: redactUrl(request.url),
                status,
                transient: false,
                attempts: 1,
                reason: 'response is not valid JSON',
            });
        }
    }

    /** Handed to the caller as is. undici emits 'error' when an unread body is destroyed; without a listener that
     * would crash the worker, so one is always there (pipeline and for-await still see every error). */
    const handOver = (response: AltinnResponse) => {
        response.body.on('error', () => undefined);
        return Promise.resolve(response);
    };

    return {
        request: (request) => execute(request, handOver),
        requestText,
        requestJson,
        async getJson<T>(url: string | URL, options: Omit<BufferedRequest, 'url' | 'method' | 'body'> = {}) {
            const { json } = await requestJson<T>({ ...options, url, method: 'GET' });
            return json as T;
        },
        stream: (url, options = {}) => execute({ ...options, url, method: 'GET' }, handOver),
        assertAllowedOrigin: (url) => assertAllowedOrigin(url, config),
        close: async () => {
            await ownDispatcher?.close();
        },
    };
}

function buildHeaders(given: Record<string, string> | undefined, token: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of Object.entries(given ?? {})) headers[name.toLowerCase()] = value;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    return headers;
}

function join(...parts: (string | undefined)[]): string {
    return parts.filter(Boolean).join('; ');
}

function errorText(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
