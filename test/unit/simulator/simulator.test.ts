import { createHash } from 'node:crypto';
import { parseRange } from '../../../dev/simulator/content';
import { generatedBytes, generatedDigest, generatedStream } from '../../../dev/simulator/dataGenerator';
import { subscriptionMatches } from '../../../dev/simulator/eventDelivery';
import { contentDisposition, filenameFromContentDisposition, isLoopbackHost } from '../../../dev/simulator/http';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { createSigningKey } from '../../../dev/simulator/jwt';
import { Router } from '../../../dev/simulator/router';
import { TokenService } from '../../../dev/simulator/tokens';
import { type Subscription } from '../../../dev/simulator/types';

// RSA key generation can be slow on a loaded machine.
jest.setTimeout(30_000);

describe('dataGenerator', () => {
    it('is deterministic per seed and seekable: any range equals the same slice of the whole', async () => {
        const whole = await generatedBytes('seed', 0, 100_000);
        expect(whole).toHaveLength(100_000);
        expect(await generatedBytes('seed', 0, 100_000)).toEqual(whole);
        expect(await generatedBytes('other', 0, 100)).not.toEqual(whole.subarray(0, 100));
        for (const [start, length] of [
            [0, 1],
            [1, 15],
            [15, 2],
            [16, 16],
            [65_535, 3],
            [70_001, 29_999],
        ]) {
            expect(await generatedBytes('seed', start, length)).toEqual(whole.subarray(start, start + length));
        }
        expect(await generatedDigest('seed', 100_000)).toBe(createHash('sha256').update(whole).digest('hex'));
        expect(await generatedDigest('seed', 100_000, 'md5')).toBe(createHash('md5').update(whole).digest('hex'));
    });

    it('produces nothing for an empty range and refuses a bad one', async () => {
        expect(await generatedBytes('seed', 5, 0)).toHaveLength(0);
        expect(() => generatedStream('seed', 10, 5)).toThrow(RangeError);
    });
});

describe('parseRange', () => {
    it.each([
        [undefined, undefined],
        ['bytes=0-9', { start: 0, end: 10 }],
        ['bytes=90-', { start: 90, end: 100 }],
        ['bytes=90-1000', { start: 90, end: 100 }],
        ['bytes=-10', { start: 90, end: 100 }],
        ['bytes=-1000', { start: 0, end: 100 }],
        ['bytes=100-', 'unsatisfiable'],
        ['bytes=9-5', 'unsatisfiable'],
        ['bytes=-0', 'unsatisfiable'],
        ['bytes=0-1,3-4', undefined],
        ['items=0-1', undefined],
        ['bytes=-', undefined],
    ])('%s on 100 bytes -> %j', (header, expected) => {
        expect(parseRange(header, 100)).toEqual(expected);
    });
});

describe('Content-Disposition', () => {
    it('writes the ASCII fallback and filename*, and reads filename* first', () => {
        expect(contentDisposition('a.txt')).toBe("attachment; filename=a.txt; filename*=UTF-8''a.txt");
        expect(contentDisposition('æ ø.pdf')).toBe(
            `attachment; filename="_ _.pdf"; filename*=UTF-8''%C3%A6%20%C3%B8.pdf`,
        );
        expect(contentDisposition(undefined)).toBeUndefined();
        expect(filenameFromContentDisposition(`attachment; filename="x.xml"; filename*=UTF-8''%C3%A6.xml`)).toBe(
            'æ.xml',
        );
        expect(filenameFromContentDisposition('attachment; filename="receipt.pdf"')).toBe('receipt.pdf');
        expect(filenameFromContentDisposition('attachment; filename=plain.txt')).toBe('plain.txt');
        expect(filenameFromContentDisposition('inline')).toBeUndefined();
    });
});

describe('isLoopbackHost', () => {
    it.each([
        ['localhost', true],
        ['127.0.0.1', true],
        ['127.8.9.10', true],
        ['[::1]', true],
        ['::1', true],
        ['example.com', false],
        ['128.0.0.1', false],
        ['localhost.example.com', false],
    ])('%s -> %s', (host, expected) => {
        expect(isLoopbackHost(host)).toBe(expected);
    });
});

describe('TokenService', () => {
    const origins = {
        platformUrl: 'http://127.0.0.1:5101',
        appsUrl: 'http://127.0.0.1:5102',
        maskinportenUrl: 'http://127.0.0.1:5103',
    };
    const now = () => Math.floor(Date.now() / 1000);
    let tokens: TokenService;
    beforeAll(async () => {
        tokens = await TokenService.create(origins);
    });

    it('verifies its own tokens of the accepted kinds, with the claims as principal', async () => {
        const altinn = await tokens.issueAltinn({ scope: 'a b', 'urn:altinn:org': 'ttd', exp: now() + 60 });
        const result = await tokens.verify(altinn, ['altinn']);
        expect(result).toMatchObject({ ok: true, principal: { kind: 'altinn', scopes: ['a', 'b'], org: 'ttd' } });
        expect(await tokens.verify(altinn, ['maskinporten'])).toMatchObject({ ok: false });
        const mp = await tokens.issueMaskinporten({
            scope: 's',
            consumer: { authority: 'iso6523-actorid-upis', ID: '0192:910000001' },
            exp: now() + 60,
        });
        expect(decodeProtectedHeader(mp)).toEqual({ alg: 'RS256', kid: tokens.maskinportenKey.kid, typ: 'at+jwt' });
        expect(await tokens.verify(mp, ['altinn', 'maskinporten'])).toMatchObject({
            ok: true,
            principal: { kind: 'maskinporten', orgNumber: '910000001' },
        });
    });

    it('refuses a tampered, foreign-signed, expired, not yet valid or garbage token', async () => {
        const token = await tokens.issueAltinn({ scope: 'a', exp: now() + 60 });
        const [header, , signature] = token.split('.');
        const claims = Buffer.from(JSON.stringify({ scope: 'a b', exp: now() + 60 })).toString('base64url');
        expect(await tokens.verify(`${header}.${claims}.${signature}`, ['altinn'])).toEqual({
            ok: false,
            reason: 'bad signature',
        });
        const stranger = await createSigningKey(tokens.altinnKey.kid);
        const forged = await new SignJWT({ iss: tokens.altinnIssuer, exp: now() + 60 })
            .setProtectedHeader({ alg: 'RS256', kid: tokens.altinnKey.kid })
            .sign(stranger.privateKey);
        expect(await tokens.verify(forged, ['altinn'])).toEqual({ ok: false, reason: 'bad signature' });
        const expired = await tokens.issueAltinn({ exp: now() - 5 });
        expect(await tokens.verify(expired, ['altinn'])).toEqual({ ok: false, reason: 'expired' });
        expect(await tokens.verify(expired, ['altinn'], 10)).toMatchObject({ ok: true });
        const early = await tokens.issueAltinn({ nbf: now() + 30, exp: now() + 60 });
        expect(await tokens.verify(early, ['altinn'])).toEqual({ ok: false, reason: 'not yet valid' });
        expect(await tokens.verify(await tokens.issueAltinn({}), ['altinn'])).toEqual({
            ok: false,
            reason: 'expired',
        });
        expect(await tokens.verify('a.b', ['altinn'])).toEqual({ ok: false, reason: 'not a JWT' });
        expect(await tokens.verify(undefined, ['altinn'])).toEqual({ ok: false, reason: 'no bearer token' });
    });

    it('publishes JWKS that verify its tokens', async () => {
        const token = await tokens.issueMaskinporten({ exp: now() + 60 });
        const jwks = await tokens.jwks('maskinporten');
        expect(jwks.keys).toEqual([
            expect.objectContaining({ kty: 'RSA', kid: tokens.maskinportenKey.kid, use: 'sig', alg: 'RS256' }),
        ]);
        await expect(jwtVerify(token, createLocalJWKSet(jwks))).resolves.toBeDefined();
        await expect(jwtVerify(token, createLocalJWKSet(await tokens.jwks('altinn')))).rejects.toThrow();
    });
});

describe('subscriptionMatches', () => {
    const sub: Subscription = {
        id: 1,
        endPoint: 'https://x/h',
        sourceFilter: 'https://ttd.apps/ttd/app',
        resourceFilter: 'urn:altinn:resource:app_ttd_app',
        consumer: '/org/ttd',
        createdBy: '/org/ttd',
        created: '',
        validated: true,
        includeSubunits: false,
    };
    const event = {
        specversion: '1.0',
        id: 'e',
        type: 'app.instance.process.completed',
        source: 'https://ttd.apps/ttd/app/instances/1/g',
        subject: '/party/1',
        resource: 'urn:altinn:resource:app_ttd_app',
    };
    it('needs validated, equal resource, null-or-equal subject and type, and the source filter as a path prefix', () => {
        expect(subscriptionMatches(sub, event)).toBe(true);
        expect(subscriptionMatches({ ...sub, validated: false }, event)).toBe(false);
        expect(subscriptionMatches(sub, { ...event, resource: 'urn:altinn:resource:app_ttd_other' })).toBe(false);
        expect(subscriptionMatches({ ...sub, subjectFilter: '/party/2' }, event)).toBe(false);
        expect(subscriptionMatches({ ...sub, subjectFilter: '' }, event)).toBe(false);
        expect(subscriptionMatches({ ...sub, typeFilter: 'app.instance.created' }, event)).toBe(false);
        expect(subscriptionMatches({ ...sub, sourceFilter: 'https://ttd.apps/ttd/ap' }, event)).toBe(false);
        expect(subscriptionMatches({ ...sub, sourceFilter: 'https://ttd.apps/ttd' }, event)).toBe(true);
    });
});

describe('Router', () => {
    it('matches constraints, tolerates a trailing slash, and tells 405 from 404', () => {
        const router = new Router([
            {
                listener: 'apps',
                method: 'GET',
                path: '/{org}/{app}/instances/{p:int}/{g:guid}',
                endpoint: 'get',
                handler: () => undefined,
            },
        ]);
        const guid = '0b7ae3c2-1f0c-4f4a-9a0e-4e5f0b7c1a11';
        expect(router.match('apps', 'GET', `/ttd/app/instances/5/${guid}/`)).toMatchObject({
            kind: 'found',
            params: { org: 'ttd', p: '5', g: guid },
        });
        expect(router.match('apps', 'GET', `/ttd/app/instances/x/${guid}`).kind).toBe('notFound');
        expect(router.match('platform', 'GET', `/ttd/app/instances/5/${guid}`).kind).toBe('notFound');
        expect(router.match('apps', 'POST', `/ttd/app/instances/5/${guid}`)).toEqual({
            kind: 'methodNotAllowed',
            endpoint: 'get',
        });
    });
});
