import { execFile } from 'node:child_process';
import { verify, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
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

function decode(jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
    const [header, claims, signature] = jwt.split('.');
    // Checked independently of the code under test: RSASSA-PKCS1-v1_5 over "header.claims".
    const signed = verify(
        'sha256',
        Buffer.from(`${header}.${claims}`),
        key.publicKey,
        Buffer.from(signature, 'base64url'),
    );
    expect(signed).toBe(true);
    const json = (part: string) =>
        JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    return { header: json(header), claims: json(claims) };
}

describe('createGrant', () => {
    it('carries the claims Maskinporten requires, and no others', () => {
        const now = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
        const { claims } = decode(createGrant(maskinporten, withCertificate, now));
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

    it('has a fresh jti every time', () => {
        const jtis = new Set(Array.from({ length: 5 }, () => decode(createGrant(maskinporten, withKid)).claims.jti));
        expect(jtis.size).toBe(5);
    });

    it('puts the certificate in x5c when there is no kid', () => {
        const { header } = decode(createGrant(maskinporten, withCertificate));
        expect(header).toEqual({ alg: 'RS256', x5c: [derBase64(cert)] });
        const leaf = new X509Certificate(Buffer.from((header.x5c as string[])[0], 'base64'));
        expect(leaf.publicKey.equals(key.publicKey)).toBe(true);
    });

    it('puts kid instead of x5c when MaskinportenKid is set', () => {
        expect(decode(createGrant(maskinporten, withKid)).header).toEqual({ alg: 'RS256', kid: 'aos-2026-01' });
    });

    it('is accepted by jose (jwtVerify with the x5c certificate, audience and issuer)', async () => {
        // jose is ESM-only and Jest runs CommonJS here, so the check runs in a plain Node process.
        const script = `
            import { importX509, jwtVerify, decodeProtectedHeader } from 'jose';
            const [jwt, aud, iss] = process.argv.slice(1);
            const { x5c } = decodeProtectedHeader(jwt);
            const pem = '-----BEGIN CERTIFICATE-----\\n' + x5c[0] + '\\n-----END CERTIFICATE-----';
            const { payload, protectedHeader } = await jwtVerify(jwt, await importX509(pem, 'RS256'), {
                audience: aud, issuer: iss, algorithms: ['RS256'], maxTokenAge: 120,
            });
            console.log(JSON.stringify({ alg: protectedHeader.alg, scope: payload.scope }));`;
        const { stdout } = await promisify(execFile)(
            process.execPath,
            [
                '--input-type=module',
                '-e',
                script,
                createGrant(maskinporten, withCertificate),
                'https://test.maskinporten.no/',
                maskinporten.clientId,
            ],
            { cwd: process.cwd() },
        );
        expect(JSON.parse(stdout)).toEqual({ alg: 'RS256', scope: maskinporten.scopes.join(' ') });
    });
});
