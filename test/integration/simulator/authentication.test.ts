import { decodeJwt } from 'jose';
import { type Simulator } from '../../../dev/simulator/simulator';
import {
    bearer,
    clientRegistration,
    createClientCredentials,
    maskinportenToken,
    startTestSimulator,
    type ClientCredentials,
} from '../../support/simulator';

/* Contract: Altinn Authentication's Maskinporten token exchange (altinn-api.md §2). */

// Generous: RSA key generation and real sockets are slow on a loaded machine.
jest.setTimeout(30_000);

const SCOPES = ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'];

let sim: Simulator;
let owner: ClientCredentials;
let digdir: ClientCredentials;
let other: ClientCredentials;

beforeAll(async () => {
    owner = createClientCredentials();
    digdir = createClientCredentials();
    other = createClientCredentials();
    sim = await startTestSimulator({
        org: 'ttd',
        orgNumber: '405003309',
        altinnTokenLifetimeSeconds: 900,
        clients: [
            clientRegistration(owner, [...SCOPES, 'altinn:broker.read']),
            clientRegistration(digdir, SCOPES, { orgNumber: '991825827' }),
            clientRegistration(other, SCOPES, { orgNumber: '999999999' }),
        ],
    });
});

afterAll(() => sim.stop());

function exchange(token: string | undefined, accept?: string, query = ''): Promise<Response> {
    return fetch(`${sim.platformUrl}/authentication/api/v1/exchange/maskinporten${query}`, {
        headers: { ...(token ? bearer(token) : {}), ...(accept ? { Accept: accept } : {}) },
    });
}

describe('GET /authentication/api/v1/exchange/maskinporten', () => {
    it('answers a JSON-quoted JWT when JSON is accepted (as the AOS asks)', async () => {
        const mp = await maskinportenToken(sim, owner, SCOPES);
        const response = await exchange(mp, 'application/json, application/xml', '?test=False');
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        const text = await response.text();
        expect(text.startsWith('"ey')).toBe(true);
        const claims = decodeJwt(JSON.parse(text) as string);
        expect(claims).toMatchObject({
            'urn:altinn:org': 'ttd',
            'urn:altinn:orgNumber': '405003309',
            'urn:altinn:authenticatemethod': 'maskinporten',
            'urn:altinn:authlevel': 3,
            scope: SCOPES.join(' '),
            iss: `${sim.platformUrl}/authentication/api/v1/openid/`,
        });
        expect(claims.aud).toBeUndefined();
        expect(claims.client_amr).toBeUndefined();
        expect((claims.exp as number) - (claims.iat as number)).toBe(900);
        expect(sim.counters().exchanges).toBeGreaterThanOrEqual(1);
    });

    it('answers the bare JWT as text/plain without an Accept header', async () => {
        const response = await exchange(await maskinportenToken(sim, owner, SCOPES));
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        expect((await response.text()).startsWith('ey')).toBe(true);
    });

    it('adds no org claim without a serviceowner scope', async () => {
        const response = await exchange(
            await maskinportenToken(sim, owner, ['altinn:broker.read']),
            'application/json',
        );
        const claims = decodeJwt((await response.json()) as string);
        expect(claims['urn:altinn:org']).toBeUndefined();
        expect(claims['urn:altinn:orgNumber']).toBe('405003309');
    });

    it('gives no org claim to an unknown organisation number', async () => {
        const response = await exchange(await maskinportenToken(sim, other, SCOPES), 'application/json');
        expect(decodeJwt((await response.json()) as string)['urn:altinn:org']).toBeUndefined();
    });

    it('makes digdir ttd only with test=true', async () => {
        const token = await maskinportenToken(sim, digdir, SCOPES);
        let response = await exchange(token, 'application/json', '?test=true');
        expect(decodeJwt((await response.json()) as string)['urn:altinn:org']).toBe('ttd');
        response = await exchange(token, 'application/json', '?test=false');
        expect(decodeJwt((await response.json()) as string)['urn:altinn:org']).toBe('digdir');
    });

    it('answers 401 to a missing, garbage, expired, foreign or Altinn token', async () => {
        expect((await exchange(undefined)).status).toBe(401);
        expect((await exchange('garbage')).status).toBe(401);
        const expired = await sim.control.issueMaskinportenToken({ scopes: SCOPES, expiresInSeconds: -11 });
        expect((await exchange(expired)).status).toBe(401);
        // Within the 10 s clock skew the exchange still accepts it.
        const justExpired = await sim.control.issueMaskinportenToken({ scopes: SCOPES, expiresInSeconds: -2 });
        expect((await exchange(justExpired)).status).toBe(200);
        const altinn = await sim.control.issueAltinnToken({ scopes: SCOPES });
        expect((await exchange(altinn)).status).toBe(401);
        const otherSim = await startTestSimulator();
        try {
            const foreign = await otherSim.control.issueMaskinportenToken({ scopes: SCOPES });
            expect((await exchange(foreign)).status).toBe(401);
        } finally {
            await otherSim.stop();
        }
    });

    it('answers 400 with the documented text to an unknown provider', async () => {
        const response = await fetch(`${sim.platformUrl}/authentication/api/v1/exchange/facebook`, {
            headers: { Accept: 'application/json' },
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toBe(
            "Invalid token provider: facebook. Trusted token providers are 'Maskinporten', 'Id-porten' and 'AltinnStudio'.",
        );
    });

    it('answers 410 to enterprise-user authentication', async () => {
        const response = await fetch(`${sim.platformUrl}/authentication/api/v1/exchange/maskinporten`, {
            headers: { 'X-Altinn-EnterpriseUser-Authentication': 'x' },
        });
        expect(response.status).toBe(410);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });

    it('serves the Altinn JWKS', async () => {
        const meta = (await (
            await fetch(`${sim.platformUrl}/authentication/api/v1/openid/.well-known/openid-configuration`)
        ).json()) as Record<string, string>;
        const jwks = (await (await fetch(meta.jwks_uri)).json()) as { keys: unknown[] };
        expect(jwks.keys).toHaveLength(1);
    });
});
