/**
 * The origin rule: tokens go only to the configured Altinn platform, apps and Maskinporten
 * origins. A data link or event source anywhere else is refused before a socket is opened.
 */
import { getConfig, type AppConfig } from '../config';

export type OriginConfig = Pick<AppConfig, 'platformBaseUrl' | 'appsBaseUrl'> & {
    maskinporten: Pick<AppConfig['maskinporten'], 'baseUrl'>;
};

export class ForeignOriginError extends Error {
    constructor(
        /** The refused URL, without query or credentials. */
        readonly url: string,
        readonly allowedOrigins: readonly string[],
    ) {
        super(`Refusing to call ${url}: its origin is not one of ${allowedOrigins.join(', ')}`);
        this.name = 'ForeignOriginError';
    }
}

/** The origins (scheme, host and port) that may receive a request, and with it a token. */
export function allowedOrigins(config: OriginConfig): string[] {
    const origins = [config.platformBaseUrl, config.appsBaseUrl, config.maskinporten.baseUrl].map(
        (base) => new URL(base).origin,
    );
    return [...new Set(origins)];
}

/**
 * Parses `url` and throws {@link ForeignOriginError} unless it is http(s) on an allowed origin
 * and carries no user info (`https://platform.altinn.no@evil.example` is evil.example, and a
 * URL with credentials is never ours either).
 */
export function assertAllowedOrigin(url: string | URL, config: OriginConfig = getConfig()): URL {
    const allowed = allowedOrigins(config);
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw new ForeignOriginError('(not an absolute URL)', allowed);
    }
    const ok =
        (parsed.protocol === 'https:' || parsed.protocol === 'http:') &&
        !parsed.username &&
        !parsed.password &&
        allowed.includes(parsed.origin);
    if (!ok) throw new ForeignOriginError(redactUrl(parsed), allowed);
    return parsed;
}

const SECRET_QUERY_NAMES = /code|sig|token|key|secret|pass|assertion|auth/i;

/** The URL as it may appear in logs and errors: no credentials, and no values of secret-looking query parameters. */
export function redactUrl(url: string | URL): string {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        return '(not an absolute URL)';
    }
    const query = [...parsed.searchParams]
        .map(([name, value]) => `${name}=${SECRET_QUERY_NAMES.test(name) ? '***' : encodeURIComponent(value)}`)
        .join('&');
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${query ? `?${query}` : ''}`;
}
