/** Which failures are retried, and how long to wait: pure functions, so the policy can be read and tested alone. */

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Statuses retried in place: the server said "not now", not "no". */
const RETRIED_STATUSES = new Set([408, 429, 502, 503, 504]);

/** Connection failures after which the same request may well succeed. */
const TRANSIENT_CODES = new Set([
    'ECONNRESET',
    'ECONNREFUSED',
    'ECONNABORTED',
    'EPIPE',
    'ETIMEDOUT',
    'EAI_AGAIN',
    'ENETUNREACH',
    'EHOSTUNREACH',
    'UND_ERR_SOCKET',
    'UND_ERR_CLOSED',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
]);

/** Failures before a single byte of the request left: even a non-idempotent POST can be sent again. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function isIdempotent(method: string): boolean {
    return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

export function isRetriedStatus(status: number): boolean {
    return RETRIED_STATUSES.has(status);
}

/** Worth trying again later (a queue redelivery), though only {@link isRetriedStatus} is retried in place. */
export function isTransientStatus(status: number): boolean {
    return status === 408 || status === 429 || status >= 500;
}

/** The error code of a Node or undici failure, looking through `cause` and AggregateError (happy eyeballs). */
export function errorCode(error: unknown): string | undefined {
    for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
        const code = (current as { code?: unknown }).code;
        if (typeof code === 'string') return code;
        if (current instanceof AggregateError) {
            const inner = (current.errors as unknown[]).map(errorCode).find(Boolean);
            if (inner) return inner;
        }
        current = (current as { cause?: unknown }).cause;
    }
    return undefined;
}

export function isTransientCode(code: string | undefined): boolean {
    return code !== undefined && TRANSIENT_CODES.has(code);
}

export function isNotSentCode(code: string | undefined): boolean {
    return code !== undefined && NOT_SENT_CODES.has(code);
}

/** Retry-After as milliseconds from `nowMs`: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
    const text = (Array.isArray(value) ? value[0] : value)?.trim();
    if (!text) return undefined;
    if (/^\d+$/.test(text)) return Number(text) * 1000;
    const date = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : NaN; // HTTP dates start with the day name
    return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface BackoffOptions {
    /** First retry waits up to this long. */
    baseDelayMs: number;
    /** No single wait is longer than this. */
    maxDelayMs: number;
}

export const defaultBackoff: BackoffOptions = { baseDelayMs: 200, maxDelayMs: 10_000 };

/** Exponential backoff with full jitter (a uniform wait in [0, min(max, base·2^retry)]), so that many callers spread out. */
export function backoffDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
    const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
    return Math.floor(random() * ceiling);
}
