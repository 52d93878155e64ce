import { X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import { parseSigningKey } from '../../../shared/altinn/signingKey';
import { createGrant } from '../../../shared/altinn/tokens';
import { certificatePem, derBase64, pkcs8Pem, rsaKey } from './fixtures';

const maskinporten = {
    baseUrl: 'https://test.maskinporten.no',
    clientId: '00000000-0000-0000-0000-00000000cafe',
    scopes: ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'],
};
const key = rsaKey();
const cert = certificatePem(key);
const withCertificate = parseSigningKey(`${pkcs8Pem(key)}${cert}`, { setting: 'MaskinportenKey' });
const withKid = parseSigningKey(pkcs8Pem(key), { setting: 'MaskinportenKey', kid: 'aos-2026-01' });

/** Header and claims of a grant whose RS256 signature by the test key verifies (at `nowMs` for exp). */
async function decode(
    jwt: string,
    nowMs = Date.now(),
): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
    const { protectedHeader, payload } = await jwtVerify(jwt, key.publicKey, {
        algorithms: ['RS256'],
        currentDate: new Date(nowMs),
    });
    return { header: protectedHeader, claims: payload };
}

describe('createGrant', () => {
    it('carries the claims Maskinporten requires, and no others', async () => {
        const now = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
        const { claims } = await decode(await createGrant(maskinporten, withCertificate, now), now);
        expect(claims).toEqual({
            aud: 'https://test.maskinporten.no/',
            iss: maskinporten.clientId,
            scope: 'altinn:serviceowner/instances.read altinn:serviceowner/instances.write',
            iat: Math.floor(now / 1000),
            exp: Math.floor(now / 1000) + 60,
            jti: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        });
        expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(120);
    });

    it('has a fresh jti every time', async () => {
        const grants = await Promise.all(Array.from({ length: 5 }, () => createGrant(maskinporten, withKid)));
        const jtis = new Set(await Promise.all(grants.map(async (grant) => (await decode(grant)).claims.jti)));
        expect(jtis.size).toBe(5);
    });

    it('puts the certificate in x5c when there is no kid', async () => {
        const { header } = await decode(await createGrant(maskinporten, withCertificate));
        expect(header).toEqual({ alg: 'RS256', x5c: [derBase64(cert)] });
        const leaf = new X509Certificate(Buffer.from((header.x5c as string[])[0], 'base64'));
        expect(leaf.publicKey.equals(key.publicKey)).toBe(true);
    });

    it('puts kid instead of x5c when MaskinportenKid is set', async () => {
        const { header } = await decode(await createGrant(maskinporten, withKid));
        expect(header).toEqual({ alg: 'RS256', kid: 'aos-2026-01' });
    });

    it('is accepted by jose (jwtVerify with the x5c certificate, audience and issuer)', async () => {
        const jwt = await createGrant(maskinporten, withCertificate);
        const { x5c } = decodeProtectedHeader(jwt);
        const leaf = await importX509(`-----BEGIN CERTIFICATE-----\n${x5c![0]}\n-----END CERTIFICATE-----`, 'RS256');
        const { payload, protectedHeader } = await jwtVerify(jwt, leaf, {
            audience: 'https://test.maskinporten.no/',
            issuer: maskinporten.clientId,
            algorithms: ['RS256'],
            maxTokenAge: 120,
        });
        expect({ alg: protectedHeader.alg, scope: payload.scope }).toEqual({
            alg: 'RS256',
            scope: maskinporten.scopes.join(' '),
        });
    });
});
