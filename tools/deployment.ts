/**
 * Calls a deployed function app's own operator endpoints (`/api/check`, `/api/status`) with its
 * function key, sent as the `x-functions-key` header so that it stays out of URLs and logs.
 */

/** The environment variable `aos check` and `aos smoke` take the function key from when --key is not given. */
export const functionKeyVariable = 'AOS_FUNCTION_KEY';

export class DeploymentError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
        this.name = 'DeploymentError';
    }
}

/** The app's base URL from what the operator gave: the base, or an /api/... URL of it. */
export function deploymentBase(url: string): URL {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw new DeploymentError(`--url "${url}" is not an absolute URL.`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new DeploymentError(`--url must be http(s), not ${parsed.protocol}`);
    }
    const api = parsed.pathname.toLowerCase().indexOf('/api/');
    const base = api >= 0 ? parsed.pathname.slice(0, api) : parsed.pathname.replace(/\/+$/, '');
    return new URL(`${parsed.origin}${base}/`);
}

export interface DeploymentClient {
    readonly base: URL;
    /** GET {base}api/{path}; the parsed JSON and the status. 404 is handed back, every other non-2xx throws. */
    getJson<T>(path: string, timeoutMs?: number): Promise<{ status: number; json?: T }>;
}

export function deploymentClient(url: string, key: string | undefined): DeploymentClient {
    const base = deploymentBase(url);
    return {
        base,
        async getJson<T>(path: string, timeoutMs = 120_000) {
            const target = new URL(`api/${path}`, base);
            let response: Response;
            try {
                response = await fetch(target, {
                    headers: { accept: 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
                    signal: AbortSignal.timeout(timeoutMs),
                });
            } catch (error) {
                const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
                throw new DeploymentError(
                    `${target.origin}${target.pathname} did not answer: ${cause?.message ?? String(error)}`,
                );
            }
            if (response.status === 401 || response.status === 403) {
                throw new DeploymentError(
                    `${target.origin}${target.pathname} refused the function key (${response.status}): give --key or ${functionKeyVariable}`,
                    response.status,
                );
            }
            if (response.status === 404) return { status: 404 };
            const text = await response.text();
            if (!response.ok) {
                throw new DeploymentError(
                    `${target.origin}${target.pathname} answered ${response.status}: ${text.slice(0, 300)}`,
                    response.status,
                );
            }
            try {
                return { status: response.status, json: JSON.parse(text) as T };
            } catch {
                throw new DeploymentError(`${target.origin}${target.pathname} answered something that is not JSON`);
            }
        },
    };
}
