import { createPublicKey, randomUUID, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import {
    decodeJwt,
    decodeProtectedHeader,
    errors,
    jwtVerify,
    type JWTPayload,
    type ProtectedHeaderParameters,
} from 'jose';
import { type SimCore } from './core';
import { readBody, mediaType, sendJson } from './http';
import { isRsaAlg, RSA_ALGS } from './jwt';
import { type RouteDefinition, type RequestContext } from './router';
import { type RegisteredClient } from './state';
import { consumerClaim, nowSeconds } from './tokens';
import { type ClientRegistration } from './types';

/*
 * Maskinporten's JWT-bearer grant (altinn-api.md §3): POST /token with grant_type and assertion.
 * The assertion must be signed (RS256/384/512) by the client's registered certificate (x5c) or
 * registered key (kid), aud = issuer, iss = client_id, iat within ±10 s, exp - iat <= 120 s, a
 * fresh jti and only scopes the client has.
 */

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_LIFETIME_SECONDS = 120;
const CLOCK_SKEW_SECONDS = 10;
/** Claims the grant documentation lists; anything else is "Invalid assertion". */
const ALLOWED_CLAIMS = new Set([
    'aud',
    'iss',
    'iat',
    'exp',
    'jti',
    'scope',
    'resource',
    'pid',
    'consumer_org',
    'iss_onbehalfof',
    'authorization_details',
]);

export class ClientRegistrationError extends Error {}

export function toRegisteredClient(registration: ClientRegistration, defaultOrgNumber: string): RegisteredClient {
    if (!registration.clientId || !Array.isArray(registration.scopes)) {
        throw new ClientRegistrationError('A client needs clientId and scopes');
    }
    const orgNumber = registration.orgNumber ?? defaultOrgNumber;
    if (!/^\d{9}$/.test(orgNumber)) {
        throw new ClientRegistrationError('orgNumber must be 9 digits');
    }
    const client: RegisteredClient = {
        clientId: registration.clientId,
        scopes: [...registration.scopes],
        orgNumber,
        keys: new Map<string, KeyObject>(),
    };
    try {
        if (registration.certificate) {
            client.certificate = new X509Certificate(registration.certificate);
        }
        for (const key of registration.keys ?? []) {
            const publicKey = key.jwk
                ? createPublicKey({ key: key.jwk as JsonWebKey, format: 'jwk' })
                : createPublicKey(key.publicKeyPem ?? '');
            client.keys.set(key.kid, publicKey);
        }
    } catch (err) {
        throw new ClientRegistrationError(`Unreadable certificate or key: ${(err as Error).message}`);
    }
    if (!client.certificate && client.keys.size === 0) {
        throw new ClientRegistrationError('A client needs a certificate or at least one key');
    }
    return client;
}

class GrantError extends Error {
    constructor(
        readonly error: string,
        description: string,
        readonly errorUri?: string,
    ) {
        super(description);
    }
}

/** The MP-xxx codes are Maskinporten's (§3); the wording after them is the simulator's. */
function reject(code: string, description: string): never {
    throw new GrantError('invalid_grant', `${code} ${description}`.trim());
}

function keyForGrant(client: RegisteredClient, header: ProtectedHeaderParameters): KeyObject {
    if (Array.isArray(header.x5c)) {
        const leaf: unknown = header.x5c[0];
        let cert: X509Certificate;
        try {
            cert = new X509Certificate(Buffer.from(typeof leaf === 'string' ? leaf : '', 'base64'));
        } catch {
            return reject('MP-120', 'Invalid assertion. Unreadable x5c certificate');
        }
        if (!client.certificate || !cert.raw.equals(client.certificate.raw)) {
            return reject('MP-120', 'Invalid assertion. Certificate is not registered on the client');
        }
        if (Date.parse(cert.validTo) < Date.now() || Date.parse(cert.validFrom) > Date.now()) {
            return reject('MP-121', 'Invalid assertion. Certificate is expired or not yet valid');
        }
        return cert.publicKey;
    }
    if (typeof header.kid === 'string') {
        const key = client.keys.get(header.kid);
        if (!key) {
            return reject('MP-120', `Invalid assertion. No key with kid ${header.kid} is registered on the client`);
        }
        return key;
    }
    return reject('MP-120', 'Invalid assertion. The JWT header needs x5c or kid');
}

/** Header and claims, read before verification: iss names the client, x5c or kid its key. */
function decodeGrant(assertion: string): { header: ProtectedHeaderParameters; payload: JWTPayload } {
    try {
        return { header: decodeProtectedHeader(assertion), payload: decodeJwt(assertion) };
    } catch {
        return reject('', 'Invalid assertion. Not a signed JWT');
    }
}

/**
 * A scope the client was not given: `invalid_scope`, the description naming the scopes with a trace id,
 * the MP code in `error_uri`, as Maskinporten answers it (captured in Informasjonsforvaltning/
 * fdk-maskinporten-exchange src/test/.../MaskinportenClientTest.kt: `{"error":"invalid_scope",
 * "error_description":"Token request contains invalid scopes for client, altinn:serviceowners/read
 * (trace_id: …)","error_uri":"https://test.maskinporten.no/errors/MP-200"}`; the wording is the one
 * felleslosninger/docs _docs/Maskinporten/maskinporten_feilsoking.md lists under MP-200).
 */
function rejectScopes(core: SimCore, missing: string[]): never {
    const traceId = randomUUID().replace(/-/g, '');
    throw new GrantError(
        'invalid_scope',
        `Token request contains invalid scopes for client, ${missing.join(' ')} (trace_id: ${traceId})`,
        `${core.tokens.maskinportenIssuer}errors/MP-200`,
    );
}

function rejectAudience(aud: unknown, audience: string): never {
    return reject('MP-110', `Invalid assertion. Invalid audience ${JSON.stringify(aud)}; expected ${audience}`);
}

function rejectClaims(payload: JWTPayload): void {
    const unknown = Object.keys(payload).filter((claim) => !ALLOWED_CLAIMS.has(claim));
    if (unknown.length > 0) {
        reject('', `Invalid assertion. Claims not allowed: ${unknown.join(', ')}`);
    }
}

function rejectIat(): never {
    return reject('MP-130', `Invalid assertion. iat must be within ${CLOCK_SKEW_SECONDS} s of the server clock`);
}

function rejectExpired(): never {
    return reject('MP-130', 'Invalid assertion. The JWT is expired');
}

/**
 * jose checks the signature with the client's key, the alg, that aud includes ours, and that iat
 * and exp are present and exp has not passed (no clock tolerance). Its failures become the MP code
 * that Maskinporten gives the same fault.
 */
async function verifyGrant(assertion: string, key: KeyObject, audience: string): Promise<JWTPayload> {
    try {
        const { payload } = await jwtVerify(assertion, key, {
            algorithms: [...RSA_ALGS],
            audience,
            requiredClaims: ['iat', 'exp'],
        });
        return payload;
    } catch (err) {
        if (err instanceof errors.JWTExpired) {
            return rejectExpired();
        }
        if (err instanceof errors.JWTClaimValidationFailed) {
            if (err.claim === 'aud') {
                return rejectAudience(err.payload.aud, audience);
            }
            if (err.claim === 'iat') {
                return rejectIat();
            }
            if (err.claim === 'exp') {
                return rejectExpired();
            }
            // A claim the grant may not carry at all, such as an nbf in the future.
            rejectClaims(err.payload);
            return reject('', `Invalid assertion. ${err.message}`);
        }
        if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
            return reject('', 'Invalid assertion. Not a signed JWT');
        }
        if (err instanceof errors.JWSSignatureVerificationFailed) {
            return reject('MP-120', 'Invalid assertion. Signature verification failed');
        }
        // Such as an RSA key under 2048 bits, which jose refuses as Maskinporten does.
        return reject('MP-120', `Invalid assertion. ${err instanceof Error ? err.message : String(err)}`);
    }
}

/** Checks a grant and answers the access token; throws GrantError with the OAuth error otherwise. */
async function grant(core: SimCore, assertion: string): Promise<Record<string, unknown>> {
    const decoded = decodeGrant(assertion);
    const { header } = decoded;
    if (!isRsaAlg(header.alg)) {
        return reject('MP-120', `Invalid assertion. Unsupported alg ${String(header.alg)}; use RS256, RS384 or RS512`);
    }
    const iss = decoded.payload.iss;
    const client = typeof iss === 'string' ? core.state.clients.get(iss) : undefined;
    if (!client) {
        return reject('MP-100', `Invalid assertion. Client not found: ${String(iss)}`);
    }
    const audience = core.tokens.maskinportenIssuer;
    const payload = await verifyGrant(assertion, keyForGrant(client, header), audience);
    // jose takes an aud array that includes ours; Maskinporten wants exactly one audience.
    if (Array.isArray(payload.aud) && payload.aud.length !== 1) {
        return rejectAudience(payload.aud, audience);
    }
    rejectClaims(payload);
    const now = nowSeconds();
    const { iat, exp } = payload as { iat: number; exp: number }; // present and numbers: jose checked
    if (Math.abs(iat - now) > CLOCK_SKEW_SECONDS) {
        return rejectIat();
    }
    if (exp - iat > MAX_LIFETIME_SECONDS) {
        return reject('MP-130', `Invalid assertion. exp - iat exceeds ${MAX_LIFETIME_SECONDS} s`);
    }
    if (typeof payload.scope !== 'string' || payload.scope.trim() === '') {
        return reject('MP-200', 'Invalid scope. The scope claim is required');
    }
    const scopes = payload.scope.split(' ').filter((s) => s !== '');
    const missing = scopes.filter((s) => !client.scopes.includes(s));
    if (missing.length > 0) {
        return rejectScopes(core, missing);
    }
    // Without a jti, the signed header and claims are the grant that may not be used twice.
    const signingInput = assertion.slice(0, assertion.lastIndexOf('.'));
    const grantId = typeof payload.jti === 'string' ? `${client.clientId}:${payload.jti}` : `assertion:${signingInput}`;
    for (const [id, forgetAt] of core.state.usedGrants) {
        if (forgetAt < Date.now()) {
            core.state.usedGrants.delete(id);
        }
    }
    if (core.state.usedGrants.has(grantId)) {
        return reject('MP-012', 'Grant is used before');
    }
    core.state.usedGrants.set(grantId, (exp + CLOCK_SKEW_SECONDS + 60) * 1000);

    const lifetime = core.options.maskinportenTokenLifetimeSeconds;
    const claims: Record<string, unknown> = {
        client_amr: header.x5c ? 'virksomhetssertifikat' : 'private_key_jwt',
        token_type: 'Bearer',
        scope: scopes.join(' '),
        client_id: client.clientId,
        consumer: consumerClaim(client.orgNumber),
        iat: now,
        exp: now + lifetime,
        jti: randomUUID(),
    };
    if (payload.resource !== undefined) {
        claims.aud = payload.resource;
    }
    core.counters.grant(client.clientId);
    return {
        access_token: await core.tokens.issueMaskinporten(claims),
        token_type: 'Bearer',
        expires_in: lifetime,
        scope: scopes.join(' '),
    };
}

async function token(core: SimCore, ctx: RequestContext): Promise<void> {
    const fail = (status: number, error: string, description: string, errorUri?: string): void => {
        core.counters.grantsRejected += 1;
        sendJson(ctx.res, status, {
            error,
            error_description: description,
            ...(errorUri ? { error_uri: errorUri } : {}),
        });
    };
    if (mediaType(ctx.req) !== 'application/x-www-form-urlencoded') {
        fail(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
        return;
    }
    const form = new URLSearchParams((await readBody(ctx.req, 64 * 1024)).toString('utf8'));
    if (form.get('grant_type') !== JWT_BEARER) {
        fail(400, 'unsupported_grant_type', `grant_type must be ${JWT_BEARER}`);
        return;
    }
    const assertion = form.get('assertion');
    if (!assertion) {
        fail(400, 'invalid_request', 'Missing assertion');
        return;
    }
    try {
        sendJson(ctx.res, 200, await grant(core, assertion), { 'Cache-Control': 'no-store' });
    } catch (err) {
        if (err instanceof GrantError) {
            core.log(`maskinporten grant rejected: ${err.message}`);
            fail(400, err.error, err.message, err.errorUri);
            return;
        }
        throw err;
    }
}

export function maskinportenRoutes(core: SimCore): RouteDefinition[] {
    return [
        {
            listener: 'maskinporten',
            method: 'POST',
            path: '/token',
            endpoint: 'maskinporten.token',
            handler: (ctx) => token(core, ctx),
        },
        {
            listener: 'maskinporten',
            method: 'GET',
            path: '/.well-known/oauth-authorization-server',
            endpoint: 'maskinporten.metadata',
            handler: (ctx) =>
                sendJson(ctx.res, 200, {
                    issuer: core.tokens.maskinportenIssuer,
                    token_endpoint: `${core.origins.maskinportenUrl}/token`,
                    jwks_uri: `${core.origins.maskinportenUrl}/jwk`,
                    token_endpoint_auth_methods_supported: ['private_key_jwt'],
                    grant_types_supported: [JWT_BEARER],
                    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'RS512'],
                }),
        },
        {
            listener: 'maskinporten',
            method: 'GET',
            path: '/jwk',
            endpoint: 'maskinporten.metadata',
            handler: async (ctx) => sendJson(ctx.res, 200, await core.tokens.jwks('maskinporten')),
        },
    ];
}
