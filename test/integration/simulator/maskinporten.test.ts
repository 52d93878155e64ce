import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { type Simulator } from '../../../dev/simulator/simulator';
import {
    clientRegistration,
    createClientCredentials,
    postGrant,
    signGrant,
    startTestSimulator,
    type ClientCredentials,
} from '../../support/simulator';

/* Contract: Maskinporten JWT-bearer grant (altinn-api.md §3). */

// Generous: RSA key generation and real sockets are slow on a loaded machine.
jest.setTimeout(30_000);

const SCOPES = ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'];

let sim: Simulator;
let creds: ClientCredentials;
let aud: string;

beforeAll(async () => {
    creds = createClientCredentials();
    sim = await startTestSimulator({
        orgNumber: '910000001',
        maskinportenTokenLifetimeSeconds: 120,
        clients: [clientRegistration(creds, [...SCOPES, 'altinn:broker.read'])],
    });
    aud = `${sim.maskinportenUrl}/`;
});

afterAll(() => sim.stop());

async function expectRejected(assertion: string, code: string): Promise<{ error: string; error_description: string }> {
    const response = await postGrant(sim, assertion);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_grant');
    expect(body.error_description.startsWith(code)).toBe(true);
    return body;
}

describe('POST /token', () => {
    it.each(['RS256', 'RS384', 'RS512'] as const)('issues a token for an x5c grant signed with %s', async (alg) => {
        const response = await postGrant(sim, await signGrant(creds, { aud, scopes: SCOPES, alg }));
        expect(response.status).toBe(200);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).toEqual({
            access_token: expect.any(String) as string,
            token_type: 'Bearer',
            expires_in: 120,
            scope: SCOPES.join(' '),
        });
        const claims = decodeJwt(body.access_token as string);
        expect(claims).toMatchObject({
            iss: aud,
            client_id: creds.clientId,
            consumer: { authority: 'iso6523-actorid-upis', ID: '0192:910000001' },
            scope: SCOPES.join(' '),
            token_type: 'Bearer',
            client_amr: 'virksomhetssertifikat',
        });
        expect((claims.exp as number) - (claims.iat as number)).toBe(120);
        expect(typeof claims.jti).toBe('string');
    });

    it('issues a token for a grant with a registered kid', async () => {
        const response = await postGrant(
            sim,
            await signGrant(creds, { aud, scopes: ['altinn:broker.read'], mode: 'kid' }),
        );
        expect(response.status).toBe(200);
        const body = (await response.json()) as { access_token: string };
        expect(decodeJwt(body.access_token).client_amr).toBe('private_key_jwt');
    });

    it('carries a resource claim into the token audience', async () => {
        const resource = ['https://tt02.altinn.no/maskinporten-api/'];
        const response = await postGrant(sim, await signGrant(creds, { aud, scopes: SCOPES, claims: { resource } }));
        const body = (await response.json()) as { access_token: string };
        expect(decodeJwt(body.access_token).aud).toEqual(resource);
    });

    it('counts grants per client', () => {
        expect(sim.counters().grantsByClient[creds.clientId]).toBeGreaterThanOrEqual(5);
    });

    it('rejects a reused jti (MP-012)', async () => {
        const jti = randomUUID();
        expect((await postGrant(sim, await signGrant(creds, { aud, scopes: SCOPES, jti }))).status).toBe(200);
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, jti }), 'MP-012');
    });

    it('rejects the same assertion twice when it has no jti', async () => {
        const assertion = await signGrant(creds, { aud, scopes: SCOPES, jti: null });
        expect((await postGrant(sim, assertion)).status).toBe(200);
        await expectRejected(assertion, 'MP-012');
    });

    it('rejects an unknown client (MP-100)', async () => {
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, iss: 'not-registered' }), 'MP-100');
    });

    it.each([
        ['the token endpoint', (url: string) => `${url}/token`],
        ['no trailing slash', (url: string) => url],
        ['another issuer', () => 'https://test.maskinporten.no/'],
    ])('rejects aud = %s (MP-110)', async (_name, make) => {
        await expectRejected(await signGrant(creds, { aud: make(sim.maskinportenUrl), scopes: SCOPES }), 'MP-110');
    });

    it('rejects a certificate that is not the registered one (MP-120)', async () => {
        const other = createClientCredentials(creds.clientId);
        await expectRejected(await signGrant(other, { aud, scopes: SCOPES }), 'MP-120');
    });

    it('rejects a signature by another key than the certificate (MP-120)', async () => {
        const other = createClientCredentials();
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, signingKey: other.privateKey }), 'MP-120');
    });

    it('rejects an unknown kid and a header with neither x5c nor kid (MP-120)', async () => {
        await expectRejected(
            await signGrant(creds, { aud, scopes: SCOPES, mode: 'kid', header: { kid: 'nope' } }),
            'MP-120',
        );
        const bare = await signGrant(creds, { aud, scopes: SCOPES, mode: 'kid', header: { kid: undefined } });
        await expectRejected(bare, 'MP-120');
    });

    it('rejects an expired certificate (MP-121)', async () => {
        const old = createClientCredentials(`old-${randomUUID()}`, {
            notBefore: new Date(Date.now() - 10 * 24 * 3600 * 1000),
            notAfter: new Date(Date.now() - 24 * 3600 * 1000),
        });
        await sim.control.registerClient(clientRegistration(old, SCOPES));
        await expectRejected(await signGrant(old, { aud, scopes: SCOPES }), 'MP-121');
    });

    it('rejects iat more than 10 s off, exp - iat > 120 s, and an expired grant (MP-130)', async () => {
        const now = Math.floor(Date.now() / 1000);
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, iat: now - 30, exp: now + 30 }), 'MP-130');
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, iat: now + 30, exp: now + 60 }), 'MP-130');
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, iat: now, exp: now + 121 }), 'MP-130');
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, iat: now - 9, exp: now - 1 }), 'MP-130');
        expect(
            (await postGrant(sim, await signGrant(creds, { aud, scopes: SCOPES, iat: now, exp: now + 120 }))).status,
        ).toBe(200);
    });

    it('takes iat up to 10 s ahead, and rejects a grant without iat or exp (MP-130)', async () => {
        const now = Math.floor(Date.now() / 1000);
        const ahead = await signGrant(creds, { aud, scopes: SCOPES, iat: now + 5, exp: now + 60 });
        expect((await postGrant(sim, ahead)).status).toBe(200);
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, claims: { iat: undefined } }), 'MP-130');
        await expectRejected(await signGrant(creds, { aud, scopes: SCOPES, claims: { exp: undefined } }), 'MP-130');
    });

    it('takes aud as a one-element array, and rejects a second audience (MP-110)', async () => {
        const single = await signGrant(creds, { aud, scopes: SCOPES, claims: { aud: [aud] } });
        expect((await postGrant(sim, single)).status).toBe(200);
        const two = await signGrant(creds, { aud, scopes: SCOPES, claims: { aud: [aud, 'https://api.example/'] } });
        await expectRejected(two, 'MP-110');
    });

    it('rejects a scope the client does not have with invalid_scope, as Maskinporten does (MP-200 in error_uri)', async () => {
        const response = await postGrant(
            sim,
            await signGrant(creds, { aud, scopes: [...SCOPES, 'altinn:events.subscribe'] }),
        );
        expect(response.status).toBe(400);
        const body = (await response.json()) as Record<string, string>;
        expect(body.error).toBe('invalid_scope');
        expect(body.error_description).toMatch(
            /^Token request contains invalid scopes for client, altinn:events\.subscribe \(trace_id: [0-9a-f]{32}\)$/,
        );
        expect(body.error_uri).toBe(`${aud}errors/MP-200`);
    });

    it('rejects claims that the grant documentation does not list', async () => {
        const response = await postGrant(
            sim,
            await signGrant(creds, { aud, scopes: SCOPES, claims: { nbf: 1, foo: 'bar' } }),
        );
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({
            error: 'invalid_grant',
            error_description: expect.stringContaining('nbf, foo') as string,
        });
        const future = Math.floor(Date.now() / 1000) + 60;
        const body = await expectRejected(
            await signGrant(creds, { aud, scopes: SCOPES, claims: { nbf: future } }),
            'Invalid assertion',
        );
        expect(body.error_description).toBe('Invalid assertion. Claims not allowed: nbf');
    });

    it('rejects HS256 and garbage assertions', async () => {
        const response = await postGrant(
            sim,
            (await signGrant(creds, { aud, scopes: SCOPES })).replace(
                /^[^.]+/,
                Buffer.from('{"alg":"HS256"}').toString('base64url'),
            ),
        );
        expect(response.status).toBe(400);
        expect((await postGrant(sim, 'not.a.jwt')).status).toBe(400);
    });

    it('answers unsupported_grant_type, invalid_request for a missing assertion or a JSON body', async () => {
        const post = (body: string, type = 'application/x-www-form-urlencoded') =>
            fetch(`${sim.maskinportenUrl}/token`, { method: 'POST', headers: { 'Content-Type': type }, body });
        let response = await post('grant_type=client_credentials&assertion=x');
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: 'unsupported_grant_type' });
        response = await post('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer');
        expect(await response.json()).toMatchObject({ error: 'invalid_request' });
        response = await post('{}', 'application/json');
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: 'invalid_request' });
        expect(sim.counters().grantsRejected).toBeGreaterThan(0);
    });

    it('serves its metadata and JWKS', async () => {
        const meta = (await (
            await fetch(`${sim.maskinportenUrl}/.well-known/oauth-authorization-server`)
        ).json()) as Record<string, string>;
        expect(meta.issuer).toBe(aud);
        expect(meta.token_endpoint).toBe(`${sim.maskinportenUrl}/token`);
        const jwks = (await (await fetch(meta.jwks_uri)).json()) as { keys: { kty: string }[] };
        expect(jwks.keys[0].kty).toBe('RSA');
    });

    it('rejects registrations without a key', async () => {
        await expect(sim.control.registerClient({ clientId: 'x', scopes: [] })).rejects.toThrow(
            /certificate or at least one key/,
        );
    });
});
