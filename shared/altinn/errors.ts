/** Errors thrown by the Altinn HTTP layer. Messages carry no token, assertion, query secret or identity number. */
import { redactPersonalData } from '../redact';

/** An RFC 9457 problem (Altinn) or an OAuth error (Maskinporten), as the server sent it. */
export interface ProblemBody {
    type?: string;
    title?: string;
    status?: number;
    detail?: string;
    error?: string;
    error_description?: string;
    [member: string]: unknown;
}

export interface AltinnHttpErrorInit {
    method: string;
    /** Redacted URL (see redactUrl). */
    url: string;
    status?: number;
    /** Error code of a connection failure, e.g. ECONNRESET or UND_ERR_BODY_TIMEOUT. */
    code?: string;
    problem?: ProblemBody;
    /** Start of a non-JSON error body, for diagnosis. */
    bodyText?: string;
    transient: boolean;
    attempts: number;
    /** The server's Retry-After, when it asked for a longer wait than the budget had left. */
    retryAfterMs?: number;
    cause?: unknown;
    reason?: string;
}

/**
 * A request to Altinn or Maskinporten that did not succeed. `transient` says whether trying
 * again later (e.g. by letting the queue redeliver) may help: connection errors, timeouts,
 * 408, 429 and 5xx are transient; other 4xx are not.
 */
export class AltinnHttpError extends Error {
    readonly method: string;
    readonly url: string;
    readonly status?: number;
    readonly code?: string;
    readonly problem?: ProblemBody;
    readonly bodyText?: string;
    readonly transient: boolean;
    readonly attempts: number;
    readonly retryAfterMs?: number;

    constructor(init: AltinnHttpErrorInit) {
        super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
        this.name = 'AltinnHttpError';
        this.method = init.method;
        this.url = init.url;
        this.status = init.status;
        this.code = init.code;
        this.problem = init.problem;
        this.bodyText = init.bodyText;
        this.transient = init.transient;
        this.attempts = init.attempts;
        this.retryAfterMs = init.retryAfterMs;
    }
}

function describe(init: AltinnHttpErrorInit): string {
    const what = init.status !== undefined ? `HTTP ${init.status}` : (init.code ?? 'connection failed');
    // Altinn's error bodies may echo what they were given, personal data included.
    const summary = problemSummary(init.problem) ?? init.bodyText;
    const detail = summary === undefined ? undefined : redactPersonalData(summary);
    const tries = init.attempts > 1 ? ` after ${init.attempts} attempts` : '';
    return [`${init.method} ${init.url} failed${tries}: ${what}`, init.reason, detail].filter(Boolean).join('; ');
}

export function problemSummary(problem: ProblemBody | undefined): string | undefined {
    if (!problem) return undefined;
    const parts = [problem.error, problem.error_description, problem.title, problem.detail].filter(
        (part): part is string => typeof part === 'string' && part.length > 0,
    );
    return parts.length ? parts.join(': ') : undefined;
}
