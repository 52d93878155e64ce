/**
 * Maskinporten JWT grant and the exchange for an Altinn token, cached until shortly before
 * expiry, with one refresh in flight at a time however many callers ask. Token values never
 * reach a log line or an error message.
 *
 * The signing key is loaded again once it is an hour old (keyMaxAgeMs), so that a rotated key
 * (a new Key Vault secret version, carrying its kid) is taken up by every running instance within
 * the hour, without a restart; each load logs step=signing-key with the kid and the certificate's
 * expiry (the certificate-expiring alert reads it) to the logger of the call that caused it (an
 * invocation's, so that it reaches Application Insights).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AppConfig, MaskinportenConfig } from '../config';
import { errorMessage, logStep, warnStep, type StepLogger } from '../log';
import { AltinnHttpError } from './errors';
import { createAltinnHttp, type AltinnHttp, type AltinnHttpConfig, type AltinnTokenProvider } from './http';
import { decodeJwtClaims } from './jwt';
import { loadSigningKey, type SigningKey } from './signingKey';

const GRANT_LIFETIME_S = 60; // Maskinporten allows at most 120
const REFRESH_MARGIN_MS = 60_000;
/** How long a loaded signing key is used before it is read again. */
export const SIGNING_KEY_MAX_AGE_MS = 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export type TokenProviderConfig = AltinnHttpConfig & Pick<AppConfig, 'maskinporten' | 'testMode'>;

export interface TokenProviderOptions {
    /** Client for the grant and the exchange (auth: 'none'); by default one of its own. */
    http?: AltinnHttp;
    /** The signing key, or how to get it; by default loadSigningKey(config.maskinporten), once. */
    signingKey?: SigningKey | (() => Promise<SigningKey>);
    /** Clock in ms, injectable so that tests can move past expiry. */
    now?: () => number;
    /** How long a loaded key is used before it is loaded again; default an hour. */
    keyMaxAgeMs?: number;
    /** Where lines go when the caller passes no logger of its own. */
    logger?: StepLogger;
}

/** Per call: the invocation whose request caused a refresh gets its lines. */
interface CallLogger {
    logger?: StepLogger;
}

export interface MaskinportenTokenProvider extends AltinnTokenProvider {
    /** The Maskinporten access token itself (for the exchange, or an API that takes it directly). */
    getMaskinportenToken(options?: { forceRefresh?: boolean; logger?: StepLogger }): Promise<string>;
}

/** Why a token could not be had. Names the client and scopes; `transient` as in AltinnHttpError. */
export class TokenError extends Error {
    constructor(
        message: string,
        readonly transient: boolean,
        readonly status?: number,
        cause?: unknown,
    ) {
        super(message, cause === undefined ? undefined : { cause });
        this.name = 'TokenError';
    }
}

/** A signed JWT grant (RFC 7523) as Maskinporten wants it: x5c or kid, aud = issuer + '/', exp - iat = 60 s, fresh jti. */
export async function createGrant(
    maskinporten: Pick<MaskinportenConfig, 'baseUrl' | 'clientId' | 'scopes'>,
    key: SigningKey,
    nowMs: number = Date.now(),
): Promise<string> {
    if (!key.kid && !key.x5c?.length) throw new Error('A Maskinporten grant needs a kid or an x5c certificate');
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT({ scope: maskinporten.scopes.join(' ') })
        .setProtectedHeader(key.kid ? { alg: key.alg, kid: key.kid } : { alg: key.alg, x5c: key.x5c })
        .setAudience(`${maskinporten.baseUrl}/`)
        .setIssuer(maskinporten.clientId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + GRANT_LIFETIME_S)
        .setJti(randomUUID())
        .sign(key.privateKey);
}

interface Cached {
    token: string;
    refreshAt: number;
}

/** Creates the process's source of Altinn tokens (Maskinporten grant, then exchange). */
export function createTokenProvider(
    config: TokenProviderConfig,
    options: TokenProviderOptions = {},
): MaskinportenTokenProvider {
    const http = options.http ?? createAltinnHttp(config);
    const now = options.now ?? Date.now;
    const { clientId, scopes } = config.maskinporten;
    const who = `Maskinporten client ${clientId} with scopes "${scopes.join(' ')}"`;
    const keyMaxAgeMs = options.keyMaxAgeMs ?? SIGNING_KEY_MAX_AGE_MS;
    let key: { loaded: Promise<SigningKey>; at: number } | undefined;
    let maskinporten: Cached | undefined;
    let maskinportenInFlight: Promise<Cached> | undefined;
    let altinn: Cached | undefined;
    let altinnInFlight: Promise<Cached> | undefined;

    function loadKey(logger: StepLogger): Promise<SigningKey> {
        const given = options.signingKey;
        const loading =
            typeof given === 'function'
                ? given()
                : given
                  ? Promise.resolve(given)
                  : loadSigningKey(config.maskinporten);
        return loading.then((loaded) => {
            // Never the key: its id, and when its certificate (x5c) expires, for the certificate-expiring alert.
            const expires = loaded.certificateExpiresAt;
            logStep(logger, 'signing-key', {
                kid: loaded.kid,
                kidFrom: loaded.kidFrom,
                certificateExpiresAt: expires?.toISOString(),
                certificateExpiresInDays: expires && daysUntil(expires, now()),
            });
            return loaded;
        });
    }

    function signingKey(logger: StepLogger): Promise<SigningKey> {
        const previous = key;
        if (previous && now() - previous.at < keyMaxAgeMs) return previous.loaded;
        const entry = { at: now(), loaded: loadKey(logger) };
        key = entry;
        entry.loaded = entry.loaded.catch(async (error: unknown) => {
            // Tried again on the next call. Until a load succeeds, a key that worked is kept.
            if (key === entry) key = previous;
            if (!previous) throw error;
            const kept = await previous.loaded;
            warnStep(logger, 'signing-key-reload-failed', { kid: kept.kid, error: errorMessage(error) });
            return kept;
        });
        return entry.loaded;
    }

    /**
     * Refresh 60 s before expiry, the earlier of expires_in and the JWT's exp. A token that lives
     * 60 s or less is kept for half its life, rather than fetched anew for every call.
     */
    function cacheEntry(token: string, expiresInS: unknown): Cached {
        const issued = now();
        const exp = decodeJwtClaims(token)?.exp;
        const candidates = [
            typeof expiresInS === 'number' ? issued + expiresInS * 1000 : undefined,
            typeof exp === 'number' ? exp * 1000 : undefined,
        ].filter((at): at is number => at !== undefined && Number.isFinite(at));
        if (candidates.length === 0) throw new TokenError(`The token for ${who} has no expiry`, false);
        const expiresAt = Math.min(...candidates);
        const refreshAt = expiresAt - REFRESH_MARGIN_MS;
        return { token, refreshAt: refreshAt > issued ? refreshAt : issued + Math.max(0, expiresAt - issued) / 2 };
    }

    function failure(step: string, error: unknown): Error {
        if (!(error instanceof AltinnHttpError)) return error instanceof Error ? error : new Error(String(error));
        const refused = error.status === 401 || error.status === 403;
        const hint =
            refused && step.includes('exchange') ? ' (is the client an Altinn service owner with these scopes?)' : '';
        return new TokenError(
            `${step} for ${who} failed${hint}: ${error.message}`,
            error.transient,
            error.status,
            error,
        );
    }

    async function grant(logger: StepLogger): Promise<Cached> {
        const signing = await signingKey(logger);
        let body;
        try {
            body = await http.requestJson<{ access_token?: unknown; expires_in?: unknown }>({
                method: 'POST',
                url: `${config.maskinporten.baseUrl}/token`,
                auth: 'none',
                retryable: true, // each attempt signs a new grant (new jti), so a resend is never a reused grant
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: async () =>
                    new URLSearchParams({
                        grant_type: JWT_BEARER,
                        assertion: await createGrant(config.maskinporten, signing, now()),
                    }).toString(),
            });
        } catch (error) {
            throw failure('The Maskinporten token request', error);
        }
        const token = body.json?.access_token;
        if (typeof token !== 'string' || !token) {
            throw new TokenError(`Maskinporten answered ${who} without an access_token`, false, body.status);
        }
        const entry = cacheEntry(token, body.json?.expires_in);
        logStep(options.logger ?? silent, 'maskinporten-token', {
            clientId,
            kid: signing.kid,
            validForS: validFor(entry),
        });
        return entry;
    }

    async function exchange(maskinportenToken: string): Promise<Cached> {
        const query = config.testMode ? '?test=true' : '';
        let text: string;
        try {
            ({ text } = await http.requestText({
                url: `${config.platformBaseUrl}/authentication/api/v1/exchange/maskinporten${query}`,
                auth: 'none',
                headers: { authorization: `Bearer ${maskinportenToken}`, accept: 'application/json' },
            }));
        } catch (error) {
            throw failure('The Altinn token exchange', error);
        }
        // With Accept: application/json the JWT comes JSON-quoted; without, bare. Take either.
        let token = text.trim();
        if (token.startsWith('"')) {
            try {
                token = String(JSON.parse(token));
            } catch {
                token = '';
            }
        }
        if (typeof decodeJwtClaims(token)?.exp !== 'number') {
            throw new TokenError(`The Altinn token exchange for ${who} returned something that is not a JWT`, false);
        }
        const entry = cacheEntry(token, undefined);
        logStep(options.logger ?? silent, 'altinn-token', { clientId, validForS: validFor(entry) });
        return entry;
    }

    function validFor(entry: Cached): number {
        return Math.round((entry.refreshAt - now()) / 1000);
    }

    async function maskinportenToken(
        forceRefresh: boolean,
        logger: StepLogger,
    ): Promise<{ entry: Cached; fresh: boolean }> {
        if (!forceRefresh && maskinporten && now() < maskinporten.refreshAt)
            return { entry: maskinporten, fresh: false };
        maskinportenInFlight ??= grant(logger)
            .then((entry) => (maskinporten = entry))
            .finally(() => (maskinportenInFlight = undefined));
        return { entry: await maskinportenInFlight, fresh: true };
    }

    async function refreshAltinn(forceRefresh: boolean, logger: StepLogger): Promise<Cached> {
        const first = await maskinportenToken(forceRefresh, logger);
        try {
            return await exchange(first.entry.token);
        } catch (error) {
            // A cached Maskinporten token Altinn refuses is retried once with a new grant.
            if (first.fresh || !(error instanceof TokenError) || error.status !== 401) throw error;
            return exchange((await maskinportenToken(true, logger)).entry.token);
        }
    }

    const loggerFor = (call: CallLogger): StepLogger => call.logger ?? options.logger ?? silent;

    return {
        async getMaskinportenToken({ forceRefresh = false, ...call } = {}) {
            return (await maskinportenToken(forceRefresh, loggerFor(call))).entry.token;
        },
        async getAltinnToken({ forceRefresh = false, rejectedToken, ...call } = {}) {
            const fresh = altinn && now() < altinn.refreshAt;
            if (fresh && (!forceRefresh || (rejectedToken !== undefined && altinn!.token !== rejectedToken))) {
                return altinn!.token; // cached, or already replaced since the caller's token was refused
            }
            altinnInFlight ??= refreshAltinn(forceRefresh, loggerFor(call))
                .then((entry) => (altinn = entry))
                .finally(() => (altinnInFlight = undefined));
            return (await altinnInFlight).token;
        },
    };
}

const silent: StepLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Days from now until `at`, rounded down to a tenth (negative once it has passed). */
function daysUntil(at: Date, nowMs: number): number {
    return Math.floor(((at.getTime() - nowMs) / DAY_MS) * 10) / 10;
}
