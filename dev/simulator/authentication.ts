import { randomUUID } from 'node:crypto';
import { type SimCore, DIGDIR_ORG_NUMBER } from './core';
import { bearerToken, sendJson, sendNegotiatedString, sendProblem, sendUnauthorized } from './http';
import { type RequestContext, type RouteDefinition } from './router';
import { type Principal, type TokenKind, nowSeconds, orgNumberFromConsumer } from './tokens';

/*
 * Altinn Authentication's token exchange (altinn-api.md §2), and the bearer check every other
 * platform and app endpoint does: a missing, foreign, expired or wrong-kind token is 401.
 */

const TRUSTED_PROVIDERS = ['maskinporten', 'id-porten', 'altinnstudio'];

/** The caller, or undefined after answering 401. Altinn tokens are validated without clock skew. */
export async function authenticate(
    core: SimCore,
    ctx: RequestContext,
    kinds: TokenKind[] = ['altinn'],
): Promise<Principal | undefined> {
    const result = await core.tokens.verify(bearerToken(ctx.req), kinds);
    if (!result.ok) {
        core.log(`401 ${ctx.endpoint}: ${result.reason}`);
        sendUnauthorized(ctx.res, bearerToken(ctx.req) ? 'invalid_token' : undefined);
        return undefined;
    }
    return result.principal;
}

export function hasScope(principal: Principal, ...anyOf: string[]): boolean {
    return anyOf.some((scope) => principal.scopes.includes(scope));
}

async function exchange(core: SimCore, ctx: RequestContext): Promise<void> {
    if (ctx.req.headers['x-altinn-enterpriseuser-authentication'] !== undefined) {
        sendProblem(ctx.res, 410, 'Enterprise user authentication is no longer supported.');
        return;
    }
    const provider = ctx.params.provider.toLowerCase();
    if (!TRUSTED_PROVIDERS.includes(provider)) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            400,
            `Invalid token provider: ${ctx.params.provider}. Trusted token providers are 'Maskinporten', 'Id-porten' and 'AltinnStudio'.`,
        );
        return;
    }
    // Only Maskinporten is simulated; an ID-porten or Studio token can never validate here.
    const result =
        provider === 'maskinporten' ? await core.tokens.verify(bearerToken(ctx.req), ['maskinporten'], 10) : undefined;
    if (!result?.ok) {
        core.log(`401 exchange: ${result ? result.reason : `provider ${provider} not simulated`}`);
        sendUnauthorized(ctx.res);
        return;
    }
    const mp = result.principal;
    const orgNumber = orgNumberFromConsumer(mp.claims.consumer);
    if (!orgNumber) {
        sendUnauthorized(ctx.res);
        return;
    }
    let org = core.orgForNumber(orgNumber);
    if (orgNumber === DIGDIR_ORG_NUMBER && /^true$/i.test(ctx.url.searchParams.get('test') ?? '')) {
        org = 'ttd';
    }
    const now = nowSeconds();
    const claims: Record<string, unknown> = {};
    // Everything from the Maskinporten token except aud, client_amr, iss and sid is kept (GenerateToken).
    for (const [name, value] of Object.entries(mp.claims)) {
        if (!['aud', 'client_amr', 'iss', 'sid', 'exp', 'iat', 'nbf', 'jti'].includes(name)) {
            claims[name] = value;
        }
    }
    if (org && typeof mp.claims.scope === 'string' && mp.claims.scope.includes('altinn:serviceowner')) {
        claims['urn:altinn:org'] = org;
    }
    claims['urn:altinn:orgNumber'] = orgNumber;
    claims['urn:altinn:authenticatemethod'] = 'maskinporten';
    claims['urn:altinn:authlevel'] = 3;
    claims.sid = randomUUID();
    claims.jti = randomUUID();
    claims.iat = now;
    claims.nbf = now;
    claims.exp = now + core.options.altinnTokenLifetimeSeconds;
    core.counters.exchanges += 1;
    sendNegotiatedString(ctx.req, ctx.res, 200, await core.tokens.issueAltinn(claims));
}

export function authenticationRoutes(core: SimCore): RouteDefinition[] {
    return [
        {
            listener: 'platform',
            method: 'GET',
            path: '/authentication/api/v1/exchange/{provider}',
            endpoint: 'authentication.exchange',
            handler: (ctx) => exchange(core, ctx),
        },
        {
            listener: 'platform',
            method: 'GET',
            path: '/authentication/api/v1/openid/.well-known/openid-configuration',
            endpoint: 'authentication.metadata',
            handler: (ctx) =>
                sendJson(ctx.res, 200, {
                    issuer: core.tokens.altinnIssuer,
                    jwks_uri: `${core.origins.platformUrl}/authentication/api/v1/openid/.well-known/openid-configuration/jwks`,
                }),
        },
        {
            listener: 'platform',
            method: 'GET',
            path: '/authentication/api/v1/openid/.well-known/openid-configuration/jwks',
            endpoint: 'authentication.metadata',
            handler: async (ctx) => sendJson(ctx.res, 200, await core.tokens.jwks('altinn')),
        },
    ];
}
