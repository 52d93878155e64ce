import type { IncomingMessage, ServerResponse } from 'node:http';
import { jwtVerify, UnsecuredJWT } from 'jose';
import { loadConfig } from '../../../shared/config';
import { createAltinnStack, type AltinnStack } from '../../../shared/altinn';
import { createAltinnHttp, type AltinnHttp } from '../../../shared/altinn/http';
import { parseSigningKey } from '../../../shared/altinn/signingKey';
import { TokenError, createTokenProvider, type TokenProviderConfig } from '../../../shared/altinn/tokens';
import { certificatePem, pkcs8Pem, rsaKey } from '../../unit/altinn/fixtures';
import { json, startServer, type TestServer } from './server';

const key = rsaKey();
const keyPem = `${pkcs8Pem(key)}${certificatePem(key)}`;
const signingKey = parseSigningKey(keyPem, { setting: 'MaskinportenKey' });
const clientId = 'client-1234';
const scopes = ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'];

/** A token that only the fake issues and checks (by identity): unsigned, but with a real exp claim. */
function fakeJwt(claims: Record<string, unknown>): string {
    return new UnsecuredJWT(claims).encode();
}

interface FakeAltinnOptions {
    /** expires_in of Maskinporten tokens, and the lifetime in their exp claim. */
    maskinportenExpiresIn?: number;
    maskinportenExpClaimS?: number;
    altinnLifetimeS?: number;
    quoted?: boolean;
    /** Statuses /token answers before it issues tokens. */
    tokenFailures?: number[];
}

/** Maskinporten, the Altinn exchange and one API endpoint, as a real HTTP server that checks what it gets. */
async function fakeAltinn(options: FakeAltinnOptions = {}) {
    const state = {
        grants: 0,
        exchanges: 0,
        assertions: [] as string[],
        jtis: new Set<string>(),
        exchangeUrls: [] as string[],
        exchangeAccept: [] as (string | undefined)[],
        maskinportenTokens: new Set<string>(),
        altinnTokens: new Set<string>(),
        issued: [] as string[],
        /** Refuse every Maskinporten token at the exchange. */
        refuseExchange: false,
        server: undefined as unknown as TestServer,
    };
    const now = () => Math.floor(Date.now() / 1000);
    /** The grant's claims if it is one the real Maskinporten would take from this client, else undefined. */
    async function verifiedGrant(assertion: string): Promise<Record<string, unknown> | undefined> {
        try {
            const { payload } = await jwtVerify(assertion, key.publicKey, {
                algorithms: ['RS256'],
                audience: `${state.server.origin}/`,
                issuer: clientId,
                requiredClaims: ['iat', 'exp', 'jti', 'scope'],
            });
            return payload;
        } catch {
            return undefined;
        }
    }
    const handle = async (request: IncomingMessage, response: ServerResponse, body: string): Promise<void> => {
        const bearer = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
        if (request.method === 'POST' && request.url === '/token') {
            const form = new URLSearchParams(body);
            const assertion = form.get('assertion') ?? '';
            state.assertions.push(assertion);
            const failure = options.tokenFailures?.shift();
            if (failure) return json(response, failure, { error: 'server_error', error_description: 'busy' });
            const claims = await verifiedGrant(assertion);
            const valid =
                form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
                claims !== undefined &&
                claims.scope === scopes.join(' ') &&
                (claims.exp as number) - (claims.iat as number) <= 120 &&
                !state.jtis.has(claims.jti as string);
            if (claims) state.jtis.add(claims.jti as string);
            if (!valid)
                return json(response, 400, { error: 'invalid_grant', error_description: 'MP-110 Invalid assertion' });
            state.grants++;
            const expiresIn = options.maskinportenExpiresIn ?? 120;
            const token = fakeJwt({ n: state.grants, exp: now() + (options.maskinportenExpClaimS ?? expiresIn) });
            state.maskinportenTokens.add(token);
            state.issued.push(token);
            return json(response, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
        }
        if (request.url?.startsWith('/authentication/api/v1/exchange/maskinporten')) {
            state.exchanges++;
            state.exchangeUrls.push(request.url);
            state.exchangeAccept.push(request.headers.accept);
            if (state.refuseExchange || !state.maskinportenTokens.has(bearer))
                return json(response, 401, { title: 'Unauthorized' });
            const token = fakeJwt({ n: state.exchanges, exp: now() + (options.altinnLifetimeS ?? 1800) });
            state.altinnTokens.add(token);
            state.issued.push(token);
            response.writeHead(200, { 'content-type': options.quoted === false ? 'text/plain' : 'application/json' });
            response.end(options.quoted === false ? token : JSON.stringify(token));
            return;
        }
        if (request.url === '/api/thing') {
            return state.altinnTokens.has(bearer) ? json(response, 200, { ok: true }) : json(response, 401, {});
        }
        json(response, 404, {});
    };
    state.server = await startServer((request, response, body) => {
        handle(request, response, body).catch((error: unknown) => response.destroy(error as Error));
    });
    return state;
}

type Fake = Awaited<ReturnType<typeof fakeAltinn>>;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
});

function configFor(fake: Fake, testMode = false): TokenProviderConfig {
    const origin = fake.server.origin;
    return {
        platformBaseUrl: origin,
        appsBaseUrl: origin,
        maskinporten: {
            baseUrl: origin,
            clientId,
            scopes,
            key: { kind: 'inline', setting: 'MaskinportenKey', value: '' },
        },
        testMode,
        httpTimeoutMs: 1000,
        httpRetryBudgetMs: 2000,
    };
}

async function setUp(options: FakeAltinnOptions = {}, testMode = false) {
    const fake = await fakeAltinn(options);
    cleanup.push(() => fake.server.close());
    const clock = { offsetMs: 0 };
    const config = configFor(fake, testMode);
    const lines: string[] = [];
    const logger = { info: (line: string) => lines.push(line), warn: () => undefined, error: () => undefined };
    const http: AltinnHttp = createAltinnHttp(config, undefined, { backoff: { baseDelayMs: 10, maxDelayMs: 50 } });
    cleanup.push(() => http.close());
    const tokens = createTokenProvider(config, { http, signingKey, logger, now: () => Date.now() + clock.offsetMs });
    return { fake, tokens, clock, config, lines };
}

describe('Maskinporten grant and Altinn token exchange', () => {
    it('grants and exchanges once for 50 concurrent callers, then serves from the cache', async () => {
        const { fake, tokens } = await setUp();
        const results = await Promise.all(Array.from({ length: 50 }, () => tokens.getAltinnToken()));
        expect(new Set(results).size).toBe(1);
        expect(fake.altinnTokens.has(results[0])).toBe(true);
        expect([fake.grants, fake.exchanges]).toEqual([1, 1]);
        await tokens.getAltinnToken();
        expect([fake.grants, fake.exchanges]).toEqual([1, 1]);
    });

    it('exchanges with Accept: application/json, test=true in test mode, and takes a bare body too', async () => {
        const { fake, tokens } = await setUp({ quoted: false }, true);
        expect(fake.altinnTokens.has(await tokens.getAltinnToken())).toBe(true);
        expect(fake.exchangeUrls).toEqual(['/authentication/api/v1/exchange/maskinporten?test=true']);
        expect(fake.exchangeAccept).toEqual(['application/json']);
    });

    it('keeps tokens until 60 s before they expire (injected clock)', async () => {
        const { fake, tokens, clock } = await setUp({ maskinportenExpiresIn: 120, altinnLifetimeS: 120 });
        const first = await tokens.getAltinnToken();
        clock.offsetMs = 59_000;
        expect(await tokens.getAltinnToken()).toBe(first);
        expect([fake.grants, fake.exchanges]).toEqual([1, 1]);
        clock.offsetMs = 61_000;
        expect(await tokens.getAltinnToken()).not.toBe(first);
        expect([fake.grants, fake.exchanges]).toEqual([2, 2]);
    });

    it('takes the earlier of expires_in and the exp claim', async () => {
        const { fake, tokens, clock } = await setUp({ maskinportenExpiresIn: 600, maskinportenExpClaimS: 90 });
        await tokens.getMaskinportenToken();
        clock.offsetMs = 31_000;
        await tokens.getMaskinportenToken();
        expect(fake.grants).toBe(2);
    });

    it('refreshes a 62-second token about 2 s after it was issued (real clock)', async () => {
        const { fake, tokens } = await setUp({ maskinportenExpiresIn: 62, altinnLifetimeS: 62 });
        await tokens.getAltinnToken();
        await new Promise((resolve) => setTimeout(resolve, 500));
        await tokens.getAltinnToken();
        expect(fake.grants).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 1800));
        await tokens.getAltinnToken();
        expect([fake.grants, fake.exchanges]).toEqual([2, 2]);
    });

    it('signs a new grant for every attempt, so a retried token request is never a reused grant', async () => {
        const { fake, tokens } = await setUp({ tokenFailures: [503] });
        await tokens.getMaskinportenToken();
        expect(fake.assertions).toHaveLength(2);
        expect(fake.assertions[0]).not.toBe(fake.assertions[1]);
        expect(fake.grants).toBe(1);
    });

    it('names client and scopes when Maskinporten refuses, without the assertion', async () => {
        const { fake, config } = await setUp();
        const wrong = createTokenProvider(
            { ...config, maskinporten: { ...config.maskinporten, scopes: ['altinn:wrong'] } },
            { http: createAltinnHttp(config), signingKey },
        );
        const error = (await wrong.getAltinnToken().catch((e: unknown) => e)) as TokenError;
        expect(error).toBeInstanceOf(TokenError);
        expect(error).toMatchObject({ status: 400, transient: false });
        expect(error.message).toContain(clientId);
        expect(error.message).toContain('altinn:wrong');
        expect(error.message).toMatch(/invalid_grant: MP-110 Invalid assertion/);
        for (const assertion of fake.assertions) expect(error.message).not.toContain(assertion.split('.')[1]);
    });

    it('names client and scopes when the exchange refuses a fresh Maskinporten token', async () => {
        const { fake, tokens } = await setUp();
        fake.refuseExchange = true;
        const error = (await tokens.getAltinnToken().catch((e: unknown) => e)) as TokenError;
        expect(error).toBeInstanceOf(TokenError);
        expect(error).toMatchObject({ status: 401, transient: false });
        expect(error.message).toMatch(/Altinn token exchange for Maskinporten client client-1234 with scopes/);
        expect([fake.grants, fake.exchanges]).toEqual([1, 1]);
    });

    it('grants again when the exchange refuses a cached Maskinporten token', async () => {
        const { fake, tokens, clock } = await setUp({ maskinportenExpiresIn: 600, altinnLifetimeS: 120 });
        await tokens.getAltinnToken();
        fake.maskinportenTokens.clear(); // revoked
        clock.offsetMs = 61_000;
        expect(fake.altinnTokens.has(await tokens.getAltinnToken())).toBe(true);
        expect([fake.grants, fake.exchanges]).toEqual([2, 3]);
    });

    it('never logs a token', async () => {
        const { fake, tokens, lines } = await setUp();
        await tokens.getAltinnToken();
        expect(lines.length).toBeGreaterThan(0);
        for (const token of fake.issued) expect(lines.join('\n')).not.toContain(token);
    });
});

describe('the stack: HTTP client with the token provider', () => {
    let stack: AltinnStack | undefined;
    afterEach(async () => {
        await stack?.close();
        stack = undefined;
    });

    async function stackFor(fake: Fake): Promise<AltinnStack> {
        const origin = fake.server.origin;
        const config = loadConfig({
            AltinnPlatformBaseUrl: origin,
            AltinnAppsBaseUrl: origin,
            MaskinportenBaseUrl: origin,
            MaskinportenClientId: clientId,
            MaskinportenScopes: scopes.join(' '),
            MaskinportenKey: keyPem,
        });
        stack = createAltinnStack(config);
        return Promise.resolve(stack);
    }

    it('gets a token from the inline key, calls the API, and refreshes once for 50 requests refused at once', async () => {
        const fake = await fakeAltinn();
        cleanup.push(() => fake.server.close());
        const { http } = await stackFor(fake);
        await expect(http.getJson(`${fake.server.origin}/api/thing`)).resolves.toEqual({ ok: true });
        expect([fake.grants, fake.exchanges]).toEqual([1, 1]);

        fake.altinnTokens.clear(); // Altinn no longer accepts the cached token
        const results = await Promise.all(
            Array.from({ length: 50 }, () => http.getJson(`${fake.server.origin}/api/thing`)),
        );
        expect(results.every((result) => (result as { ok: boolean }).ok)).toBe(true);
        expect([fake.grants, fake.exchanges]).toEqual([2, 2]);
    });
});
